"""The registry of analytic true images: the post's ring and shapes chosen to separate the hypotheses.

Each image is a function of the input point (x, y) in [0, 1)^2 (the point a net sees for pixel (row i,
column j) of a res x res grid is (j / res, i / res), as for the ring) returning True where the image is
black, so it is exact at any resolution: every pixel is computed, nothing is resampled. Each also says
what its shape is: black pieces (8-connected), holes, its boundary in words, and a line to measure coverage
along (the centre line of a drawn curve; the outline of a filled region), sampled in order.

    >>> from genprobe import images
    >>> sorted(images.names())[:3]
    ['band', 'disc', 'ellipse']
    >>> images.get("two-rings").components, images.get("two-rings").holes
    (2, 2)

Your own: ``register(name, fn, components=..., holes=..., boundary=..., line=...)``, then
``RunSpec(truth=name)`` or ``genprobe train --truth NAME`` in the same process.
:func:`genprobe.truth.resolve_truth` renders one (``NAME`` at 1024^2, ``NAME@RES`` at RES^2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import GenprobeError

__all__ = ["Image", "IMAGES", "register", "unregister", "get", "names", "render", "markdown"]

BlackFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
LineFn = Callable[[int], np.ndarray]

# the post's ring: centre (0.5, 0.5), 32 px wide at 1024^2 (224 px to 256 px); every other image's
# strokes are as wide (1/32 of the width), so a shape differs from the ring in shape, not in ink
RING_CENTRE = (0.5, 0.5)
RING_OUTER = 0.25
RING_INNER = 0.21875
STROKE = RING_OUTER - RING_INNER


@dataclass(frozen=True, eq=False)
class Image:
    """One analytic true image and what its shape is.

    Attributes:
        name: its registry name (``RunSpec.truth``).
        what: the image in words.
        black: ``(x, y) -> bool``: True where the image is black (arrays of any equal shape, float64).
        components: 8-connected black pieces.
        holes: enclosed white pieces (4-connected, off the border).
        boundary: the boundary in words: smooth, corners, open ends.
        line: ``k -> (k, 2)`` points (x, y) in order along the shape's centre line (a drawn curve) or its
            outline (a filled region), for coverage measured along the shape.
        line_kind: ``"centre line"`` or ``"outline"``.
        centre: (x, y) the point pieces of the shape are measured around (angular sectors, scaling).
    """

    name: str
    what: str
    black: BlackFn
    components: int
    holes: int
    boundary: str
    line: LineFn
    line_kind: str = "centre line"
    centre: tuple[float, float] = (0.5, 0.5)

    @property
    def euler(self) -> int:
        """Euler characteristic: components minus holes."""
        return self.components - self.holes

    def render(self, res: int) -> np.ndarray:
        """(res, res) bool black mask: pixel (i, j) is the point (j / res, i / res)."""
        return render(self.black, res)

    def properties(self) -> dict[str, object]:
        """What the docs' table shows."""
        return {
            "components": self.components,
            "holes": self.holes,
            "euler": self.euler,
            "boundary": self.boundary,
            "line": self.line_kind,
        }


def render(black: BlackFn, res: int) -> np.ndarray:
    """``black`` on the res x res grid of points (j / res, i / res): (res, res) bool."""
    c = np.arange(res, dtype=np.float64) / res
    x, y = np.meshgrid(c, c)
    return np.asarray(black(x, y), dtype=bool)


#: every analytic image by name, the ring first
IMAGES: dict[str, Image] = {}


