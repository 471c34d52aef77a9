"""Pictures that are not the truth (and two that are), to show what a claim rejects.

A shape claim is only as good as the wrong answers it refutes. Each entry of
:data:`PICTURES` draws one grey picture (0 = black, 1 = white) of the
post's ring geometry at any resolution; some depend on the training points
(dots at the black points, the 1-NN rule). :func:`genprobe.judge.picture_runs`
scores a picture as if a net had drawn it on given seeds' points, and
``tests/test_gallery.py`` checks which claims must refute which picture.

Pure numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .rules import predict_dot
from .sampling import TrainingSet
from .truth import RING_CENTRE, RING_INNER, RING_OUTER

__all__ = ["Picture", "PICTURES", "TRUE", "WRONG", "draw"]

# the post's ring (protocol.md), in image widths
CENTRE, OUTER, INNER = RING_CENTRE[0], RING_OUTER, RING_INNER  # the true ring's, from genprobe.truth


def _grid(res: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) = (j / res, i / res), as the nets see them."""
    c = np.arange(res, dtype=np.float64) / res
    return np.meshgrid(c, c)


def _polar(res: int, cx: float = CENTRE, cy: float = CENTRE) -> tuple[np.ndarray, np.ndarray]:
    x, y = _grid(res)
    return np.hypot(x - cx, y - cy), np.mod(np.arctan2(y - cy, x - cx), 2 * np.pi)


def _grey(black: np.ndarray) -> np.ndarray:
    return np.where(black, 0.0, 1.0).astype(np.float32)


def _annulus(
    res: int, inner: float = INNER, outer: float = OUTER, cx: float = CENTRE, cy: float = CENTRE
) -> np.ndarray:
    r, _ = _polar(res, cx, cy)
    return _grey((r >= inner) & (r <= outer))


def _arc(res: int, degrees: float) -> np.ndarray:
    r, theta = _polar(res)
    return _grey((r >= INNER) & (r <= OUTER) & (theta <= np.deg2rad(degrees)))


def _soft_ring(res: int) -> np.ndarray:
    """The true ring with grey edges: linear ramps 1/64 of the width wide across each edge."""
    r, _ = _polar(res)
    ramp = 1 / 64
    inside = np.clip((r - INNER) / ramp + 0.5, 0, 1) * np.clip((OUTER - r) / ramp + 0.5, 0, 1)
    return (1.0 - inside).astype(np.float32)


def _frame(res: int) -> np.ndarray:
    """A square frame as wide as the ring, its outer side the ring's diameter."""
    x, y = _grid(res)
    d = np.maximum(np.abs(x - CENTRE), np.abs(y - CENTRE))
    return _grey((d >= INNER) & (d <= OUTER))


def _dots(res: int, ts: TrainingSet) -> np.ndarray:
    """Black at the grid pixel of each black training point (the dot memoriser's picture)."""
    return predict_dot(ts, res)


def _blurred_dots(res: int, ts: TrainingSet) -> np.ndarray:
    """Black disks of radius 1 % of the width around each black training point."""
    img = np.ones((res, res), bool)
    img[ts.grid_pixels(res, ts.targets < 0.5)] = False
    dist = ndimage.distance_transform_edt(img) / res
    return _grey(dist <= 0.01)


def _knn(res: int, ts: TrainingSet) -> np.ndarray:
    from .rules import predict_knn

    x, y = _grid(res)
    return predict_knn(ts, np.stack([x.ravel(), y.ravel()], 1).astype(np.float32)).reshape(res, res).astype(np.float32)


def _noise(res: int) -> np.ndarray:
    return np.random.default_rng(0).random((res, res)).astype(np.float32)


@dataclass(frozen=True)
class Picture:
    """One picture of the gallery.

    Attributes:
        name: short id, used in test ids and the report.
        what: the picture in words.
        draw: ``(res, training set) -> (res, res)`` grey picture.
        truth: True for the two right pictures (sharp and soft-edged ring).
    """

    name: str
    what: str
    draw: Callable[[int, TrainingSet], np.ndarray]
    truth: bool = False


def _fixed(fn: Callable[[int], np.ndarray]) -> Callable[[int, TrainingSet], np.ndarray]:
    return lambda res, ts: fn(res)


_ALL = [
    Picture("ring", "the true ring", _fixed(_annulus), truth=True),
    Picture("soft-ring", "the true ring with soft grey edges", _fixed(_soft_ring), truth=True),
    Picture("white", "all white", _fixed(lambda res: np.ones((res, res), np.float32))),
    Picture("black", "all black", _fixed(lambda res: np.zeros((res, res), np.float32))),
    Picture("grey-0.49", "constant grey just below 0.5", _fixed(lambda res: np.full((res, res), 0.49, np.float32))),
    Picture("grey-0.51", "constant grey just above 0.5", _fixed(lambda res: np.full((res, res), 0.51, np.float32))),
    Picture("disk", "the ring's disk, filled", _fixed(lambda res: _annulus(res, 0.0, OUTER))),
    Picture(
        "thick-annulus", "an annulus 0.20-0.27 (2.25x the true area)", _fixed(lambda res: _annulus(res, 0.20, 0.27))
    ),
    Picture(
        "small-ring",
        "a ring of the right width, radius 0.7x",
        _fixed(lambda res: _annulus(res, 0.7 * OUTER - (OUTER - INNER), 0.7 * OUTER)),
    ),
    Picture(
        "large-ring",
        "a ring of the right width, radius 1.4x",
        _fixed(lambda res: _annulus(res, 1.4 * OUTER - (OUTER - INNER), 1.4 * OUTER)),
    ),
    Picture("off-centre", "the true ring moved 0.12 right", _fixed(lambda res: _annulus(res, cx=CENTRE + 0.12))),
    Picture("arc-90", "90 degrees of the true ring", _fixed(lambda res: _arc(res, 90))),
    Picture("arc-180", "half of the true ring", _fixed(lambda res: _arc(res, 180))),
    Picture("arc-270", "270 degrees of the true ring", _fixed(lambda res: _arc(res, 270))),
    Picture("square-frame", "a square frame as wide as the ring", _fixed(_frame)),
    Picture("dots", "black at the black training points only", _dots),
    Picture("blurred-dots", "black disks (radius 0.01) around the black training points", _blurred_dots),
    Picture("noise", "uniform random grey", _fixed(_noise)),
    Picture("1-nn", "the 1-nearest-neighbour rule on the training points", _knn),
]

PICTURES: dict[str, Picture] = {p.name: p for p in _ALL}
TRUE = [p.name for p in _ALL if p.truth]
WRONG = [p.name for p in _ALL if not p.truth]


def draw(name: str, res: int, ts: TrainingSet) -> np.ndarray:
    """The picture ``name`` at ``res`` x ``res`` for the training set ``ts``."""
    try:
        return PICTURES[name].draw(res, ts)
    except KeyError:
        raise KeyError(f"no picture {name!r}; the gallery has {', '.join(PICTURES)}") from None
