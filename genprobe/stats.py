"""The one rule that turns per-seed values into a verdict: an exact sign test.

A check says "``metric op bound``" of a training run (``op`` is ``>=`` or
``<=``). Seeds are independent draws of the whole experiment (points, init,
order), so each seed meets the bound or not, with some unknown probability
``q``. The claim "a typical seed meets the bound" is ``q > 1/2`` (the median
over seeds is on the claimed side of the bound). With ``k`` of ``n`` seeds
meeting it:

* **holds** if ``P(Binomial(n, 1/2) >= k) <= alpha``: so many seeds meet the
  bound that a population whose median misses it would give this few times
  in a hundred;
* **refuted** if ``P(Binomial(n, 1/2) <= k) <= alpha``: the mirror image;
* **inconclusive** otherwise: the seeds disagree too much to say.

A seed whose value is NaN (the run diverged) does not meet the bound. The
test is distribution-free (nothing is assumed about the values, only their
side of the bound), exact (no normal approximation), and symmetric: swapping
"meets" and "misses" swaps holds and refuted. The two outcomes exclude each
other for any ``alpha < 1/2``.

Sequential looks: a claim is first judged on the profile's first seeds and,
while inconclusive, on more seeds (:func:`looks`), up to a maximum. Every
look is a chance to decide wrongly, so each of the ``L`` planned looks uses
``alpha / L`` (Bonferroni): over all looks together, a check decides wrongly
with probability at most ``alpha``, whatever the data. A verdict over
several checks holds when all hold (an intersection-union test: its error
stays ``alpha``) and is refuted when any one is refuted.

With the defaults (``alpha`` = 0.1, looks at 5, 10 and 15 seeds, 0.033
each): 5 of 5 seeds decide (p = 0.031), 4 of 5 do not (p = 0.19); 9 of 10
decide (p = 0.011), 8 of 10 do not (p = 0.055); 12 of 15 decide (p = 0.018),
11 of 15 do not (p = 0.059).

Pure python: no numpy, torch or pytest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ALPHA",
    "HOLDS",
    "REFUTED",
    "INCONCLUSIVE",
    "SignTest",
    "sign_test",
    "decide",
    "binom_tail",
    "looks",
    "look_alpha",
    "meets",
    "decision_probability",
]

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"

#: Family-wise error of one check over all of a claim's looks, per direction.
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
        alpha: the level of this look.
        decision: ``holds``, ``refuted`` or ``inconclusive``.
    """

    n: int
    k: int
    p_holds: float
    p_refuted: float
    alpha: float
    decision: str

    @property
    def p(self) -> float:
        """The error bound of the decision taken (the smaller p-value when undecided)."""
        if self.decision == REFUTED:
            return self.p_refuted
        if self.decision == HOLDS:
            return self.p_holds
        return min(self.p_holds, self.p_refuted)


def decide(n: int, k: int, alpha: float) -> SignTest:
    """The sign test on counts: ``k`` of ``n`` seeds meet the bound.

    >>> decide(10, 9, 0.05).decision, decide(10, 8, 0.05).decision, decide(5, 0, 0.05).decision
    ('holds', 'inconclusive', 'refuted')
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha!r}")
    if n < 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p_holds = binom_tail(n, k)
    p_refuted = binom_tail(n, n - k)  # P(Bin <= k) = P(Bin >= n - k) by symmetry
    if n and p_holds <= alpha:
        decision = HOLDS
    elif n and p_refuted <= alpha:
        decision = REFUTED
    else:
        decision = INCONCLUSIVE
    return SignTest(n, k, p_holds, p_refuted, alpha, decision)


def sign_test(values: Sequence[float], op: str, bound: float, alpha: float) -> SignTest:
    """Do the seeds' ``values`` meet ``op bound``? (see the module docstring)

    >>> sign_test([0.7, 0.8, 0.75, 0.9, 0.66], ">=", 0.65, 0.05).decision
    'holds'
    >>> sign_test([0.7, 0.8, 0.6, 0.9, 0.66], ">=", 0.65, 0.05).decision
    'inconclusive'
    """
    k = sum(meets(float(v), op, bound) for v in values)
    return decide(len(values), k, alpha)


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


def look_alpha(n_looks: int, alpha: float = ALPHA) -> float:
    """The level of each of ``n_looks`` looks (Bonferroni): ``alpha / n_looks``."""
    if n_looks < 1:
        raise ValueError(f"need at least one look, got {n_looks}")
    return alpha / n_looks


def decision_probability(q: float, counts: Sequence[int], alpha: float, decision: str = HOLDS) -> float:
    """Chance that the sequential rule ends in ``decision`` for a check each of whose seeds meets it w.p. ``q``.

    ``counts``: the seed counts of the looks (:func:`looks`); every look runs
    at ``alpha / len(counts)``. Exact (dynamic programming over the number of
    seeds meeting the bound). Used to keep a gate only where new seeds would
    decide it reliably.

    >>> round(decision_probability(1.0, [5, 10], 0.1), 6), round(decision_probability(0.9, [5, 10], 0.1), 3)
    (1.0, 0.784)
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q!r}")
    level = look_alpha(len(counts), alpha)
    alive = {0: 1.0}  # seeds meeting the bound so far -> probability, on paths still undecided
    done = 0
    reached = 0.0
    for n in counts:
        step = n - done
        grown: dict[int, float] = {}
        for k, p in alive.items():
            for j in range(step + 1):
                grown[k + j] = grown.get(k + j, 0.0) + p * math.comb(step, j) * q**j * (1 - q) ** (step - j)
        alive = {}
        for k, p in grown.items():
            d = decide(n, k, level).decision
            if d == decision:
                reached += p
            elif d == INCONCLUSIVE:
                alive[k] = p
        done = n
    return reached
