"""Pictures and written reports of runs and verdicts.

* :func:`panel_image` / :func:`save_panel` / :func:`save_panels_grid`: the
  post's three-panel picture per run (prediction with linear-region
  boundaries, prediction alone, truth with the training points), pure
  PIL/numpy.
* :func:`save_curves`: metrics along training, median over seeds with a
  min..max band, one subplot per metric (matplotlib, Agg canvas only).
* :func:`write_report`: ``results.json`` and ``summary.md`` of a profile.
* :func:`write_run_pictures`: panels per run group and curves per model.

Importing this module is cheap: matplotlib is imported inside
:func:`save_curves` only, and only ``matplotlib.figure.Figure`` with an
explicit ``FigureCanvasAgg`` is used, so pyplot's global state and the
user's backend are never touched and no display is needed.

Every file is written atomically: to a temp file in the target folder, then
``os.replace``; a reader sees the old file, the new one, or none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import urllib.parse
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .jsonio import atomic_write as _atomic_write
from .jsonio import to_json_safe as _jsonable
from .verdicts import HOLDS, INCONCLUSIVE, REFUTED

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .runs import RunResult, RunSpec
    from .verdicts import Verdict

__all__ = [
    "panel_image",
    "save_panel",
    "save_panels_grid",
    "save_curves",
    "write_report",
    "write_run_pictures",
    "group_label",
    "slug",
    "PANEL_MIN_SIZE",
    "PANEL_GAP",
]

PANEL_MIN_SIZE = 256  # panels smaller than this are upscaled (nearest neighbour)
PANEL_GAP = 4  # grey gap between panels and between stacked rows, in px
RED = (255, 0, 0)
GAP_GREY = (200, 200, 200)

_METRIC_TITLES = {
    "held_out_iou": "held-out IoU",
    "components": "black components",
    "angular_coverage": "angular coverage",
    "contrast": "ring contrast",
    "train_mse": "train MSE",
}


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: letters, digits, ``-``, ``_``, ``.``.

    >>> slug("mlp/standard N=312")
    'mlp-standard_N312'
    >>> slug("../..")
    'x'
    """
    s = text.replace("/", "-").replace(" ", "_").replace("=", "")
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", s)
    s = re.sub(r"\.{2,}", ".", s).strip("._-")
    return s or "x"


def group_label(spec: RunSpec) -> str:
    """A run's label without the seed, built from model, features, labels,
    protocol (and k for k-NN) and N, e.g. ``mlp/standard N=312``."""
    return f"{spec.what()} N={spec.n}"


def _without(spec: RunSpec, *fields: str) -> str:
    """Stable identity of ``spec`` ignoring ``fields`` (for grouping)."""
    d = spec.to_dict()
    for f in fields:
        d.pop(f, None)
    return json.dumps(d, sort_keys=True)


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------
# panels
# --------------------------------------------------------------------------


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
        from .sampling import wedge_mask

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


# --------------------------------------------------------------------------
# the gallery of wrong pictures
# --------------------------------------------------------------------------

GALLERY_THUMB = 96  # px per gallery picture in the report's strip
_VERDICT_MARK = {HOLDS: "passes", REFUTED: "refuted", INCONCLUSIVE: "?"}


def save_gallery_strip(
    names: Sequence[str], path: str | os.PathLike, *, n: int = 312, seed: int = 0, size: int = GALLERY_THUMB
) -> Path:
    """The gallery's pictures side by side, each titled with its name (pictures drawn at the
    training points use seed ``seed``'s ``n`` points); returns the path."""
    from PIL import Image

    from . import gallery
    from .runs import RunSpec
    from .sampling import sample_training_set

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


