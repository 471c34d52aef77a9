"""Shape metrics: pieces, holes, angular coverage, distance to the truth, circle fits, ring contrast."""

from __future__ import annotations

import math

import numpy as np

from ..errors import GenprobeError
from ._core import (
    _NAN2,
    _black,
    _centroid,
    _check_bins,
    _check_fraction,
    _check_image,
    _check_mask,
    _check_same_shape,
    _check_threshold,
    _check_truth,
    _check_vector,
    _circle_fit,
    _components,
    _holes,
    _white_nan,
)
from .geometry import TruthGeometry

__all__ = [
    "components",
    "holes",
    "truth_centroid",
    "angular_coverage",
    "annulus_share",
    "mean_distance_to_truth",
    "circle_fit",
    "circle_errors",
    "ring_contrast",
    "contrast_summary",
]


def components(mask: np.ndarray) -> int:
    """Number of 8-connected pieces of True pixels.

    Args:
        mask: (H, W) bool mask.

    Returns:
        The count (0 for an all-False mask).

    >>> components(np.array([[True, False], [False, True]]))
    1
    """
    _check_mask(mask, "mask")
    return _components(mask)


def holes(mask: np.ndarray) -> int:
    """Number of holes: 4-connected False pieces that do not touch the border.

    (4-connectivity for the background is the dual of 8-connectivity for the
    foreground, so an 8-connected closed curve encloses a hole.)

    Args:
        mask: (H, W) bool mask.

    Returns:
        The count.

    >>> m = np.ones((3, 3), bool); m[1, 1] = False
    >>> holes(m)
    1
    """
    _check_mask(mask, "mask")
    return _holes(mask)


def truth_centroid(truth: np.ndarray, threshold: float = 0.5) -> tuple[float, float]:
    """Centroid of the true black pixels.

    Args:
        truth: (H, W) grey image in [0, 1].
        threshold: black threshold.

    Returns:
        (row, col) in pixels; (NaN, NaN) when nothing is black.

    >>> t = np.ones((3, 4)); t[1, 1] = t[1, 3] = 0.0
    >>> truth_centroid(t)
    (1.0, 2.0)
    """
    _check_truth(truth)
    t = _check_threshold(threshold)
    return _centroid(_black(truth, t))


def _pred_truth_geometry(
    pred: np.ndarray,
    truth: np.ndarray,
    threshold: float,
    widen: float = 0.02,
    band: float = 0.03,
    bins: int = 360,
    contrast_bins: int = 72,
) -> tuple[np.ndarray, TruthGeometry]:
    """Shared validation for the pred-vs-truth geometric metrics."""
    _check_image(pred, "pred")
    _check_truth(truth)
    _check_same_shape(pred, truth, "pred", "truth")
    t = _check_threshold(threshold)
    geom = TruthGeometry._build(
        truth,
        _check_fraction(widen, "widen"),
        _check_fraction(band, "band"),
        _check_bins(bins, "bins"),
        _check_bins(contrast_bins, "contrast_bins"),
        t,
    )
    return pred, geom


def angular_coverage(
    pred: np.ndarray, truth: np.ndarray, widen: float = 0.02, bins: int = 360, threshold: float = 0.5
) -> float:
    """How much of the true shape's angular extent the prediction draws.

    Seen from the centroid of the true black pixels, the angles are split into
    ``bins`` equal bins.  Among the bins that hold at least one true black
    pixel, the result is the share of bins in which some predicted black
    pixel lies inside the widened true black region (true black dilated by a
    Euclidean disk of ``max(1, round(widen * W))`` pixels), so a perfect
    prediction scores exactly 1 and the widening only forgives small
    misplacements.  For
    the ring this is "how much of the circle is drawn"; it is defined for any
    truth but is most meaningful for shapes spread around their centroid.

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        widen: dilation radius, fraction of W.
        bins: number of angle bins.
        threshold: black threshold.

    Returns:
        Share in [0, 1]; NaN when the truth has no black pixel.

    >>> t = np.ones((9, 9)); t[2, 2:7] = t[6, 2:7] = t[2:7, 2] = t[2:7, 6] = 0.0
    >>> angular_coverage(t, t, bins=8)
    1.0
    """
    pred, geom = _pred_truth_geometry(pred, truth, threshold, widen=widen, bins=bins)
    return float(geom._coverage(_black(pred, geom.threshold)))


def annulus_share(pred: np.ndarray, truth: np.ndarray, widen: float = 0.02, threshold: float = 0.5) -> float:
    """Share of predicted black pixels lying inside the widened true black.

    The widened region is the true black dilated by a Euclidean disk of
    ``max(1, round(widen * W))`` pixels.  Works for any truth (the name comes
    from the ring).

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        widen: dilation radius, fraction of W.
        threshold: black threshold.

    Returns:
        Share in [0, 1]; NaN when no pixel is predicted black (the share is
        undefined, not perfect).

    >>> t = np.ones((5, 5)); t[2, 2] = 0.0
    >>> p = np.ones((5, 5)); p[2, 3] = p[0, 0] = 0.0
    >>> annulus_share(p, t)
    0.5
    """
    pred, geom = _pred_truth_geometry(pred, truth, threshold, widen=widen)
    return float(geom._annulus_share(_black(pred, geom.threshold)))


