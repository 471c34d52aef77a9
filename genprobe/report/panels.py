"""The post's three-panel picture of a run, grids of them, and the gallery strip: pure PIL/numpy."""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..jsonio import atomic_write as _atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from ..runs import RunResult

__all__ = [
    "panel_image",
    "save_panel",
    "save_panels_grid",
    "PANEL_MIN_SIZE",
    "PANEL_GAP",
    "save_gallery_strip",
    "seed_strip",
    "region_cells",
    "regions_layer",
    "CELL_MIN_PX",
]

PANEL_MIN_SIZE = 256  # panels smaller than this are upscaled (nearest neighbour)


PANEL_GAP = 4  # grey gap between panels and between stacked rows, in px


RED = (255, 0, 0)


GAP_GREY = (200, 200, 200)


CELL_MIN_PX = 4  # a linear region is drawn as a coloured cell when the grid holds at least this many of its pixels

# light pastel tints (ColorBrewer Set3, each lightened towards white to a luminance of at least
# CELL_MIN_LIGHTNESS): a cell's tint multiplies the prediction's grey, so a black prediction stays black under
# any tint, a white one takes the tint, and no pixel loses more than a fifth of its lightness
CELL_MIN_LIGHTNESS = 0.8
_SET3 = (
    np.array(
        [
            (0x8D, 0xD3, 0xC7),
            (0xFF, 0xFF, 0xB3),
            (0xBE, 0xBA, 0xDA),
            (0xFB, 0x80, 0x72),
            (0x80, 0xB1, 0xD3),
            (0xFD, 0xB4, 0x62),
            (0xB3, 0xDE, 0x69),
            (0xFC, 0xCD, 0xE5),
            (0xBC, 0x80, 0xBD),
            (0xCC, 0xEB, 0xC5),
            (0xFF, 0xED, 0x6F),
        ],
        dtype=np.float64,
    )
    / 255.0
)
_LUMA = np.array([0.299, 0.587, 0.114])
_towards_white = np.clip((CELL_MIN_LIGHTNESS - _SET3 @ _LUMA) / (1.0 - _SET3 @ _LUMA), 0.0, 1.0)
_CELL_TINTS = _SET3 + (1.0 - _SET3) * _towards_white[:, None]

FINE_SHADE = 0.88  # where the regions are finer than the grid: the prediction's grey, slightly darkened


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _grey_u8(pred: np.ndarray) -> np.ndarray:
    """(h, w) float grey -> (h, w) uint8; NaN is white, values clipped to [0, 1]."""
    g = np.asarray(pred, dtype=np.float64)
    g = np.clip(np.where(np.isnan(g), 1.0, g), 0.0, 1.0)
    return np.round(g * 255.0).astype(np.uint8)


def _rgb(u8: np.ndarray) -> np.ndarray:
    return np.repeat(u8[..., None], 3, axis=2)


def _upscale(a: np.ndarray, s: int) -> np.ndarray:
    return a if s == 1 else np.repeat(np.repeat(a, s, axis=0), s, axis=1)


def _load_default_font():
    from PIL import ImageFont

    return ImageFont.load_default()


def _title_strip(width: int, rows: list[list[tuple[int, str]]]) -> Image.Image | None:
    """White strip with text rows of (x, text) items; None when fonts fail."""
    try:
        from PIL import Image, ImageDraw

        font = _load_default_font()
        probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        line_h = 0.0
        for row in rows:
            for _, text in row:
                box = probe.textbbox((0, 0), text, font=font)
                line_h = max(line_h, box[3] - min(box[1], 0))
        line_h = int(line_h) + 4
        strip = Image.new("RGB", (width, line_h * len(rows) + 4), "white")
        draw = ImageDraw.Draw(strip)
        for i, row in enumerate(rows):
            for x, text in row:
                draw.text((x + 3, 2 + i * line_h), text, fill=(0, 0, 0), font=font)
        return strip
    except Exception:  # no usable font: pictures without titles are fine
        return None


