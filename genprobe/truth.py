"""True images: the analytic ring of the post, the other registered images, and PNG-loaded shapes.

A true image is a grey image in [0, 1] (white background 1.0, black shape 0.0).
Pixel (row i, column j) is the input point (x, y) = (j / W, i / H).
:func:`resolve_truth` turns ``RunSpec.truth`` into one: a name of :mod:`genprobe.images` (``ring``,
``disc``, ...; ``NAME@RES`` at RES^2), or a two-toned PNG's path. Each is rendered once per process.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import images
from .errors import GenprobeError
from .images import RING_CENTRE, RING_INNER, RING_OUTER

__all__ = ["TrueImage", "ring", "analytic", "load_png", "resolve_truth", "RING_INNER", "RING_OUTER", "RING_CENTRE"]

#: a two-toned PNG: at most this share of its pixels are mid-grey (strictly between these two levels)
MID_GREY = (0.1, 0.9)
MAX_MID_GREY_SHARE = 0.02


@dataclass(frozen=True, eq=False)
class TrueImage:
    """A known true image.

    Attributes:
        name: what it is, e.g. ``"ring"`` or ``"png:shape.png"``.
        pixels: (H, W) float32 grey values in [0, 1]; 0 is black.
        digest: short content hash, part of every run's cache key.
        image: the registered analytic image it renders (:mod:`genprobe.images`), None for a PNG.
    """

    name: str
    pixels: np.ndarray
    digest: str
    image: images.Image | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def n_pixels(self) -> int:
        return int(self.pixels.size)

    def black(self) -> np.ndarray:
        return self.pixels < 0.5

    def at_resolution(self, res: int) -> np.ndarray:
        """Grey values on a ``res`` x ``res`` evaluation grid.

        Grid pixel (i, j) is the point (j / res, i / res); when ``res`` divides
        the image size it is exactly the image pixel (i * s, j * s), so the
        evaluation grid is a subsample of the training pixels' grid.
        """
        h, w = self.shape
        if res < 1:
            raise GenprobeError(f"evaluation resolution must be >= 1, got {res}")
        rows = np.minimum((np.arange(res) * h) // res, h - 1)
        cols = np.minimum((np.arange(res) * w) // res, w - 1)
        return self.pixels[np.ix_(rows, cols)]

    def black_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Black (True) at the points (x, y): exact for an analytic image, else the image pixel holding the
        point (row ``floor(y * H)``, column ``floor(x * W)``); points outside [0, 1)^2 are white."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if self.image is not None:
            return np.asarray(self.image.black(x, y), dtype=bool)
        h, w = self.shape
        i, j = np.floor(y * h).astype(np.int64), np.floor(x * w).astype(np.int64)
        inside = (i >= 0) & (i < h) & (j >= 0) & (j < w)
        out = np.zeros(np.shape(x), dtype=bool)
        out[inside] = self.pixels[i[inside], j[inside]] < 0.5
        return out


def _digest(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes() + str(pixels.shape).encode()).hexdigest()[:16]


def ring(res: int = 1024) -> TrueImage:
    """The post's analytic ring rendered at ``res`` x ``res``.

    Black (0.0) where ``inner <= r <= outer`` around (0.5, 0.5), white elsewhere.

    At 1024^2 this is 48,280 black pixels (4.6 %). The author's PNG is PIL's
    rasterised outline of the same ring (48,244 pixels); the two differ only
    in a one-pixel band at the edges (IoU 0.968).

    >>> img = ring(1024)
    >>> int(img.black().sum())
    48280
    """
    res = _check_res("ring", res)
    c = np.arange(res, dtype=np.float64) / res
    x = c[None, :] - RING_CENTRE[0]
    y = c[:, None] - RING_CENTRE[1]
    r2 = x * x + y * y
    black = (r2 >= RING_INNER**2) & (r2 <= RING_OUTER**2)
    pixels = np.where(black, 0.0, 1.0).astype(np.float32)
    name = "ring" if res == 1024 else f"ring@{res}"
    return TrueImage(name=name, pixels=pixels, digest=_digest(pixels), image=images.get("ring"))


def _check_res(name: str, res: object) -> int:
    if not isinstance(res, (int, np.integer)) or isinstance(res, bool) or res < 8:
        raise GenprobeError(f"{name} resolution must be an integer >= 8, got {res!r}")
    return int(res)


def analytic(name: str, res: int = 1024) -> TrueImage:
    """The registered image ``name`` (:mod:`genprobe.images`) rendered at ``res`` x ``res``.

    The ring is :func:`ring` itself (its pixels and digest as they always were).

    >>> img = analytic("disc", 256)
    >>> img.name, int(img.black().sum()) > 0
    ('disc@256', True)
    """
    if name == "ring":
        return ring(res)
    image = images.get(name)
    res = _check_res(name, res)
    black = image.render(res)
    label = name if res == 1024 else f"{name}@{res}"
    if not black.any():
        raise GenprobeError(f"true image {label!r} has no black pixels at {res}x{res}; use a larger resolution")
    pixels = np.where(black, 0.0, 1.0).astype(np.float32)
    return TrueImage(name=label, pixels=pixels, digest=_digest(pixels), image=image)


def load_png(path: str | Path) -> TrueImage:
    """Load any PNG (grey, RGB or RGBA) as a true image of its own size.

    Grey values are the image's luminance scaled to [0, 1]; transparent pixels
    count as white. The image must hold at least one black (< 0.5) and one
    white (>= 0.5) pixel.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise GenprobeError(f"true image file not found: {str(p)!r}")
    if not p.is_file():
        raise GenprobeError(f"true image path is not a file: {str(p)!r}")
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("RGBA", "LA") or "transparency" in im.info:
                rgba = im.convert("RGBA")
                bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = np.asarray(Image.alpha_composite(bg, rgba).convert("L"), dtype=np.float32) / 255.0
            else:
                grey = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise GenprobeError(f"not a readable image: {str(p)!r} ({exc.__class__.__name__})") from None
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise GenprobeError(f"image too small: {str(p)!r} has shape {grey.shape}")
    n_black = int((grey < 0.5).sum())
    if n_black == 0:
        raise GenprobeError(f"true image {str(p)!r} has no black pixels (all grey values >= 0.5)")
    if n_black == grey.size:
        raise GenprobeError(f"true image {str(p)!r} has no white pixels (all grey values < 0.5)")
    lo, hi = MID_GREY
    mid = float(np.mean((grey > lo) & (grey < hi)))
    if mid > MAX_MID_GREY_SHARE:
        raise GenprobeError(
            f"true image {str(p)!r} is not two-toned: {100 * mid:.1f} % of its pixels are mid-grey "
            f"(between {lo:g} and {hi:g}; at most {100 * MAX_MID_GREY_SHARE:g} % may be, for anti-aliased edges)"
        )
    return TrueImage(name=f"png:{p.name}", pixels=grey, digest=_digest(grey))


