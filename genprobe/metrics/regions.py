"""Linear regions of a piecewise-linear net, from per-pixel activation-pattern ids, and the polytope memoriser."""

from __future__ import annotations

import math

import numpy as np

from ..errors import GenprobeError
from ._core import _check_ids, _iou

__all__ = [
    "linear_regions",
    "region_boundaries",
    "region_neighbours",
    "polytope_memoriser",
    "polytope_overlap",
    "polytope_metrics",
    "POLYTOPE_METRICS",
]


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


def region_neighbours(pattern_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The ids of the regions that share a grid edge (4-neighbours) with a region of ``ids``, and ``ids``.

    >>> g = np.array([[1, 2, 3], [4, 4, 3]])
    >>> region_neighbours(g, np.array([1])).tolist()
    [1, 2, 4]
    """
    _check_ids(pattern_ids)
    ids = np.unique(np.asarray(ids, dtype=pattern_ids.dtype))
    pairs = [
        (pattern_ids[:, :-1].ravel(), pattern_ids[:, 1:].ravel()),
        (pattern_ids[:-1, :].ravel(), pattern_ids[1:, :].ravel()),
    ]
    found = [ids]
    for a, b in pairs:
        differ = a != b
        a, b = a[differ], b[differ]
        found += [b[np.isin(a, ids)], a[np.isin(b, ids)]]
    return np.unique(np.concatenate(found))


def polytope_memoriser(pattern_ids: np.ndarray, black_ids: np.ndarray, neighbours: bool = False) -> np.ndarray:
    """The polytope memoriser's picture: black on every linear region holding a black training point.

    The post's mechanism sentence as a counterfactual: a net that only paints black the linear regions
    (convex polytopes of its own activation patterns) its black training points fall in.

    Args:
        pattern_ids: (H, W) integer activation-pattern ids of the net on the grid.
        black_ids: the pattern ids at the black training points (where they lie, on the grid or not).
        neighbours: also the regions sharing a grid edge with one of those (the variant).

    Returns:
        (H, W) bool, True (black) on those regions' pixels.

    >>> g = np.array([[1, 1, 2], [3, 3, 2]])
    >>> polytope_memoriser(g, np.array([2])).astype(int).tolist()
    [[0, 0, 1], [0, 0, 1]]
    >>> polytope_memoriser(g, np.array([2]), neighbours=True).astype(int).tolist()
    [[1, 1, 1], [1, 1, 1]]
    """
    _check_ids(pattern_ids)
    ids = np.asarray(black_ids, dtype=pattern_ids.dtype).ravel()
    if neighbours:
        ids = region_neighbours(pattern_ids, ids)
    return np.isin(pattern_ids, ids)


def polytope_overlap(pred_black: np.ndarray, polytope: np.ndarray) -> tuple[float, float]:
    """How much of a net's black picture the polytope memoriser explains.

    Returns:
        (share of the net's black pixels outside the polytope picture, NaN when the net draws no black;
        IoU of the two black masks, NaN when both are empty).

    >>> polytope_overlap(np.array([[True, True], [False, False]]), np.array([[True, False], [True, False]]))
    (0.5, 0.3333333333333333)
    """
    pred_black, polytope = np.asarray(pred_black, dtype=bool), np.asarray(polytope, dtype=bool)
    if pred_black.shape != polytope.shape:
        raise GenprobeError(f"pred_black shape {pred_black.shape} does not match polytope shape {polytope.shape}")
    n_pred = int(np.count_nonzero(pred_black))
    inter = int(np.count_nonzero(pred_black & polytope))
    union = n_pred + int(np.count_nonzero(polytope)) - inter
    outside = (n_pred - inter) / n_pred if n_pred else math.nan
    return outside, (inter / union if union else math.nan)


#: the final metrics :func:`polytope_metrics` gives (a run of the built-in MLP records them)
POLYTOPE_METRICS = (
    "polytope_outside",
    "polytope_iou",
    "polytope_outside_nb",
    "polytope_iou_nb",
    "polytope_held_out_iou",
)


def polytope_metrics(
    pattern_ids: np.ndarray,
    pred_black: np.ndarray,
    black_ids: np.ndarray,
    truth_black: np.ndarray | None = None,
    train_mask: np.ndarray | None = None,
) -> dict[str, float]:
    """A net's picture against its own polytope memoriser (:func:`polytope_memoriser`).

    Returns:
        ``polytope_outside`` and ``polytope_iou`` (:func:`polytope_overlap`), the same with the neighbouring
        regions (``_nb``), and, given the truth, ``polytope_held_out_iou``: the polytope memoriser scored as
        a control (held-out IoU against the true black, training pixels excluded).
    """
    _check_ids(pattern_ids)
    out: dict[str, float] = {}
    for suffix, nb in (("", False), ("_nb", True)):
        poly = polytope_memoriser(pattern_ids, black_ids, neighbours=nb)
        out[f"polytope_outside{suffix}"], out[f"polytope_iou{suffix}"] = polytope_overlap(pred_black, poly)
        if not nb and truth_black is not None:
            out["polytope_held_out_iou"] = float(_iou(poly, np.asarray(truth_black, dtype=bool), train_mask))
    return out
