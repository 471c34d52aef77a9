#!/usr/bin/env bash
# One prepared device check (run on a lent GPU machine, from the repo root):
#   CUDA-path tests, step throughput (eager vs CUDA graph), and the smoke and
#   paper sweeps trained with parallel workers, exported as JSON summaries.
# Usage: OUT=/some/dir bash benchmarks/studies/gpu_check.sh
set -u
export PYTHONPATH="$PWD" OMP_NUM_THREADS=1 GENPROBE_CACHE="${GENPROBE_CACHE:-/tmp/genprobe-cache}"
OUT="${OUT:-/tmp/genprobe-out}"; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
timeout 120 python3 -m pytest -q -p no:cacheprovider -p no:genprobe tests/test_cuda.py 2>&1 | tail -3
timeout 60 python3 benchmarks/studies/gpu_speed_probe.py 2>&1 | tee "$OUT/gpu_speed.txt"
timeout "${SMOKE_S:-200}" python3 -m genprobe.cli sweep --profile smoke --seeds 0-9 --device cuda --jobs 12 --export "$OUT/smoke_seeds0-9.json.gz" 2>&1 | tail -4
timeout "${PAPER_S:-150}" python3 -m genprobe.cli sweep --profile paper --seeds 0-4 --device cuda --jobs 14 --export "$OUT/paper_seeds0-4.json.gz" 2>&1 | tail -4
# whatever finished (the sweeps may have been cut by their timeouts): export the cache
python3 - "$OUT/cache_export.json.gz" <<'PY'
import sys
from pathlib import Path
from genprobe.cli import _export
from genprobe.runs import Cache, RunResult
cache = Cache()
results = []
for p in sorted((cache.root / "runs").glob("*.npz")):
    try:
        results.append(RunResult.from_bytes(p.read_bytes()))
    except Exception as exc:
        print("skip", p.name, exc)
_export(Path(sys.argv[1]), results)
print(len(results), "cached runs exported")
PY
ls -la "$OUT"
