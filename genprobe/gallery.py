"""Pictures that are not the truth (and two that are), to show what a claim rejects.

A shape claim is only as good as the wrong answers it refutes. Each entry of
:data:`PICTURES` draws one grey picture (0 = black, 1 = white) of the
post's ring geometry at any resolution; some depend on the training points
(dots at the black points, the 1-NN rule). :func:`genprobe.judge.picture_runs`
scores a picture as if a net had drawn it on given seeds' points, and
``tests/test_gallery.py`` checks which claims must refute which picture.

Any other true image (a name of :mod:`genprobe.images` or a PNG) has its own gallery,
:func:`pictures_for`: the same kinds of wrong picture drawn from that truth (the shape filled, thickened,
at the wrong size, shifted, mirrored, pieces of it by angle or along its line, the post's ring instead, the
dots, blurred dots and 1-NN of its training points). :func:`draw` picks the gallery of the training set's
truth, so ``draw(name, res, ts)`` for the ring is what it always was.

Pure numpy and scipy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .errors import GenprobeError
from .rules import predict_dot
from .sampling import TrainingSet
from .truth import RING_CENTRE, RING_INNER, RING_OUTER, TrueImage, resolve_truth

__all__ = ["Picture", "PICTURES", "TRUE", "WRONG", "draw", "pictures_for", "is_ring"]

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


# -- the gallery of any other true image ------------------------------------------------------------


def is_ring(truth: TrueImage | None) -> bool:
    """True for the post's analytic ring at any resolution (its gallery is :data:`PICTURES`); None counts
    as the ring (a fixed picture drawn without a training set)."""
    return truth is None or (truth.image is not None and truth.image.name == "ring")


def _centre(truth: TrueImage) -> tuple[float, float]:
    """(x, y) the shape's pieces and sizes are measured around: a registered image's own centre, else the
    centroid of the black pixels."""
    if truth.image is not None:
        return truth.image.centre
    rows, cols = np.nonzero(truth.black())
    h, w = truth.shape
    return float(cols.mean() / w), float(rows.mean() / h)


def _mapped(truth: TrueImage, how: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]):
    """The picture black where the truth is black at the mapped point: exact for an analytic image."""

    def fn(res: int) -> np.ndarray:
        x, y = _grid(res)
        return _grey(truth.black_at(*how(x, y)))

    return fn


def _black_at(truth: TrueImage, res: int) -> np.ndarray:
    x, y = _grid(res)
    return truth.black_at(x, y)


def _sector(truth: TrueImage, degrees: float) -> Callable[[int], np.ndarray]:
    cx, cy = _centre(truth)

    def fn(res: int) -> np.ndarray:
        x, y = _grid(res)
        theta = np.mod(np.arctan2(y - cy, x - cx), 2 * np.pi)
        return _grey(truth.black_at(x, y) & (theta <= np.deg2rad(degrees)))

    return fn


def _along(truth: TrueImage, share: float) -> Callable[[int], np.ndarray]:
    """The black pixels nearest the first ``share`` of the shape's line (a registered image's centre line or
    outline; a PNG's skeleton is not known, so the sector around its centroid stands in)."""
    if truth.image is None:
        return _sector(truth, 360 * share)
    line = truth.image.line(720)

    def fn(res: int) -> np.ndarray:
        from scipy.spatial import cKDTree

        black = _black_at(truth, res)
        x, y = _grid(res)
        _, nearest = cKDTree(line).query(np.stack([x[black], y[black]], 1))
        piece = np.zeros_like(black)
        piece[black] = nearest < share * len(line)
        return _grey(piece)

    return fn


def _stroke_px(res: int) -> float:
    return max(1.0, 0.02 * res)  # the ring's thick annulus is about 0.02 of the width thicker each side


def _soft(truth: TrueImage) -> Callable[[int], np.ndarray]:
    """The truth with grey edges: a linear ramp 1/64 of the width wide across each edge (signed distance)."""

    def fn(res: int) -> np.ndarray:
        black = _black_at(truth, res)
        outside = ndimage.distance_transform_edt(~black) - 0.5  # pixels to the edge, outside
        inside = ndimage.distance_transform_edt(black) - 0.5
        signed = np.where(black, -inside, outside) / res
        return np.clip(0.5 + signed / (1 / 64), 0.0, 1.0).astype(np.float32)

    return fn


