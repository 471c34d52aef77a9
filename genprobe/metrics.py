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
by the ``_check_*`` helpers; the ``_*_impl`` style private functions compute.

For per-checkpoint evaluation build a :class:`TruthGeometry` once from the
true image and pass it to :func:`evaluate` via ``geometry=``; that avoids
recomputing the distance transform, the dilations and the angle bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import GenprobeError

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
]

_EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity structure
_NAN2 = (math.nan, math.nan)
_NAN3 = (math.nan, math.nan, math.nan)

# --------------------------------------------------------------------------
# validation helpers (no computation beyond what the checks need)
# --------------------------------------------------------------------------


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise GenprobeError(f"threshold must be a real number, got {threshold!r}")
    t = float(threshold)
    if not math.isfinite(t):
        raise GenprobeError(f"threshold must be finite, got {threshold!r}")
    return t


def _check_fraction(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise GenprobeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise GenprobeError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _check_bins(bins: int, name: str = "bins") -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise GenprobeError(f"{name} must be an integer >= 1, got {bins!r}")
    return int(bins)


def _check_numeric(x: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise GenprobeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.dtype.kind not in "biuf":
        raise GenprobeError(f"{name} must be a real numeric array, got dtype {x.dtype}")
    return x


def _check_image(x: np.ndarray, name: str) -> np.ndarray:
    """A non-empty 2-D real array (NaN allowed)."""
    _check_numeric(x, name)
    if x.ndim != 2:
        raise GenprobeError(f"{name} must be a 2-D (H, W) array, got shape {x.shape}")
    if x.size == 0:
        raise GenprobeError(f"{name} must be non-empty, got shape {x.shape}")
    return x


def _check_truth(truth: np.ndarray, name: str = "truth") -> np.ndarray:
    _check_image(truth, name)
    lo, hi = float(np.min(truth)), float(np.max(truth))
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0.0 or hi > 1.0:
        raise GenprobeError(f"{name} values must be finite and in [0, 1], got range [{lo}, {hi}]")
    return truth


def _check_mask(x: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise GenprobeError(f"{name} must be a numpy bool array, got {type(x).__name__}")
    if x.dtype != np.bool_:
        raise GenprobeError(f"{name} must be a bool array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise GenprobeError(f"{name} must be a 2-D (H, W) array, got shape {x.shape}")
    if x.size == 0:
        raise GenprobeError(f"{name} must be non-empty, got shape {x.shape}")
    return x


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise GenprobeError(f"{name_b} shape {b.shape} does not match {name_a} shape {a.shape}")


def _check_vector(x: np.ndarray, name: str) -> np.ndarray:
    _check_numeric(x, name)
    if x.ndim != 1:
        raise GenprobeError(f"{name} must be a 1-D array, got shape {x.shape}")
    return x


def _check_pair(pred_values: np.ndarray, targets: np.ndarray) -> None:
    _check_vector(pred_values, "pred_values")
    _check_vector(targets, "targets")
    _check_same_shape(pred_values, targets, "pred_values", "targets")
    if not np.all(np.isfinite(targets)):
        raise GenprobeError("targets must be finite, got NaN or inf")


def _check_ids(ids: np.ndarray) -> np.ndarray:
    if not isinstance(ids, np.ndarray):
        raise GenprobeError(f"pattern_ids must be a numpy integer array, got {type(ids).__name__}")
    if ids.dtype.kind not in "iu":
        raise GenprobeError(f"pattern_ids must be an integer array, got dtype {ids.dtype}")
    if ids.ndim != 2 or ids.size == 0:
        raise GenprobeError(f"pattern_ids must be a non-empty 2-D (H, W) array, got shape {ids.shape}")
    return ids


# --------------------------------------------------------------------------
# small computational helpers (inputs already validated)
# --------------------------------------------------------------------------


def _white_nan(grey: np.ndarray) -> np.ndarray:
    """Grey values as float64 with NaN and +inf replaced by white (1.0), -inf by black (0.0).

    Finite values are kept as they are; an infinite pixel would otherwise make
    a mean grey (the contrast) infinite.
    """
    g = np.asarray(grey, dtype=np.float64)
    return np.nan_to_num(g, nan=1.0, posinf=1.0, neginf=0.0)


def _black(grey: np.ndarray, threshold: float) -> np.ndarray:
    # NaN < t is False, so NaN is white without a copy.
    with np.errstate(invalid="ignore"):
        return np.asarray(grey < threshold, dtype=bool)


def _overlap(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None) -> tuple[int, int, int]:
    """(|a & b|, |a|, |b|) over the pixels not excluded."""
    if exclude is not None:
        keep = ~exclude
        a = a & keep
        b = b & keep
    return int(np.count_nonzero(a & b)), int(np.count_nonzero(a)), int(np.count_nonzero(b))


def _iou(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None) -> float:
    inter, na, nb = _overlap(a, b, exclude)
    union = na + nb - inter
    return 1.0 if union == 0 else inter / union


def _dice(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None) -> float:
    inter, na, nb = _overlap(a, b, exclude)
    return 1.0 if na + nb == 0 else 2.0 * inter / (na + nb)


def _components(mask: np.ndarray) -> int:
    return int(ndimage.label(mask, structure=_EIGHT)[1])


def _holes(mask: np.ndarray) -> int:
    labels, n = ndimage.label(~mask)  # default structure: 4-connectivity
    if n == 0:
        return 0
    border = np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1]))
    touching = np.count_nonzero(np.bincount(border, minlength=n + 1)[1:])
    return int(n - touching)


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return _NAN2
    return float(rows.mean()), float(cols.mean())


def _circle_fit(mask: np.ndarray) -> tuple[float, float, float]:
    rows, cols = np.nonzero(mask)
    if rows.size < 3:
        return _NAN3
    r0, c0 = rows.mean(), cols.mean()
    u = rows - r0
    v = cols - c0
    scale = max(float(np.abs(u).max()), float(np.abs(v).max()))
    if scale == 0.0:
        return _NAN3
    u = u / scale
    v = v / scale
    # Kasa: u^2 + v^2 = 2 a u + 2 b v + c, radius^2 = c + a^2 + b^2.
    design = np.column_stack((2.0 * u, 2.0 * v, np.ones_like(u)))
    sol, _, rank, _ = np.linalg.lstsq(design, u * u + v * v, rcond=None)
    if rank < 3:
        return _NAN3
    a, b, c = sol
    r2 = c + a * a + b * b
    if not (np.isfinite(r2) and r2 > 0.0):
        return _NAN3
    return float(r0 + a * scale), float(c0 + b * scale), float(math.sqrt(r2) * scale)


def _pixels(fraction: float, width: int) -> int:
    return max(1, int(round(fraction * width)))


def _angle_bins(shape: tuple[int, int], centre: tuple[float, float], bins: int) -> np.ndarray:
    """Angle-bin index (0 .. bins-1) of every pixel seen from ``centre``."""
    h, w = shape
    rows = np.arange(h, dtype=np.float64)[:, None] - centre[0]
    cols = np.arange(w, dtype=np.float64)[None, :] - centre[1]
    angle = np.arctan2(rows, cols)  # in [-pi, pi]
    idx = ((angle + math.pi) * (bins / (2.0 * math.pi))).astype(np.intp)
    return np.minimum(idx, bins - 1)


def _readonly(x: np.ndarray) -> np.ndarray:
    x.setflags(write=False)
    return x


# --------------------------------------------------------------------------
# truth geometry, computed once per true image
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TruthGeometry:
    """Everything about the true image that the metrics reuse per checkpoint.

    Build it with :meth:`from_truth`; the arrays are read-only.

    Attributes:
        shape: (H, W) of the true image.
        threshold: black threshold used for the truth (and for predictions
            evaluated against it).
        widen: widening fraction of W used by coverage and annulus share.
        band: band fraction of W used by the contrast.
        bins: number of angle bins for the angular coverage.
        contrast_bins: number of angle bins for the ring contrast.
        truth_black: (H, W) bool, true black pixels.
        distance: (H, W) float, Euclidean distance in pixels from each pixel
            to the nearest true black pixel (0 on it; inf everywhere when the
            truth has no black pixel).
        widened: (H, W) bool, true black dilated by ``max(1, round(widen*W))``
            pixels (Euclidean disk).
        band_mask: (H, W) bool, true black dilated by
            ``max(1, round(band*W))`` pixels, minus the true black itself.
        centroid: (row, col) centroid of the true black pixels (NaN if none).
        circle: Kasa circle fit (centre_row, centre_col, radius) of the true
            black pixels, NaN triple if undefined.
        true_components: 8-connected pieces of the true black.
        true_holes: holes (4-connected white pieces off the border) of the
            true black.
        coverage_bins: angle bin of every widened pixel (in ``widened``
            row-major order).
        truth_bins: (bins,) bool, angle bins holding a true black pixel.
        n_covered_bins: number of True entries in ``truth_bins``.
        band_bins, black_bins: contrast angle bin of every band / true-black
            pixel (row-major order).
        band_counts, black_counts: pixels per contrast bin in the band / on
            the true black.
    """

    shape: tuple[int, int]
    threshold: float
    widen: float
    band: float
    bins: int
    contrast_bins: int
    truth_black: np.ndarray
    distance: np.ndarray
    widened: np.ndarray
    band_mask: np.ndarray
    centroid: tuple[float, float]
    circle: tuple[float, float, float]
    true_components: int
    true_holes: int
    coverage_bins: np.ndarray
    truth_bins: np.ndarray
    n_covered_bins: int
    band_bins: np.ndarray
    black_bins: np.ndarray
    band_counts: np.ndarray
    black_counts: np.ndarray

    @classmethod
    def from_truth(
        cls,
        truth: np.ndarray,
        widen: float = 0.02,
        band: float = 0.03,
        bins: int = 360,
        contrast_bins: int = 72,
        threshold: float = 0.5,
    ) -> TruthGeometry:
        """Precompute the truth-side geometry.

        Args:
            truth: (H, W) grey image in [0, 1].
            widen: dilation radius for coverage/annulus, fraction of W
                (at least 1 pixel).
            band: width of the contrast band, fraction of W (at least 1 pixel).
            bins: angle bins for :func:`angular_coverage`.
            contrast_bins: angle bins for :func:`ring_contrast`.
            threshold: black threshold.

        Returns:
            A frozen :class:`TruthGeometry`.

        >>> t = np.ones((9, 9)); t[2, 2:7] = t[6, 2:7] = t[2:7, 2] = t[2:7, 6] = 0.0
        >>> g = TruthGeometry.from_truth(t, widen=0.1, bins=4)
        >>> g.centroid, g.n_covered_bins, g.true_components, g.true_holes
        ((4.0, 4.0), 4, 1, 1)
        """
        _check_truth(truth)
        widen = _check_fraction(widen, "widen")
        band = _check_fraction(band, "band")
        bins = _check_bins(bins, "bins")
        contrast_bins = _check_bins(contrast_bins, "contrast_bins")
        threshold = _check_threshold(threshold)
        return cls._build(truth, widen, band, bins, contrast_bins, threshold)

    @classmethod
    def _build(
        cls, truth: np.ndarray, widen: float, band: float, bins: int, contrast_bins: int, threshold: float
    ) -> TruthGeometry:
        shape = (int(truth.shape[0]), int(truth.shape[1]))
        width = shape[1]
        tb = _black(truth, threshold)
        if tb.any():
            distance = ndimage.distance_transform_edt(~tb)
        else:
            distance = np.full(shape, np.inf)
        widened = distance <= _pixels(widen, width)
        band_mask = (distance <= _pixels(band, width)) & ~tb
        centroid = _centroid(tb)
        if tb.any():
            cov_idx = _angle_bins(shape, centroid, bins)
            con_idx = _angle_bins(shape, centroid, contrast_bins)
        else:
            cov_idx = np.zeros(shape, dtype=np.intp)
            con_idx = np.zeros(shape, dtype=np.intp)
        coverage_bins = cov_idx[widened]
        band_bins = con_idx[band_mask]
        black_bins = con_idx[tb]
        truth_bins = np.bincount(cov_idx[tb], minlength=bins) > 0
        return cls(
            shape=shape,
            threshold=threshold,
            widen=widen,
            band=band,
            bins=bins,
            contrast_bins=contrast_bins,
            truth_black=_readonly(tb),
            distance=_readonly(distance),
            widened=_readonly(widened),
            band_mask=_readonly(band_mask),
            centroid=centroid,
            circle=_circle_fit(tb),
            true_components=_components(tb),
            true_holes=_holes(tb),
            coverage_bins=_readonly(coverage_bins),
            truth_bins=_readonly(truth_bins),
            n_covered_bins=int(np.count_nonzero(truth_bins)),
            band_bins=_readonly(band_bins),
            black_bins=_readonly(black_bins),
            band_counts=_readonly(np.bincount(band_bins, minlength=contrast_bins)),
            black_counts=_readonly(np.bincount(black_bins, minlength=contrast_bins)),
        )

    # -- per-prediction computations (pred already validated) --------------

    def _coverage(self, pred_black: np.ndarray) -> float:
        if self.n_covered_bins == 0:
            return math.nan
        hit = np.bincount(self.coverage_bins[pred_black[self.widened]], minlength=self.bins) > 0
        return np.count_nonzero(hit & self.truth_bins) / self.n_covered_bins

    def _annulus_share(self, pred_black: np.ndarray) -> float:
        n = np.count_nonzero(pred_black)
        if n == 0:
            return math.nan
        return np.count_nonzero(pred_black & self.widened) / n

    def _mean_distance(self, pred_black: np.ndarray) -> float:
        if not pred_black.any() or not self.truth_black.any():
            return math.nan
        return float(self.distance[pred_black].mean()) / self.shape[1]

    def _contrast(self, grey: np.ndarray) -> np.ndarray:
        """``grey`` is the prediction with NaN already replaced by 1.0."""
        k = self.contrast_bins
        band_sum = np.bincount(self.band_bins, weights=grey[self.band_mask], minlength=k)
        black_sum = np.bincount(self.black_bins, weights=grey[self.truth_black], minlength=k)
        ok = (self.band_counts > 0) & (self.black_counts > 0)
        out = np.full(k, np.nan)
        out[ok] = band_sum[ok] / self.band_counts[ok] - black_sum[ok] / self.black_counts[ok]
        return out

    def _circle_errors(self, pred_black: np.ndarray) -> tuple[float, float]:
        pr, pc, prad = _circle_fit(pred_black)
        tr, tc, trad = self.circle
        if math.isnan(pr) or math.isnan(tr):
            return _NAN2
        w = self.shape[1]
        return math.hypot(pr - tr, pc - tc) / w, abs(prad - trad) / w


# --------------------------------------------------------------------------
# public metrics
# --------------------------------------------------------------------------


def black(grey: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Black mask of a grey image; NaN counts as white.

    Args:
        grey: real array of grey values, any shape (usually (H, W)).
        threshold: a value is black when it is ``< threshold``.

    Returns:
        bool array of the same shape.

    >>> black(np.array([[0.0, 0.6], [np.nan, 0.4]])).tolist()
    [[True, False], [False, True]]
    """
    _check_numeric(grey, "grey")
    threshold = _check_threshold(threshold)
    return _black(grey, threshold)


def iou(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None = None) -> float:
    """Intersection over union of two bool masks.

    Args:
        a, b: (H, W) bool masks.
        exclude: optional (H, W) bool mask; pixels where it is True are ignored.

    Returns:
        |a & b| / |a | b| over the kept pixels; 1.0 when both are empty there.

    >>> a = np.array([[True, True, False]]); b = np.array([[True, False, False]])
    >>> iou(a, b)
    0.5
    """
    _check_mask(a, "a")
    _check_mask(b, "b")
    _check_same_shape(a, b, "a", "b")
    if exclude is not None:
        _check_mask(exclude, "exclude")
        _check_same_shape(a, exclude, "a", "exclude")
    return float(_iou(a, b, exclude))


def held_out_iou(pred: np.ndarray, truth: np.ndarray, train_mask: np.ndarray, threshold: float = 0.5) -> float:
    """IoU of predicted and true black on the pixels that were not trained on.

    Args:
        pred: (H, W) predicted grey image (NaN = white).
        truth: (H, W) true grey image in [0, 1].
        train_mask: (H, W) bool, True on training pixels (excluded).
        threshold: black threshold.

    Returns:
        ``iou(black(pred), black(truth), exclude=train_mask)``; 1.0 when both
        are empty on the held-out pixels.
    """
    _check_image(pred, "pred")
    _check_truth(truth)
    _check_same_shape(pred, truth, "pred", "truth")
    _check_mask(train_mask, "train_mask")
    _check_same_shape(pred, train_mask, "pred", "train_mask")
    t = _check_threshold(threshold)
    return float(_iou(_black(pred, t), _black(truth, t), train_mask))


def dice(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None = None) -> float:
    """Dice coefficient 2|a & b| / (|a| + |b|) of two bool masks.

    Args:
        a, b: (H, W) bool masks.
        exclude: optional (H, W) bool mask; pixels where it is True are ignored.

    Returns:
        The Dice coefficient in [0, 1]; 1.0 when both are empty.  It equals
        ``2 * iou / (1 + iou)``.

    >>> a = np.array([[True, True, False]]); b = np.array([[True, False, False]])
    >>> round(dice(a, b), 4)
    0.6667
    """
    _check_mask(a, "a")
    _check_mask(b, "b")
    _check_same_shape(a, b, "a", "b")
    if exclude is not None:
        _check_mask(exclude, "exclude")
        _check_same_shape(a, exclude, "a", "exclude")
    return float(_dice(a, b, exclude))


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


def train_mse(pred_values: np.ndarray, targets: np.ndarray) -> float:
    """Mean squared error on the training points; NaN predictions count as 1.0.

    NaN is mapped to white (1.0) for consistency with the image metrics, so
    the result is finite whenever the predictions are not infinite.

    Args:
        pred_values: 1-D predictions at the training points.
        targets: 1-D finite targets, same length.

    Returns:
        The MSE; NaN when there are no training points.

    >>> train_mse(np.array([0.0, np.nan]), np.array([0.5, 0.0]))
    0.625
    """
    _check_pair(pred_values, targets)
    if targets.size == 0:
        return math.nan
    d = _white_nan(pred_values) - targets
    return float(np.mean(d * d))


def black_train_recall(pred_values: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Share of the black training targets whose prediction is black.

    Args:
        pred_values: 1-D predictions at the training points (NaN = white).
        targets: 1-D finite targets, same length.
        threshold: black threshold for both.

    Returns:
        The share in [0, 1]; NaN when no target is black.

    >>> black_train_recall(np.array([0.1, 0.9, 0.0]), np.array([0.0, 0.0, 1.0]))
    0.5
    """
    _check_pair(pred_values, targets)
    t = _check_threshold(threshold)
    tb = targets < t
    n = np.count_nonzero(tb)
    if n == 0:
        return math.nan
    return float(np.count_nonzero(_black(pred_values, t) & tb) / n)


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


def linear_regions(pattern_ids: np.ndarray) -> int:
    """Number of distinct activation patterns (linear regions) on the grid.

    Args:
        pattern_ids: (H, W) integer array of activation-pattern ids.

    Returns:
        The number of distinct ids.

    >>> linear_regions(np.array([[1, 1, 2], [3, 3, 2]]))
    3
    """
    _check_ids(pattern_ids)
    return int(np.unique(pattern_ids).size)


def region_boundaries(pattern_ids: np.ndarray) -> np.ndarray:
    """Pixels on a boundary between activation patterns, as 1-px thick lines.

    A pixel is on a boundary when its id differs from its right or lower
    neighbour (so each boundary is marked on one side only).

    Args:
        pattern_ids: (H, W) integer array of activation-pattern ids.

    Returns:
        (H, W) bool mask.

    >>> region_boundaries(np.array([[1, 1, 2], [1, 1, 2]])).astype(int).tolist()
    [[0, 1, 0], [0, 1, 0]]
    """
    _check_ids(pattern_ids)
    out = np.zeros(pattern_ids.shape, dtype=bool)
    out[:, :-1] |= pattern_ids[:, :-1] != pattern_ids[:, 1:]
    out[:-1, :] |= pattern_ids[:-1, :] != pattern_ids[1:, :]
    return out


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
    _check_image(pred, "pred")
    _check_truth(truth)
    _check_same_shape(pred, truth, "pred", "truth")
    _check_mask(train_mask, "train_mask")
    _check_same_shape(pred, train_mask, "pred", "train_mask")
    t = _check_threshold(threshold)
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