def mean_distance_to_truth(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> float:
    """Mean distance from each predicted black pixel to the nearest true black one.

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        threshold: black threshold.

    Returns:
        Mean Euclidean distance as a fraction of W (0 for pixels on the true
        black); NaN when no pixel is predicted black or the truth has no black.

    >>> t = np.ones((4, 4)); t[0, 0] = 0.0
    >>> p = np.ones((4, 4)); p[0, 0] = p[0, 2] = 0.0
    >>> mean_distance_to_truth(p, t)
    0.25
    """
    pred, geom = _pred_truth_geometry(pred, truth, threshold)
    return float(geom._mean_distance(_black(pred, geom.threshold)))


def circle_fit(mask: np.ndarray) -> tuple[float, float, float]:
    """Algebraic (Kasa) least-squares circle through the True pixel centres.

    Args:
        mask: (H, W) bool mask.

    Returns:
        (centre_row, centre_col, radius) in pixels; a NaN triple when fewer
        than 3 pixels are True or they are collinear (degenerate fit).  For a
        filled annulus the radius is the RMS radius of its pixels.

    >>> m = np.zeros((5, 5), bool); m[0, 2] = m[4, 2] = m[2, 0] = m[2, 4] = True
    >>> tuple(round(x, 6) for x in circle_fit(m))
    (2.0, 2.0, 2.0)
    """
    _check_mask(mask, "mask")
    return _circle_fit(mask)


def circle_errors(pred: np.ndarray, truth: np.ndarray, threshold: float = 0.5) -> tuple[float, float]:
    """How far the circle fitted to the predicted black is from the true one.

    Only meaningful for ring-like truths (a circle fit to other shapes is
    well defined but says little).

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        threshold: black threshold.

    Returns:
        (centre error, |radius error|) as fractions of W; (NaN, NaN) when
        either circle fit is undefined.
    """
    _check_image(pred, "pred")
    _check_truth(truth)
    _check_same_shape(pred, truth, "pred", "truth")
    t = _check_threshold(threshold)
    pr, pc, prad = _circle_fit(_black(pred, t))
    tr, tc, trad = _circle_fit(_black(truth, t))
    if math.isnan(pr) or math.isnan(tr):
        return _NAN2
    w = pred.shape[1]
    return math.hypot(pr - tr, pc - tc) / w, abs(prad - trad) / w


def ring_contrast(
    pred: np.ndarray, truth: np.ndarray, band: float = 0.03, bins: int = 72, threshold: float = 0.5
) -> np.ndarray:
    """Threshold-free contrast of the prediction across the true black, per angle.

    Around the centroid of the true black, for each of ``bins`` angle bins:
    mean predicted grey in the band just off the true black (true black
    dilated by a Euclidean disk of ``max(1, round(band * W))`` pixels, minus
    the true black) minus the mean predicted grey on the true black.  NaN
    predictions count as 1.0.  A perfect prediction gives ~1 per bin, a flat
    (all-grey or all-white) one 0, a dark-grey (0.5) ring on white 0.5.
    Meant for ring-like (thin, centred) truths; ``threshold`` only defines
    the true black, not the prediction.

    Args:
        pred: (H, W) predicted grey image.
        truth: (H, W) true grey image in [0, 1].
        band: band width, fraction of W.
        bins: number of angle bins.
        threshold: black threshold for the truth.

    Returns:
        float array (bins,); NaN in bins lacking band pixels or true black
        pixels (all NaN when the truth has no black).

    >>> t = np.ones((9, 9)); t[2, 2:7] = t[6, 2:7] = t[2:7, 2] = t[2:7, 6] = 0.0
    >>> ring_contrast(t, t, band=0.12, bins=4).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    pred, geom = _pred_truth_geometry(pred, truth, threshold, band=band, contrast_bins=bins)
    return geom._contrast(_white_nan(pred))


def contrast_summary(contrast: np.ndarray, level: float = 0.25) -> tuple[float, float]:
    """Summarise a per-bin contrast array.

    Args:
        contrast: 1-D float array, e.g. from :func:`ring_contrast`; NaN bins
            are skipped.
        level: contrast a bin needs to count as drawn.

    Returns:
        (mean contrast, share of non-NaN bins with contrast >= level); both
        NaN when every bin is NaN.

    >>> contrast_summary(np.array([1.0, 0.0, np.nan, 0.5]))
    (0.5, 0.6666666666666666)
    """
    _check_vector(contrast, "contrast")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
        raise GenprobeError(f"level must be a real number, got {level!r}")
    if not math.isfinite(float(level)):
        raise GenprobeError(f"level must be finite, got {level!r}")
    return _contrast_summary(contrast, float(level))


def _contrast_summary(contrast: np.ndarray, level: float) -> tuple[float, float]:
    ok = contrast[~np.isnan(contrast)]
    if ok.size == 0:
        return _NAN2
    return float(ok.mean()), float(np.count_nonzero(ok >= level) / ok.size)
