"""Pixel and point metrics: black masks, IoU (held out of the training points), Dice, train fit."""

from __future__ import annotations

import math

import numpy as np

from ._core import (
    _black,
    _check_mask_pair,
    _check_numeric,
    _check_pair,
    _check_scored,
    _check_threshold,
    _dice,
    _iou,
    _white_nan,
)

__all__ = ["black", "iou", "held_out_iou", "dice", "train_mse", "black_train_recall"]


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
    _check_mask_pair(a, b, exclude)
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
    t = _check_scored(pred, truth, train_mask, threshold)
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
    _check_mask_pair(a, b, exclude)
    return float(_dice(a, b, exclude))


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