def gallery_section(data: Mapping[str, Any], strip: str | None) -> list[str]:
    """Markdown lines: the strip and each shape claim's verdict on each picture (``data``: the
    committed ``genprobe/evidence/gallery-<profile>.json``)."""
    rows = data["rows"]
    cases = list(rows[0]["verdicts"]) if rows else []
    lines = [
        "What each shape claim says of pictures that are not the truth (and of the two that are), "
        f"judged as if a net had drawn them on the points of seeds {data['seeds']}, against the dot "
        f"memoriser, 1-NN and Fourier-feature runs of `{data['evidence']}` on the same points "
        "(`tests/test_gallery.py` says which claim must refute which picture, and why; README, "
        "'What the claims reject').",
        "",
    ]
    if strip:
        lines += [f"![the gallery]({urllib.parse.quote(strip)})", ""]
    lines.append("| picture | " + " | ".join(c.replace("@", " @") for c in cases) + " |")
    lines.append("|---|" + "---|" * len(cases))
    for row in rows:
        name = f"**{row['picture']}** (true)" if row["truth"] else row["picture"]
        cells = [_VERDICT_MARK.get(row["verdicts"][c]["verdict"], row["verdicts"][c]["verdict"]) for c in cases]
        lines.append(f"| {_cell(name)}: {_cell(row['description'])} | " + " | ".join(cells) + " |")
    return lines


# --------------------------------------------------------------------------
# curves
# --------------------------------------------------------------------------


