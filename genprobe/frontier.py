"""Claim frontiers: where a claim stops holding as the training set shrinks.

A verdict at one N ("inconclusive at 625 points") is one point on a curve: the
share of seeds on which the claim holds, against N. This module measures that
curve and where it crosses one half, the *frontier* N*.

**Per seed** a claim holds when every one of its checks' per-seed values meets
its bound (:func:`genprobe.stats.meets`; a NaN value, a diverged run, misses):
:func:`holds_per_seed` reads that off a :class:`~genprobe.verdicts.Verdict`, so
the claim's own checks decide, and :func:`claim_holds` builds the verdicts of a
named claim over sizes from any :class:`~genprobe.probe.ProfileRuns`.

**Per size**, the share of seeds with a two-sided 95 % **Jeffreys** interval
(the equal-tailed Beta(k + 1/2, n - k + 1/2) interval, with the lower end 0 at
k = 0 and the upper end 1 at k = n; the evidence pages (docs/evidence/) quote the same
interval). Jeffreys rather than Clopper-Pearson: with 5-20 seeds per size
Clopper-Pearson covers far more than its stated 95 % (it is conservative by
construction), Jeffreys close to 95 % on average.

**The frontier**: a logistic curve in log N, ``logit share = a + b log N``,
fitted to the per-seed outcomes, and N* = exp(-a / b), where it crosses 1/2.
Why this model: a claim's share is a smooth function of how much data there
is, and log N is how the post's sizes are spaced (each half the last); two
parameters are what 5-8 sizes can estimate, where isotonic regression (the
other candidate) gives a step function whose crossing jumps between grid
points and has no smooth interval. The fit is **Firth's** penalised maximum
likelihood (the Jeffreys-prior penalty), computed by Newton iterations in
numpy: sharp frontiers are the common case here (every seed holds at 5000,
none at 312), and there the plain maximum-likelihood slope is infinite
(separation) while Firth's stays finite and puts N* between the sizes where
the claim flips.

**What N* is.** The size at which the share of seeds holding the claim (the population share, over
seeds) crosses 1/2, for a claim that holds more with more data: its share rises with N. When a seed's
outcomes are nested (a seed that holds at N holds at every larger N, from its own threshold up), the
share at N is the chance that a seed's threshold lies at or below N, and N* is the median per-seed
threshold (:func:`seed_frontiers` reads each seed's off the grid).

**Its interval** is exact, and needs neither a curve nor independence across sizes: only that seeds are
independent of each other (one seed's outcomes at different sizes may hang together in any way; in the
real design one seed is trained at every size) and that the share rises with N. At each size an exact
one-sided binomial test of the share against 1/2, each at (1 - level) / 2: walking down from the largest
size while the share there is significantly above 1/2, the last such size is the upper end ``high``
(N* is at most it); walking up from the smallest while it is significantly below, the last such size is
the lower end ``low`` (N* is above it). Each walk is a fixed-sequence test: it can go wrong only by
rejecting at the first size on the wrong side of N*, one test at level (1 - level) / 2, so the interval
covers N* with chance at least ``level``, whatever the correlation across sizes; the exact size of each
test at a share of 1/2 is ``P(Binomial(seeds, 1/2) >= k)`` at its critical count (0.0207 with 20 seeds
and with 70, 0.0156 with 6; :func:`critical_counts`). An end is a size of the grid (the interval's resolution is the
grid's spacing), and an end that no size decides is open (``None``), never an extrapolation. With 5 seeds
or fewer no share is significant at 95 % (5 of 5 has chance 1/32 > 0.025 under a share of 1/2): the
interval is then uninformative and says so. ``tests/test_frontier_coverage.py`` checks the coverage by
simulation with outcomes nested within seeds and with independent ones. The tests are exact binomial
(Clopper-Pearson) tests, not the Jeffreys interval printed per size: deciding by "the Jeffreys interval
lies wholly above 1/2" errs more often than it says (0.046 rather than at most 0.025 with 13 seeds, 0.032
with 19), so a share whose Jeffreys interval just clears 1/2 may still leave an end open.

The logistic curve's own interval (the hull of Firth's profile-likelihood interval and a bootstrap over
whole seeds, the interval this module used to report) is kept as ``fit_low`` / ``fit_high``: it covers
0.95 when a seed's outcomes at different sizes are independent but 0.89-0.90 when they are nested within
seeds, so it is not the one printed.

**The verdict** (``kind``):

- ``always``: the share is significantly above 1/2 at every size of the grid, the smallest included
  (``high`` is the smallest size): N* is at most the smallest N tried.
- ``never``: significantly below 1/2 at every size, the largest included: N* is above the largest.
- ``none``, no frontier: the fitted share falls as N grows (and the share observed at the largest size is
  below the one at the smallest), so where the claim stops holding as data shrink is not the question
  (:func:`no_frontier`; ``genprobe.frontier_report`` also says so where neither the net nor the 1-NN rule
  holds the claim on any seed at the largest size).
- ``crosses``: the fitted logistic crosses 1/2 inside the grid: N* is that crossing, with the exact
  interval above.
- ``below`` / ``above``: the fitted curve stays above (below) 1/2 over the whole grid, but the data do
  not establish ``always`` (``never``): N* is near or beyond that end of the grid, not shown to be.
- ``undecided``: no size's share is significantly on either side of 1/2: the interval is uninformative.

Pure numpy and scipy (no torch, no pytest); the claims and profiles it
reads are too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from .rules import RULES
from .stats import jeffreys_interval, meets  # jeffreys_interval: also genprobe.frontier's
from .verdicts import Check, Verdict

__all__ = [
    "LEVEL",
    "BOOTSTRAP",
    "Share",
    "Frontier",
    "jeffreys_interval",
    "holds_per_seed",
    "claim_holds",
    "frontier",
    "frontier_of",
    "exact_ends",
    "critical_counts",
    "no_frontier",
    "KINDS",
    "fit_logistic",
    "FRONTIER_CLAIMS",
    "MODELS",
    "is_user_model",
    "subject_spec",
    "claim_reads",
    "COMPARES_WITH",
    "FRONTIER_SUFFIX",
    "parse_sizes",
    "TrainingMap",
    "training_map",
    "seed_frontiers",
    "sparse_as",
]

LEVEL = 0.95  # of every interval here
FRONTIER_SUFFIX = "-frontier"  # a frontier verdict's claim id: the claim's, then this (sparse_as)
BOOTSTRAP = 2000  # bootstrap replicates of the frontier's interval
CROSSES, ALWAYS, NEVER = "crosses", "always", "never"
BELOW, ABOVE, UNDECIDED, NONE = "below", "above", "undecided", "none"
#: every verdict a frontier can have (see the module docstring)
KINDS = (CROSSES, ALWAYS, NEVER, BELOW, ABOVE, UNDECIDED, NONE)


def holds_per_seed(verdict: Verdict) -> list[bool]:
    """Per seed of ``verdict``: does every check's value meet its bound (:func:`genprobe.stats.meets`)?

    A NaN value misses. A verdict without checks holds on no seed.
    """
    if not verdict.checks:
        return [False] * len(verdict.seeds)
    n = len(verdict.seeds)
    for c in verdict.checks:
        if len(c.values) != n:
            raise ValueError(f"check {c.metric!r} has {len(c.values)} values for {n} seeds")
    return [all(meets(c.values[i], c.op, c.threshold) for c in verdict.checks) for i in range(n)]


# -- per-seed outcomes of a named claim, from runs ------------------------------------

#: the subjects a claim can be asked of: the post's net, a baseline or the Fourier-feature control drawn
#: in its place; a user model is named by its factory, ``module:function`` (``genprobe.usermodel``)
MODELS = ("net", "knn", "dot", "fourier")


def is_user_model(model: str) -> bool:
    """``module:function``: a user model's factory (:mod:`genprobe.usermodel`), not one of :data:`MODELS`."""
    return ":" in model