def _post_ring(res: int) -> np.ndarray:
    return _annulus(res)


@functools.lru_cache(maxsize=16)
def _gallery(truth: TrueImage) -> dict[str, Picture]:
    cx, cy = _centre(truth)
    fixed = [
        Picture("truth", f"the true image ({truth.name})", _fixed(_mapped(truth, lambda x, y: (x, y))), truth=True),
        Picture("soft-truth", "the true image with soft grey edges", _fixed(_soft(truth)), truth=True),
        *(p for p in _ALL if p.name in ("white", "black", "grey-0.49", "grey-0.51")),
        Picture(
            "filled",
            "the shape with its holes filled",
            _fixed(lambda res: _grey(ndimage.binary_fill_holes(_black_at(truth, res)))),
        ),
        Picture(
            "thick",
            "the shape 0.02 of the width thicker on every side",
            _fixed(lambda res: _grey(ndimage.distance_transform_edt(~_black_at(truth, res)) <= _stroke_px(res))),
        ),
        Picture(
            "small",
            "the shape at 0.7x its size",
            _fixed(_mapped(truth, lambda x, y: (cx + (x - cx) / 0.7, cy + (y - cy) / 0.7))),
        ),
        Picture(
            "large",
            "the shape at 1.4x its size",
            _fixed(_mapped(truth, lambda x, y: (cx + (x - cx) / 1.4, cy + (y - cy) / 1.4))),
        ),
        Picture("shifted", "the shape moved 0.12 right", _fixed(_mapped(truth, lambda x, y: (x - 0.12, y)))),
        Picture(
            "mirrored",
            "the shape mirrored left to right about its centre",
            _fixed(_mapped(truth, lambda x, y: (2 * cx - x, y))),
        ),
        Picture(
            "flipped",
            "the shape mirrored top to bottom about its centre",
            _fixed(_mapped(truth, lambda x, y: (x, 2 * cy - y))),
        ),
        Picture("piece-90", "the shape within 90 degrees around its centre", _fixed(_sector(truth, 90))),
        Picture("piece-180", "the shape within 180 degrees around its centre", _fixed(_sector(truth, 180))),
        Picture("piece-270", "the shape within 270 degrees around its centre", _fixed(_sector(truth, 270))),
        Picture("half-line", "the half of the shape along the first half of its line", _fixed(_along(truth, 0.5))),
        Picture("post-ring", "the post's ring instead of the shape", _fixed(_post_ring)),
        *(p for p in _ALL if p.name in ("dots", "blurred-dots", "noise", "1-nn")),
    ]
    # a transformed shape that is the truth again (a symmetric shape mirrored, a shape without holes
    # filled) is not a wrong picture: it is left out
    probe = _black_at(truth, 256)
    out = {}
    for p in fixed:
        if not p.truth and p.name in _TRANSFORMS and np.array_equal(p.draw(256, None) < 0.5, probe):  # type: ignore[arg-type]
            continue
        out[p.name] = p
    return out


_TRANSFORMS = ("filled", "thick", "small", "large", "shifted", "mirrored", "flipped", "post-ring")


def pictures_for(truth: TrueImage | str | None) -> dict[str, Picture]:
    """The gallery of ``truth`` (a :class:`TrueImage`, or a ``RunSpec.truth`` string): :data:`PICTURES` for
    the ring, else the same kinds of picture drawn from that truth, drawn once per truth and process.

    >>> sorted(pictures_for("square@64"))[:4]
    ['1-nn', 'black', 'blurred-dots', 'dots']
    >>> "filled" in pictures_for("disc@64")   # a disc filled is the disc: not a wrong picture
    False
    """
    if isinstance(truth, str):
        truth = resolve_truth(truth)
    if is_ring(truth):
        return PICTURES
    assert truth is not None
    return _gallery(truth)


def draw(name: str, res: int, ts: TrainingSet | None) -> np.ndarray:
    """The picture ``name`` at ``res`` x ``res`` for the training set ``ts``, from the gallery of its truth
    (:func:`pictures_for`; the ring's when ``ts`` is None)."""
    pictures = pictures_for(None if ts is None else ts.truth)
    try:
        return pictures[name].draw(res, ts)  # type: ignore[arg-type]
    except KeyError:
        raise GenprobeError(f"no picture {name!r} for this truth; its gallery has {', '.join(pictures)}") from None
