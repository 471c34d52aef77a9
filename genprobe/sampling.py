"""Training points: N distinct pixels of a true image, drawn from a seed."""

from __future__ import annotations

import numbers

import numpy as np

from .errors import GenprobeError
from .truth import TrueImage

__all__ = ["wedge_mask", "TrainingSet", "sample_training_set", "check_n", "grid_coords", "stream_seed"]


def check_n(n: object, n_pixels: int) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise GenprobeError(f"N must be an integer number of points, got {n!r}")
    n = int(n)
    if n < 1:
        raise GenprobeError(f"N must be >= 1, got {n}")
    if n > n_pixels:
        raise GenprobeError(f"N={n} is larger than the image's {n_pixels} pixels")
    return int(n)


class TrainingSet:
    """N training pixels of a true image.

    Attributes:
        indices: (N,) flat pixel indices, distinct, in draw order.
        coords: (N, 2) float32 inputs (x, y) = (j / W, i / H).
        targets: (N,) float32 grey values (possibly shuffled for a control).
    """

    def __init__(self, truth: TrueImage, indices: np.ndarray, targets: np.ndarray | None = None):
        h, w = truth.shape
        self.truth = truth
        self.indices = np.asarray(indices, dtype=np.int64)
        rows, cols = np.divmod(self.indices, w)
        self.rows, self.cols = rows, cols
        self.coords = np.stack([cols / w, rows / h], axis=1).astype(np.float32)
        self.true_targets = truth.pixels.reshape(-1)[self.indices].astype(np.float32)
        self.targets = self.true_targets if targets is None else np.asarray(targets, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.indices)

    def mask_at(self, res: int) -> np.ndarray:
        """(res, res) bool: evaluation-grid pixels that are training points.

        Only training pixels that fall exactly on the grid (grid pixel (i, j)
        is image pixel (i*H/res, j*W/res)) are marked.
        """
        h, w = self.truth.shape
        mask = np.zeros((res, res), dtype=bool)
        on_grid = ((self.rows * res) % h == 0) & ((self.cols * res) % w == 0)
        mask[self.grid_pixels(res, on_grid)] = True
        return mask

    def grid_pixels(self, res: int, which: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) of the res x res grid pixel each training point (or those ``which`` selects) lies in:
        grid pixel (i, j) covers image pixels i*H/res .. (i+1)*H/res - 1 (and the same for j)."""
        h, w = self.truth.shape
        rows, cols = (self.rows, self.cols) if which is None else (self.rows[which], self.cols[which])
        return (rows * res) // h, (cols * res) // w


def wedge_mask(shape: tuple[int, int], degrees: float) -> np.ndarray:
    """(H, W) bool: pixels whose angle around the image centre, from +x, is within +-degrees/2.

    >>> int(wedge_mask((4, 4), 90).sum())
    3
    """
    h, w = shape
    rows = np.arange(h, dtype=np.float64)[:, None] - h / 2
    cols = np.arange(w, dtype=np.float64)[None, :] - w / 2
    angle = np.degrees(np.arctan2(rows, cols))
    return (np.abs(angle) <= degrees / 2) & ((rows != 0) | (cols != 0))


def stream_seed(seed: int, stream: int) -> int:
    """The torch seed of one network's random stream (0: init, 1: shuffles, ...), from its spec seed only.

    >>> stream_seed(0, 0) == stream_seed(0, 0) != stream_seed(0, 1)
    True
    """
    ss = np.random.SeedSequence([int(seed), 0x1A17, int(stream)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def sample_training_set(
    truth: TrueImage, n: int, seed: int, shuffle_labels: bool = False, wedge: float = 0.0
) -> TrainingSet:
    """Draw ``n`` distinct pixels uniformly at random, reproducibly from ``seed``.

    With ``shuffle_labels`` the grey values are permuted among the N points (a
    control that keeps the label distribution but destroys the shape). With
    ``wedge`` > 0 no point is drawn in the wedge of that many degrees around
    +x seen from the image centre (:func:`wedge_mask`): the ring-completion
    experiment asks what a model draws where it saw nothing.

    >>> from genprobe.truth import ring
    >>> ts = sample_training_set(ring(64), 100, seed=0)
    >>> len(set(ts.indices.tolist()))
    100
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5A4D]))
    if wedge:
        allowed = np.flatnonzero(~wedge_mask(truth.shape, wedge).reshape(-1))
        n = check_n(n, len(allowed))
        indices = allowed[rng.choice(len(allowed), size=n, replace=False)]
    else:
        n = check_n(n, truth.n_pixels)
        indices = rng.choice(truth.n_pixels, size=n, replace=False)
    ts = TrainingSet(truth, indices)
    if shuffle_labels:
        ts = TrainingSet(truth, indices, targets=rng.permutation(ts.true_targets))
    return ts


def grid_coords(res: int) -> np.ndarray:
    """(res*res, 2) float32 points (j/res, i/res), row-major."""
    c = np.arange(res, dtype=np.float32) / res
    xs, ys = np.meshgrid(c, c)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)
