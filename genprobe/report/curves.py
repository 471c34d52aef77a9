"""Metrics along training, median over seeds with a min..max band (matplotlib, Agg canvas only).

matplotlib is imported inside :func:`save_curves` only, and only
``matplotlib.figure.Figure`` with an explicit ``FigureCanvasAgg`` is used, so
pyplot's global state and the user's backend are never touched.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..jsonio import atomic_write as _atomic_write
from ..metrics.registry import title as metric_title

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunResult

__all__ = ["save_curves"]


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


def _panel(ax, groups: Mapping[str, Sequence[RunResult]], colours, metric: str, x: str, mark_epochs) -> None:
    """One metric's subplot: each group's median over seeds and its min..max band, and the marked epochs."""
    drawn = False
    for (label, runs), colour in zip(groups.items(), colours):
        series = _series(runs, x, metric)
        if series is None:
            continue
        xs, ys = series
        med, lo, hi = np.nanmedian(ys, axis=0), np.nanmin(ys, axis=0), np.nanmax(ys, axis=0)
        marker = "o" if xs.size == 1 else None
        seeds = f"{ys.shape[0]} seed{'s' if ys.shape[0] != 1 else ''}"
        ax.plot(xs, med, color=colour, label=f"{label} ({seeds})", marker=marker, lw=1.5)
        if ys.shape[0] > 1:
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, lw=0)
        drawn = True
    for e in mark_epochs:
        if x == "epoch":
            ax.axvline(e, ls="--", color="0.4", lw=1)
        else:  # at each group's own step of that epoch, capped at its budget
            for runs, colour in zip(groups.values(), colours):
                sp = runs[0].spec
                at = min(e * sp.steps_per_epoch, max(sp.total_steps, 1))
                ax.axvline(at, ls="--", color=colour, lw=1, alpha=0.7)
    if metric == "components":
        ax.set_yscale("symlog", linthresh=1.0)
        if drawn:
            ax.set_ylim(bottom=0)
    ax.set_title(metric_title(metric), fontsize=10)
    ax.set_xlabel(x)
    ax.grid(alpha=0.3)
    if not drawn:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")


def _legend(axes) -> None:
    """One legend, on the first subplot, from the first subplot that drew something."""
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles:
        for ax in axes:
            handles, labels = ax.get_legend_handles_labels()
            if handles:
                break
    if handles:
        axes[0].legend(handles, labels, fontsize=8, loc="best")


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
            _panel(ax, groups, colours, metric, x, mark_epochs)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        _legend(axes)
        if title:
            fig.suptitle(title)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
    fig.clear()
    return _atomic_write(Path(path), buf.getvalue())