def register(
    name: str,
    black: BlackFn,
    *,
    components: int,
    holes: int,
    line: LineFn,
    boundary: str = "",
    what: str = "",
    line_kind: str = "centre line",
    centre: tuple[float, float] = (0.5, 0.5),
) -> Image:
    """Add an analytic image under ``name`` (lower-case letters, digits and ``-``; not ``ring``).

    Registering the same image again (the same function and properties) is a no-op; a name already taken
    is an error (a process renders a name once and its runs keep those pixels: register another name).
    A run's cache key holds the rendered pixels' digest, so a changed image never reuses another's runs.

    Returns:
        the registered :class:`Image`.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c == "-" for c in name) or name != name.lower():
        raise GenprobeError(f"an image's name is lower-case letters, digits and '-', got {name!r}")
    if _BUILTIN_DONE and name in BUILTIN:
        raise GenprobeError(f"{name!r} is a built-in image and cannot be replaced; register yours under another name")
    if not callable(black) or not callable(line):
        raise GenprobeError(f"image {name!r}: black and line must be callable")
    for what_, v in (("components", components), ("holes", holes)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise GenprobeError(f"image {name!r}: {what_} must be an integer >= 0, got {v!r}")
    if line_kind not in ("centre line", "outline"):
        raise GenprobeError(f"image {name!r}: line_kind is 'centre line' or 'outline', got {line_kind!r}")
    image = Image(name, what or name, black, components, holes, boundary, line, line_kind, centre)
    have = IMAGES.get(name)
    if have is not None:
        if _same(have, image):
            return have
        raise GenprobeError(f"image {name!r} is already registered ({have.what}); register yours under another name")
    IMAGES[name] = image
    return image


def _same(a: Image, b: Image) -> bool:
    fields = ("name", "what", "black", "components", "holes", "boundary", "line", "line_kind", "centre")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


def unregister(name: str) -> None:
    """Remove a registered image (the built-ins stay); a process that rendered it keeps its pixels."""
    if name not in IMAGES or name in BUILTIN:
        raise GenprobeError(f"no registered image {name!r} (built-ins cannot be removed)")
    del IMAGES[name]


def names() -> list[str]:
    """The registered images' names, the ring first."""
    return list(IMAGES)


def get(name: str) -> Image:
    """The image ``name``; an unknown name is a one-line error naming the choices."""
    try:
        return IMAGES[name]
    except KeyError:
        raise GenprobeError(
            f"unknown true image {name!r}; choose from {', '.join(IMAGES)}, NAME@RES, or a two-toned PNG's path"
        ) from None


# -- the built-in images -------------------------------------------------------------------------------


def _circle(cx: float, cy: float, r: float) -> LineFn:
    def line(k: int) -> np.ndarray:
        t = 2 * np.pi * np.arange(k) / k
        return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)

    return line


