"""genprobe: do small MLPs draw the ring, or only colour their training points?

The public API is small; heavy modules (torch) load on first use::

    from genprobe import RunSpec, Cache, run_sweep, claims
    results = run_sweep([RunSpec(n=312, seed=s, epochs=6000) for s in range(5)], cache=Cache())
    verdict = claims.threshold(results, "held_out_iou", ">=", 0.2)  # a sign test: 5 seeds at least decide
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:  # the one version string is pyproject.toml's, read from the installed metadata
    __version__ = version("genprobe")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "GenprobeError",
    "TrueImage",
    "ring",
    "load_png",
    "RunSpec",
    "RunResult",
    "Cache",
    "run_sweep",
    "train_group",
    "run_baseline",
    "Profile",
    "get_profile",
    "Check",
    "Verdict",
    "decide_over_seeds",
    "sign_test",
    "ExactAdam",
    "claims",
    "metrics",
    "stats",
]

_LAZY = {
    "GenprobeError": "genprobe.errors",
    "TrueImage": "genprobe.truth",
    "ring": "genprobe.truth",
    "load_png": "genprobe.truth",
    "RunSpec": "genprobe.runs",
    "RunResult": "genprobe.runs",
    "Cache": "genprobe.runs",
    "run_sweep": "genprobe.sweep",
    "train_group": "genprobe.train",
    "run_baseline": "genprobe.baselines",
    "Profile": "genprobe.profiles",
    "get_profile": "genprobe.profiles",
    "Check": "genprobe.verdicts",
    "Verdict": "genprobe.verdicts",
    "decide_over_seeds": "genprobe.verdicts",
    "sign_test": "genprobe.stats",
    "ExactAdam": "genprobe.optim",
}


def __getattr__(name: str) -> Any:
    if name in ("claims", "metrics", "stats"):
        return importlib.import_module(f"genprobe.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'genprobe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