class _AsNet:
    """A probe whose ``net`` is another model: the claim is asked of ``knn``, ``dot``, the ``fourier``
    control, or a user model (``module:function`` with ``model_kwargs``, trained with the post's budget)."""

    def __init__(self, probe: Any, model: str, model_kwargs: Mapping[str, Any] | None = None):
        self._probe, self._model, self._kwargs = probe, model, dict(model_kwargs or {})
        self.profile = probe.profile

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self._probe.seeds)

    def net(self, n: int, protocol: str = "standard", **_: Any) -> list:
        if is_user_model(self._model):
            return self._probe.net(n, protocol, model=self._model, model_kwargs=self._kwargs)
        if self._model == "fourier":
            return self._probe.fourier(n)
        return self._probe.baseline(self._model, n, **self._kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._probe, name)


def subject_spec(profile: Any, model: str, n: int, seed: int, protocol: str = "standard", model_kwargs=None):
    """The run :func:`claim_holds` reads for ``model`` at ``n`` points and ``seed`` (what to train)."""
    if model == "net":
        return profile.net(n, seed, protocol)
    if model == "fourier":
        return profile.fourier(n, seed)
    if is_user_model(model):
        return profile.net(n, seed, protocol, model=model, model_kwargs=dict(model_kwargs or {}))
    return profile.baseline(model, n, seed, **dict(model_kwargs or {}))


#: the runs each claim compares its subject with (genprobe.shapes), besides the subject's own
COMPARES_WITH: dict[str, tuple[str, ...]] = {
    "no-overfitting": ("dot", "knn"),
    "ring-not-points": ("dot", "fourier"),
    "as-good-as-1nn": ("knn",),
}


def claim_reads(
    claim: str, model: str, profile: Any, n: int, seed: int, protocol: str = "standard", model_kwargs=None
) -> list:
    """The runs :func:`claim_holds` reads for ``claim`` asked of ``model`` at ``n`` points and ``seed``: the
    subject's (:func:`subject_spec`) and the claim's comparison runs (:data:`COMPARES_WITH`)."""
    return [subject_spec(profile, model, n, seed, protocol, model_kwargs)] + [
        subject_spec(profile, other, n, seed) for other in COMPARES_WITH.get(claim, ())
    ]


def _longer_helps(g: Any, n: int, p: Any, protocol: str = "standard") -> Verdict:
    from . import claims

    t = dict(p.thresholds["longer-helps"])
    return claims.longer_helps(g.net(n, protocol), short_epoch=p.epochs, long_epoch=p.long_epochs, **t)


def _builders() -> dict[str, Any]:
    from .shapes import SHAPE_CLAIMS

    out = {name: build for name, (_, build) in SHAPE_CLAIMS.items()}
    out["longer-helps"] = _longer_helps  # as benchmarks/test_claims.py builds it; nets only
    return out


#: claims a frontier can be drawn for: the shape claims of genprobe.shapes, and longer-helps
FRONTIER_CLAIMS: tuple[str, ...] = (
    "no-overfitting",
    "concept-learnt",
    "ring-not-points",
    "contiguous",
    "as-good-as-1nn",
    "longer-helps",
)


