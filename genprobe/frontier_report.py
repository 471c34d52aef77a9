"""Claim frontiers as a table, a JSON file and a figure (shared by ``genprobe frontier`` and
``benchmarks/frontier_study.py``).

The numbers come from :mod:`genprobe.frontier`; this module only lays them out. matplotlib is imported
inside :func:`save_figure` only, with a ``Figure`` and an explicit Agg canvas (no pyplot state).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .frontier import Frontier
from .jsonio import atomic_write, to_json_safe

__all__ = ["Row", "format_table", "save_json", "save_figure"]

COLOURS = {"net": "tab:blue", "knn": "tab:orange", "dot": "tab:green"}
LABELS = {"net": "net", "knn": "1-NN rule", "dot": "dot memoriser"}


@dataclass(frozen=True)
class Row:
    """One claim asked of one model over a grid of sizes."""

    claim: str
    model: str
    frontier: Frontier
    seeds: tuple[int, ...]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "model": self.model,
            "seeds": list(self.seeds),
            "note": self.note,
            **self.frontier.to_dict(),
        }


def format_table(rows: Sequence[Row]) -> str:
    """Per row: the seeds holding at each N (share and 95 % interval), then the frontier."""
    lines = []
    for r in rows:
        f = r.frontier
        cells = "  ".join(f"N={s.n}: {s.k}/{s.seeds} [{s.low:.2f}..{s.high:.2f}]" for s in f.shares)
        lines.append(f"{r.claim:16s} {LABELS.get(r.model, r.model):14s} {cells}")
        lines.append(f"{'':16s} {'':14s} {f.text()}" + (f"; {r.note}" if r.note else ""))
    return "\n".join(lines)


def save_json(path: Path, rows: Sequence[Row], **meta: Any) -> None:
    payload = {**meta, "rows": [r.to_dict() for r in rows]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), (json.dumps(to_json_safe(payload), indent=1, allow_nan=False) + "\n").encode())


def save_figure(path: Path, rows: Sequence[Row], title: str = "") -> None:
    """One panel per claim: share of seeds holding against N (log scale), a 95 % band per model, the
    fitted logistic curve, and N* with its interval where the share crosses 1/2."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    claims = list(dict.fromkeys(r.claim for r in rows))
    cols = min(3, len(claims))
    nrows = -(-len(claims) // cols)
    fig = Figure(figsize=(4.6 * cols, 3.6 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    for ax, claim in zip(axes, claims):
        for r in (r for r in rows if r.claim == claim):
            f, colour = r.frontier, COLOURS.get(r.model, "tab:grey")
            ns = np.array([s.n for s in f.shares], dtype=float)
            ax.fill_between(ns, [s.low for s in f.shares], [s.high for s in f.shares], color=colour, alpha=0.15)
            ax.plot(ns, [s.share for s in f.shares], "o", color=colour, label=f"{LABELS.get(r.model, r.model)}")
            grid = np.geomspace(ns.min(), ns.max(), 100)
            ax.plot(grid, f.fitted(grid), "-", color=colour, lw=1)
            if f.n_star is not None:
                lo = ns.min() if f.low is None else f.low
                hi = ns.max() if f.high is None else f.high
                ax.errorbar([f.n_star], [0.5], xerr=[[f.n_star - lo], [hi - f.n_star]], fmt="|", color=colour, ms=12)
        ax.axhline(0.5, color="black", lw=0.6, ls=":")
        ax.set_xscale("log")
        sizes = sorted({s.n for r in rows if r.claim == claim for s in r.frontier.shares})
        ax.set_xticks(sizes, [str(n) for n in sizes], fontsize=8)
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(claim, fontsize=10)
        ax.set_xlabel("training points N")
        ax.set_ylabel("share of seeds holding")
        ax.legend(fontsize=7, loc="best")
    for ax in axes[len(claims) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=9)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(path), dpi=110)
