"""How stable is each claim's verdict over seeds? The evidence behind the expectations.

Runs every test of ``test_claims.py`` and ``test_controls.py`` on exported
run histories (``genprobe sweep --seeds 0-9 --export runs.json.gz``) for every
k-seed subset of the measured seeds, and prints, per test, the share of
subsets in which the claim holds / is refuted / is inconclusive, plus the
verdict on all seeds. A claim gates CI at a profile only where one verdict
has >= 95 % of the subsets (see ``genprobe/profiles.py``).

    python benchmarks/threshold_evidence.py runs.json.gz --profile smoke --k 5

The test functions are called directly with a stand-in for the ``genprobe``
fixture, so this measures exactly what the suite checks.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import gzip
import importlib
import itertools
import json
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: genprobe, benchmarks.*

from genprobe.jsonio import from_json_safe  # noqa: E402
from genprobe.profiles import get_profile  # noqa: E402
from genprobe.runs import RunResult, RunSpec  # noqa: E402
from genprobe.sampling import sample_training_set  # noqa: E402


def load_export(path: str) -> dict[RunSpec, RunResult]:
    """Run results (histories and final metrics, no images) from an export."""
    raw = Path(path).read_bytes()
    data = json.loads(gzip.decompress(raw) if path.endswith(".gz") else raw)
    out = {}
    for r in data["runs"]:
        spec = RunSpec.from_dict(r["spec"])
        history = {k: np.array([from_json_safe(x) for x in v], dtype=float) for k, v in r["history"].items()}
        indices = sample_training_set(spec.load_truth(), spec.n, spec.seed).indices
        out[spec] = RunResult(
            spec=spec, history=history, final={k: from_json_safe(v) for k, v in r["final"].items()},
            prediction=np.zeros((1, 1), np.float32), boundaries=None, train_indices=indices,
            diverged_at=r["diverged_at"], meta=r.get("meta", {}),
        )
    return out


class StandIn:
    """The parts of the ``genprobe`` fixture the claim tests use, over exported runs."""

    def __init__(self, runs, profile, seeds):
        self._runs, self.profile, self.seeds = runs, profile, tuple(seeds)
        self.thresholds = profile.thresholds
        self.recorded: list[tuple[str, str]] = []

    def runs(self, specs):
        return [self._runs[s] for s in specs]

    def net(self, n, protocol="standard", **kw):
        return self.runs([self.profile.net(n, s, protocol, **kw) for s in self.seeds])

    def shuffled(self, n, protocol="standard"):
        return self.runs([self.profile.shuffled(n, s, protocol) for s in self.seeds])

    def fourier(self, n, scale=None):
        return self.runs([self.profile.fourier(n, s, scale) for s in self.seeds])

    def baseline(self, model, n, k=1):
        return self.runs([self.profile.baseline(model, n, s, k) for s in self.seeds])

    def expect(self, claim, n, protocol="standard"):
        return self.profile.expect(claim, n, protocol)

    def check(self, verdict, expect=None, protocol="standard"):
        if expect is None:
            expect = self.profile.expect(verdict.claim, verdict.n, protocol)
        self.recorded.append((verdict.status, expect))
        return verdict


def _cases(module):
    """(name, function, kwargs) for every parametrised case of a test module."""
    for name in dir(module):
        fn = getattr(module, name)
        if not name.startswith("test_") or not callable(fn):
            continue
        axes = [m for m in getattr(fn, "pytestmark", []) if m.name == "parametrize"]
        grids = []
        for m in axes:
            names = [a.strip() for a in m.args[0].split(",")]
            grids.append([dict(zip(names, v if len(names) > 1 else (v,))) for v in m.args[1]])
        for combo in itertools.product(*grids) if grids else [()]:
            kwargs = {k: v for d in combo for k, v in d.items()}
            label = name + "[" + "-".join(str(v) for v in kwargs.values()) + "]" if kwargs else name
            yield label, fn, kwargs


@dataclasses.dataclass
class Row:
    """One test case's verdicts over the seed subsets."""

    label: str
    shares: dict[str, float]  # holds / refuted / inconclusive: share of the subsets
    all_seeds: str  # the verdict on every measured seed together
    expected: str  # the profile's expectation
    errors: list[str]


def _subsets(seeds: list[int], k: int, max_subsets: int) -> list[tuple[int, ...]]:
    """The k-seed subsets judged: all of them, or a fixed random max_subsets of them."""
    subsets = list(itertools.combinations(seeds, k))
    random.Random(0).shuffle(subsets)
    return subsets[:max_subsets]


def evidence(runs: dict[RunSpec, RunResult], profile_name: str = "smoke", k: int = 5, max_subsets: int = 252) -> list[Row]:
    """Every claim and control test, judged on every k-seed subset of the measured seeds."""
    profile = get_profile(profile_name)
    seeds = sorted({s.seed for s in runs})
    subsets = _subsets(seeds, k, max_subsets)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mod_name in ("benchmarks.test_claims", "benchmarks.test_controls"):
            module = importlib.import_module(mod_name)
            for label, fn, kwargs in _cases(module):
                counts: collections.Counter = collections.Counter()
                expected, everything = "?", "-"
                for ss in subsets + [tuple(seeds)]:
                    probe = StandIn(runs, profile, ss)
                    try:
                        fn(probe, lambda c: dict(profile.thresholds[c]), **kwargs)
                    except (Exception, pytest.skip.Exception) as exc:  # a skip or a missing run: say so
                        counts[f"error:{exc.__class__.__name__}"] += 1
                        continue
                    for status, exp in probe.recorded:
                        if ss == tuple(seeds):
                            everything, expected = status, exp
                        else:
                            counts[status] += 1
                n = max(1, sum(v for key, v in counts.items() if not key.startswith("error")))
                shares = {s: counts[s] / n for s in ("holds", "refuted", "inconclusive")}
                errors = [key for key in counts if key.startswith("error")]
                rows.append(Row(label, shares, everything, expected, errors))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("export")
    ap.add_argument("--profile", default="smoke")
    ap.add_argument("--k", type=int, default=5, help="seeds per subset (default: 5, the smoke profile's)")
    ap.add_argument("--max-subsets", type=int, default=252)
    args = ap.parse_args()
    runs = load_export(args.export)
    seeds = sorted({s.seed for s in runs})
    n_subsets = len(_subsets(seeds, args.k, args.max_subsets))
    print(f"{len(seeds)} seeds measured, {n_subsets} subsets of {args.k}; profile {args.profile}")
    print(f"{'test':58s} {'holds':>6s} {'refut.':>6s} {'incon.':>6s}  all-seeds  expected")
    for row in evidence(runs, args.profile, args.k, args.max_subsets):
        shares = " ".join(f"{row.shares[s]:6.2f}" for s in ("holds", "refuted", "inconclusive"))
        print(f"{row.label:58s} {shares}  {row.all_seeds:9s}  {row.expected} {', '.join(row.errors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