def _name_and_res(truth: str) -> tuple[str, int] | None:
    """``(name, res)`` when ``truth`` names a registered image (``NAME`` or ``NAME@RES``), else None (a
    name ending in ``.png`` is a path: ``disc@2x.png`` is a file)."""
    if truth.lower().endswith(".png"):
        return None
    name, at, res = truth.partition("@")
    if name not in images.IMAGES:
        return None
    if not at:
        return name, 1024
    try:
        return name, int(res)
    except ValueError:
        raise GenprobeError(f"bad {name} resolution in truth {truth!r}: NAME@RES takes an integer RES >= 8") from None


@functools.lru_cache(maxsize=16)
def _rendered(name: str, res: int, image: images.Image) -> TrueImage:
    out = analytic(name, res)
    out.pixels.flags.writeable = False  # shared by every run of this process
    return out


def resolve_truth(truth: str) -> TrueImage:
    """A registered image's name (:mod:`genprobe.images`: ``"ring"``, the post's 1024^2 ring, ``"disc"``,
    ...), ``"NAME@RES"`` (rendered at RES^2), or a path to a two-toned PNG.

    A registered image is rendered once per process (and re-rendered if its name is registered again).
    """
    named = _name_and_res(truth)
    if named is not None:
        name, res = named
        return _rendered(name, res, images.IMAGES[name])
    if not truth.lower().endswith(".png") and not Path(truth).exists():
        images.get(truth.partition("@")[0])  # neither a registered image nor a file: the error names the choices
    return load_png(truth)
