"""How the committed evidence decides what each claim test is expected to do: the calibration policy.

A profile's evidence is a few sets of exported runs on disjoint seeds (:class:`Layout`): calibration,
where its thresholds were set, and confirmation sets that nothing was tuned on. Every claim and control
test of the suite is called on each set with a stand-in for the ``probe`` fixture
(:class:`StandIn`) whose ``check`` replays the suite's exact sequential sign test under each plan the
test may gate with (:func:`judge`). A claim is expected ``holds`` or ``refuted`` only where every
confirmation set decides it so and where, estimated from each set alone at the pessimistic end of a
one-sided Jeffreys interval for each bound's chance, new seeds would decide it so at least
:data:`GATE_RELIABILITY` of the time (:func:`reliability`, :func:`expectations`); otherwise it is
reported, with the share of seeds meeting its limiting bound (:func:`limiting`). Two CPU steps are
compared as two instruments measuring one experiment (:func:`step_agreement`).

``benchmarks/studies/threshold_evidence.py`` binds this to the repository (which files, which test modules) and
writes ``genprobe/evidence/<profile>.json`` and the evidence pages (docs/evidence/) from it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics
from .jsonio import from_json_safe, picture_from_text
from .probe import RunsFrom
from .profiles import Profile, get_profile
from .runs import RunResult, RunSpec
from .sampling import sample_training_set
from .stats import jeffreys_interval, jeffreys_quantile
from .verdicts import Verdict, decide_over_seeds

__all__ = [
    "GATE_RELIABILITY",
    "Layout",
    "Outcome",
    "Row",
    "StandIn",
    "cases",
    "expectations",
    "judge",
    "limiting",
    "load_export",
    "margins",
    "reliability",
    "seeds_needed",
    "share_interval",
    "step_agreement",
    "summary",
]

# A gate is kept only where new seeds would decide it the expected way this
# often, estimated from each confirmation set on its own.
GATE_RELIABILITY = 0.95
Q_CONFIDENCE = 0.95  # how sure we want to be of each check's chance q on new seeds (reliability)
# The largest plan a report test is costed at (seeds a gate would need), and the family-wise error of the
# step comparison (Holm over every check compared).
MAX_PLAN_SEEDS, STEP_ALPHA = 60, 0.05


@dataclass(frozen=True)
class Layout:
    """A profile's committed evidence: its sets of run exports and how they are used.

    ``sets``: name -> (files, role, what it is); a set's files hold disjoint
    seeds, and the sets' seeds are disjoint. A claim is expected ``holds`` or
    ``refuted`` only where every ``confirmation`` set decides it so, reliably
    on each alone. ``plan_tops``: the plans (most seeds in all) a claim test
    may gate with, the profile's default first; a claim that only a longer
    plan decides reliably gates with the shortest such plan (its extra looks
    cost training only where the first looks leave it undecided), and the
    confirmation sets replay each plan's looks as far as their seeds go (each
    at that plan's levels). ``step_pair``: the same seeds trained with both
    CPU steps (the paired half of the step comparison), where there are any.
    ``steps``: the two sets of independent seeds, one per CPU step, that the
    step comparison reads (default: the confirmation sets, where there are two).
    """

    profile: str
    sets: dict[str, tuple[tuple[str, ...], str, str]]
    confirmation: tuple[str, ...]
    plan_tops: tuple[int, ...]
    readme: tuple[str, str]  # the evidence page's verdict-table markers
    margins: tuple[str, str]  # the evidence page's margins markers
    step_pair: tuple[str, str] | None = None
    steps: tuple[str, ...] = ()

    @property
    def confirmation_sets(self) -> str:
        """How the text names the confirmation sets ("both confirmation sets", "the confirmation set")."""
        return {1: "the confirmation set", 2: "both confirmation sets"}.get(
            len(self.confirmation), f"all {len(self.confirmation)} confirmation sets"
        )


def read_export(path: str | Path) -> dict[str, Any]:
    """An export as written (``genprobe sweep --export``): its runs as records and, where it has one, its
    registration stamp (gzipped for .gz)."""
    path = Path(path)
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)


def load_export(path: str | Path) -> dict[RunSpec, RunResult]:
    """Run results (histories and final metrics) from an export. An export with pictures
    (``genprobe sweep --export-pictures``) gives each run its final picture, and a metric registered
    since (``genprobe.metrics.register``) its final value from that picture (``metrics.complete``)."""
    data = read_export(path)
    out = {}
    for r in data["runs"]:
        spec = RunSpec.from_dict(r["spec"])
        history = {k: np.array([from_json_safe(x) for x in v], dtype=float) for k, v in r["history"].items()}
        indices = sample_training_set(spec.load_truth(), spec.n, spec.seed, wedge=spec.wedge).indices
        out[spec] = metrics.complete(
            RunResult(
                spec=spec,
                history=history,
                final={k: from_json_safe(v) for k, v in r["final"].items()},
                prediction=picture_from_text(r["picture"]) if "picture" in r else np.zeros((1, 1), np.float32),
                boundaries=None,
                train_indices=indices,
                diverged_at=r["diverged_at"],
                meta=r.get("meta", {}),
            )
        )
    return out


@dataclass
class Outcome:
    """One ``check`` call of one test case on one evidence set."""

    verdict: Verdict  # as the suite decides it: first 5 seeds, then more while undecided (the default plan)
    expect: str | None  # what the test passed (None: the profile's evidence decides)
    full: Verdict | None = None  # every check on all the set's seeds (for how often each bound is met)
    by_top: dict[int, Verdict] = field(default_factory=dict)  # the verdict under a plan of up to this many seeds


class StandIn(RunsFrom):
    """The ``probe`` fixture over exported runs (a :class:`~genprobe.probe.RunsFrom`), with the
    plugin's own sequential check, replayed under every plan of ``tops`` (most seeds in all; default: the
    profile's ``max_seeds``) on the set's seeds ``seeds``, the first ``first`` of them the start."""

    def __init__(
        self,
        runs: Mapping[RunSpec, RunResult],
        profile: Profile,
        seeds: Sequence[int],
        first: int,
        tops: tuple[int, ...] = (),
    ):
        super().__init__(profile, seeds, runs)
        self._all, self._first = tuple(seeds), first
        self.tops = tops or (profile.max_seeds,)
        self.outcomes: list[Outcome] = []

    def on(self, seeds: Sequence[int]) -> StandIn:
        probe = StandIn(self._found, self.profile, seeds, self._first, self.tops)
        probe.outcomes = self.outcomes
        return probe

    def check(
        self,
        verdict: Verdict | Callable[[Any], Verdict],
        expect: str | None = None,
        refuted_by: str | Sequence[str] = (),
    ) -> Verdict:
        start = self._all[: self._first]
        # the evidence decides what a test is expected to do, so every test gets every look here
        by_top = {}
        tops = self.tops
        for top in tops if expect is None and callable(verdict) else tops[:1]:
            counts = [len(s) for s in self.profile.plan(start, top)]
            plan = _plan(start, self._all, self.profile, top)
            by_top[top] = decide_over_seeds(
                verdict, self, plan, self.profile.alpha, counts=counts, refuted_by=refuted_by
            )
        full = (
            decide_over_seeds(verdict, self, [self._all], self.profile.alpha, refuted_by=refuted_by)
            if callable(verdict)
            else None
        )
        v = by_top[tops[0]]
        self.outcomes.append(Outcome(v, expect, full, by_top))
        return v


def _plan(
    start: tuple[int, ...], available: tuple[int, ...], profile: Profile, top: int | None = None
) -> list[tuple[int, ...]]:
    """The looks of the profile's plan from ``start`` (up to ``top`` seeds), each at the plan's own levels,
    on this set's seeds: ``start`` first, then the set's other seeds in order, as far as they go.

    Seeds are exchangeable draws, so a look needs the plan's *number* of seeds, not its seed numbers: a set
    whose seeds are not one range (confirm-torch: 100-109 and 140-159) replays every look its size allows
    (before, its looks stopped at the gap, 10 seeds, and a longer plan could never be judged on it). A set
    smaller than the second look replays the first alone: a test it leaves undecided there reads
    inconclusive, never gated on it (the suite would take more seeds), so a small set can only gate less.
    """
    seeds = tuple(start) + tuple(s for s in available if s not in start)
    counts = [len(look) for look in profile.plan(start, top)]
    plan = [seeds[:c] for c in counts if c <= len(seeds)]
    if not plan:
        raise ValueError(f"evidence seeds {available} cover no look of {counts} seeds")
    return plan


class _Collector:
    """Records what pytest collects: (test id, function, parameters) per item."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Callable, dict[str, Any]]] = []

    def pytest_collection_finish(self, session: Any) -> None:  # a pytest.Session
        for item in session.items:
            callspec = getattr(item, "callspec", None)
            self.items.append((item.name, item.obj, dict(callspec.params) if callspec else {}))  # type: ignore[attr-defined]


