"""Claim frontiers as a table, a JSON file and a figure (shared by ``genprobe frontier`` and
``benchmarks/studies/frontier_study.py``).

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

from .frontier import NONE, Frontier, TrainingMap, no_frontier
from .jsonio import atomic_write, to_json_safe
from .text import table

__all__ = [
    "Row",
    "settle",
    "format_table",
    "markdown_table",
    "save_json",
    "save_figure",
    "first_half",
    "save_map_figure",
    "SessionFrontiers",
    "session_frontiers",
    "frontier_thumbnail",
]

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


NEITHER = "neither the net nor the 1-NN rule"


def settle(rows: Sequence[Row]) -> list[Row]:
    """``rows`` with no frontier where the claim is no frontier question: where neither the net nor the 1-NN
    rule holds it on any seed at the largest size measured (at any size, or there only), every row of that
    claim says so (``kind`` ``none``) instead of a fitted N*, ``never`` or a falling share's own reason.
    Rows of a claim asked of only one of the two are left as they are. Idempotent: the tables, the JSON and
    the figure settle their rows.
    """
    rows = list(rows)
    out = []
    for r in rows:
        pair = [q for q in rows if q.claim == r.claim and q.model in ("net", "knn")]
        f = r.frontier
        settled = f.kind == NONE and f.reason.startswith(NEITHER)
        if len(pair) == 2 and not settled and all(q.frontier.shares[-1].k == 0 for q in pair):
            last = max(q.frontier.sizes[-1] for q in pair)
            nowhere = all(s.k == 0 for q in pair for s in q.frontier.shares)
            where = "at any size measured" if nowhere else f"at N = {last}, the most data measured"
            f = no_frontier(
                f,
                f"{NEITHER} holds {r.claim} on any seed {where}: where it stops holding "
                "as data shrink is not the question there",
            )
        out.append(r if f is r.frontier else Row(r.claim, r.model, f, r.seeds, r.note))
    return out


def format_table(rows: Sequence[Row]) -> str:
    """Per row: the seeds holding at each N (share and 95 % interval), then the frontier."""
    rows = settle(rows)
    cells = []
    for r in rows:
        f = r.frontier
        shares = "  ".join(f"N={s.n}: {s.k}/{s.seeds} [{s.low:.2f}..{s.high:.2f}]" for s in f.shares)
        cells.append([r.claim, LABELS.get(r.model, r.model), shares])
        cells.append(["", "", f.text() + (f"; {r.note}" if r.note else "")])
    lines = table(None, cells).split("\n")
    return "\n".join(lines)


def save_json(path: Path, rows: Sequence[Row], **meta: Any) -> None:
    payload = {**meta, "rows": [r.to_dict() for r in settle(rows)]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(Path(path), (json.dumps(to_json_safe(payload), indent=1, allow_nan=False) + "\n").encode())


def save_figure(path: Path, rows: Sequence[Row], title: str = "") -> None:
    """One panel per claim: share of seeds holding against N (log scale), a 95 % band per model, the
    fitted logistic curve, and N* with its interval where the share crosses 1/2."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = settle(rows)
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
            if f.kind == "crosses" and f.n_star is not None:  # N* and its exact interval (open ends to the grid's)
                lo = ns.min() if f.low is None else f.low
                hi = ns.max() if f.high is None else f.high
                err = [[max(f.n_star - lo, 0.0)], [max(hi - f.n_star, 0.0)]]
                ax.errorbar([f.n_star], [0.5], xerr=err, fmt="|", color=colour, ms=12)
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


def first_half(m: TrainingMap, values: np.ndarray | None = None) -> list[float | None]:
    """Per size of ``m``: the first window end (epoch) at which at least half of the seeds hold and
    keep holding at every later one trained (the iso-line of share 1/2), or None where it never does."""
    values = m.share if values is None else values
    out: list[float | None] = []
    for row in values:
        trained = ~np.isnan(row)
        ok = (row >= 0.5) & trained
        first = None
        for j in range(len(row)):
            if ok[j] and ok[j:][trained[j:]].all():
                first = float(m.epochs[j])
                break
        out.append(first)
    return out