def _scale_for(res: int, min_size: int) -> int:
    return max(1, -(-min_size // res))


def _truth_panel(result: RunResult, shape: tuple[int, int], s: int) -> np.ndarray:
    """(h*s, w*s, 3) truth on the prediction's grid with training points in red (and an empty wedge tinted blue)."""
    h, w = shape
    size = (h * s, w * s)
    try:
        truth = result.spec.load_truth()
    except Exception as exc:  # e.g. a PNG truth that has moved since the run
        warnings.warn(
            f"genprobe.report: cannot load truth {result.spec.truth!r} ({exc}); truth panel left grey", stacklevel=3
        )
        return np.full(size + (3,), 128, dtype=np.uint8)
    grid = (
        truth.at_resolution(h)
        if h == w
        else truth.pixels[np.ix_(np.arange(h) * truth.shape[0] // h, np.arange(w) * truth.shape[1] // w)]
    )
    rgb = _upscale(_rgb(_grey_u8(grid)), s).copy()
    if getattr(result.spec, "wedge", 0):
        from ..sampling import wedge_mask

        # ring completion: the wedge that held no training point, tinted blue
        inside = wedge_mask(size, result.spec.wedge)
        rgb[inside] = (rgb[inside] * np.array([0.75, 0.85, 1.0])).astype(np.uint8)
    th, tw = truth.shape
    idx = np.asarray(result.train_indices, dtype=np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= th * tw)
    if bad.any():
        warnings.warn(
            f"genprobe.report: {int(bad.sum())} training indices outside the true image ignored", stacklevel=3
        )
        idx = idx[~bad]
    # grid pixel (row * R // H) at R, refined to the upscaled panel so each dot
    # lies inside its grid pixel's block
    rows = (idx // tw) * size[0] // th
    cols = (idx % tw) * size[1] // tw
    dot = 2 if (s >= 2 or 4 * len(idx) <= 0.05 * size[0] * size[1]) else 1
    for dr in range(dot):
        for dc in range(dot):
            rgb[np.minimum(rows + dr, size[0] - 1), np.minimum(cols + dc, size[1] - 1)] = RED
    return rgb


def region_cells(boundaries: np.ndarray) -> tuple[np.ndarray, int]:
    """The areas of one activation pattern that a boundary mask shows: ``(labels, count)``.

    ``boundaries`` is :func:`genprobe.metrics.region_boundaries` of the pattern ids: a pixel is
    marked when its id differs from its right or lower neighbour. An unmarked pixel therefore
    shares its pattern with both; those are the only equalities the mask proves, and the labels are
    the connected pieces they join (a marked pixel whose left and upper neighbours are marked too
    is a piece of its own). A piece never mixes two patterns; a pattern may be split into several
    pieces, so ``count`` is at least the number of connected regions the grid resolves.

    >>> labels, n = region_cells(np.array([[0, 1, 0], [0, 1, 0]], dtype=bool))
    >>> n, labels.tolist()
    (2, [[1, 1, 2], [1, 1, 2]])
    >>> region_cells(np.ones((2, 3), dtype=bool))[1]  # every pixel marked: a piece each
    6
    """
    from scipy import ndimage

    b = np.asarray(boundaries, dtype=bool)
    if b.ndim != 2 or min(b.shape) < 1:
        raise ValueError(f"boundaries must be a 2-D mask, got shape {b.shape}")
    h, w = b.shape
    # a grid twice as fine: pixels at even positions, a link between two neighbours where they share a pattern
    g = np.zeros((2 * h - 1, 2 * w - 1), dtype=bool)
    g[::2, ::2] = True
    g[::2, 1::2] = ~b[:, :-1]
    g[1::2, ::2] = ~b[:-1, :]
    labels, count = ndimage.label(g)  # 4-connected
    return labels[::2, ::2], int(count)


def regions_layer(pred: np.ndarray, boundaries: np.ndarray, min_px: int = CELL_MIN_PX) -> tuple[np.ndarray, float]:
    """(h, w, 3) uint8 picture of the linear regions over the prediction, and the share of pixels in cells.

    Each piece of :func:`region_cells` with at least ``min_px`` pixels is a cell, tinted with one of
    :data:`_CELL_TINTS` (chosen by its label); the tint multiplies the prediction's grey, so the
    prediction (the ring) reads through every cell. Pixels of smaller pieces lie where the regions
    are finer than the grid (most of the boundary pixels: around the ring a deep net has more
    regions than the grid has pixels); they keep the prediction's grey, darkened by
    :data:`FINE_SHADE`, which also draws the 1-px lines between neighbouring cells.
    """
    grey = _grey_u8(pred).astype(np.float64) / 255.0
    labels, _ = region_cells(boundaries)
    sizes = np.bincount(labels.ravel())
    cell = sizes[labels] >= min_px
    tint = _CELL_TINTS[(labels.astype(np.int64) * 7919) % len(_CELL_TINTS)]
    shade = np.where(cell[..., None], tint, FINE_SHADE)
    rgb = np.round(grey[..., None] * shade * 255.0).astype(np.uint8)
    return rgb, float(cell.mean())


def panel_image(result: RunResult, *, title: bool = True, min_size: int = PANEL_MIN_SIZE) -> Image.Image:
    """The post's picture of one run: three panels side by side.

    (a) the prediction as grey (clipped to [0, 1], NaN white) with its
    linear regions (when ``result.boundaries`` is given): every area of one
    activation pattern that the grid resolves (:data:`CELL_MIN_PX` pixels or
    more) is a cell in a pastel tint over the prediction; where the regions are
    finer than the grid the prediction is slightly darkened
    (:func:`regions_layer`); the caption counts the regions (the
    ``linear_regions`` metric) and the share of pixels in cells;
    (b) the prediction alone; (c) the true image on the same grid with the
    training points as red 1-2 px dots. Each panel is the eval grid
    (R x R), upscaled by an integer factor (nearest neighbour) to at least
    ``min_size`` px. Panels are separated by ``PANEL_GAP`` grey pixels.

    With ``title`` a white strip above names the run and its final held-out
    IoU, when PIL's default font works (silently omitted otherwise).
    """
    from PIL import Image

    pred = np.asarray(result.prediction)
    if pred.ndim != 2 or min(pred.shape) < 1:
        raise ValueError(f"prediction must be a 2-D image, got shape {pred.shape}")
    h, w = pred.shape
    s = _scale_for(max(h, w), min_size)
    grey = _upscale(_rgb(_grey_u8(pred)), s)
    a = grey.copy()
    cells_share: float | None = None
    if result.boundaries is not None:
        b = np.asarray(result.boundaries, dtype=bool)
        if b.shape == pred.shape:
            layer, cells_share = regions_layer(pred, b)
            a = _upscale(layer, s)
        else:
            warnings.warn(
                f"genprobe.report: boundaries shape {b.shape} != prediction shape {pred.shape}; not drawn", stacklevel=2
            )
    c = _truth_panel(result, (h, w), s)
    gap = np.empty((h * s, PANEL_GAP, 3), dtype=np.uint8)
    gap[:] = GAP_GREY
    img = Image.fromarray(np.concatenate([a, gap, grey, gap, c], axis=1), mode="RGB")
    if not title:
        return img
    iou = result.final.get("held_out_iou", math.nan)
    head = f"{result.spec.label()}   held-out IoU {iou:.3f}"
    if result.diverged_at is not None:
        head += f"   DIVERGED at epoch {result.diverged_at}"
    pw = w * s + PANEL_GAP
    n_pts = len(np.asarray(result.train_indices).reshape(-1))
    if cells_share is not None:
        count = result.final.get("linear_regions", math.nan)
        regions = f"{count:.0f} regions" if math.isfinite(count) else "regions"
        caption_a = f"(a) {regions}, {cells_share:.0%} in cells"
    else:
        caption_a = "(a) prediction"
    captions = [
        (0, caption_a),
        (pw, "(b) prediction"),
        (2 * pw, f"(c) truth + {n_pts} points"),
    ]
    strip = _title_strip(img.width, [[(0, head)], captions])
    if strip is None:
        return img
    out = Image.new("RGB", (img.width, img.height + strip.height), "white")
    out.paste(strip, (0, 0))
    out.paste(img, (0, strip.height))
    return out


def save_panel(result: RunResult, path: str | os.PathLike, *, title: bool = True) -> Path:
    """Write :func:`panel_image` of ``result`` as a PNG; returns the path."""
    return _atomic_write(Path(path), _png_bytes(panel_image(result, title=title)))


def save_panels_grid(results: Sequence[RunResult], path: str | os.PathLike, *, title: bool = True) -> Path:
    """The panels of several runs stacked vertically in one PNG (narrower
    rows padded with white on the right); returns the path."""
    from PIL import Image

    if not results:
        raise ValueError("save_panels_grid needs at least one result")
    rows = [panel_image(r, title=title) for r in results]
    width = max(r.width for r in rows)
    height = sum(r.height for r in rows) + PANEL_GAP * (len(rows) - 1)
    out = Image.new("RGB", (width, height), GAP_GREY)
    y = 0
    for r in rows:
        if r.width < width:
            out.paste(Image.new("RGB", (width, r.height), "white"), (0, y))
        out.paste(r, (0, y))
        y += r.height + PANEL_GAP
    return _atomic_write(Path(path), _png_bytes(out))


def seed_strip(results: Sequence[RunResult], *, min_size: int = 192) -> Image.Image:
    """One seed's nets side by side, the post's figure: per run (e.g. per N, largest first) a column of its
    prediction above the truth with its training points, captioned with N and the held-out IoU (when PIL's
    default font works). Columns of different grids are scaled to the first one's height."""
    from PIL import Image

    if not results:
        raise ValueError("seed_strip needs at least one run")
    columns = []
    for r in results:
        pred = np.asarray(r.prediction)
        h, w = pred.shape
        s = _scale_for(max(h, w), min_size)
        gap = np.empty((PANEL_GAP, w * s, 3), dtype=np.uint8)
        gap[:] = GAP_GREY
        col = np.concatenate([_upscale(_rgb(_grey_u8(pred)), s), gap, _truth_panel(r, (h, w), s)], axis=0)
        columns.append(Image.fromarray(col, mode="RGB"))
    height = columns[0].height
    columns = [c if c.height == height else c.resize((round(c.width * height / c.height), height)) for c in columns]
    width = sum(c.width for c in columns) + PANEL_GAP * (len(columns) - 1)
    body = Image.new("RGB", (width, height), GAP_GREY)
    x, xs = 0, []
    for c in columns:
        body.paste(c, (x, 0))
        xs.append(x)
        x += c.width + PANEL_GAP
    captions = [(x, f"N={r.spec.n}  IoU {r.final.get('held_out_iou', math.nan):.2f}") for x, r in zip(xs, results)]
    strip = _title_strip(width, [captions])
    if strip is None:
        return body
    img = Image.new("RGB", (width, strip.height + height), "white")
    img.paste(strip, (0, 0))
    img.paste(body, (0, strip.height))
    return img


GALLERY_THUMB = 96  # px per gallery picture in the report's strip


def save_gallery_strip(
    names: Sequence[str], path: str | os.PathLike, *, n: int = 312, seed: int = 0, size: int = GALLERY_THUMB
) -> Path:
    """The gallery's pictures side by side, each titled with its name (pictures drawn at the
    training points use seed ``seed``'s ``n`` points); returns the path."""
    from PIL import Image

    from .. import gallery
    from ..runs import RunSpec
    from ..sampling import sample_training_set

    if not names:
        raise ValueError("save_gallery_strip needs at least one picture")
    ts = sample_training_set(RunSpec(n=n, seed=seed).load_truth(), n, seed)
    tiles = [_rgb(_grey_u8(gallery.draw(name, size, ts))) for name in names]
    width = len(tiles) * (size + PANEL_GAP) - PANEL_GAP
    body = np.full((size, width, 3), GAP_GREY, dtype=np.uint8)
    for i, t in enumerate(tiles):
        body[:, i * (size + PANEL_GAP) : i * (size + PANEL_GAP) + size] = t
    img = Image.fromarray(body)
    strip = _title_strip(width, [[(i * (size + PANEL_GAP), name[:15]) for i, name in enumerate(names)]])
    if strip is not None:
        out = Image.new("RGB", (width, strip.height + size), "white")
        out.paste(strip, (0, 0))
        out.paste(img, (0, strip.height))
        img = out
    return _atomic_write(Path(path), _png_bytes(img))
