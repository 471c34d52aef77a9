"""Pure numpy/scipy metrics comparing a predicted grey image with the truth.

Every function takes arrays and returns numbers (or arrays); nothing here
touches torch, files or global state.

Conventions:

* ``pred`` is a float grey image (H, W) from the network; NaN counts as
  white (1.0) everywhere, so a diverged network reads as "draws nothing".
* ``truth`` is a float grey image (H, W) with values in [0, 1].
* masks are ``bool`` arrays (H, W).
* a pixel is *black* when its grey value is ``< threshold`` (default 0.5).
* pixel (row i, column j) is the point (x, y) = (j / W, i / H); positions
  and centroids are returned in pixels as (row, col), distances and errors
  as fractions of the image width W.

Bad input raises :class:`genprobe.errors.GenprobeError` (a ``ValueError``)
with a one-line message naming the bad value or shape.  Validation is done
by the ``_check_*`` helpers of ``_core``; the other private helpers compute.

For per-checkpoint evaluation build a :class:`TruthGeometry` once from the
true image and pass it to :func:`evaluate` via ``geometry=``; that avoids
recomputing the distance transform, the dilations and the angle bins.

Modules, lower first: ``_core`` (validation, helpers), ``geometry``
(:class:`TruthGeometry`), ``masks`` (IoU, Dice, train fit), ``shape``
(pieces, coverage, circle, contrast), ``regions`` (linear regions),
``registry`` (every metric by name, title and direction; add your own with
:func:`register`) and ``evaluate`` (all of them at once). Import from
``genprobe.metrics``.
"""

from __future__ import annotations

from .evaluate import evaluate
from .geometry import TruthGeometry
from .masks import black, black_train_recall, dice, held_out_iou, iou, train_mse
from .regions import linear_regions, region_boundaries
from .registry import METRICS, Metric, Scored, complete, register, title, unregister
from .shape import (
    angular_coverage,
    annulus_share,
    circle_errors,
    circle_fit,
    components,
    contrast_summary,
    holes,
    mean_distance_to_truth,
    ring_contrast,
    truth_centroid,
)

__all__ = [
    "black",
    "iou",
    "held_out_iou",
    "dice",
    "components",
    "holes",
    "train_mse",
    "black_train_recall",
    "truth_centroid",
    "angular_coverage",
    "annulus_share",
    "mean_distance_to_truth",
    "circle_fit",
    "circle_errors",
    "ring_contrast",
    "contrast_summary",
    "linear_regions",
    "region_boundaries",
    "TruthGeometry",
    "evaluate",
    "METRICS",
    "Metric",
    "Scored",
    "register",
    "unregister",
    "title",
    "complete",
]
