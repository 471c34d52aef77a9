"""Linear regions of a piecewise-linear net, from per-pixel activation-pattern ids."""

from __future__ import annotations

import numpy as np

from ._core import _check_ids

__all__ = ["linear_regions", "region_boundaries"]


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
