"""What a Dask cluster costs over local processes: one smoke sweep both ways, side by side.

    python benchmarks/studies/cluster_overhead.py [--seeds 0]

Trains the smoke profile's runs for the seeds twice into fresh caches: with
``genprobe sweep --jobs 2`` (two local worker processes) and with
``--scheduler`` on a ``LocalCluster`` of two worker processes of one thread
each on the same machine, and prints both wall times and their ratio. Needs
the ``dask`` extra.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()
    import distributed

    base = [
        sys.executable,
        "-m",
        "genprobe.cli",
        "sweep",
        "--profile",
        "smoke",
        "--seeds",
        args.seeds,
        "--device",
        "cpu",
    ]
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(base + ["--jobs", "2", "--cache", f"{tmp}/jobs"], check=True, stdout=subprocess.DEVNULL)
        times["jobs"] = time.perf_counter() - t
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            t = time.perf_counter()
            cmd = base + ["--scheduler", cluster.scheduler_address, "--cache", f"{tmp}/dask"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times["dask"] = time.perf_counter() - t
    print(
        f"smoke sweep, seeds {args.seeds}: --jobs 2 {times['jobs']:.1f} s, "
        f"2-worker LocalCluster {times['dask']:.1f} s, "
        f"ratio {times['dask'] / times['jobs']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
