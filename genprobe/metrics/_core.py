"""Validation of metric inputs and the small array helpers every metric shares.

Bad input raises :class:`genprobe.errors.GenprobeError` with one line naming
the bad value or shape; the helpers after the ``_check_*`` ones assume
validated input.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..errors import GenprobeError

_EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity structure


_NAN2 = (math.nan, math.nan)


_NAN3 = (math.nan, math.nan, math.nan)


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


def _check_mask_pair(a: np.ndarray, b: np.ndarray, exclude: np.ndarray | None) -> None:
    """Two masks of one shape, and an optional third to leave out."""
    _check_mask(a, "a")
    _check_mask(b, "b")
    _check_same_shape(a, b, "a", "b")
    if exclude is not None:
        _check_mask(exclude, "exclude")
        _check_same_shape(a, exclude, "a", "exclude")


def _check_scored(pred: np.ndarray, truth: np.ndarray, train_mask: np.ndarray, threshold: float) -> float:
    """A prediction against the truth with its training pixels; returns the checked threshold."""
    _check_image(pred, "pred")
    _check_truth(truth)
    _check_same_shape(pred, truth, "pred", "truth")
    _check_mask(train_mask, "train_mask")
    _check_same_shape(pred, train_mask, "pred", "train_mask")
    return _check_threshold(threshold)


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