def cases(modules: tuple[str, ...], root: Path) -> list[tuple[str, Callable, dict[str, Any]]]:
    """(pytest's test id, function, parameters) of every test case of ``modules`` (dotted names of files
    under ``root``), as pytest collects them."""
    import pytest  # only here: genprobe imports pytest at module level nowhere outside its plugin

    collector = _Collector()
    paths = [str(root / (m.replace(".", "/") + ".py")) for m in modules]
    args = ["--collect-only", "-qq", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(root), *paths]
    # the environment's pytest and genprobe options must not select or break cases (-k, a bad GENPROBE_SEEDS)
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k == "PYTEST_ADDOPTS" or k.startswith("GENPROBE_")}
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = pytest.main(args, plugins=[collector])
    finally:
        os.environ.update(saved)
    if code != 0 or not collector.items:
        raise RuntimeError(f"collecting {', '.join(modules)} failed (pytest exit {code}):\n{out.getvalue()}")
    # by module, then by test function name (the committed files' order), then pytest's own order
    order = {m: i for i, m in enumerate(modules)}
    return sorted(collector.items, key=lambda c: (order[c[1].__module__], c[1].__name__))


@dataclass
class Row:
    """One test case judged on every evidence set."""

    test: str
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # set -> its check calls
    skipped: str = ""
    layout: Layout | None = None  # the evidence layout it was judged under

    @property
    def profile(self) -> str:
        return self._layout.profile

    @property
    def _layout(self) -> Layout:
        if self.layout is None:
            raise ValueError(f"{self.test}: judged under no evidence layout")
        return self.layout

    @property
    def default_checks(self) -> dict[str, list[Verdict]]:
        """Per set, the verdicts whose expectation the evidence sets (the test passed none)."""
        return {k: [o.verdict for o in v if o.expect is None] for k, v in self.outcomes.items()}

    @property
    def explicit(self) -> dict[str, list[tuple[Verdict, str]]]:
        return {k: [(o.verdict, o.expect) for o in v if o.expect is not None] for k, v in self.outcomes.items()}