def save_map_figure(path: Path, maps: Sequence[TrainingMap], title: str = "") -> None:
    """The data-versus-training map: rows are the median held-out IoU (from the first map) and the
    share of seeds holding each map's claim; columns per epoch and per optimizer step. Each size is
    a band of cells (N on a log axis); white cells were not trained that long. The black line marks,
    per size, the first window end from which at least half of the seeds hold (:func:`first_half`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [("median held-out IoU", maps[0], maps[0].median_iou)] + [
        (f"share of seeds holding {m.claim}", m, m.share) for m in maps
    ]
    fig = Figure(figsize=(11, 3.3 * len(panels)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 2, squeeze=False)
    for (label, m, values), row in zip(panels, axes):
        ys = np.log(np.asarray(m.sizes, dtype=float))
        order = np.argsort(ys)
        mid = (ys[order][1:] + ys[order][:-1]) / 2
        lo_edges = np.concatenate([[ys[order][0] - (mid[0] - ys[order][0] if len(mid) else 0.35)], mid])
        hi_edges = np.concatenate([mid, [ys[order][-1] + (ys[order][-1] - mid[-1] if len(mid) else 0.35)]])
        ep = np.asarray(m.epochs, dtype=float)
        e_edges = np.concatenate(
            [
                [ep[0] - (ep[1] - ep[0] if len(ep) > 1 else ep[0]) / 2],
                (ep[1:] + ep[:-1]) / 2,
                [ep[-1] + (ep[-1] - ep[-2] if len(ep) > 1 else ep[0]) / 2],
            ]
        )
        e_edges = np.maximum(e_edges, ep[0] / 2)
        line = first_half(m, values) if values is not m.median_iou else [None] * len(m.sizes)
        for ax, per_step in zip(row, (False, True)):
            mesh = None
            for rank, i in enumerate(order):
                scale = m.steps_per_epoch[i] if per_step else 1.0
                cells = np.ma.masked_invalid(values[i : i + 1])
                mesh = ax.pcolormesh(
                    e_edges * scale, np.exp([lo_edges[rank], hi_edges[rank]]), cells, vmin=0, vmax=1, cmap="viridis"
                )
            pts = [(x * (m.steps_per_epoch[i] if per_step else 1.0), m.sizes[i]) for i, x in enumerate(line) if x]
            if pts:
                pts.sort(key=lambda p: p[1])
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="black", ms=3, lw=1)
            ax.set_yscale("log")
            ax.set_yticks(sorted(m.sizes), [str(n) for n in sorted(m.sizes)], fontsize=7)
            ax.minorticks_off()
            if per_step:
                ax.set_xscale("log")
            ax.set_xlabel("optimizer steps" if per_step else "epochs (end of the claim's window)")
            ax.set_ylabel("training points N")
            ax.set_title(label, fontsize=9)
            if mesh is not None:
                fig.colorbar(mesh, ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(path), dpi=100)


def markdown_table(rows: Sequence[Row]) -> list[str]:
    """Markdown lines: per row, the seeds holding at each size of the rows' grid, then the frontier."""
    rows = settle(rows)
    sizes = sorted({s.n for r in rows for s in r.frontier.shares})
    lines = ["| claim | model | " + " | ".join(map(str, sizes)) + " | frontier (95 % interval) |"]
    lines.append("|---|---|" + "---|" * len(sizes) + "---|")
    for r in rows:
        k = {s.n: f"{s.k}/{s.seeds}" for s in r.frontier.shares}
        cells = " | ".join(k.get(n, "-") for n in sizes)
        lines.append(f"| {r.claim} | {LABELS.get(r.model, r.model)} | {cells} | {r.frontier.text()} |")
    return lines


#: the shape claims a session's report draws frontiers of, and those it also maps over training
SESSION_CLAIMS = ("no-overfitting", "concept-learnt", "ring-not-points", "contiguous")
MAP_CLAIMS = ("concept-learnt", "ring-not-points")


@dataclass(frozen=True)
class SessionFrontiers:
    """The frontiers and maps a session's runs allow (:func:`session_frontiers`)."""

    rows: tuple[Row, ...]
    maps: tuple[TrainingMap, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "maps": [m.to_dict() for m in self.maps]}


def session_frontiers(
    profile: Any,
    results: Sequence[Any],
    bootstrap: int = 200,
    claims: Sequence[str] = SESSION_CLAIMS,
    maps: bool = True,
) -> SessionFrontiers | None:
    """Frontiers of the shape claims over the profile's sizes, for the net (standard protocol), 1-NN and the
    dot memoriser, from runs a session already holds (no training), and the data-versus-training maps of
    concept-learnt and ring-not-points. Each claim and model uses the seeds that have every run it reads
    at every size (at least 3 seeds and 2 sizes, or that row is left out); None when nothing can be drawn."""
    from .frontier import claim_holds, claim_reads, frontier_of, training_map
    from .probe import RunsFrom
    from .shapes import SHAPE_CLAIMS

    by_spec = {r.spec: r for r in results}

    rows: list[Row] = []
    drawn: list[TrainingMap] = []
    candidates = sorted({r.spec.seed for r in results})
    epochs = tuple(range(profile.epochs // 20, profile.long_epochs + 1, profile.epochs // 20))
    for claim in claims:
        stated = SHAPE_CLAIMS[claim][0]
        sizes = stated if claim == "ring-not-points" else tuple(profile.sizes)
        if len(sizes) < 2:
            continue
        for model in ("net", "knn", "dot"):  # each on the seeds that have every run it reads at every size
            seeds = [
                s
                for s in candidates
                if all(x in by_spec for n in sizes for x in claim_reads(claim, model, profile, n, s))
            ]
            if len(seeds) < 3:
                continue
            probe = RunsFrom(profile, seeds, by_spec)
            holds = claim_holds(claim, probe, sizes, model=model)
            rows.append(Row(claim, model, frontier_of(holds, seeds, bootstrap=bootstrap), tuple(seeds)))
            if maps and model == "net" and claim in MAP_CLAIMS:
                drawn.append(training_map(claim, probe, sizes, epochs))
    if not rows:
        return None
    return SessionFrontiers(tuple(settle(rows)), tuple(drawn))


def frontier_thumbnail(profile: Any, claim: str, results: Sequence[Any], width: int = 384) -> bytes | None:
    """A JPEG (at most ``width`` px wide) of ``claim``'s share of seeds holding against N for the net, 1-NN
    and the dot memoriser, from ``results`` (a frontier test's runs: pytest-html's row); None when they
    cannot draw it."""
    import io
    import tempfile

    from PIL import Image

    found = session_frontiers(profile, results, bootstrap=100, claims=(claim,), maps=False)
    if found is None:
        return None
    with tempfile.TemporaryDirectory(prefix="genprobe-frontier-") as tmp:
        path = Path(tmp) / "f.png"
        save_figure(path, found.rows, title=f"{claim}: share of seeds holding against N")
        with Image.open(path) as opened:
            rgb = opened.convert("RGB")
        rgb.thumbnail((width, width * 10))
        buf = io.BytesIO()
        rgb.save(buf, format="JPEG", quality=85)
    return buf.getvalue()