def claim_holds(
    claim: str,
    probe: Any,
    sizes: Sequence[int],
    protocol: str = "standard",
    model: str = "net",
    end_epoch: int | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
) -> dict[int, list[bool]]:
    """Per size, per seed of ``probe`` (in its order): does ``claim`` hold for ``model``?

    The claim is built exactly as the suite builds it (:data:`genprobe.shapes.SHAPE_CLAIMS`, the
    profile's thresholds, the window ending at the profile's ``epochs``, or at ``end_epoch`` where
    given: the same claim judged earlier in training, :func:`training_map`) and each seed is read off its
    checks by :func:`holds_per_seed`. ``probe``: a :class:`~genprobe.probe.ProfileRuns` (the
    ``probe`` fixture, ``benchmarks.studies.threshold_evidence.StandIn``) or anything with ``profile``,
    ``seeds``, ``net``, ``baseline`` and ``fourier``. ``model`` ``knn`` or ``dot`` asks the claim of
    that baseline instead of the net, against the same comparison runs (so ``as-good-as-1nn`` asked of
    ``knn`` compares 1-NN with itself); ``fourier`` the Fourier-feature control; ``module:function`` a user
    model with ``model_kwargs``, trained like the post's net (:func:`subject_spec` says which run).
    """
    _check_names(claim, model)
    found = _verdicts(claim, probe, sizes, protocol, model, end_epoch, model_kwargs)
    return {n: holds_per_seed(v) for n, v in found.items()}


def _check_names(claim: str, *models: str) -> None:
    if claim not in FRONTIER_CLAIMS:
        raise ValueError(f"unknown claim {claim!r}; choose from {', '.join(FRONTIER_CLAIMS)}")
    for model in models:
        if model not in MODELS and model not in RULES and not is_user_model(model):
            raise ValueError(
                f"unknown model {model!r}; choose from {', '.join(dict.fromkeys((*MODELS, *RULES)))}, "
                "a rule registered with genprobe.rules.register, or a factory module:function"
            )
        if model != "net" and claim == "longer-helps":
            raise ValueError(f"claim {claim!r} compares two training budgets of a net; model {model!r} is not trained")


def _verdicts(
    claim: str,
    probe: Any,
    sizes: Sequence[int],
    protocol: str,
    model: str,
    end_epoch: int | None,
    model_kwargs: Mapping[str, Any] | None = None,
) -> dict[int, Verdict]:
    """The claim's verdict at each size, built as :func:`claim_holds` says."""
    builders = _builders()
    subject = probe if model == "net" else _AsNet(probe, model, model_kwargs)
    build = builders[claim]
    profile = probe.profile if end_epoch is None else replace(probe.profile, epochs=int(end_epoch))
    out: dict[int, Verdict] = {}
    for n in sizes:
        verdict = build(subject, int(n), profile, protocol)
        if list(verdict.seeds) != list(probe.seeds):
            raise ValueError(f"{claim} at N={n} judged seeds {verdict.seeds}, the probe has {list(probe.seeds)}")
        out[int(n)] = verdict
    return out


def seed_frontiers(holds: Mapping[int, Sequence[bool]]) -> list[float]:
    """Per seed: the smallest size of the grid from which the claim holds at that size and every larger
    one (``inf`` when it fails at the largest). The per-seed counterpart of N*.

    >>> seed_frontiers({312: [True, False, True], 625: [True, True, False], 1250: [True, True, True]})
    [312.0, 625.0, 1250.0]
    """
    sizes = sorted(holds)
    seeds = {len(v) for v in holds.values()}
    if len(seeds) != 1:
        raise ValueError(f"every size needs one outcome per seed, got {sorted(seeds)} outcomes")
    out = []
    for i in range(seeds.pop()):
        front = math.inf
        for n in reversed(sizes):
            if not holds[n][i]:
                break
            front = float(n)
        out.append(front)
    return out


def sparse_as(
    claim: str,
    probe: Any,
    sizes: Sequence[int],
    subject: str = "net",
    reference: str = "knn",
    protocol: str = "standard",
) -> Verdict:
    """``subject`` keeps ``claim`` down to data as sparse as ``reference`` does, paired by seed: a frontier
    verdict a test can gate (``probe.check(lambda g: sparse_as("contiguous", g, POST_SIZES))``).

    Per seed, the value is how many halvings of N lower the subject's per-seed frontier lies than the
    reference's (:func:`seed_frontiers`; ``log2(reference / subject)``), and the check is that it is at
    least 0. A model that never holds the claim on the grid is put one halving beyond its largest size;
    a seed on which neither model ever holds gives NaN (no evidence either way: it misses). Both models'
    claims are built as the suite builds them, on the same runs.
    """
    _check_names(claim, subject, reference)
    if len(set(sizes)) < 2:
        raise ValueError(f"a frontier needs at least 2 sizes, got {list(sizes)}")
    ours = _verdicts(claim, probe, sizes, protocol, subject, None)
    theirs = _verdicts(claim, probe, sizes, protocol, reference, None)
    beyond = 2.0 * max(sizes)
    a = [min(f, beyond) for f in seed_frontiers({n: holds_per_seed(v) for n, v in ours.items()})]
    b = [min(f, beyond) for f in seed_frontiers({n: holds_per_seed(v) for n, v in theirs.items()})]
    values = [math.nan if x == y == beyond else math.log2(y / x) for x, y in zip(a, b)]
    names = {"net": "the net", "fourier": "the Fourier net"} | {name: r.title for name, r in RULES.items()}
    label = {m: names.get(m, m) for m in (subject, reference)}
    some = next(iter(ours.values()))
    runs = sorted({k for v in (*ours.values(), *theirs.values()) for k in v.runs})
    notes = sorted({n for v in (*ours.values(), *theirs.values()) for n in v.notes})
    return Verdict(
        claim=f"{claim}{FRONTIER_SUFFIX}",
        statement=f"{label[subject]} keeps {claim} down to data as sparse as {label[reference]} does "
        f"(per-seed frontiers over N = {', '.join(map(str, sorted(sizes)))}, paired by seed)",
        subject=some.subject,
        n=f"{max(sizes)}..{min(sizes)}",
        seeds=list(some.seeds),
        checks=[
            Check(
                f"halvings below {label[reference]}",
                values,
                ">=",
                0.0,
                f"log2 of {reference}'s per-seed frontier over {subject}'s",
                missing="with no frontier for either model",
            )
        ],
        notes=notes,
        runs=runs,
        protocol=some.protocol,
    )