def judge(
    sets: Mapping[str, Mapping[RunSpec, RunResult]],
    layout: Layout,
    suite: list[tuple[str, Callable, dict[str, Any]]],
) -> list[Row]:
    """Every test case of ``suite`` (:func:`cases`) on every evidence set, at ``layout``'s profile."""
    import pytest

    profile = get_profile(layout.profile)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, fn, kwargs in suite:
            row = Row(label, layout=layout)
            for name, runs in sets.items():
                seeds = tuple(sorted({s.seed for s in runs}))
                probe = StandIn(runs, profile, seeds, first=len(profile.seeds), tops=layout.plan_tops)
                params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
                args = {"probe": probe, "genprobe": probe, "limits": lambda c: dict(profile.thresholds[c])}
                try:
                    fn(**{k: v for k, v in args.items() if k in params}, **kwargs)
                except pytest.skip.Exception as exc:
                    row.skipped = str(exc)
                    break
                row.outcomes[name] = probe.outcomes
            rows.append(row)
    return rows


def summary(v: Verdict) -> str:
    return (
        f"{v.status} ({len(v.seeds)} seeds: " + "; ".join(f"{c.metric} {c.test.k}/{c.test.n}" for c in v.checks) + ")"
    )


def _met(row: Row, check: int, name: str) -> tuple[int, int]:
    """(seeds meeting check ``check``'s bound, seeds) on set ``name``, all its seeds."""
    full = [o.full for o in row.outcomes[name] if o.expect is None][0]
    t = full.checks[check].test  # type: ignore[union-attr]
    return t.k, t.n


