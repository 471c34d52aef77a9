"""Claims as functions over run results, returning :class:`Verdict` objects.

A claim is judged per seed on a *window* of late checkpoints (the median of a
metric over the last ``frac`` of training up to ``end_epoch``), never on one
snapshot: single checkpoints of these nets can drop to an all-white output
even late in training. Seeds are then judged by the rule of each
:class:`Check` (median over seeds, plus a bound on every seed).

Every claim is stated against the right alternative: the dot memoriser and a
random-Fourier-feature net for "shape, not dots"; the 1-NN rule (a local
interpolator) for "generalises as well as interpolation".

Pure numpy: no torch, no pytest, no files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .runs import RunResult
from .verdicts import Check, Verdict

__all__ = [
    "window",
    "per_seed",
    "reach_time",
    "late_instability",
    "threshold",
    "compare",
    "no_overfitting",
    "concept_learnt",
    "slower",
    "less_stable",
    "ring_not_points",
    "contiguous",
    "longer_helps",
    "as_good_as_1nn",
    "closes_the_ring",
]

DEFAULT_WINDOW = 0.25


def _subject(results: Sequence[RunResult]) -> str:
    return results[0].spec.what()


def _seeds(results: Sequence[RunResult]) -> list[int]:
    return [r.spec.seed for r in results]


def _keys(*groups: Sequence[RunResult]) -> list[str]:
    return [r.spec.key for g in groups for r in g]


def _diverged_notes(*groups: Sequence[RunResult]) -> list[str]:
    return [
        f"{r.spec.label()} diverged (loss NaN/inf) at epoch {r.diverged_at}: counted as a failed seed"
        for g in groups
        for r in g
        if r.diverged
    ]


def _verdict(
    claim: str | None,
    statement: str,
    subject: Sequence[RunResult],
    checks: list[Check],
    runs: tuple,
    n=None,
    default: str = "",
) -> Verdict:
    """A verdict on ``subject``'s seeds; ``runs``: every group of runs behind the numbers. Without a
    ``claim`` name the verdict is called ``default`` and not named (a test's claim marker then names it)."""
    return Verdict(
        claim=claim or default,
        named=claim is not None,
        statement=statement,
        subject=_subject(subject),
        n=subject[0].spec.n if n is None else n,
        seeds=_seeds(subject),
        checks=checks,
        notes=_diverged_notes(*runs),
        runs=_keys(*runs),
        protocol=subject[0].spec.protocol if subject[0].spec.trained else None,
    )


def window(result: RunResult, metric: str, end_epoch: int | None = None, frac: float = DEFAULT_WINDOW) -> float:
    """Median of ``metric`` over the checkpoints in the last ``frac`` of training up to ``end_epoch``.

    Untrained baselines have one checkpoint, so this is their value. A run that
    diverged before ``end_epoch`` gives NaN (a failed seed).

    Args:
        result: one run.
        metric: a key of ``result.history``.
        end_epoch: where the window ends (default: the run's last checkpoint).
        frac: window length as a share of ``end_epoch``.
    """
    h = result.history
    if metric not in h:
        raise KeyError(f"metric {metric!r} not recorded; have {sorted(h)}")
    epochs = h["epoch"]
    end = int(epochs[-1]) if end_epoch is None else int(end_epoch)
    if result.diverged_at is not None and result.diverged_at <= max(end, 1):
        return math.nan
    sel = (epochs >= end * (1.0 - frac)) & (epochs <= end)
    if not sel.any():
        sel = epochs == epochs[epochs <= end].max() if (epochs <= end).any() else epochs == epochs[0]
    vals = h[metric][sel]
    # a checkpoint where a metric is undefined (e.g. nothing drawn black) is skipped
    return float(np.nanmedian(vals)) if not np.isnan(vals).all() else math.nan


def per_seed(
    results: Sequence[RunResult], metric: str, end_epoch: int | None = None, frac: float = DEFAULT_WINDOW
) -> list[float]:
    return [window(r, metric, end_epoch, frac) for r in results]


def reach_time(
    result: RunResult, metric: str, level: float, x: str = "epoch", run_length: int = 3, end_epoch: int | None = None
) -> float:
    """First epoch (or step) from which ``metric`` stays >= ``level`` for ``run_length`` checkpoints.

    Requiring a short run of checkpoints keeps one lucky spike from counting.
    ``inf`` when never reached by ``end_epoch`` (default: the run's end);
    NaN for a diverged run.
    """
    if result.diverged:
        return math.nan
    h = result.history
    keep = h["epoch"] <= (h["epoch"][-1] if end_epoch is None else end_epoch)
    ok = h[metric][keep] >= level
    xs = h[x][keep]
    for i in range(len(ok) - run_length + 1):
        if ok[i : i + run_length].all():
            return float(xs[i])
    return math.inf


def late_instability(
    result: RunResult, metric: str = "held_out_iou", end_epoch: int | None = None, frac: float = 0.5
) -> float:
    """Mean absolute change of ``metric`` between consecutive late checkpoints.

    Measures how much the net's output jumps around late in training (a net
    that flips to all-white and back scores high). NaN for a diverged run.
    """
    h = result.history
    epochs = h["epoch"]
    end = int(epochs[-1]) if end_epoch is None else int(end_epoch)
    if result.diverged_at is not None and result.diverged_at <= end:
        return math.nan
    sel = (epochs >= end * (1.0 - frac)) & (epochs <= end)
    vals = h[metric][sel]
    if len(vals) < 2:
        return 0.0
    return float(np.mean(np.abs(np.diff(vals))))


# -- generic building blocks (for user-written hypotheses) --------------------


def threshold(
    results: Sequence[RunResult],
    metric: str,
    op: str,
    value: float,
    *,
    claim: str | None = None,
    statement: str = "",
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """``metric`` (late-window median per seed) compared with a fixed bound.

    >>> # threshold(runs, "held_out_iou", ">=", 0.7)
    """
    vals = per_seed(results, metric, end_epoch, frac)
    return _verdict(
        claim,
        statement or f"{metric} {op} {value}",
        results,
        [Check(metric, vals, op, value, note=_window_note(end_epoch, frac))],
        runs=(results,),
        default=f"{metric} {op} {value}",
    )


def _window_note(end_epoch: int | None, frac: float) -> str:
    end = "the end" if end_epoch is None else f"epoch {end_epoch}"
    return f"median over the last {frac:.0%} of checkpoints up to {end}"


def _paired(
    subject: Sequence[RunResult], other: Sequence[RunResult], metric: str, end_epoch, frac, how: str
) -> list[float]:
    # both at the same window: a reference trained longer is read where the subject is (an untrained
    # baseline has one checkpoint, which every window reads)
    a = per_seed(subject, metric, end_epoch, frac)
    b = per_seed(other, metric, end_epoch, frac)
    if _seeds(subject) != _seeds(other):
        raise ValueError(f"paired comparison needs the same seeds, got {_seeds(subject)} and {_seeds(other)}")
    if how == "diff":
        return [x - y for x, y in zip(a, b)]
    return [x / y if y > 0 else (math.inf if x > 0 else 1.0) for x, y in zip(a, b)]


def compare(
    subject: Sequence[RunResult],
    reference: Sequence[RunResult],
    metric: str,
    op: str,
    value: float,
    *,
    how: str = "diff",
    claim: str | None = None,
    statement: str = "",
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """``metric`` of ``subject`` minus (or over, ``how="ratio"``) ``reference``, paired by seed."""
    vals = _paired(subject, reference, metric, end_epoch, frac, how)
    sym = "-" if how == "diff" else "/"
    label = f"{metric} {sym} {_subject(reference)}"
    return _verdict(
        claim,
        statement or f"{_subject(subject)} vs {_subject(reference)} on {metric}",
        subject,
        [Check(label, vals, op, value, note=_window_note(end_epoch, frac))],
        runs=(subject, reference),
        default=f"{label} {op} {value}",
    )


# -- the post's claims ------------------------------------------------------------


def _topology_error(results: Sequence[RunResult], end_epoch, frac) -> list[float]:
    """|pieces - true pieces| + |holes - true holes|, late-window median per seed."""
    out = []
    for r in results:
        comp = window(r, "components", end_epoch, frac)
        holes = window(r, "holes", end_epoch, frac)
        out.append(abs(comp - r.history["true_components"][0]) + abs(holes - r.history["true_holes"][0]))
    return out


def _area_ratios(net: Sequence[RunResult], end_epoch, frac) -> list[float]:
    """Predicted black area over the true black area, late-window median per seed."""
    return [window(r, "black_fraction", end_epoch, frac) / float(r.spec.load_truth().black().mean()) for r in net]


def _on_the_shape(net: Sequence[RunResult], annulus_min: float, area_max: float, end_epoch, frac) -> list[Check]:
    """Black on the (widened) true shape, not off it, and not thicker than it.

    ``annulus_share``: the share of predicted black on the true shape widened
    by 2 % of the image (undefined, so failing, when nothing is black); the
    black area over the true black area. Together they refute an all-black
    or grey picture, a filled disk, a thick annulus, a ring of the wrong size
    or place and a blob off the ring, which coverage alone cannot.
    """
    note = _window_note(end_epoch, frac)
    return [
        Check(
            "black on the true shape (annulus_share)",
            per_seed(net, "annulus_share", end_epoch, frac),
            ">=",
            annulus_min,
            note,
        ),
        Check("black area / true black area, at most", _area_ratios(net, end_epoch, frac), "<=", area_max, note),
    ]


def no_overfitting(
    net: Sequence[RunResult],
    dot: Sequence[RunResult],
    knn: Sequence[RunResult],
    *,
    iou_min: float,
    above_dot: float,
    knn_tolerance: float,
    annulus_min: float,
    area_max: float,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claim 1: with many points the net draws the ring instead of overfitting.

    Checks: held-out IoU, the truth's topology (pieces and holes), black on
    the true shape and not thicker than it, far above the dot memoriser and
    at least level (within ``knn_tolerance``) with 1-NN on the same points.
    """
    return _verdict(
        "no-overfitting",
        "the net draws the true shape: high held-out IoU, its topology, above the dot memoriser, level with 1-NN",
        net,
        [
            Check(
                "held_out_iou",
                per_seed(net, "held_out_iou", end_epoch, frac),
                ">=",
                iou_min,
                _window_note(end_epoch, frac),
            ),
            Check("topology_error", _topology_error(net, end_epoch, frac), "<=", 0, "|pieces-true| + |holes-true|"),
            Check(
                "held_out_iou - dot",
                _paired(net, dot, "held_out_iou", end_epoch, frac, "diff"),
                ">=",
                above_dot,
                "paired by seed",
            ),
            Check(
                "held_out_iou - 1-nn",
                _paired(net, knn, "held_out_iou", end_epoch, frac, "diff"),
                ">=",
                -knn_tolerance,
                "paired by seed",
            ),
            *_on_the_shape(net, annulus_min, area_max, end_epoch, frac),
        ],
        runs=(net, dot, knn),
    )


def concept_learnt(
    net: Sequence[RunResult],
    *,
    iou_min: float,
    coverage_min: float,
    contrast_min: float,
    annulus_min: float,
    area_max: float,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claim 2: the concept (the whole ring) is learnt.

    Checks held-out IoU, the truth's topology (a closed ring: one piece, one
    hole), angular coverage of the true shape (all the way around), the
    threshold-free contrast (which sees a dark-grey ring a 0.5 threshold
    misses), and black on the true shape, not off it or thicker than it (so
    coverage cannot be bought by painting everything black).
    """
    note = _window_note(end_epoch, frac)
    return _verdict(
        "concept-learnt",
        "the net learns the whole shape: IoU, coverage of the true shape, contrast between shape and surroundings",
        net,
        [
            Check("held_out_iou", per_seed(net, "held_out_iou", end_epoch, frac), ">=", iou_min, note),
            Check("angular_coverage", per_seed(net, "angular_coverage", end_epoch, frac), ">=", coverage_min, note),
            Check("contrast", per_seed(net, "contrast", end_epoch, frac), ">=", contrast_min, note),
            Check("topology_error", _topology_error(net, end_epoch, frac), "<=", 0, "|pieces-true| + |holes-true|"),
            *_on_the_shape(net, annulus_min, area_max, end_epoch, frac),
        ],
        runs=(net,),
    )


def _median(vals: Sequence[float]) -> float:
    arr = np.asarray(vals, dtype=float)
    arr = np.where(np.isnan(arr), np.inf, arr)  # diverged: never reached
    return float(np.median(arr))


def slower(
    runs_by_n: Mapping[int, Sequence[RunResult]],
    *,
    level: float,
    x: str = "epoch",
    min_ratio: float = 2.0,
    gap: int = 4,
    end_epoch: int | None = None,
) -> Verdict:
    """Claim: less data learns slower.

    Per N, the epochs (or optimizer steps, ``x="step"``) until the held-out IoU
    first stays above ``level``. Checks: every N needs at least as long as the
    sizes ``gap`` times larger (median over seeds, never-reached = inf), and the
    smallest N needs at least ``min_ratio`` times as long as the largest.
    Every N is censored at the same ``end_epoch``, so a longer budget for small
    N cannot make it look faster.
    """
    sizes = sorted(runs_by_n, reverse=True)
    times = {n: [reach_time(r, "held_out_iou", level, x, end_epoch=end_epoch) for r in runs_by_n[n]] for n in sizes}
    checks = []
    for big in sizes:
        # compare sizes a factor >= `gap` apart: neighbours (2x) are within seed noise
        small = next((n for n in sizes if n * gap <= big), None)
        if small is None:
            continue
        ref = _median(times[big])
        checks.append(Check(f"{x}s to IoU>={level} at N={small}", times[small], ">=", ref, f"vs median at N={big}"))
    largest = _median(times[sizes[0]])

    def ratio(t: float) -> float:
        if math.isinf(largest):
            return 1.0 if math.isinf(t) else 0.0  # both never reached: no evidence either way
        if largest == 0:
            return math.inf if t > 0 else 1.0
        return t / largest

    checks.append(
        Check(
            f"{x}s N={sizes[-1]} / N={sizes[0]}",
            [ratio(t) for t in times[sizes[-1]]],
            ">=",
            min_ratio,
            "the extremes, per seed over the median at the largest N",
        )
    )
    subj = next(iter(runs_by_n.values()))
    return _verdict(
        "slower",
        f"less data needs more {x}s to reach held-out IoU {level}",
        subj,
        checks,
        runs=tuple(runs_by_n.values()),
        n=f"{sizes[0]}..{sizes[-1]}",
    )


def less_stable(
    runs_by_n: Mapping[int, Sequence[RunResult]],
    *,
    small: Sequence[int],
    factor: float,
    floor: float,
    end_epoch: int | None = None,
    frac: float = 0.5,
) -> Verdict:
    """Claim: less data trains less stably.

    Late-training instability (mean |change| of held-out IoU between
    consecutive checkpoints) at each small N must exceed ``factor`` times that
    at the largest N and an absolute ``floor`` (a model that never changes,
    like a memoriser, is not "unstable").
    """
    sizes = sorted(runs_by_n, reverse=True)
    inst = {n: [late_instability(r, "held_out_iou", end_epoch, frac) for r in runs_by_n[n]] for n in sizes}
    ref = float(np.nanmedian(inst[sizes[0]])) if not np.isnan(inst[sizes[0]]).all() else math.nan
    checks = [
        Check(
            f"IoU instability N={n}",
            inst[n],
            ">=",
            max(factor * ref, floor),
            f"{factor} x N={sizes[0]} ({ref:.3g}), at least {floor}",
        )
        for n in small
    ]
    subj = runs_by_n[sizes[0]]
    return _verdict(
        "less-stable",
        "less data makes late training less stable (IoU jumps between checkpoints)",
        subj,
        checks,
        runs=tuple(runs_by_n.values()),
        n=f"{sizes[0]}..{min(small)}",
    )


def ring_not_points(
    net: Sequence[RunResult],
    memorisers: Mapping[str, Sequence[RunResult]],
    rules: Mapping[str, Any],
    *,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claims 3/4: with few points the net is drawn to a ring-like shape, not to the points.

    Against each point-fitting model (dot memoriser, Fourier-feature net) on
    the same points, paired by seed, by the rules given for it: each rule is
    ``(metric, how, op, bound)`` with ``how`` ``"ratio"`` (net / model) or
    ``"diff"`` (net - model), e.g. ``("components", "ratio", "<=", 0.5)``: the
    net draws at most half as many pieces. ``rules`` also holds
    ``annulus_min`` and ``area_max``: its black lies on the true
    shape and is not thicker than it (:func:`_on_the_shape`), so a disk, a
    thick annulus or a square frame is not "ring-like".
    """
    checks = _on_the_shape(net, rules["annulus_min"], rules["area_max"], end_epoch, frac)
    for name, other in memorisers.items():
        for metric, how, op, bound in rules[name]:
            sym = "/" if how == "ratio" else "-"
            checks.append(
                Check(
                    f"{metric} {sym} {name}",
                    _paired(net, other, metric, end_epoch, frac, how),
                    op,
                    bound,
                    "paired by seed",
                )
            )
    return _verdict(
        "ring-not-points",
        "the net draws a ring-like shape (fewer pieces, contrast and coverage along the ring) rather than the points",
        net,
        checks,
        runs=(net, *memorisers.values()),
    )


def contiguous(
    net: Sequence[RunResult],
    *,
    max_pieces_per_point: float,
    min_area_ratio: float,
    annulus_min: float,
    area_max: float,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claim 5: predicted black forms far fewer pieces than there are black training points.

    The net must also draw a real area (at least ``min_area_ratio`` of the true
    black area: an all-white output has no pieces but is no contiguous shape),
    on the true shape and not thicker than it (a black or grey picture, a disk
    or a blob off the ring is one piece, but not the net's bias to the shape).
    """
    ratios = []
    for r in net:
        n_black = int((r.spec.load_truth().pixels.reshape(-1)[r.train_indices] < 0.5).sum())
        ratios.append(window(r, "components", end_epoch, frac) / max(n_black, 1))
    return _verdict(
        "contiguous",
        "predicted black forms far fewer pieces than there are black training points",
        net,
        [
            Check("pieces per black training point", ratios, "<=", max_pieces_per_point, _window_note(end_epoch, frac)),
            Check(
                "black area / true black area",
                _area_ratios(net, end_epoch, frac),
                ">=",
                min_area_ratio,
                _window_note(end_epoch, frac),
            ),
            *_on_the_shape(net, annulus_min, area_max, end_epoch, frac),
        ],
        runs=(net,),
    )


def longer_helps(
    net: Sequence[RunResult],
    *,
    short_epoch: int,
    long_epoch: int,
    min_gain: float,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claim 6: more epochs raise the small-N held-out IoU.

    Per seed, the late-window IoU at ``long_epoch`` minus that at
    ``short_epoch`` of the same run (a run's first epochs do not depend on its
    total budget, so the shorter run is a prefix of the longer one).
    """
    gains = [window(r, "held_out_iou", long_epoch, frac) - window(r, "held_out_iou", short_epoch, frac) for r in net]
    return _verdict(
        "longer-helps",
        f"training {long_epoch} instead of {short_epoch} epochs raises held-out IoU",
        net,
        [
            Check(
                f"IoU@{long_epoch} - IoU@{short_epoch}",
                gains,
                ">=",
                min_gain,
                f"late-window medians, {frac:.0%} windows",
            )
        ],
        runs=(net,),
    )


def catches_up(
    sparse: Sequence[RunResult],
    dense: Sequence[RunResult],
    *,
    short_epoch: int,
    long_epoch: int,
    tolerance: float,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Claim 6, the post's question: does sparse data catch up with longer training?

    Per seed, the sparse net's late-window held-out IoU at ``long_epoch``
    minus the dense net's at the post's budget ``short_epoch`` (paired by
    seed); catching up is reaching it within ``tolerance``. Gaining from the
    longer budget (:func:`longer_helps`) is not catching up.
    """
    if _seeds(sparse) != _seeds(dense):
        raise ValueError(f"paired comparison needs the same seeds, got {_seeds(sparse)} and {_seeds(dense)}")
    gaps = [
        window(s, "held_out_iou", long_epoch, frac) - window(d, "held_out_iou", short_epoch, frac)
        for s, d in zip(sparse, dense)
    ]
    n_dense = dense[0].spec.n
    return _verdict(
        "catches-up",
        f"after {long_epoch} epochs the sparse net draws the ring as well as the net with {n_dense} points "
        f"does after {short_epoch}",
        sparse,
        [
            Check(
                f"IoU@{long_epoch} - IoU(N={n_dense})@{short_epoch}",
                gaps,
                ">=",
                -tolerance,
                f"late-window medians, {frac:.0%} windows, paired by seed",
            )
        ],
        runs=(sparse, dense),
    )


def as_good_as_1nn(
    net: Sequence[RunResult],
    knn: Sequence[RunResult],
    *,
    tolerance: float,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """The net's held-out IoU is at least the 1-NN rule's, minus ``tolerance`` (paired by seed)."""
    return _verdict(
        "as-good-as-1nn",
        "the net generalises at least as well as the 1-NN local interpolator on the same points",
        net,
        [
            Check(
                "held_out_iou - 1-nn",
                _paired(net, knn, "held_out_iou", end_epoch, frac, "diff"),
                ">=",
                -tolerance,
                "paired by seed",
            )
        ],
        runs=(net, knn),
    )


def closes_the_ring(
    net: Sequence[RunResult],
    knn: Sequence[RunResult],
    *,
    coverage_min: float,
    contrast_min: float,
    above_knn: float,
    end_epoch: int | None = None,
    frac: float = DEFAULT_WINDOW,
) -> Verdict:
    """Ring completion: the net draws the ring across a wedge of the image it saw no point in.

    The runs were trained on points drawn outside a wedge (``RunSpec.wedge``).
    Inside the wedge, per seed: the share of the ring's angles drawn black
    (``wedge_coverage``), the threshold-free contrast there (``wedge_contrast``:
    painting the wedge black does not count), and the coverage minus that of
    the 1-NN rule on the same points (paired by seed), which only copies the
    nearest points. "Drawn to the shape, not to the points" is decided here,
    where the points cannot draw it.
    """
    note = _window_note(end_epoch, frac)
    return _verdict(
        "closes-the-ring",
        "inside a wedge with no training points the net draws the ring, more of it than 1-NN",
        net,
        [
            Check("wedge_coverage", per_seed(net, "wedge_coverage", end_epoch, frac), ">=", coverage_min, note),
            Check("wedge_contrast", per_seed(net, "wedge_contrast", end_epoch, frac), ">=", contrast_min, note),
            Check(
                "wedge_coverage - 1-nn",
                _paired(net, knn, "wedge_coverage", end_epoch, frac, "diff"),
                ">=",
                above_knn,
                "paired by seed",
            ),
        ],
        runs=(net, knn),
    )
