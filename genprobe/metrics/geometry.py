""":class:`TruthGeometry`: what the metrics reuse about one true image, computed once."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ._core import (
    _NAN2,
    _angle_bins,
    _black,
    _centroid,
    _check_bins,
    _check_fraction,
    _check_threshold,
    _check_truth,
    _circle_fit,
    _components,
    _holes,
    _pixels,
    _readonly,
)

__all__ = ["TruthGeometry"]


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
