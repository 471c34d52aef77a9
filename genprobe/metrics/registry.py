"""Every metric by name: what it is called in tables, which way is better, and how to add one.

The built-in metrics are computed together by :func:`genprobe.metrics.evaluate` (one pass over shared
masks); a metric of your own is one function of the scored prediction, registered once::

    import numpy as np
    from genprobe.metrics import register

    def ink(s):                       # s: a Scored (the prediction, its black mask, the truth's geometry)
        return float(np.mean(1.0 - np.nan_to_num(s.grey, nan=1.0)))

    register("ink", ink, title="mean darkness", better="neither")

From then on ``evaluate`` returns it (so runs trained after it record it at every checkpoint and in
their final metrics), the command line's table and the report's curves show it, and a claim reads it
like any other (``compare(net, knn, "ink", ...)``). A run already in the cache is not retrained: its
final value is computed from the stored final prediction when the run is read (:func:`complete`), and
every other cached run stays valid (nothing in a run's cache key changes). Its *history* (the value at
each checkpoint) exists only for runs trained after the registration: a curve claim on a new metric
needs those runs retrained (delete their cache entries; a smoke seed is about 2 minutes on 2 cores).
An export written with ``genprobe sweep --export-pictures`` holds each run's final picture (8-bit), so
:func:`genprobe.calibration.load_export` gives a new metric's final value for its runs too (exact for a
metric of the black mask; within 1/510 a pixel for one of the grey values); the committed evidence of
smoke seeds 10-14 is such an export, the others hold no pictures (size) and need their cached runs or a
retraining. docs/how-to/add-a-hypothesis.md says where to add a claim, a metric, a baseline and a command.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import GenprobeError
from ..sampling import sample_training_set
from ._core import _white_nan
from .geometry import TruthGeometry

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunResult

__all__ = ["Metric", "Scored", "METRICS", "register", "unregister", "title", "extras", "complete"]

BETTER = ("higher", "lower", "neither")


@dataclass(frozen=True)
class Scored:
    """What a metric is computed from: one prediction against the truth.

    Attributes:
        grey: (H, W) the prediction, NaN as white (1.0).
        black: (H, W) bool, ``grey < threshold``.
        geometry: the truth's :class:`TruthGeometry` on this grid (``truth_black``, the widened ring, ...).
        train_mask: (H, W) bool, True on the training pixels.
    """

    grey: np.ndarray
    black: np.ndarray
    geometry: TruthGeometry
    train_mask: np.ndarray


@dataclass(frozen=True)
class Metric:
    """One metric: its name (the key in ``RunResult.final`` and ``history``), its title in tables and
    curves, which way is better (``higher``, ``lower`` or ``neither``), and, for a registered metric, the
    function computing it (``None`` for the built-ins :func:`~genprobe.metrics.evaluate` computes)."""

    name: str
    title: str
    better: str
    fn: Callable[[Scored], float] | None = None


def _builtin(name: str, title: str, better: str) -> tuple[str, Metric]:
    return name, Metric(name, title, better)


#: every metric by name: the built-ins first, then those registered
METRICS: dict[str, Metric] = dict(
    [
        _builtin("held_out_iou", "held-out IoU", "higher"),
        _builtin("dice", "Dice", "higher"),
        _builtin("components", "black components", "neither"),
        _builtin("holes", "holes", "neither"),
        _builtin("true_components", "true components", "neither"),
        _builtin("true_holes", "true holes", "neither"),
        _builtin("angular_coverage", "angular coverage", "higher"),
        _builtin("annulus_share", "black on the widened ring", "higher"),
        _builtin("mean_distance", "distance to the ring", "lower"),
        _builtin("circle_centre_error", "circle centre error", "lower"),
        _builtin("circle_radius_error", "circle radius error", "lower"),
        _builtin("contrast", "ring contrast", "higher"),
        _builtin("contrast_coverage", "contrast coverage", "higher"),
        _builtin("black_fraction", "black fraction", "neither"),
        _builtin("train_mse", "train MSE", "lower"),
        _builtin("black_train_recall", "black train recall", "higher"),
        _builtin("wedge_coverage", "coverage in the wedge", "higher"),
        _builtin("wedge_contrast", "contrast in the wedge", "higher"),
        _builtin("linear_regions", "linear regions", "neither"),
        # the built-in MLP's final picture against its own polytope memoriser (metrics.regions.polytope_metrics)
        _builtin("polytope_outside", "black outside the polytopes", "neither"),
        _builtin("polytope_iou", "IoU with the polytopes", "neither"),
        _builtin("polytope_outside_nb", "black outside the polytopes and neighbours", "neither"),
        _builtin("polytope_iou_nb", "IoU with the polytopes and neighbours", "neither"),
        _builtin("polytope_held_out_iou", "polytope memoriser's held-out IoU", "higher"),
    ]
)


def register(name: str, fn: Callable[[Scored], float], *, title: str | None = None, better: str = "higher") -> Metric:
    """Add a metric ``fn(Scored) -> float`` under ``name`` (see the module's docstring).

    Registering the same function again under its name is a no-op; a name already taken by another
    metric is an error (unregister it first).

    Returns:
        the registered :class:`Metric`.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise GenprobeError(f"a metric's name must be an identifier, got {name!r}")
    if not callable(fn):
        raise GenprobeError(f"metric {name!r}: fn must be callable, got {fn!r}")
    if better not in BETTER:
        raise GenprobeError(f"metric {name!r}: better must be one of {', '.join(BETTER)}, got {better!r}")
    metric = Metric(name, title or name, better, fn)
    have = METRICS.get(name)
    if have is not None and have != metric:
        raise GenprobeError(f"metric {name!r} is already registered ({have.title}); unregister it first")
    METRICS[name] = metric
    return metric


def unregister(name: str) -> None:
    """Remove a registered metric (the built-ins stay).

    Returns:
        None; an unknown name or a built-in is an error.
    """
    have = METRICS.get(name)
    if have is None or have.fn is None:
        raise GenprobeError(f"no registered metric {name!r} (built-ins cannot be removed)")
    del METRICS[name]


def title(name: str) -> str:
    """A metric's title for tables and curves.

    Returns:
        the registered title, or ``name`` itself for a metric the registry does not know.
    """
    m = METRICS.get(name)
    return m.title if m is not None else name


def extras(scored: Scored) -> dict[str, float]:
    """Every registered metric of ``scored`` (a metric that fails or is not a number reads NaN and warns)."""
    out: dict[str, float] = {}
    for m in METRICS.values():
        if m.fn is None:
            continue
        try:
            out[m.name] = float(m.fn(scored))
        except Exception as exc:  # a user's metric must not lose the run it scores
            warnings.warn(f"metric {m.name!r} failed: {type(exc).__name__}: {exc}; recorded as NaN", stacklevel=2)
            out[m.name] = math.nan
    return out


def complete(result: RunResult, threshold: float = 0.5) -> RunResult:
    """Fill in the final value of every registered metric ``result`` lacks, from its stored final
    prediction (no training).

    Returns:
        a copy of ``result`` with those values in ``final``; ``result`` itself when it lacks none or
        stores no prediction (a run read from an export). The dot memoriser's built-in final metrics are
        on the true image's own grid; a new metric's is on its stored picture's grid (its eval grid).
    """
    missing = [m for m in METRICS.values() if m.fn is not None and m.name not in result.final]
    pred = np.asarray(result.prediction)
    if not missing or pred.ndim != 2 or pred.shape[0] != pred.shape[1] or pred.shape[0] < 2:
        return result
    spec, res = result.spec, pred.shape[0]
    image = spec.load_truth()
    geometry = TruthGeometry.from_truth(image.at_resolution(res), threshold=threshold)
    mask = sample_training_set(image, spec.n, spec.seed, wedge=spec.wedge).mask_at(res)
    grey = _white_nan(pred)
    scored = Scored(grey=grey, black=grey < threshold, geometry=geometry, train_mask=mask)
    values = {k: v for k, v in extras(scored).items() if k in {m.name for m in missing}}
    return dataclasses.replace(result, final={**result.final, **values})
