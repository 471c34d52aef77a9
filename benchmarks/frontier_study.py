"""Claim frontiers from the committed evidence (no training): where each shape claim stops holding.

For the shape claims of ``genprobe/shapes.py``, asked of the net (standard protocol), of the 1-NN rule
and of the dot memoriser: per size, the share of seeds on which the claim holds (every check met,
read off the claim's own verdict by :func:`genprobe.frontier.claim_holds`) with a 95 % Jeffreys
interval, and the frontier N* where that share crosses 1/2 (:func:`genprobe.frontier.frontier`).

Seeds: every C-kernel sweep of the smoke profile in ``benchmarks/evidence`` (at this writing 0-9, the
calibration set the thresholds were set on, and 100-119), each seed once. The torch-ops copy of seeds
100-109 is the same experiment on another CPU step and is not mixed in (``--torch`` uses the torch-ops
sweeps instead). The smoke sweeps hold the post's 5 sizes only (5000, 2500, 1250, 625, 312;
the Fourier control, which ring-not-points needs, at 625 and 312 only): fewer than the 8 sizes of
issue 21, which need training (``genprobe frontier``).

    python benchmarks/frontier_study.py               # prints the table, writes reports/frontier/
    python benchmarks/frontier_study.py --out DIR --bootstrap 2000
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout: genprobe, benchmarks.*

from benchmarks.threshold_evidence import EVIDENCE, StandIn, load_export  # noqa: E402
from genprobe.frontier import BOOTSTRAP, claim_holds, frontier_of  # noqa: E402
from genprobe.frontier_report import Row, format_table, save_figure, save_json  # noqa: E402
from genprobe.profiles import get_profile  # noqa: E402

# each seed once: every smoke sweep of one CPU step in benchmarks/evidence (the C kernel's, or with --torch
# the torch ops'; the two copies of seeds 100-109 are two instruments and are never mixed)
C_PATTERNS = ("smoke-cpu-seeds*.json.gz", "smoke-cpu-c-seeds*.json.gz")
TORCH_PATTERNS = ("smoke-cpu-off-seeds*.json.gz",)


def evidence_files(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The evidence files of one CPU step, by first seed."""

    def first_seed(name: str) -> int:
        return int(re.search(r"seeds(\d+)-", name).group(1))  # type: ignore[union-attr]

    names = {p.name for pattern in patterns for p in EVIDENCE.glob(pattern)}
    return tuple(sorted(names, key=first_seed))


CLAIMS = ("no-overfitting", "concept-learnt", "ring-not-points", "contiguous", "as-good-as-1nn")
MODELS = ("net", "knn", "dot")
SIZES_NOTE = (
    "only the post's 5 sizes are in the committed evidence (5000, 2500, 1250, 625, 312), fewer than the "
    "8 sizes issue 21 asks for; the 8-size grid needs training (genprobe frontier)"
)


def load(files: tuple[str, ...]) -> dict:
    runs: dict = {}
    for f in files:
        more = load_export(EVIDENCE / f)
        if {s.seed for s in more} & {s.seed for s in runs}:
            raise SystemExit(f"{f} repeats seeds already loaded: each seed is used once")
        runs.update(more)
    return runs


def study(files: tuple[str, ...], bootstrap: int = BOOTSTRAP, protocol: str = "standard") -> list[Row]:
    profile = get_profile("smoke")
    runs = load(files)
    seeds = tuple(sorted({s.seed for s in runs}))
    probe = StandIn(runs, profile, seeds, first=len(seeds))
    rows = []
    for claim in CLAIMS:
        # a claim applies where every run it reads was trained (ring-not-points: where the Fourier control is)
        sizes = [n for n in profile.sizes if claim != "ring-not-points" or n in profile.fourier_sizes]
        note = "" if len(sizes) == len(profile.sizes) else f"sizes {sizes} only: the Fourier control's"
        for model in MODELS:
            holds = claim_holds(claim, probe, sizes, protocol=protocol, model=model)
            rows.append(Row(claim, model, frontier_of(holds, seeds, bootstrap=bootstrap), seeds, note))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "frontier")
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP)
    parser.add_argument("--torch", action="store_true", help="the torch-ops sweeps instead of the C kernel's")
    args = parser.parse_args(argv)
    files = evidence_files(TORCH_PATTERNS if args.torch else C_PATTERNS)
    rows = study(files, args.bootstrap)
    seeds = rows[0].seeds
    step = "torch ops" if args.torch else "C kernel"
    head = (
        f"Claim frontiers, smoke profile, net standard protocol, {len(seeds)} seeds ({step}: "
        f"{', '.join(files)}{'' if args.torch else '; seeds 0-9 are the calibration set the thresholds were set on'}"
        "); share of seeds holding [95 % Jeffreys interval]"
    )
    print(head)
    print(f"NOTE: {SIZES_NOTE}")
    print(format_table(rows))
    stem = "frontier-torch" if args.torch else "frontier"
    save_json(
        args.out / f"{stem}.json",
        rows,
        profile="smoke",
        protocol="standard",
        evidence=[f"benchmarks/evidence/{f}" for f in files],
        note=SIZES_NOTE,
    )
    title = (
        f"share of seeds on which each claim holds, 95 % Jeffreys band; fitted logistic in log N, N* with its "
        f"interval\nsmoke profile, net standard protocol, {len(seeds)} seeds ({step}); only the post's 5 sizes: "
        "the 8-size grid of issue 21 needs training"
    )
    save_figure(args.out / f"{stem}.png", rows, title=title)
    print(f"wrote {args.out / (stem + '.json')} and {args.out / (stem + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