# -- the frontier ---------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Seeds on which the claim holds at one N: ``k`` of ``seeds``, with a Jeffreys interval."""

    n: int
    k: int
    seeds: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class Frontier:
    """Where the share of seeds holding a claim crosses 1/2 (see the module docstring).

    Attributes:
        kind: one of :data:`KINDS`: ``crosses`` (the fitted curve crosses 1/2 inside the grid),
            ``always`` / ``never`` (the share is significantly above / below 1/2 at every size, the
            grid's end included), ``below`` / ``above`` (the fitted curve stays above / below 1/2 over the
            grid, not established by the data), ``undecided`` (no size's share is significantly on
            either side of 1/2) or ``none`` (no frontier question here: ``reason`` says why).
        n_star: the fitted crossing (None unless ``crosses``; kept for ``undecided`` when the fitted
            curve crosses inside the grid).
        low, high: the exact interval's ends, sizes of the grid: N* is above ``low`` and at most
            ``high`` (with chance at least ``level``); None where no size bounds that side (open,
            never extrapolated).
        direction: ``up`` when the fitted share grows with N, ``down`` when it falls, ``flat``.
        a, b: the fitted logistic, ``logit share = a + b * log N``.
        fit_p: Pearson's goodness-of-fit p-value of that curve (chi-square, sizes - 2 degrees of
            freedom; None with 2 sizes): small when the shares do not follow one logistic curve in
            log N (e.g. not monotone), and then N* summarises them poorly: read the shares.
        fit_low, fit_high: the logistic curve's own interval of the crossing (Firth's profile likelihood
            hulled with a bootstrap over whole seeds), None beyond the grid: it undercovers when a seed's
            outcomes are nested across sizes (0.89-0.90 for 0.95), so it is reported, not printed.
        reason: why there is no frontier (``none`` only).
    """

    sizes: tuple[int, ...]
    shares: tuple[Share, ...]
    kind: str
    n_star: float | None
    low: float | None
    high: float | None
    direction: str
    a: float
    b: float
    level: float
    bootstrap: int
    fit_p: float | None = None
    fit_low: float | None = None
    fit_high: float | None = None
    reason: str = ""

    def fitted(self, n: float | np.ndarray) -> np.ndarray:
        """The fitted share at ``n`` points."""
        return _sigmoid(self.a + self.b * np.log(np.asarray(n, dtype=float)))

    @property
    def informative(self) -> bool:
        """Does some size bound N* on either side?"""
        return self.low is not None or self.high is not None

    def covers(self, n: float) -> bool:
        """Does the interval (``low``, ``high``] hold ``n``?"""
        return (self.low is None or n > self.low) and (self.high is None or n <= self.high)

    def interval_text(self) -> str:
        """The exact interval in words: ``1250 .. 3536`` (N* above 1250, at most 3536), ``at most 442
        (no lower bound on this grid)``, ``above 3536 (...)``, or ``uninformative (...)``."""
        lo, hi = min(self.sizes), max(self.sizes)
        if self.low is not None and self.high is not None:
            return f"{self.low:.0f} .. {self.high:.0f}"
        if self.high is not None:
            return f"at most {self.high:.0f} (no lower bound on this grid: the share at {lo} is not clearly below 1/2)"
        if self.low is not None:
            return f"above {self.low:.0f} (no upper bound on this grid: the share at {hi} is not clearly above 1/2)"
        return "uninformative (no size's share is clearly on either side of 1/2)"

    def short(self) -> str:
        """A table cell: ``N* = 1999 (1250 .. 3536)``, ``always (N* <= 312)``, ``never (N* > 5000)``,
        ``below the grid, not established (N* <= 625)``, ``undecided``, ``no frontier: ...``; ``, fits badly
        (p = ...)`` after a crossing whose curve fits badly, and ``N* in 1250 .. 2500 (the curve's 1163 lies
        outside)`` where the fitted crossing is not in the exact interval."""
        bad = f", fits badly (p = {self.fit_p:.2g})" if self.fit_p is not None and self.fit_p < 0.05 else ""
        if self.low is not None and self.high is not None:
            ci = f"{self.low:.0f} .. {self.high:.0f}"
        elif self.high is not None:
            ci = f"N* <= {self.high:.0f}"
        elif self.low is not None:
            ci = f"N* > {self.low:.0f}"
        else:
            ci = "unbounded"
        if self.kind == CROSSES:
            if self.n_star is not None and not self.covers(self.n_star):
                where = ci if ci.startswith("N*") else f"N* in {ci}"
                return f"{where} (the curve's {self.n_star:.0f} lies outside){bad}"
            return f"N* = {self.n_star:.0f} ({ci}){bad}"
        if self.kind in (ALWAYS, NEVER):
            return f"{self.kind} ({ci})"
        if self.kind in (BELOW, ABOVE):
            return f"{self.kind} the grid, not established ({ci})"
        if self.kind == NONE:
            return f"no frontier: {self.reason}"
        return f"undecided ({_few(self)})" if _few(self) else "undecided"

    def text(self) -> str:
        """One line, e.g. ``N* = 1999 (95 % interval 1250 .. 3536)``, ``always: ...``, ``no frontier: ...``."""
        grid = f"{min(self.sizes)}..{max(self.sizes)}"
        first, last = self.shares[0], self.shares[-1]
        ci = f"{self.level:.0%} interval of the crossing: {self.interval_text()}"
        fit = ""
        if self.fit_p is not None and self.fit_p < 0.05:
            fit = f"; the logistic curve fits the shares badly (Pearson p = {self.fit_p:.2g}): read the shares"
        if self.kind == CROSSES:
            outside = ""
            if self.n_star is not None and not self.covers(self.n_star):
                outside = "; the curve's crossing lies outside it: the shares are not one rising curve"
            return f"N* = {self.n_star:.0f} ({ci}{outside}){fit}"
        if self.kind == ALWAYS:
            return (
                f"always: the share is clearly above 1/2 at every size measured, down to {first.n} "
                f"({first.k}/{first.seeds} there); N* at most {first.n}, not bounded below ({self.level:.0%})"
            )
        if self.kind == NEVER:
            return (
                f"never: the share is clearly below 1/2 at every size measured, up to {last.n} "
                f"({last.k}/{last.seeds} there); N* above {last.n}, not bounded above ({self.level:.0%})"
            )
        if self.kind == NONE:
            return f"no frontier: {self.reason}"
        if self.kind in (BELOW, ABOVE):
            side, end = ("above", first) if self.kind == BELOW else ("below", last)
            word = "always" if self.kind == BELOW else "never"
            return (
                f"{self.kind} the grid, not established: the fitted share stays {side} 1/2 over N = {grid}, but "
                f"{end.k}/{end.seeds} at {end.n} do not show {word} ({ci}){fit}"
            )
        fitted = "" if self.n_star is None else f"; the fitted curve crosses at {self.n_star:.0f}, unbounded"
        few = _few(self)
        return (
            f"undecided: no size's share is clearly on either side of 1/2 ({first.k}/{first.seeds} at {first.n}, "
            f"{last.k}/{last.seeds} at {last.n}){'; ' + few if few else ''}{fitted}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["text"] = self.text()
        return d


def _few(f: Frontier) -> str:
    """Why no share can be significant, when the seeds are too few for any: '' otherwise."""
    from scipy.stats import binom

    seeds = min(s.seeds for s in f.shares)
    tail = (1 - f.level) / 2
    if float(binom.pmf(seeds, seeds, 0.5)) <= tail:
        return ""
    need = next(n for n in range(seeds + 1, 64) if 0.5**n <= tail)
    return (
        f"with {seeds} seeds no share can be: {seeds} of {seeds} has chance {0.5**seeds:.3g} under a share of "
        f"1/2, more than {tail:.3g}; {need} seeds are the fewest that can"
    )


def critical_counts(seeds: int, level: float = LEVEL) -> tuple[int | None, int | None, float]:
    """``(below, above, size)``: a share of ``k`` of ``seeds`` is significantly below 1/2 when ``k <= below``
    and above when ``k >= above`` (exact one-sided binomial tests, each at ``(1 - level) / 2``; None where
    no count is), and ``size``, each test's exact chance of a wrong rejection at a share of exactly 1/2.

    >>> critical_counts(20)
    (5, 15, 0.020694732666015625)
    >>> critical_counts(5)
    (None, None, 0.0)
    """
    from scipy.stats import binom

    tail = (1 - level) / 2
    above = next((k for k in range(seeds + 1) if float(binom.sf(k - 1, seeds, 0.5)) <= tail), None)
    if above is None:
        return None, None, 0.0
    return seeds - above, above, float(binom.sf(above - 1, seeds, 0.5))


def exact_ends(k: np.ndarray, m: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The exact interval's ends as indices into the sizes (ascending): ``k`` of ``m`` seeds hold at each
    size, arrays of shape ``(..., sizes)``. Returns ``(low, high)`` of shape ``(...)``: ``low`` the last
    size of the run, from the smallest up, where the share is significantly below 1/2 (-1: none), ``high``
    the first size of the run, from the largest down, where it is significantly above (``sizes``: none).
    Vectorised over leading axes (the coverage simulation calls it on thousands of replicates at once).

    >>> low, high = exact_ends(np.array([0, 0, 3, 10, 10]), np.array([10] * 5))
    >>> int(low), int(high)
    (1, 3)
    """
    from scipy.stats import binom

    k, m = np.asarray(k, dtype=float), np.asarray(m, dtype=float)
    tail = (1 - level) / 2
    # exact one-sided p-values at a share of 1/2, with a little slack for the sums' rounding
    up = binom.sf(k - 1, m, 0.5) <= tail * (1 + 1e-9)
    down = binom.cdf(k, m, 0.5) <= tail * (1 + 1e-9)
    sizes = k.shape[-1]
    run_down = np.cumprod(down, axis=-1).sum(-1)
    run_up = np.cumprod(up[..., ::-1], axis=-1).sum(-1)
    return run_down - 1, sizes - run_up


def no_frontier(f: Frontier, reason: str) -> Frontier:
    """``f`` with no frontier (``kind`` ``none``, no N*): the claim is not a frontier question there."""
    return replace(f, kind=NONE, n_star=None, reason=reason)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def fit_logistic(
    x: np.ndarray, k: np.ndarray, m: np.ndarray, iterations: int = 100, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray]:
    """Firth-penalised logistic fit ``logit p = a + b x`` of ``k`` successes in ``m`` trials at ``x``.

    Vectorised over replicates: ``k`` and ``m`` are ``(S,)`` or ``(B, S)``; returns ``a`` and ``b``
    of shape ``()`` or ``(B,)``. Newton steps on Firth's modified score (each step capped at 5 in
    each parameter); finite even under complete separation.

    >>> a, b = fit_logistic(np.array([-1.0, 0.0, 1.0]), np.array([1, 5, 9]), np.array([10, 10, 10]))
    >>> round(float(a), 6), float(b) > 0
    (0.0, True)
    """
    x = np.asarray(x, dtype=float)
    k2 = np.atleast_2d(np.asarray(k, dtype=float))
    m2 = np.atleast_2d(np.asarray(m, dtype=float))
    a = np.zeros(k2.shape[0])
    b = np.zeros(k2.shape[0])
    for _ in range(iterations):
        p = _sigmoid(a[:, None] + b[:, None] * x)
        w = m2 * p * (1 - p)
        i00, i01, i11 = w.sum(1), (w * x).sum(1), (w * x * x).sum(1)
        det = i00 * i11 - i01 * i01
        det = np.where(det > 1e-300, det, 1e-300)
        # leverage of each size: w_i [1 x_i] I^-1 [1 x_i]^T
        h = w * (i11[:, None] - 2 * i01[:, None] * x + i00[:, None] * x * x) / det[:, None]
        r = k2 - m2 * p + h * (0.5 - p)
        u0, u1 = r.sum(1), (r * x).sum(1)
        da = np.clip((i11 * u0 - i01 * u1) / det, -5, 5)
        db = np.clip((i00 * u1 - i01 * u0) / det, -5, 5)
        a, b = a + da, b + db
        if max(float(np.abs(da).max()), float(np.abs(db).max())) < tol:
            break
    if np.ndim(k) == 1:
        return a[0], b[0]
    return a, b


def _validate(
    sizes: Sequence[int], holds: Sequence[Sequence[Any]], seeds: Sequence[Sequence[Any]] | None
) -> tuple[np.ndarray, list[list[bool]], list[list[Any]]]:
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"a frontier needs at least 2 sizes, got {len(sizes)}: {sizes!r}")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, float, np.integer, np.floating)):
            raise ValueError(f"sizes must be whole numbers of points, got {n!r}")
        if not (math.isfinite(float(n)) and float(n) > 0):
            raise ValueError(f"sizes must be positive, got {n!r}")
        if not float(n).is_integer():
            raise ValueError(f"sizes must be whole numbers of points, got {n!r}")
    if len(set(float(n) for n in sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct, got {sizes!r}")
    holds = list(holds)
    if len(holds) != len(sizes):
        raise ValueError(f"{len(holds)} lists of outcomes for {len(sizes)} sizes")
    outcomes: list[list[bool]] = []
    for n, h in zip(sizes, holds):
        h = list(h)
        if not h:
            raise ValueError(f"no seeds at N={n!r}")
        for v in h:
            if not isinstance(v, (bool, np.bool_)) and v not in (0, 1):
                raise ValueError(f"outcome at N={n!r} must be True/False, got {v!r}")
        outcomes.append([bool(v) for v in h])
    if seeds is None:
        ids = [list(range(len(h))) for h in outcomes]
    else:
        seeds = list(seeds)
        if len(seeds) != len(sizes):
            raise ValueError(f"{len(seeds)} lists of seeds for {len(sizes)} sizes")
        ids = []
        for n, h, s in zip(sizes, outcomes, seeds):
            s = list(s)
            if len(s) != len(h):
                raise ValueError(f"N={n!r}: {len(s)} seeds for {len(h)} outcomes")
            if len(set(s)) != len(s):
                raise ValueError(f"N={n!r}: repeated seeds {s!r}")
            ids.append(s)
    return np.asarray(sizes, dtype=float), outcomes, ids


def frontier(
    sizes: Sequence[int],
    holds: Sequence[Sequence[Any]],
    seeds: Sequence[Sequence[Any]] | None = None,
    *,
    level: float = LEVEL,
    bootstrap: int = BOOTSTRAP,
    rng: np.random.Generator | int | None = 0,
) -> Frontier:
    """The share of seeds holding a claim at each size, and where it crosses 1/2.

    Args:
        sizes: the N of each size (at least two, positive, distinct; any order).
        holds: per size, one outcome per seed (True: the claim held on that seed).
        seeds: per size, the seed of each outcome (default: the i-th outcome of every size is
            seed i). The bootstrap draws seeds whole, with their outcomes at every size.
        level: of the share intervals and the frontier's interval.
        bootstrap: replicates of the logistic curve's own interval (``fit_low`` / ``fit_high``).
        rng: a generator or a seed (default 0: the same data give the same interval).

    Raises:
        ValueError: one line naming the bad value.

    >>> f = frontier([312, 625, 1250, 2500, 5000], [[0] * 10, [0] * 8 + [1] * 2, [1] * 7 + [0] * 3,
    ...               [1] * 10, [1] * 10])
    >>> f.kind, 625 < f.n_star < 1250, (f.low, f.high)
    ('crosses', True, (312.0, 2500.0))
    >>> frontier([312, 5000], [[1] * 6, [1] * 6]).kind, frontier([312, 5000], [[1] * 5, [1] * 5]).kind
    ('always', 'undecided')
    """
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 1:
        raise ValueError(f"bootstrap must be a whole number >= 1, got {bootstrap!r}")
    arr, outcomes, ids = _validate(sizes, holds, seeds)
    order = np.argsort(arr)
    arr = arr[order]
    outcomes = [outcomes[i] for i in order]
    ids = [ids[i] for i in order]
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    shares = []
    for n, h in zip(arr, outcomes):
        lo, hi = jeffreys_interval(sum(h), len(h), level)
        shares.append(Share(int(n), sum(h), len(h), sum(h) / len(h), lo, hi))

    logs = np.log(arr)
    centre = float(logs.mean())
    x = logs - centre
    k = np.array([sum(h) for h in outcomes], dtype=float)
    m = np.array([len(h) for h in outcomes], dtype=float)
    fa, fb = fit_logistic(x, k, m)
    a, b = float(fa), float(fb)
    fitted_kind, x0 = _crossing(a, b, x)
    direction = "flat" if abs(b) < FLAT else "up" if b > 0 else "down"

    # the exact interval: fixed-sequence binomial tests from each end of the grid (module docstring)
    i_low, i_high = (int(i) for i in exact_ends(k, m, level))
    low = float(arr[i_low]) if i_low >= 0 else None
    high = float(arr[i_high]) if i_high < len(arr) else None
    first, last = shares[0], shares[-1]
    n_star = None if fitted_kind != CROSSES else math.exp(x0 + centre)
    reason = ""
    if i_high == 0:
        kind = ALWAYS
    elif i_low == len(arr) - 1:
        kind = NEVER
    elif direction == "down" and last.share < first.share:
        kind = NONE
        reason = (
            f"the share falls as N grows ({first.k}/{first.seeds} at {first.n}, {last.k}/{last.seeds} at {last.n}): "
            "the claim holds less with more data here, so where it stops holding as data shrink is not the "
            "question; read the shares"
        )
    elif low is None and high is None:
        kind = UNDECIDED
    elif fitted_kind == CROSSES and max(s.share for s in shares) < 0.5:
        kind = ABOVE  # the curve crosses inside the grid, but no size's share reaches 1/2: not an observed N*
    elif fitted_kind == CROSSES and min(s.share for s in shares) > 0.5:
        kind = BELOW  # the mirror image: every size's share is above 1/2
    elif fitted_kind == CROSSES:
        kind = CROSSES
    else:
        kind = BELOW if fitted_kind == ALWAYS else ABOVE
    if kind != CROSSES and kind != UNDECIDED:
        n_star = None

    # the logistic curve's own interval, reported beside the exact one: (a) the penalised profile
    # likelihood of the crossing, (b) the bootstrap over whole seeds; their hull
    p_lo, p_hi = _profile_interval(x, k, m, level)
    b_lo, b_hi = _bootstrap_interval(x, outcomes, ids, level, bootstrap, gen)
    lo_x, hi_x = min(p_lo, b_lo), max(p_hi, b_hi)
    hi_x, lo_x = max(hi_x, float(x.min())), min(lo_x, float(x.max()))
    smin, smax = float(arr.min()), float(arr.max())
    fit_low = None if not math.isfinite(lo_x) else min(max(math.exp(lo_x + centre), smin), smax)
    fit_high = None if not math.isfinite(hi_x) else min(max(math.exp(hi_x + centre), smin), smax)
    return Frontier(
        sizes=tuple(s.n for s in shares),
        shares=tuple(shares),
        kind=kind,
        n_star=n_star,
        low=low,
        high=high,
        direction=direction,
        a=a - b * centre,
        b=b,
        level=level,
        bootstrap=bootstrap,
        fit_p=_pearson_p(x, k, m, a, b),
        fit_low=fit_low,
        fit_high=fit_high,
        reason=reason,
    )


def _pearson_p(x: np.ndarray, k: np.ndarray, m: np.ndarray, a: float, b: float) -> float | None:
    """Pearson's chi-square goodness of fit of the curve ``a + b x`` to ``k`` of ``m`` (None with 2 sizes)."""
    from scipy.stats import chi2

    if len(x) <= 2:
        return None
    p = np.clip(_sigmoid(a + b * x), 1e-12, 1 - 1e-12)
    stat = float((((k - m * p) ** 2) / (m * p * (1 - p))).sum())
    return float(chi2.sf(stat, len(x) - 2))


FLAT = 1e-6  # a fitted slope (per unit of log N) this small is no trend: the curve is flat


def _crossing(a: float, b: float, x: np.ndarray) -> tuple[str, float]:
    """(kind, position of the crossing on ``x``) of the fitted curve over the grid ``x``. A flat curve at
    exactly 1/2 is ``never``: a claim holds for a typical seed only where its share is above 1/2."""
    if abs(b) < FLAT:
        return (ALWAYS if a > FLAT else NEVER), math.nan
    ends = _sigmoid(a + b * np.array([x.min(), x.max()]))
    if (ends > 0.5).all():
        return ALWAYS, math.nan
    if (ends <= 0.5).all():
        return NEVER, math.nan
    return CROSSES, -a / b


def _crossings(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each replicate's crossing on ``x``; -inf below the grid, +inf above it (or no crossing at all:
    the side is where the curve would cross, or, flat, below the grid when it holds everywhere)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x0 = np.where(b != 0, -a / np.where(b != 0, b, 1.0), np.where(a > 0, -np.inf, np.inf))
    x0 = np.where(x0 < x.min(), -np.inf, x0)
    return np.where(x0 > x.max(), np.inf, x0)


def _bootstrap_interval(
    x: np.ndarray,
    outcomes: list[list[bool]],
    ids: list[list[Any]],
    level: float,
    bootstrap: int,
    gen: np.random.Generator,
) -> tuple[float, float]:
    """Percentile interval of the crossing on ``x`` over ``bootstrap`` resamples of whole seeds."""
    units = list(dict.fromkeys(s for row in ids for s in row))
    index = {s: i for i, s in enumerate(units)}
    y = np.zeros((len(units), len(x)))
    present = np.zeros((len(units), len(x)))
    for j, (row, h) in enumerate(zip(ids, outcomes)):
        for s, v in zip(row, h):
            y[index[s], j], present[index[s], j] = float(v), 1.0
    draws = gen.multinomial(len(units), np.full(len(units), 1.0 / len(units)), size=bootstrap).astype(float)
    a, b = fit_logistic(x, draws @ y, draws @ present)
    xs = np.sort(_crossings(np.asarray(a), np.asarray(b), x))
    tail = (1 - level) / 2
    lo, hi = int(math.floor(tail * bootstrap)), max(0, int(math.ceil((1 - tail) * bootstrap)) - 1)
    return float(xs[lo]), float(xs[hi])


PROFILE_GRID = (121, 241)  # crossings (over the grid and half a unit of log N beyond it), slopes


def _profile_interval(x: np.ndarray, k: np.ndarray, m: np.ndarray, level: float) -> tuple[float, float]:
    """Firth-penalised profile-likelihood interval of the crossing on ``x`` (-inf / inf: beyond the grid).

    The penalised log-likelihood ``l(a, b) + log det I(a, b) / 2`` on a grid of crossings ``x0`` and
    slopes ``b = sinh(t)``, ``t`` in [-6, 6] (``b = 0``, a flat curve, is on the grid: there every
    crossing fits equally well); a crossing is in the interval when its best slope comes within
    chi-square(1, level) / 2 of the best of all.
    """
    from scipy.stats import chi2

    g, t = PROFILE_GRID
    x0 = np.linspace(x.min() - 0.5, x.max() + 0.5, g)
    b = np.sinh(np.linspace(-6.0, 6.0, t))
    z = b[None, :, None] * (x[None, None, :] - x0[:, None, None])
    log_p, log_q = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    ll = (k * log_p + (m - k) * log_q).sum(-1)
    w = m * np.exp(log_p + log_q)
    i00, i01, i11 = w.sum(-1), (w * x).sum(-1), (w * x * x).sum(-1)
    penalised = ll + 0.5 * np.log(np.maximum(i00 * i11 - i01 * i01, 1e-300))
    best = penalised.max(axis=1)
    inside = x0[best >= best.max() - chi2.ppf(level, 1) / 2]
    lo = -math.inf if inside.min() < x.min() else float(inside.min())
    hi = math.inf if inside.max() > x.max() else float(inside.max())
    return lo, hi


def frontier_of(holds: Mapping[int, Sequence[bool]], seeds: Sequence[Any] | None = None, **kwargs: Any) -> Frontier:
    """:func:`frontier` of :func:`claim_holds`' output (every size judged on the same ``seeds``)."""
    sizes = list(holds)
    return frontier(sizes, [holds[n] for n in sizes], None if seeds is None else [list(seeds)] * len(sizes), **kwargs)


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"200-5000:10"`` (10 sizes spaced evenly in log N from 200 to 5000, rounded) or ``"312,625,1250"``
    -> sizes, largest first; raises ValueError naming the bad value.

    >>> parse_sizes("200-5000:5")
    (5000, 2236, 1000, 447, 200)
    >>> parse_sizes("312, 625")
    (625, 312)
    """
    text = str(text).strip()
    if ":" in text or ("-" in text and "," not in text):
        span, _, count = text.partition(":")
        lo, dash, hi = span.partition("-")
        try:
            a, b, k = int(lo), int(hi), int(count or 2)
        except ValueError:
            raise ValueError(f"bad sizes {text!r}: use LOW-HIGH:COUNT, e.g. 200-5000:10, or a list 312,625") from None
        if not dash or a < 1 or b <= a or k < 2:
            raise ValueError(f"bad sizes {text!r}: need 1 <= LOW < HIGH and COUNT >= 2, e.g. 200-5000:10")
        sizes = sorted({int(round(n)) for n in np.geomspace(a, b, k)}, reverse=True)
    else:
        sizes = []
        for part in text.split(","):
            try:
                n = int(part)
            except ValueError:
                raise ValueError(f"bad size {part.strip()!r} in {text!r}: use whole numbers, e.g. 312,625") from None
            if n < 1:
                raise ValueError(f"bad size {n} in {text!r}: sizes must be positive")
            sizes.append(n)
        sizes = sorted(set(sizes), reverse=True)
    if len(sizes) < 2:
        raise ValueError(f"bad sizes {text!r}: a frontier needs at least 2 sizes")
    return tuple(sizes)


# -- the data-versus-training map -------------------------------------------------------


@dataclass(frozen=True)
class TrainingMap:
    """A claim over (N, training), read off the runs' histories (no extra training).

    ``share[i, j]``: the share of seeds on which ``claim`` holds for the net at ``sizes[i]`` with
    its window ending at epoch ``epochs[j]`` (the claim as the suite builds it, judged that early);
    ``median_iou[i, j]``: the median over seeds of the held-out IoU over the same window. NaN where
    the net at that size was not trained that long. ``steps_per_epoch[i]``: optimizer steps per
    epoch at ``sizes[i]`` (from the runs' histories), so ``epochs[j] * steps_per_epoch[i]`` is the
    same cell per optimizer step.
    """

    claim: str
    protocol: str
    sizes: tuple[int, ...]
    epochs: tuple[int, ...]
    steps_per_epoch: tuple[float, ...]
    seeds: tuple[int, ...]
    share: np.ndarray
    median_iou: np.ndarray

    def at(self, n: int, epoch: int) -> float:
        """The share of seeds holding at ``n`` points, window ending at ``epoch``."""
        return float(self.share[self.sizes.index(n), self.epochs.index(epoch)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim": self.claim,
            "protocol": self.protocol,
            "sizes": list(self.sizes),
            "epochs": list(self.epochs),
            "steps_per_epoch": list(self.steps_per_epoch),
            "seeds": list(self.seeds),
            "share": self.share.tolist(),
            "median_iou": self.median_iou.tolist(),
        }


def training_map(
    claim: str, probe: Any, sizes: Sequence[int], epochs: Sequence[int], protocol: str = "standard"
) -> TrainingMap:
    """:class:`TrainingMap` of ``claim`` for the net over ``sizes`` and window ends ``epochs``.

    Each cell is :func:`claim_holds` with ``end_epoch`` at that epoch, on the runs ``probe`` already
    has: a cell past the budget a size was trained for (``probe.profile.budget(n)``) is NaN, never
    judged on a shorter run's last checkpoints.
    """
    from .claims import window

    sizes, epochs = tuple(int(n) for n in sizes), tuple(int(e) for e in epochs)
    if not sizes or not epochs or min(epochs) < 1:
        raise ValueError(f"need sizes and epochs >= 1, got sizes {sizes}, epochs {epochs}")
    share = np.full((len(sizes), len(epochs)), np.nan)
    iou = np.full_like(share, np.nan)
    per_epoch = []
    for i, n in enumerate(sizes):
        runs = probe.net(n, protocol)
        h = runs[0].history
        per_epoch.append(float(h["step"][-1]) / float(h["epoch"][-1]))
        for j, e in enumerate(epochs):
            if e > probe.profile.budget(n):
                continue
            holds = claim_holds(claim, probe, [n], protocol=protocol, end_epoch=e)[n]
            share[i, j] = float(np.mean(holds))
            vals = np.array([window(r, "held_out_iou", e) for r in runs])
            iou[i, j] = float(np.nanmedian(vals)) if not np.isnan(vals).all() else math.nan
    return TrainingMap(claim, protocol, sizes, epochs, tuple(per_epoch), tuple(probe.seeds), share, iou)