def _series(runs: Sequence[RunResult], x: str, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(x0, Y) with Y (seeds, C) on the first run's x-values; None without data."""
    x0 = np.asarray(runs[0].history.get(x, ()), dtype=np.float64)
    if x0.size == 0:
        return None
    ys = []
    for r in runs:
        if metric not in r.history or x not in r.history:
            continue
        xr = np.asarray(r.history[x], dtype=np.float64)
        yr = np.asarray(r.history[metric], dtype=np.float64)
        if xr.shape != yr.shape or xr.size == 0:
            continue
        if xr.shape == x0.shape and np.array_equal(xr, x0):
            ys.append(yr)
        else:
            order = np.argsort(xr, kind="stable")
            ys.append(np.interp(x0, xr[order], yr[order], left=np.nan, right=np.nan))
    if not ys:
        return None
    return x0, np.vstack(ys)


def save_curves(
    groups: Mapping[str, Sequence[RunResult]],
    path: str | os.PathLike,
    metrics: Sequence[str] = ("held_out_iou", "components", "angular_coverage", "contrast"),
    x: str = "epoch",
    title: str | None = None,
    mark_epochs: Sequence[int] = (),
) -> Path:
    """Metrics along training, one subplot per metric; returns the path.

    For each group (label -> runs over seeds) the median over seeds is drawn
    as a line and the min..max over seeds as a band. Runs are put on the
    first run's checkpoint x-values (interpolated when they differ, NaN
    outside a run's range, e.g. after it stopped on divergence). ``x`` is
    ``"epoch"`` or ``"step"``. ``mark_epochs`` draws dashed vertical lines;
    with ``x="step"`` each is drawn per group at that group's step
    (``epoch * steps_per_epoch``, capped at its budget), in the group colour.
    ``components`` uses a symlog y-axis.
    """
    if x not in ("epoch", "step"):
        raise ValueError(f"x must be 'epoch' or 'step', got {x!r}")
    metrics = list(metrics)
    if not metrics:
        raise ValueError("save_curves needs at least one metric")
    groups = {str(k): list(v) for k, v in groups.items() if len(v)}
    if not groups:
        raise ValueError("save_curves needs at least one non-empty group")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = 2 if len(metrics) >= 4 else len(metrics)
    nrows = -(-len(metrics) // ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.4 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).reshape(-1)
    colours = [f"C{i % 10}" for i in range(len(groups))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns in nanmedian & co.
        for ax, metric in zip(axes, metrics):
            drawn = False
            for (label, runs), colour in zip(groups.items(), colours):
                series = _series(runs, x, metric)
                if series is None:
                    continue
                xs, ys = series
                med, lo, hi = np.nanmedian(ys, axis=0), np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
                marker = "o" if xs.size == 1 else None
                ax.plot(
                    xs,
                    med,
                    color=colour,
                    label=f"{label} ({ys.shape[0]} seed{'s' if ys.shape[0] != 1 else ''})",
                    marker=marker,
                    lw=1.5,
                )
                if ys.shape[0] > 1:
                    ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, lw=0)
                drawn = True
            for e in mark_epochs:
                if x == "epoch":
                    ax.axvline(e, ls="--", color="0.4", lw=1)
                else:
                    for runs, colour in zip(groups.values(), colours):
                        sp = runs[0].spec
                        ax.axvline(
                            min(e * sp.steps_per_epoch, max(sp.total_steps, 1)), ls="--", color=colour, lw=1, alpha=0.7
                        )
            if metric == "components":
                ax.set_yscale("symlog", linthresh=1.0)
                if drawn:
                    ax.set_ylim(bottom=0)
            ax.set_title(_METRIC_TITLES.get(metric, metric), fontsize=10)
            ax.set_xlabel(x)
            ax.grid(alpha=0.3)
            if not drawn:
                ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        if not handles:
            for ax in axes:
                handles, labels = ax.get_legend_handles_labels()
                if handles:
                    break
        if handles:
            axes[0].legend(handles, labels, fontsize=8, loc="best")
        if title:
            fig.suptitle(title)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
    fig.clear()
    return _atomic_write(Path(path), buf.getvalue())


# --------------------------------------------------------------------------
# results.json and summary.md
# --------------------------------------------------------------------------


def _key(spec: RunSpec) -> str | None:
    """``spec.key``, or None when the true image cannot be read any more."""
    try:
        return spec.key
    except Exception:
        return None


def _cell(value: Any) -> str:
    """A markdown table cell: one line, pipes escaped."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _info_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_info_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_info_value(v) for v in value)
    return str(value)


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}"


def _fmt_num(v: Any) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return str(int(f)) if f.is_integer() and abs(f) < 1e6 else f"{f:.3g}"


def _summary_md(
    profile: str,
    verdicts: Sequence[Verdict],
    results: Sequence[RunResult],
    info: Mapping[str, Any],
    created: str,
    pictures: Mapping[str, str],
    out_dir: Path,
    gallery: Mapping[str, Any] | None = None,
) -> str:
    lines = [f"# genprobe report: {profile}", ""]

    def section(heading: str) -> None:
        if lines[-1] != "":
            lines.append("")
        lines.extend([heading, ""])

    lines.append(f"- **created**: {created}")
    for k, v in info.items():
        lines.append(f"- **{k}**: {_info_value(v)}")
    lines.append("")
    claims_ = [v for v in verdicts if v.role != "control"]
    controls = [v for v in verdicts if v.role == "control"]
    statuses = [v.status for v in claims_]
    by_role = {r: sum(v.role == r for v in claims_) for r in ("expected refuted", "reported")}
    lines.append(
        f"**{len(claims_)} claim verdict{'s' if len(claims_) != 1 else ''}: {statuses.count(HOLDS)} holds, "
        f"{statuses.count(REFUTED)} refuted, {statuses.count(INCONCLUSIVE)} inconclusive** "
        f"({by_role['expected refuted']} refutations expected from our measurements, "
        f"{by_role['reported']} reported without gating); "
        f"**{sum(v.status == REFUTED for v in controls)} of {len(controls)} controls refuted**, as they must be "
        f"({len(results)} run{'s' if len(results) != 1 else ''})"
    )
    section("## Claims")
    if verdicts:
        lines.append(
            "Each check is a sign test on the seeds' values (README, 'How verdicts are decided'); "
            "a verdict holds when every check holds and is refuted when any is."
        )
        lines.append("")
        lines.append(
            "| claim | role | subject | N | seeds | metric | seeds meeting the bound: verdict "
            "| measured (median [min..max]) | verdict |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for v in verdicts:
            if not v.checks:
                lines.append(
                    f"| {_cell(v.claim)} | {v.role} | {_cell(v.subject)} | {_cell(v.n)} | {len(v.seeds)} "
                    f"| (no checks) | - | - | {v.status} |"
                )
            for c in v.checks:
                status = f"**{c.status}**" if c.status == REFUTED else c.status
                lines.append(
                    f"| {_cell(v.claim)} | {v.role} | {_cell(v.subject)} | {_cell(v.n)} | {len(v.seeds)} "
                    f"| {_cell(c.metric)} "
                    f"| {_cell(c.decision)} | {_cell(c.measured)} | {status} |"
                )
        statements: dict[str, str] = {}
        for v in verdicts:
            statements.setdefault(v.claim, v.statement)
        lines += [""] + [f"- **{_cell(k)}**: {s}" for k, s in statements.items()]
    else:
        lines.append("_No claims were judged._")
    failing = [v for v in claims_ if v.status != HOLDS]
    if failing:
        section("## Not holding")
        for v in failing:
            lines += [f"### {v.claim} ({v.subject}, N={v.n}): {v.status}", "", _fence(v.explain()), ""]
    if results:
        section("## Runs")
        lines += ["| run | key | held-out IoU | components | diverged at |", "|---|---|---|---|---|"]
        for r in results:
            div = "-" if r.diverged_at is None else str(r.diverged_at)
            lines.append(
                f"| {_cell(r.spec.label())} | `{_key(r.spec)}` | {_fmt_num(r.final.get('held_out_iou', math.nan))} | "
                f"{_fmt_num(r.final.get('components', math.nan))} | {div} |"
            )
    if gallery:
        section("## What the claims reject")
        lines += gallery_section(gallery, gallery.get("strip"))
    if pictures:
        section("## Pictures")
        for name, fname in pictures.items():
            alt = str(name).replace("[", "(").replace("]", ")")
            missing = "" if (out_dir / fname).exists() else " _(file missing)_"
            lines += [f"### {name}{missing}", "", f"![{alt}]({urllib.parse.quote(str(fname))})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    out_dir: str | os.PathLike,
    profile: str,
    verdicts: Sequence[Verdict],
    results: Sequence[RunResult],
    info: Mapping[str, Any],
    pictures: Mapping[str, str] | None = None,
    gallery: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``results.json`` and ``summary.md`` into ``out_dir`` (created with
    parents); returns the path of ``summary.md``.

    ``gallery``: the shape claims' verdicts on the gallery of wrong pictures
    (``genprobe/evidence/gallery-<profile>.json``, with ``"strip"``: the file
    name of :func:`save_gallery_strip` in ``out_dir``), shown as a section.

    ``results.json`` holds ``profile``, ``info``, ``created`` (ISO 8601, UTC),
    ``verdicts`` (``Verdict.to_dict()``) and ``runs`` (key, label, spec,
    final, diverged_at, meta per run; key is null when the true image can no
    longer be read). It is strict JSON: NaN becomes
    ``null`` and +/-infinity the strings ``"inf"`` / ``"-inf"`` (so
    ``float()`` reads them back); numpy values become plain numbers/lists.

    ``summary.md`` has the profile and info lines, counts of verdicts, the
    claims table (one row per check; refuted in bold), ``explain()`` of every
    verdict that does not hold, a runs table and the ``pictures``
    (name -> file name relative to ``out_dir``) as markdown images.
    Both files are written atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pictures = dict(pictures or {})
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    payload = {
        "profile": profile,
        "info": info,
        "created": created,
        "verdicts": [v.to_dict() for v in verdicts],
        "runs": [
            {
                "key": _key(r.spec),
                "label": r.spec.label(),
                "spec": r.spec.to_dict(),
                "final": r.final,
                "diverged_at": r.diverged_at,
                "meta": r.meta,
            }
            for r in results
        ],
    }
    text = json.dumps(_jsonable(payload), indent=2, allow_nan=False)
    _atomic_write(out / "results.json", (text + "\n").encode())
    summary = _summary_md(profile, verdicts, results, info, created, pictures, out, gallery)
    return _atomic_write(out / "summary.md", summary.encode())


# --------------------------------------------------------------------------
# pictures of a set of runs
# --------------------------------------------------------------------------


def _unique_names(keys: Sequence[str], labels: dict[str, str]) -> dict[str, str]:
    """Label per identity key, suffixed with a short hash where labels collide."""
    count: dict[str, int] = {}
    for k in keys:
        count[labels[k]] = count.get(labels[k], 0) + 1
    return {
        k: labels[k] if count[labels[k]] == 1 else f"{labels[k]} #{hashlib.sha256(k.encode()).hexdigest()[:6]}"
        for k in keys
    }


def write_run_pictures(
    out_dir: str | os.PathLike,
    results: Sequence[RunResult],
    by: str = "n",
    *,
    mark_epochs: Sequence[int] = (),
) -> dict[str, str]:
    """Panels per run group and curves per model; returns {name: file name}.

    Runs are grouped by their spec without the seed (named by
    :func:`group_label`, e.g. ``mlp/standard N=312``); each group gets
    ``panel_<slug>.png`` with one row per seed. Trained runs
    (``model == "mlp"``) are further grouped by their spec without seed and
    ``by`` (default ``"n"``); each such family gets ``curves_<slug>.png``
    with one curve group per value of ``by`` (x is ``step`` when every run
    of the family has a step budget, else ``epoch``). Groups whose specs
    differ in fields the label does not show get a short hash suffix.
    """
    from .runs import RunSpec

    fields = {f.name for f in dataclasses.fields(RunSpec)}
    if by not in fields or by == "seed":
        raise ValueError(f"by must be a RunSpec field other than seed, got {by!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, str] = {}
    used: set[str] = set()

    def fname(prefix: str, name: str) -> str:
        base = f"{prefix}_{slug(name)}"
        f, i = f"{base}.png", 2
        while f in used:
            f, i = f"{base}-{i}.png", i + 1
        used.add(f)
        return f

    def order(r: RunResult) -> tuple:
        s = r.spec
        return (s.what(), s.n, s.truth, s.seed)

    results = sorted(results, key=order)
    groups: dict[str, list[RunResult]] = {}
    labels: dict[str, str] = {}
    for r in results:
        k = _without(r.spec, "seed")
        groups.setdefault(k, []).append(r)
        labels[k] = group_label(r.spec)
    for k, name in _unique_names(list(groups), labels).items():
        f = fname("panel", name)
        save_panels_grid(groups[k], out / f)
        pictures[f"panels {name}"] = f

    families: dict[str, dict[Any, list[RunResult]]] = {}
    fam_labels: dict[str, str] = {}
    for r in results:
        if r.spec.model != "mlp":
            continue
        k = _without(r.spec, "seed", by, "epochs", "steps")
        families.setdefault(k, {}).setdefault(getattr(r.spec, by), []).append(r)
        fam_labels[k] = r.spec.what() if by == "n" else f"{r.spec.what()} N={r.spec.n}"
    by_name = "N" if by == "n" else by
    for k, name in _unique_names(list(families), fam_labels).items():
        fam = families[k]
        curve_groups = {
            f"{by_name}={v}": fam[v] for v in sorted(fam, key=lambda v: (v is None, v if v is not None else 0))
        }
        runs = [r for rs in fam.values() for r in rs]
        x = "step" if all(r.spec.steps is not None for r in runs) else "epoch"
        f = fname("curves", name)
        save_curves(curve_groups, out / f, x=x, title=name, mark_epochs=mark_epochs)
        pictures[f"curves {name}"] = f
    return pictures