def share_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The two-sided Jeffreys interval of a chance from ``k`` of ``n`` (what the evidence pages and the report
    quote)."""
    return jeffreys_interval(k, n, level)


def _pessimistic_q(k: int, n: int, expect: str) -> float:
    """Each check's chance of meeting its bound on a new seed, at the pessimistic end of a one-sided
    Jeffreys interval (level :data:`Q_CONFIDENCE`): the lower end where it must hold, the upper where refuted."""
    tail = 1 - Q_CONFIDENCE if expect == "holds" else Q_CONFIDENCE
    return jeffreys_quantile(tail, k, n)


def _claim_probability(qs: list[float], counts: list[int], alpha: float, expect: str) -> float:
    """Chance that the suite decides ``expect`` for a claim whose checks meet their bounds with chances
    ``qs``: for ``holds`` every check must hold (union bound over the checks), for ``refuted`` one refuted
    check suffices (the best one counts). Each check is judged by the exact design for ``len(qs)`` checks."""
    return _combine(_check_probabilities(qs, counts, alpha, expect), expect)


def _check_probabilities(qs: list[float], counts: list[int], alpha: float, expect: str) -> list[float]:
    """Each check's chance of being decided ``expect``, judged by the exact design for ``len(qs)`` checks."""
    from genprobe.stats import decision_probability

    return [decision_probability(q, counts, alpha, expect, checks=len(qs)) for q in qs]


def _combine(probs: list[float], expect: str) -> float:
    """The claim's chance from its checks': all must hold (union bound), or the best refutes."""
    if expect == "holds":
        return max(0.0, 1 - sum(1 - p for p in probs))
    return max(probs)


def reliability(row: Row, expect: str, name: str, top: int | None = None) -> tuple[float, str]:
    """Estimated chance that the suite, on new seeds, decides ``expect`` for this test, from set ``name``
    alone; and the weakest (holds) or best (refuted) check.

    Each check's chance q of meeting its bound on a new seed is taken at the
    pessimistic end of a one-sided Jeffreys interval (level
    :data:`Q_CONFIDENCE`, 95 %) from its k of n seeds in the set. (The point
    estimate (k + 1/2) / (n + 1) gated claims that then failed on new seeds
    under the other CPU step: 28 of 30 evidence seeds gave a 98 % chance for
    ``longer-helps[312-blog]``, and seeds 20-34 met its bound on 11 of 15.)
    """
    profile = get_profile(row.profile)
    counts = [len(s) for s in profile.plan(profile.seeds, top)]
    first = [o.full for o in row.outcomes[name] if o.expect is None][0]
    assert first is not None
    met = [_met(row, i, name) for i in range(len(first.checks))]
    qs = [_pessimistic_q(k, n, expect) for k, n in met]
    single = _check_probabilities(qs, counts, profile.alpha, expect)  # computed once, for the claim and its label
    p = _combine(single, expect)
    labels = [f"{c.metric}: {k} of {n} seeds {c.op} {c.threshold:g}" for c, (k, n) in zip(first.checks, met)]
    pick = (
        min(range(len(qs)), key=single.__getitem__)
        if expect == "holds"
        else max(range(len(qs)), key=single.__getitem__)
    )
    return p, labels[pick]


def seeds_needed(qs: list[float], expect: str, profile_name: str = "smoke") -> int | None:
    """The fewest seeds (looks of the profile's step, up to :data:`MAX_PLAN_SEEDS`) at which the exact
    design would decide ``expect`` at least :data:`GATE_RELIABILITY` of the time for checks met with chances
    ``qs``; None if no such plan."""
    from genprobe.stats import looks

    profile = get_profile(profile_name)
    first = len(profile.seeds)
    for top in range(first, MAX_PLAN_SEEDS + 1, profile.seed_step):
        counts = looks(first, profile.seed_step, top)
        if _claim_probability(qs, counts, profile.alpha, expect) >= GATE_RELIABILITY:
            return top
    return None


def limiting(row: Row) -> dict[str, Any]:
    """A report test's limiting check over the confirmation sets pooled: the share of seeds meeting its
    bound with a 95 % interval, which way the seeds lean, and the seeds a gate would need at that share."""
    confirmation = row._layout.confirmation
    first = [o.full for o in row.outcomes[confirmation[0]] if o.expect is None][0]
    assert first is not None
    met = [tuple(map(sum, zip(*(_met(row, i, s) for s in confirmation)))) for i in range(len(first.checks))]
    shares = [k / n if n else 0.5 for k, n in met]
    # the claim leans "holds" when every check is met on most seeds, else "refuted" (its worst check)
    expect = "holds" if min(shares) > 0.5 else "refuted"
    i = min(range(len(shares)), key=shares.__getitem__)  # the weakest check: the limit either way
    k, n = met[i]
    lo, hi = share_interval(k, n)
    qs = [_pessimistic_q(kk, nn, expect) for kk, nn in met]  # as the gate criterion takes them
    c = first.checks[i]
    return {
        "check": f"{c.metric} {c.op} {c.threshold:g}",
        "met": k,
        "seeds": n,
        "share": k / n,
        "interval": [lo, hi],
        "leans": expect,
        "seeds_needed": seeds_needed(qs, expect, row.profile),
    }