def _polyline(points: list[tuple[float, float]]) -> LineFn:
    """k points evenly spaced by arc length along the polyline through ``points``."""
    p = np.asarray(points, dtype=np.float64)

    def line(k: int) -> np.ndarray:
        seg = np.hypot(*np.diff(p, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        s = np.linspace(0.0, cum[-1], k)
        return np.stack([np.interp(s, cum, p[:, 0]), np.interp(s, cum, p[:, 1])], 1)

    return line


def _ring(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # the same arithmetic as genprobe.truth.ring, so both give the same pixels
    dx, dy = x - RING_CENTRE[0], y - RING_CENTRE[1]
    r2 = dx * dx + dy * dy
    return (r2 >= RING_INNER**2) & (r2 <= RING_OUTER**2)


def _disc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx, dy = x - 0.5, y - 0.5
    return dx * dx + dy * dy <= RING_OUTER**2


def _square(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = np.maximum(np.abs(x - 0.5), np.abs(y - 0.5))
    return (d >= RING_INNER) & (d <= RING_OUTER)


_SQ = RING_OUTER - STROKE / 2  # the square outline's centre line


# an elliptical ring turned 30 degrees: inside the outer ellipse (semi-axes 0.32, 0.18), outside the
# inner one (each semi-axis a stroke shorter)
_EA, _EB, _ETURN = 0.32, 0.18, math.radians(30)


def _ellipse_uv(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = x - 0.5, y - 0.5
    c, s = math.cos(_ETURN), math.sin(_ETURN)
    return c * dx + s * dy, -s * dx + c * dy


def _ellipse(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    u, v = _ellipse_uv(x, y)
    a, b = _EA - STROKE, _EB - STROKE
    return ((u / _EA) ** 2 + (v / _EB) ** 2 <= 1.0) & ((u / a) ** 2 + (v / b) ** 2 >= 1.0)


def _ellipse_line(k: int) -> np.ndarray:
    t = 2 * np.pi * np.arange(k) / k
    a, b = _EA - STROKE / 2, _EB - STROKE / 2
    u, v = a * np.cos(t), b * np.sin(t)
    c, s = math.cos(_ETURN), math.sin(_ETURN)
    return np.stack([0.5 + c * u - s * v, 0.5 + s * u + c * v], 1)


# two concentric rings, each a stroke wide: radii 0.125-0.15625 and 0.28125-0.3125
_RINGS = ((0.125, 0.15625), (0.28125, 0.3125))


def _two_rings(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx, dy = x - 0.5, y - 0.5
    r2 = dx * dx + dy * dy
    return ((r2 >= _RINGS[0][0] ** 2) & (r2 <= _RINGS[0][1] ** 2)) | (
        (r2 >= _RINGS[1][0] ** 2) & (r2 <= _RINGS[1][1] ** 2)
    )


def _two_rings_line(k: int) -> np.ndarray:
    """The inner ring's centre line, then the outer's, points shared in proportion to their lengths."""
    r1, r2 = (sum(_RINGS[0]) / 2, sum(_RINGS[1]) / 2)
    k1 = int(round(k * r1 / (r1 + r2)))
    return np.concatenate([_circle(0.5, 0.5, r1)(k1), _circle(0.5, 0.5, r2)(k - k1)])


# an Archimedean spiral r = A + B theta, theta in [0, 5 pi] (two and a half turns, 0.1 apart), a stroke
# wide measured along the radius: an open curve with two ends
_SA, _SB, _STURNS = 0.1, 0.1 / (2 * math.pi), 2.5


def _spiral(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    dx, dy = x - 0.5, y - 0.5
    r = np.hypot(dx, dy)
    phi = np.mod(np.arctan2(dy, dx), 2 * np.pi)
    out = np.zeros(np.shape(x), dtype=bool)
    top = 2 * np.pi * _STURNS
    for turn in range(int(math.ceil(_STURNS)) + 1):
        theta = phi + 2 * np.pi * turn
        on = (theta <= top) & (np.abs(r - (_SA + _SB * theta)) <= STROKE / 2)
        out |= on
    return out


def _spiral_line(k: int) -> np.ndarray:
    """Points evenly spaced in angle (the radius grows slowly, so nearly by arc length too)."""
    theta = np.linspace(0.0, 2 * np.pi * _STURNS, k)
    r = _SA + _SB * theta
    return np.stack([0.5 + r * np.cos(theta), 0.5 + r * np.sin(theta)], 1)


# a capital P: a stem x in [0.3, 0.38], y in [0.2, 0.8], and a bowl on its upper half (y grows downwards)
# whose outer edge is a rectangle x in [0.3, 0.5], y in [0.2, 0.5] closed by a half disc of radius 0.15
# around (0.5, 0.35), its hole the same shape 0.08 smaller (strokes 0.08 wide: a letter's weight)
_PW = 0.08


def _bowl(x: np.ndarray, y: np.ndarray, inset: float) -> np.ndarray:
    rect = (x >= 0.3 + inset) & (x <= 0.5) & (y >= 0.2 + inset) & (y <= 0.5 - inset)
    dx, dy = x - 0.5, y - 0.35
    half = (x >= 0.5) & (dx * dx + dy * dy <= (0.15 - inset) ** 2)
    return rect | half


def _letter_p(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    stem = (x >= 0.3) & (x <= 0.3 + _PW) & (y >= 0.2) & (y <= 0.8)
    return stem | (_bowl(x, y, 0.0) & ~_bowl(x, y, _PW))


def _letter_p_line(k: int) -> np.ndarray:
    """The stem from its foot up, then the bowl's centre line: top bar, half circle, bottom bar."""
    h = _PW / 2
    r = 0.15 - h
    half = [(0.5 + r * math.cos(t), 0.35 + r * math.sin(t)) for t in np.linspace(-math.pi / 2, math.pi / 2, 33)]
    return _polyline([(0.3 + h, 0.8), (0.3 + h, 0.2 + h), (0.5, 0.2 + h), *half, (0.3 + h, 0.5 - h)])(k)


# a thin straight band: the points within half a stroke of the segment (0.2, 0.3)-(0.8, 0.7)
_BAND = ((0.2, 0.3), (0.8, 0.7))


def _band(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    (ax, ay), (bx, by) = _BAND
    vx, vy = bx - ax, by - ay
    t = np.clip(((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy), 0.0, 1.0)
    dx, dy = x - (ax + t * vx), y - (ay + t * vy)
    return dx * dx + dy * dy <= (STROKE / 2) ** 2


_BUILTIN_DONE = False
register(
    "ring",
    _ring,
    components=1,
    holes=1,
    boundary="smooth, closed (radius 0.25 to its outer edge, 1/32 of the width wide)",
    line=_circle(0.5, 0.5, RING_OUTER - STROKE / 2),
    what="the post's thin black ring",
)
register(
    "disc",
    _disc,
    components=1,
    holes=0,
    boundary="smooth, closed, filled (the ring's disc)",
    line=_circle(0.5, 0.5, RING_OUTER),
    line_kind="outline",
    what="a filled disc, the ring's outer circle",
)
register(
    "square",
    _square,
    components=1,
    holes=1,
    boundary="four right-angled corners, closed (as wide and as large as the ring)",
    line=_polyline(
        [(0.5 - _SQ, 0.5 - _SQ), (0.5 + _SQ, 0.5 - _SQ), (0.5 + _SQ, 0.5 + _SQ), (0.5 - _SQ, 0.5 + _SQ)]
        + [(0.5 - _SQ, 0.5 - _SQ)]
    ),
    what="a square outline with the ring's width",
)
register(
    "ellipse",
    _ellipse,
    components=1,
    holes=1,
    boundary="smooth, closed, curvature varying along it (semi-axes 0.32 and 0.18, turned 30 degrees)",
    line=_ellipse_line,
    what="an elliptical ring, turned",
)
register(
    "two-rings",
    _two_rings,
    components=2,
    holes=2,
    boundary="smooth, closed, two concentric circles",
    line=_two_rings_line,
    what="two concentric rings, each as wide as the ring",
)
register(
    "spiral",
    _spiral,
    components=1,
    holes=0,
    boundary="smooth, open: two ends",
    line=_spiral_line,
    what="an Archimedean spiral of two and a half turns",
)
register(
    "letter-p",
    _letter_p,
    components=1,
    holes=1,
    boundary="straight strokes with corners, a round bowl, one open end (the stem's foot)",
    line=_letter_p_line,
    what="a capital P: a stem and a bowl with a hole",
    centre=(0.44, 0.5),
)
register(
    "band",
    _band,
    components=1,
    holes=0,
    boundary="straight, open: two rounded ends",
    line=_polyline(list(_BAND)),
    what="a thin straight band, as wide as the ring",
)
BUILTIN = frozenset(IMAGES)
_BUILTIN_DONE = True


def markdown() -> str:
    """The registered images as a Markdown table (docs/how-to/use-another-image.md holds the built-ins')."""
    lines = [
        "| name | what | black at 1024^2 | pieces | holes | Euler | boundary | line |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for im in IMAGES.values():
        share = 100 * float(im.render(1024).mean())
        lines.append(
            f"| `{im.name}` | {im.what} | {share:.1f} % | {im.components} | {im.holes} | {im.euler} | {im.boundary} "
            f"| {im.line_kind} |"
        )
    return "\n".join(lines) + "\n"
