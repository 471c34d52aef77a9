""":func:`evaluate`: every checkpoint metric of one prediction in one pass."""

from __future__ import annotations

import math

import numpy as np

from ..errors import GenprobeError
from ._core import (
    _black,
    _check_bins,
    _check_fraction,
    _check_same_shape,
    _check_scored,
    _check_vector,
    _components,
    _dice,
    _holes,
    _iou,
    _white_nan,
)
from .geometry import TruthGeometry
from .masks import black_train_recall, train_mse
from .registry import Scored, extras
from .shape import _contrast_summary

__all__ = ["evaluate"]


def _check_geometry_matches(
    geometry: TruthGeometry,
    truth_black: np.ndarray,
    threshold: float,
    params: dict[str, float | int | None],
) -> None:
    if not isinstance(geometry, TruthGeometry):
        raise GenprobeError(f"geometry must be a TruthGeometry, got {type(geometry).__name__}")
    if geometry.shape != truth_black.shape:
        raise GenprobeError(f"geometry shape {geometry.shape} does not match truth shape {truth_black.shape}")
    if geometry.threshold != threshold:
        raise GenprobeError(f"geometry threshold {geometry.threshold} does not match threshold {threshold}")
    for name, value in params.items():
        if value is not None and getattr(geometry, name) != value:
            raise GenprobeError(f"{name}={value!r} does not match geometry {name}={getattr(geometry, name)!r}")
    if not np.array_equal(geometry.truth_black, truth_black):
        raise GenprobeError("geometry was built from a different truth (black masks differ)")


def evaluate(
    pred: np.ndarray,
    truth: np.ndarray,
    train_mask: np.ndarray,
    pred_train: np.ndarray | None = None,
    train_targets: np.ndarray | None = None,
    threshold: float = 0.5,
    *,
    geometry: TruthGeometry | None = None,
    widen: float | None = None,
    band: float | None = None,
    bins: int | None = None,
    contrast_bins: int | None = None,
    contrast_level: float = 0.25,
    wedge: float = 0.0,
) -> dict[str, float]:
    """All checkpoint metrics in one pass.

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        train_mask: (H, W) bool, True on training pixels (excluded from the
            held-out IoU only).
        pred_train: optional 1-D predictions at the training points.
        train_targets: optional 1-D training targets (give both or neither).
        threshold: black threshold.
        geometry: optional precomputed :class:`TruthGeometry` for this truth
            and threshold; build it once per run to save time.
        widen, band, bins, contrast_bins: geometry parameters (defaults
            0.02, 0.03, 360, 72); when ``geometry`` is given they may be left
            None and must otherwise match it.
        contrast_level: level for ``contrast_coverage``.
        wedge: with a wedge (degrees around +x, seen from the truth's
            centroid) left without training points, also ``wedge_coverage``
            and ``wedge_contrast``: angular coverage and mean contrast of the
            true shape inside the wedge alone (ring completion).

    Returns:
        dict of plain floats with keys ``held_out_iou``, ``dice``,
        ``components``, ``holes``, ``true_components``, ``true_holes``,
        ``angular_coverage``, ``annulus_share``, ``mean_distance``,
        ``circle_centre_error``, ``circle_radius_error``, ``contrast``,
        ``contrast_coverage``, ``black_fraction`` and, when training data is
        given, ``train_mse`` and ``black_train_recall``.  Undefined metrics
        are NaN (see the single-metric functions).  ``dice`` is over all
        pixels; circle errors and contrast are meaningful for ring-like
        truths only.
    """
    # ---- validation ----
    t = _check_scored(pred, truth, train_mask, threshold)
    if (pred_train is None) != (train_targets is None):
        raise GenprobeError("pred_train and train_targets must be given together, got only one")
    if pred_train is not None and train_targets is not None:
        _check_vector(pred_train, "pred_train")
        _check_vector(train_targets, "train_targets")
        _check_same_shape(pred_train, train_targets, "pred_train", "train_targets")
        if not np.all(np.isfinite(train_targets)):
            raise GenprobeError("train_targets must be finite, got NaN or inf")
    if isinstance(contrast_level, bool) or not isinstance(contrast_level, (int, float, np.integer, np.floating)):
        raise GenprobeError(f"contrast_level must be a real number, got {contrast_level!r}")
    level = float(contrast_level)
    params: dict[str, float | int | None] = {
        "widen": None if widen is None else _check_fraction(widen, "widen"),
        "band": None if band is None else _check_fraction(band, "band"),
        "bins": None if bins is None else _check_bins(bins, "bins"),
        "contrast_bins": None if contrast_bins is None else _check_bins(contrast_bins, "contrast_bins"),
    }
    truth_black = _black(truth, t)
    if geometry is not None:
        _check_geometry_matches(geometry, truth_black, t, params)
    else:
        geometry = TruthGeometry._build(
            truth,
            0.02 if params["widen"] is None else params["widen"],
            0.03 if params["band"] is None else params["band"],
            360 if params["bins"] is None else int(params["bins"]),
            72 if params["contrast_bins"] is None else int(params["contrast_bins"]),
            t,
        )

    # ---- computation ----
    g = geometry
    grey = _white_nan(pred)
    pb = grey < t
    centre_err, radius_err = g._circle_errors(pb)
    contrast_mean, contrast_cov = _contrast_summary(g._contrast(grey), level)
    out = {
        "held_out_iou": float(_iou(pb, g.truth_black, train_mask)),
        "dice": float(_dice(pb, g.truth_black, None)),
        "components": float(_components(pb)),
        "holes": float(_holes(pb)),
        "true_components": float(g.true_components),
        "true_holes": float(g.true_holes),
        "angular_coverage": float(g._coverage(pb)),
        "annulus_share": float(g._annulus_share(pb)),
        "mean_distance": float(g._mean_distance(pb)),
        "circle_centre_error": float(centre_err),
        "circle_radius_error": float(radius_err),
        "contrast": float(contrast_mean),
        "contrast_coverage": float(contrast_cov),
        "black_fraction": float(np.count_nonzero(pb) / pb.size),
    }
    if pred_train is not None and train_targets is not None:
        out["train_mse"] = train_mse(pred_train, train_targets)
        out["black_train_recall"] = black_train_recall(pred_train, train_targets, t)
    if wedge:
        out.update(_in_wedge(g, pb, grey, float(wedge)))
    out.update(extras(Scored(grey=grey, black=pb, geometry=g, train_mask=train_mask)))  # metrics of your own
    return out


def _wedge_bins(bins: int, degrees: float) -> np.ndarray:
    """(bins,) bool: angle bins (as :func:`_angle_bins` numbers them) whose centre lies within +-degrees/2 of +x."""
    centres = -math.pi + (np.arange(bins) + 0.5) * (2.0 * math.pi / bins)
    return np.abs(centres) <= math.radians(degrees) / 2


def _in_wedge(g: TruthGeometry, pb: np.ndarray, grey: np.ndarray, degrees: float) -> dict[str, float]:
    """Coverage and contrast of the true shape inside the wedge only (NaN where the wedge holds none of it)."""
    inside = _wedge_bins(g.bins, degrees) & g.truth_bins
    hit = np.bincount(g.coverage_bins[pb[g.widened]], minlength=g.bins) > 0
    coverage = np.count_nonzero(hit & inside) / np.count_nonzero(inside) if inside.any() else math.nan
    contrast = g._contrast(grey)[_wedge_bins(g.contrast_bins, degrees)]
    contrast = contrast[np.isfinite(contrast)]
    return {"wedge_coverage": float(coverage), "wedge_contrast": float(contrast.mean()) if contrast.size else math.nan}