def _two_sample(a: list[float], b: list[float], op: str) -> float:
    """Two-sided Mann-Whitney p-value of two independent samples of a check's per-seed values (a diverged
    seed, NaN, ranks as the worst value); exact where scipy can be (no ties, small samples)."""
    from scipy.stats import mannwhitneyu

    worst = -np.inf if op == ">=" else np.inf
    x, y = (np.where(np.isnan(v), worst, v) for v in (np.asarray(a, float), np.asarray(b, float)))
    if np.all(np.concatenate([x, y]) == x[0]):
        return 1.0
    return float(mannwhitneyu(x, y, alternative="two-sided", method="auto").pvalue)


def _paired(a: list[float], b: list[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of the same seeds under two steps (exact for 10 pairs)."""
    from scipy.stats import wilcoxon

    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    if len(d) == 0 or np.all(d == 0):
        return 1.0
    return float(wilcoxon(d, alternative="two-sided", zero_method="wilcox").pvalue)


def _holm(ps: list[float], alpha: float) -> list[bool]:
    """Holm's step-down: which of ``ps`` are rejected with family-wise error ``alpha``."""
    order = sorted(range(len(ps)), key=ps.__getitem__)
    out = [False] * len(ps)
    for rank, i in enumerate(order):
        if ps[i] > alpha / (len(ps) - rank):
            break
        out[i] = True
    return out


def _net_values(runs: dict[RunSpec, RunResult], n: int, protocol: str, metric: str) -> list[float]:
    """The post's net's final ``metric`` per seed (seed order) at ``n`` points under ``protocol``."""
    got = {
        s.seed: float(r.final[metric])
        for s, r in runs.items()
        if s.model == "mlp" and s.features == "none" and s.labels == "true" and not s.wedge
        if s.n == n and s.protocol == protocol
    }
    return [got[k] for k in sorted(got)]


def rounding_spread(
    a: dict[RunSpec, RunResult], b: dict[RunSpec, RunResult], metric: str = "held_out_iou"
) -> list[dict[str, Any]]:
    """How far float rounding moves a run, against how far a new seed does: the same seeds trained with
    two CPU steps (``a``, ``b``), per size and protocol, the post's net's final ``metric``.

    ``within``: the median over seeds of |a - b| on the same seed (rounding alone); ``between``: the median
    of |a - b| over pairs of *different* seeds (a new draw of the experiment, under either rounding);
    ``ratio`` = within / between (1: rounding moves a run as much as a new seed; well below 1: a seed run
    again with other rounding is still mostly the same draw, not a fresh one); ``spearman``: the rank
    correlation of the two steps' values over seeds.
    """
    from scipy.stats import spearmanr

    from genprobe.profiles import POST_SIZES

    out = []
    for protocol in ("standard", "blog"):
        for n in POST_SIZES:
            va = np.asarray(_net_values(a, n, protocol, metric), dtype=float)
            vb = np.asarray(_net_values(b, n, protocol, metric), dtype=float)
            if len(va) != len(vb) or len(va) < 3:
                continue
            within = float(np.median(np.abs(va - vb)))
            off = ~np.eye(len(va), dtype=bool)
            between = float(np.median(np.abs(va[:, None] - vb[None, :])[off]))
            rho = float(spearmanr(va, vb).statistic)
            out.append(
                {
                    "n": n,
                    "protocol": protocol,
                    "seeds": len(va),
                    "within": within,
                    "between": between,
                    "ratio": within / between if between > 0 else None,
                    "spearman": rho,
                }
            )
    return out


def step_agreement(
    rows: list[Row], sets: dict[str, dict[RunSpec, RunResult]], pair: dict[str, dict[RunSpec, RunResult]] | None = None
) -> dict[str, Any]:
    """Do the two CPU steps run the same experiment? Two families of comparisons, each with Holm's
    step-down at family-wise error :data:`STEP_ALPHA`:

    * **nets**: the post's net's final held-out IoU at every size and protocol, confirm-c against
      confirm-torch (independent seeds: Mann-Whitney), and on the seeds trained with both steps
      (``pair``: Wilcoxon signed-rank, paired by seed);
    * **checks**: every check of every claim test, confirm-c against confirm-torch: Mann-Whitney on the
      per-seed values and Fisher's exact test on the seeds meeting the bound (two families).
    """
    from scipy.stats import fisher_exact

    from genprobe.profiles import POST_SIZES

    layout = rows[0]._layout
    confirmation = layout.steps or layout.confirmation
    if len(confirmation) != 2:
        raise ValueError(f"the step comparison needs two sets, one per CPU step, got {confirmation}")
    a, b = (sets[s] for s in confirmation)
    nets: list[dict[str, Any]] = []
    for n in POST_SIZES:
        for protocol in ("standard", "blog"):
            va, vb = _net_values(a, n, protocol, "held_out_iou"), _net_values(b, n, protocol, "held_out_iou")
            r: dict[str, Any] = {
                "n": n,
                "protocol": protocol,
                "seeds": [len(va), len(vb)],
                "median": [float(np.median(va)), float(np.median(vb))],
                "p_values": _two_sample(va, vb, ">="),
            }
            if pair is not None:
                pa, pb = (_net_values(pair[k], n, protocol, "held_out_iou") for k in ("pair-c", "pair-torch"))
                r["p_paired"] = _paired(pa, pb)
            nets.append(r)
    checks: list[dict[str, Any]] = []
    for row in rows:
        if row.skipped:
            continue
        fulls = [next((o.full for o in row.outcomes[s] if o.expect is None), None) for s in confirmation]
        if fulls[0] is None or fulls[1] is None:
            continue
        for ca, cb in zip(fulls[0].checks, fulls[1].checks):
            ta, tb = ca.test, cb.test
            checks.append(
                {
                    "test": row.test,
                    "check": f"{ca.metric} {ca.op} {ca.threshold:g}",
                    "met": [ta.k, ta.n, tb.k, tb.n],
                    "median": [ca.median, cb.median],
                    "p_values": _two_sample(ca.values, cb.values, ca.op),
                    "p_met": float(fisher_exact([[ta.k, ta.n - ta.k], [tb.k, tb.n - tb.k]]).pvalue),
                }
            )
    for family, keys in ((nets, ("p_values", "p_paired")), (checks, ("p_values", "p_met"))):
        for key in keys:
            have = [r for r in family if key in r]
            for r, rejected in zip(have, _holm([float(r[key]) for r in have], STEP_ALPHA)):
                r[key.replace("p_", "differ_")] = rejected
    differs = lambda r: any(v for k, v in r.items() if k.startswith("differ_"))  # noqa: E731
    return {
        "alpha": STEP_ALPHA,
        "sets": list(confirmation),
        "nets": nets,
        "checks": checks,
        **({"spread": rounding_spread(pair["pair-c"], pair["pair-torch"])} if pair is not None else {}),
        "differ": sorted(
            {f"net N={r['n']} {r['protocol']}" for r in nets if differs(r)} | {r["test"] for r in checks if differs(r)}
        ),
    }


def _longest_needed(row: Row) -> dict[str, Any] | None:
    """The expectation of a test that gates: under the shortest plan of its layout's ``plan_tops`` on which
    every confirmation set decides it the same way and, estimated from each set alone, new seeds would
    decide it so at least :data:`GATE_RELIABILITY` of the time. None where no plan does."""
    layout = row._layout
    default = get_profile(row.profile).max_seeds
    for top in layout.plan_tops:
        verdicts = {s: [o for o in row.outcomes[s] if o.expect is None][0].by_top[top] for s in layout.confirmation}
        statuses = {v.status for v in verdicts.values()}
        if len(statuses) != 1 or not statuses <= {"holds", "refuted"}:
            continue
        [status] = statuses
        p = min(reliability(row, status, s, top=top)[0] for s in layout.confirmation)
        if p < GATE_RELIABILITY:
            continue
        numbers = "; ".join(f"{s}: {summary(v)}" for s, v in verdicts.items())
        plan = "" if top == default else f" with up to {top} seeds"
        entry: dict[str, Any] = {
            "expect": status,
            "why": f"{status} on {layout.confirmation_sets}{plan} ({numbers}); "
            f"new seeds decide it so {p:.0%} of the time" + (" (the less sure set)" if len(verdicts) > 1 else ""),
        }
        if top != default:
            entry["max_seeds"] = top
        return entry
    return None


def expectations(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """What each claim test is expected to do: decided by every confirmation set, and reliably so on each.
    A layout with no confirmation set yet (calibration seeds only) sets no expectation: its profile's tests
    take ``Profile.unmeasured``."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        per_set, layout = row.default_checks, row._layout
        confirmation, tops = layout.confirmation, layout.plan_tops
        if row.skipped or not confirmation or not all(per_set.get(s) for s in confirmation):
            continue
        if any(len(per_set[s]) != 1 for s in confirmation):
            raise ValueError(
                f"{row.test}: one check per test takes its expectation from the evidence, "
                f"got {len(per_set[confirmation[0]])}"
            )
        statuses = {per_set[s][0].status for s in confirmation}
        numbers = "; ".join(f"{s}: {summary(per_set[s][0])}" for s in confirmation)
        gated = _longest_needed(row)
        if gated is not None:
            out[row.test] = gated
            continue
        lim = limiting(row)
        share = (
            f"limiting bound {lim['check']} met on {lim['met']} of {lim['seeds']} confirmation seeds "
            f"({lim['share']:.0%}, 95 % interval {lim['interval'][0]:.0%}-{lim['interval'][1]:.0%}); "
            + (
                f"a gate on '{lim['leans']}' would need about {lim['seeds_needed']} seeds"
                if lim["seeds_needed"]
                else f"no plan up to {MAX_PLAN_SEEDS} seeds would decide it reliably"
            )
        )
        if len(statuses) == 1 and statuses <= {"holds", "refuted"}:
            [status] = statuses
            rel = {s: reliability(row, status, s, top=tops[-1]) for s in confirmation}
            p = min(r[0] for r in rel.values())
            weakest = min(rel.values())[1]
            out[row.test] = {
                "expect": "report",
                "reliability": p,  # from the less sure set, with the longest plan
                "why": f"{status} on {layout.confirmation_sets} ({numbers}), "
                f"but even with up to {tops[-1]} seeds new seeds would decide it so only {p:.1%} of the time "
                f"({weakest}); {share}",
            }
        else:
            out[row.test] = {
                "expect": "report",
                "why": (
                    f"the confirmation sets do not both decide it ({numbers}); {share}"
                    if len(confirmation) > 1
                    else f"the confirmation set does not decide it ({numbers}); {share}"
                ),
            }
        out[row.test]["limiting"] = lim
    return out


def _spread(values: list[float]) -> dict[str, Any]:
    """Median and range over seeds (a diverged seed, NaN, counts as missing the bound: reported apart)."""
    finite = [v for v in values if not np.isnan(v)]
    if not finite:
        return {"median": None, "min": None, "max": None, "diverged": len(values)}
    return {
        "median": float(np.median(finite)),
        "min": float(min(finite)),
        "max": float(max(finite)),
        "diverged": len(values) - len(finite),
    }


def margins(rows: list[Row]) -> dict[str, Any]:
    """Per test and check: the bound, and on each set how many of all its seeds meet it with the values'
    median and range. Where the thresholds sit against the runs, written once (docs/evidence/ quotes it)."""
    out: dict[str, Any] = {}
    for row in rows:
        if row.skipped:
            continue
        first = {name: next((o for o in outs if o.expect is None), None) for name, outs in row.outcomes.items()}
        if any(o is None or o.full is None for o in first.values()):
            continue  # explicit expectations (controls, the example) and ready-made verdicts: not calibration
        checks = []
        for i, c in enumerate(next(iter(first.values())).full.checks):  # type: ignore[union-attr]
            per_set = {}
            for name, o in first.items():
                fc = o.full.checks[i]  # type: ignore[union-attr]
                t = fc.test
                per_set[name] = {"met": t.k, "seeds": t.n, **_spread(fc.values)}
            checks.append({"metric": c.metric, "op": c.op, "threshold": c.threshold, "sets": per_set})
        out[row.test] = checks
    return out
