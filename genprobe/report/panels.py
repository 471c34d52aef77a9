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

__all__ = ["panel_image", "save_panel", "save_panels_grid", "PANEL_MIN_SIZE", "PANEL_GAP", "save_gallery_strip"]

PANEL_MIN_SIZE = 256  # panels smaller than this are upscaled (nearest neighbour)


PANEL_GAP = 4  # grey gap between panels and between stacked rows, in px


RED = (255, 0, 0)


GAP_GREY = (200, 200, 200)


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


def panel_image(result: RunResult, *, title: bool = True, min_size: int = PANEL_MIN_SIZE) -> Image.Image:
    """The post's picture of one run: three panels side by side.

    (a) the prediction as grey (clipped to [0, 1], NaN white) with the
    linear-region boundaries in red (when ``result.boundaries`` is given);
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
    if result.boundaries is not None:
        b = np.asarray(result.boundaries, dtype=bool)
        if b.shape == pred.shape:
            a[_upscale(b, s)] = RED
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
    has_b = result.boundaries is not None
    captions = [
        (0, "(a) prediction + regions" if has_b else "(a) prediction"),
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
