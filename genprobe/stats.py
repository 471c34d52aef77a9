"""The one rule that turns per-seed values into a verdict: an exact group-sequential sign test.

A check says "``metric op bound``" of a training run (``op`` is ``>=`` or
``<=``). Seeds are independent draws of the whole experiment (points, init,
order), so each seed meets the bound or not, with some unknown probability
``q``. The claim "a typical seed meets the bound" is ``q > 1/2`` (the median
over seeds is on the claimed side of the bound). With ``k`` of ``n`` seeds
meeting it, a single look would say:

* **holds** if ``P(Binomial(n, 1/2) >= k) <= alpha``: so many seeds meet the
  bound that a population whose median misses it would give this few times
  in a hundred;
* **refuted** if ``P(Binomial(n, 1/2) <= k) <= alpha``: the mirror image;
* **inconclusive** otherwise: the seeds disagree too much to say.

A seed whose value is NaN (the run diverged) does not meet the bound. The
test is distribution-free (nothing is assumed about the values, only their
side of the bound), exact (no normal approximation), and symmetric: swapping
"meets" and "misses" swaps holds and refuted. The two outcomes exclude each
other for any levels below 1/2.

Sequential looks (:class:`Design`). A claim is first judged on the
profile's first seeds and, while inconclusive, on more (:func:`looks`: 5,
10, 15 by default). Each look ``i`` has a boundary ``h_i``: holds when
``k_i >= h_i``. The boundaries are computed **exactly**, by dynamic
programming over the binomial, so that the chance of ever crossing one when
``q = 1/2`` (the worst case of "the median misses the bound": the chance
only falls with ``q``) is at most ``alpha`` and as close to it as the
discreteness allows. The design is Pocock-type: one common nominal level for
every look, the largest whose exact error stays within ``alpha``; then what
discreteness leaves unspent goes to the latest looks first (each boundary
lowered by one while the exact error stays within ``alpha``). Why Pocock and
not O'Brien-Fleming or a spending function: the first look is where the
suite saves training (most claims decide on 5 seeds or not at all), and
five seeds can only ever decide at ``p = 1/32``; an O'Brien-Fleming boundary
never allows that, and a smooth spending function, rounded to what the
binomial can spend, wastes much of ``alpha`` (Lan-DeMets' Pocock-type
function spends 0.023 of 0.05 on 5/10/15 seeds, the common level 0.046).
The old rule (each look at ``alpha / looks``, Bonferroni) spent 0.046 of a
stated 0.10; this design, on the default looks, holds at 5 of 5, 8 of 10, 11
of 15 and spends 0.0967.

The error is computed *non-binding*: as if the other side's boundary never
stopped the sequence. So each side's error holds whatever the other side
does, and the rule actually run (which does stop) errs no more.

Claims with several checks (:mod:`genprobe.verdicts`): a claim **holds**
when every check holds (an intersection-union test: its error stays at the
checks' ``alpha``) and is **refuted** when any one check is refuted, so each
of ``m`` checks refutes at ``alpha / m`` (Bonferroni over the checks, each
exact over the looks): a true claim is refuted wrongly with chance at most
``alpha`` too. On the default looks (5, 10, 15) a claim of ``m >= 3``
checks cannot refute at the first look: 0 of 5 seeds has p = 1/32, and the
design's first-look level for ``alpha / 3`` spread over three looks is
lower, so such claims refute from 10 seeds on. A test may declare in
advance the only checks that may refute its claim (``refuted_by``, e.g. a
control naming the check its model is made to break): the split is then
over those checks alone.

Pure python: no numpy, torch or pytest.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ALPHA",
    "HOLDS",
    "REFUTED",
    "INCONCLUSIVE",
    "SignTest",
    "Design",
    "design",
    "sign_test",
    "decide",
    "binom_tail",
    "looks",
    "meets",
    "decision_probability",
    "jeffreys_interval",
    "jeffreys_quantile",
]

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"

#: Error of a claim over all its looks, per direction (wrongly "holds", wrongly "refuted").
ALPHA = 0.10


def binom_tail(n: int, k: int) -> float:
    """``P(Binomial(n, 1/2) >= k)``, exactly.

    >>> binom_tail(5, 5)
    0.03125
    >>> round(binom_tail(10, 9), 4)
    0.0107
    """
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return math.fsum(math.comb(n, i) for i in range(k, n + 1)) / 2.0**n


def meets(value: float, op: str, bound: float) -> bool:
    """``value op bound``; NaN never meets a bound (a diverged seed is a failed one)."""
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    if math.isnan(value) or math.isnan(bound):
        return False
    return value >= bound if op == ">=" else value <= bound


@dataclass(frozen=True)
class SignTest:
    """The outcome of :func:`sign_test`.

    Attributes:
        n: seeds judged.
        k: seeds that meet the bound.
        p_holds: ``P(Bin(n, 1/2) >= k)``, the error if we say "holds".
        p_refuted: ``P(Bin(n, 1/2) <= k)``, the error if we say "refuted".
        alpha: the nominal level of this look for "holds" (:attr:`Design.holds_level`).
        decision: ``holds``, ``refuted`` or ``inconclusive``.
        alpha_refuted: the nominal level of this look for "refuted".
    """

    n: int
    k: int
    p_holds: float
    p_refuted: float
    alpha: float
    decision: str
    alpha_refuted: float | None = None

    @property
    def p(self) -> float:
        """The error bound of the decision taken (the smaller p-value when undecided)."""
        if self.decision == REFUTED:
            return self.p_refuted
        if self.decision == HOLDS:
            return self.p_holds
        return min(self.p_holds, self.p_refuted)


def _check_level(name: str, level: float) -> None:
    if not 0 <= level < 0.5:
        raise ValueError(f"{name} must be in [0, 0.5), got {level!r}")


def decide(n: int, k: int, alpha: float, alpha_refuted: float | None = None) -> SignTest:
    """The sign test on counts: ``k`` of ``n`` seeds meet the bound.

    ``alpha`` is the nominal level for "holds", ``alpha_refuted`` (default
    ``alpha``) for "refuted"; a level of 0 never decides that way.

    >>> decide(10, 9, 0.05).decision, decide(10, 8, 0.05).decision, decide(5, 0, 0.05).decision
    ('holds', 'inconclusive', 'refuted')
    >>> decide(5, 0, 0.05, alpha_refuted=0.02).decision  # 0 of 5 has p = 1/32
    'inconclusive'
    """
    alpha_refuted = alpha if alpha_refuted is None else alpha_refuted
    _check_level("alpha", alpha)
    _check_level("alpha_refuted", alpha_refuted)
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p_holds = binom_tail(n, k)
    p_refuted = binom_tail(n, n - k)  # P(Bin <= k) = P(Bin >= n - k) by symmetry
    if n and p_holds <= alpha:
        decision = HOLDS
    elif n and p_refuted <= alpha_refuted:
        decision = REFUTED
    else:
        decision = INCONCLUSIVE
    return SignTest(n, k, p_holds, p_refuted, alpha, decision, alpha_refuted)


def sign_test(
    values: Sequence[float], op: str, bound: float, alpha: float, alpha_refuted: float | None = None
) -> SignTest:
    """Do the seeds' ``values`` meet ``op bound``? (see the module docstring)

    >>> sign_test([0.7, 0.8, 0.75, 0.9, 0.66], ">=", 0.65, 0.05).decision
    'holds'
    >>> sign_test([0.7, 0.8, 0.6, 0.9, 0.66], ">=", 0.65, 0.05).decision
    'inconclusive'
    """
    k = sum(meets(float(v), op, bound) for v in values)
    return decide(len(values), k, alpha, alpha_refuted)


def looks(start: int, step: int, maximum: int) -> list[int]:
    """Seed counts at which a claim is judged: ``start``, ``start + step``, ... up to ``maximum``.

    >>> looks(5, 5, 10)
    [5, 10]
    >>> looks(5, 5, 5)
    [5]
    """
    if start < 1 or step < 1:
        raise ValueError(f"need start >= 1 and step >= 1, got {start}, {step}")
    out = [start]
    while out[-1] < maximum:
        out.append(min(out[-1] + step, maximum))
    return out


def _grow(alive: dict[int, float], step: int, q: float) -> dict[int, float]:
    """Counts of seeds meeting the bound after ``step`` more seeds, each meeting it with chance ``q``."""
    grown: dict[int, float] = {}
    for k, p in alive.items():
        for j in range(step + 1):
            grown[k + j] = grown.get(k + j, 0.0) + p * math.comb(step, j) * q**j * (1 - q) ** (step - j)
    return grown


def crossing_probability(counts: Sequence[int], holds_at: Sequence[int], q: float = 0.5) -> float:
    """Chance that ``k_i >= holds_at[i]`` at some look ``i`` (non-binding: nothing else stops the sequence).

    Exact, by dynamic programming over the number of seeds meeting the bound.

    >>> crossing_probability([5], [5])
    0.03125
    >>> round(crossing_probability([5, 10, 15], [5, 8, 11]), 4)
    0.0967
    """
    alive, done, crossed = {0: 1.0}, 0, 0.0
    for n, h in zip(counts, holds_at):
        alive = _grow(alive, n - done, q)
        crossed += math.fsum(p for k, p in alive.items() if k >= h)
        alive = {k: p for k, p in alive.items() if k < h}
        done = n
    return crossed


def _validate_counts(counts: Sequence[int]) -> tuple[int, ...]:
    counts = tuple(int(c) for c in counts)
    if not counts or counts[0] < 1 or any(b <= a for a, b in zip(counts, counts[1:])):
        raise ValueError(f"look counts must be increasing positive seed counts, got {list(counts)}")
    return counts


@functools.lru_cache(maxsize=256)
def _boundaries(counts: tuple[int, ...], alpha: float) -> tuple[int, ...]:
    """The holds boundaries of the exact Pocock-type design (module docstring); ``n + 1`` where a look
    cannot decide."""
    if alpha == 0:
        return tuple(n + 1 for n in counts)

    def at_level(c: float) -> list[int]:
        return [next((h for h in range(n // 2 + 1, n + 1) if binom_tail(n, h) <= c), n + 1) for n in counts]

    # the largest common nominal level whose exact error is within alpha (the error rises with the level)
    best = [n + 1 for n in counts]
    for c in sorted({binom_tail(n, h) for n in counts for h in range(n // 2 + 1, n + 1)}):
        bounds = at_level(c)
        if crossing_probability(counts, bounds) > alpha:
            break
        best = bounds
    # what discreteness left unspent, to the latest looks first
    for i in reversed(range(len(counts))):
        while best[i] - 1 > counts[i] / 2:
            lower = best[:i] + [best[i] - 1] + best[i + 1 :]
            if crossing_probability(counts, lower) > alpha:
                break
            best = lower
    return tuple(best)


@dataclass(frozen=True)
class Design:
    """An exact group-sequential sign test: at look ``i`` (``counts[i]`` seeds in all), ``k`` seeds meeting
    the bound decide **holds** when ``k >= holds_at[i]`` and **refuted** when ``k <= refuted_at[i]``.

    Built by :func:`design`. ``error_holds`` and ``error_refuted`` are the
    exact chances, at ``q = 1/2``, of ever deciding that way (non-binding);
    each is at most its ``alpha``.

    >>> d = design([5, 10, 15])
    >>> d.holds_at, d.refuted_at, round(d.error_holds, 4)
    ((5, 8, 11), (0, 2, 4), 0.0967)
    >>> design([5, 10, 15], checks=6).refuted_at  # 6 checks: each refutes at 0.1 / 6
    (-1, 1, 2)
    """

    counts: tuple[int, ...]
    alpha: float
    alpha_refuted: float
    holds_at: tuple[int, ...]
    refuted_at: tuple[int, ...]

    @property
    def error_holds(self) -> float:
        return crossing_probability(self.counts, self.holds_at)

    @property
    def error_refuted(self) -> float:
        return crossing_probability(self.counts, [n - r for n, r in zip(self.counts, self.refuted_at)])

    @property
    def holds_level(self) -> tuple[float, ...]:
        """Each look's nominal level for "holds": the sign test's p-value at the boundary (0: never)."""
        return tuple(binom_tail(n, h) for n, h in zip(self.counts, self.holds_at))

    @property
    def refuted_level(self) -> tuple[float, ...]:
        """Each look's nominal level for "refuted" (0: this look cannot refute)."""
        return tuple(binom_tail(n, n - r) if r >= 0 else 0.0 for n, r in zip(self.counts, self.refuted_at))

    def decide(self, look: int, k: int) -> str:
        """The decision at look ``look`` (0-based) with ``k`` of ``counts[look]`` seeds meeting the bound."""
        n = self.counts[look]
        if not 0 <= k <= n:
            raise ValueError(f"need 0 <= k <= {n}, got {k}")
        if k >= self.holds_at[look]:
            return HOLDS
        if k <= self.refuted_at[look]:
            return REFUTED
        return INCONCLUSIVE

    def outcome(self, q: float) -> dict[str, float]:
        """Exact chances of each final decision, and the expected seeds, when each seed meets the bound
        with chance ``q`` (the rule as run: it stops at the first decision)."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        alive, done = {0: 1.0}, 0
        out = {HOLDS: 0.0, REFUTED: 0.0, INCONCLUSIVE: 0.0, "seeds": 0.0}
        for i, n in enumerate(self.counts):
            out["seeds"] += math.fsum(alive.values()) * (n - done)
            grown = _grow(alive, n - done, q)
            alive = {}
            for k, p in grown.items():
                d = self.decide(i, k)
                if d == INCONCLUSIVE:
                    alive[k] = p
                else:
                    out[d] += p
            done = n
        out[INCONCLUSIVE] = math.fsum(alive.values())
        return out


@functools.lru_cache(maxsize=1024)
def _design(counts: tuple[int, ...], alpha: float, alpha_refuted: float) -> Design:
    holds = _boundaries(counts, alpha)
    refuted = tuple(n - h for n, h in zip(counts, _boundaries(counts, alpha_refuted)))
    return Design(counts, alpha, alpha_refuted, holds, refuted)


def design(counts: Sequence[int], alpha: float = ALPHA, checks: int = 1) -> Design:
    """The exact sequential design for looks at ``counts`` seeds: each check holds at error ``alpha`` and,
    in a claim of ``checks`` checks, refutes at ``alpha / checks`` (so the claim errs at most ``alpha``
    either way). Cached."""
    _check_level("alpha", alpha)
    if checks < 1:
        raise ValueError(f"a claim has at least one check, got {checks}")
    return _design(_validate_counts(counts), float(alpha), float(alpha) / checks)


def decision_probability(
    q: float, counts: Sequence[int], alpha: float, decision: str = HOLDS, checks: int = 1
) -> float:
    """Chance that the sequential rule ends in ``decision`` for a check each of whose seeds meets it w.p. ``q``.

    ``counts``: the seed counts of the looks (:func:`looks`), judged by
    :func:`design` (``checks``: how many checks the claim has, which sets the
    refuting level). Exact. Used to keep a gate only where new seeds would
    decide it reliably.

    >>> round(decision_probability(1.0, [5, 10], 0.1), 6), round(decision_probability(0.8, [5, 10, 15], 0.1), 3)
    (1.0, 0.861)
    """
    return design(counts, alpha, checks).outcome(q)[decision]


def jeffreys_quantile(q: float, k: int, n: int) -> float:
    """The ``q`` quantile of a chance's Jeffreys posterior from ``k`` of ``n``: Beta(k + 1/2, n - k + 1/2).

    >>> round(jeffreys_quantile(0.5, 5, 10), 3)
    0.5
    """
    from scipy.stats import beta

    return float(beta.ppf(q, k + 0.5, n - k + 0.5))


def jeffreys_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Two-sided Jeffreys interval of a chance from ``k`` of ``n`` (0 at ``k = 0``, 1 at ``k = n``).

    Jeffreys rather than Clopper-Pearson: with 5-20 seeds, Clopper-Pearson covers well above its level,
    Jeffreys close to it on average (Brown, Cai and DasGupta 2001). The frontiers' and the calibration's shares.

    >>> [round(x, 3) for x in jeffreys_interval(5, 10)]
    [0.224, 0.776]
    >>> jeffreys_interval(0, 10)[0], jeffreys_interval(10, 10)[1]
    (0.0, 1.0)
    """
    if not (0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if n < 1 or not (0 <= k <= n):
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}")
    tail = (1 - level) / 2
    lo = jeffreys_quantile(tail, k, n) if k > 0 else 0.0
    hi = jeffreys_quantile(1 - tail, k, n) if k < n else 1.0
    return lo, hi
