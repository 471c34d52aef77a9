"""With no effect, the paired rules of ``slower`` and ``less-stable`` say "holds" at most alpha of the time.

Each simulated seed has two runs whose values are exchangeable (drawn from
one law, sharing a seed effect): no effect of N. Their paired per-seed value
is formed by the claims' own rules (:func:`genprobe.claims.delay` against
:data:`genprobe.claims.LATER` for reach times censored at a common end, the
ratio of :func:`genprobe.claims.less_stable_check`, strictly above 1, for
instabilities), judged by :func:`genprobe.verdicts.decide_over_seeds` on a
profile's plan of looks, in verdicts of 1 to 4 checks. The simulated rate of
a wrong "holds" is held to the design's exact error (at most alpha) by an
exact binomial test at level 1e-6, which a rule erring at 0.2 (the old
unpaired rule) fails by far. Deterministic (seeded), a few seconds in all.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genprobe import claims, stats
from genprobe.runs import RunResult, RunSpec
from genprobe.verdicts import HOLDS, Check, Verdict, decide_over_seeds

ALPHA = stats.ALPHA
TRIALS = 1500
PLANS = {top: stats.looks(5, 5, top) for top in (5, 10, 15, 20, 30)}  # the profiles' plans (Profile.plan)
LAWS = ("normal", "heavy-tailed", "discrete with ties", "censored", "zero-inflated")
ABOVE_ONE = math.nextafter(1.0, math.inf)  # less_stable_check's bound at factor 1


def _upper_tail(n: int, k: int, p: float) -> float:
    """``P(Binomial(n, p) >= k)``, exactly (log space)."""
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    logs = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p) + (n - i) * math.log1p(-p)
        for i in range(k, n + 1)
    ]
    top = max(logs)
    return min(1.0, math.exp(top) * math.fsum(math.exp(x - top) for x in logs))


def _runs(rng: np.random.Generator, law: str, shape: tuple[int, ...]) -> np.ndarray:
    """Run values with no effect of N: a seed effect (shared by the seed's runs, axis 0 is the seed) plus
    independent noise, all drawn from one law, so the runs of a seed are exchangeable."""
    seed_shape = (shape[0],) + (1,) * (len(shape) - 1)
    if law == "normal":
        return rng.normal(size=seed_shape) + rng.normal(size=shape)
    if law == "heavy-tailed":
        return rng.standard_cauchy(size=seed_shape) + rng.standard_cauchy(size=shape)
    if law == "discrete with ties":  # a coarse checkpoint grid: ties are common
        return (rng.integers(0, 2, size=seed_shape) + rng.integers(0, 3, size=shape)).astype(float)
    if law == "censored":  # reach times on a grid, censored at a common end (~40 % never reach)
        t = np.ceil(10 * rng.exponential(size=seed_shape) * rng.exponential(size=shape))
        return np.where(t > 10, math.inf, t)
    if law == "zero-inflated":  # instabilities, with nets that never change (0) on a third of the runs
        x = np.exp(rng.normal(size=seed_shape) + rng.normal(size=shape))
        return np.where(rng.random(size=shape) < 1 / 3, 0.0, x)
    raise ValueError(law)


def _per_seed(rule: str, small: np.ndarray, big: np.ndarray) -> list[float]:
    """The claims' paired value of each seed, as the claim functions form it."""
    if rule == "delay":  # reach times: integers (a checkpoint grid) or inf (never reached by the end)
        small, big = np.round(np.abs(small) * 10), np.round(np.abs(big) * 10)
        return [claims.delay(float(a), float(b)) for a, b in zip(small, big)]
    return [claims._ratio(float(abs(a)), float(abs(b))) for a, b in zip(small, big)]


class _Seeds:
    def __init__(self, seeds: tuple[int, ...] = ()):
        self.seeds = seeds

    def on(self, seeds):
        return _Seeds(tuple(seeds))


def wrong_holds(rule: str, law: str, counts: list[int], checks: int, others: str, seed: int) -> int:
    """How many of TRIALS claims with no effect on check 0 end "holds".

    ``checks`` checks per verdict; with ``others="null"`` every check is a
    neighbouring pair of one chain of sizes, as in ``slower`` (N_0 against
    N_1, N_1 against N_2, ...: neighbouring checks share runs), each with no
    effect; with ``others="hold"`` the other checks hold on every seed (the
    least favourable case of a claim that holds only when all its checks do).
    """
    rng = np.random.default_rng(seed)
    op, bound = (">=", claims.LATER) if rule == "delay" else (">=", ABOVE_ONE)
    plan = [tuple(range(c)) for c in counts]
    n = counts[-1]
    wrong = 0
    for _ in range(TRIALS):
        chain = _runs(rng, law, (n, checks + 1))
        values = [_per_seed(rule, chain[:, i + 1], chain[:, i]) for i in range(checks)]
        if others == "hold":
            values[1:] = [[math.inf] * n for _ in values[1:]]

        def verdict(g, values=values):
            s = list(g.seeds)
            return Verdict(
                "c", "s", "x", 1, s, [Check(f"m{i}", [v[j] for j in s], op, bound) for i, v in enumerate(values)]
            )

        wrong += decide_over_seeds(verdict, _Seeds(), plan, ALPHA).status == HOLDS
    return wrong


@settings(max_examples=14, deadline=None, derandomize=True)
@given(
    rule=st.sampled_from(["delay", "ratio"]),
    law=st.sampled_from(LAWS),
    top=st.sampled_from(sorted(PLANS)),
    checks=st.integers(1, 4),
    others=st.sampled_from(["null", "hold"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_with_no_effect_a_paired_claim_holds_at_most_alpha_of_the_time(rule, law, top, checks, others, seed):
    counts = PLANS[top]
    wrong = wrong_holds(rule, law, counts, checks, others, seed)
    error = stats.design(counts, ALPHA).error_holds  # the design's exact error at q = 1/2, <= alpha
    assert error <= ALPHA
    # exact binomial test: so many wrong "holds" would come from a rule erring at `error` < 1e-6 of the time
    assert _upper_tail(TRIALS, wrong, error) > 1e-6, (wrong / TRIALS, error)


def test_the_worst_case_no_effect_law_spends_the_designs_error():
    """Continuous, untied, uncensored, one check, the other checks always holding: each seed is later with
    chance exactly 1/2, so the rate is the design's exact error (0.0967 on 5/10/15 seeds), not lower."""
    counts = PLANS[15]
    wrong = wrong_holds("ratio", "normal", counts, 2, "hold", seed=7)
    error = stats.design(counts, ALPHA).error_holds
    assert round(error, 4) == 0.0967
    assert _upper_tail(TRIALS, wrong, error) > 1e-6 and _upper_tail(TRIALS, TRIALS - wrong, 1 - error) > 1e-6


def _old_rule_wrong_holds(counts: list[int], seed: int, trials: int = TRIALS) -> int:
    """The rule that was replaced: each seed's small-N value against the median of the same look's seeds
    at the big N (a bound computed from the data it judges), no effect of N, continuous values."""
    rng = np.random.default_rng(seed)
    plan = [tuple(range(c)) for c in counts]
    wrong = 0
    for _ in range(trials):
        small, big = rng.normal(size=counts[-1]), rng.normal(size=counts[-1])

        def verdict(g, small=small, big=big):
            s = list(g.seeds)
            bound = float(np.median(big[s]))
            return Verdict("c", "s", "x", 1, s, [Check("m", list(small[s]), ">=", bound)])

        wrong += decide_over_seeds(verdict, _Seeds(), plan, ALPHA).status == HOLDS
    return wrong


def test_the_old_unpaired_rule_erred_beyond_alpha():
    """Why it was replaced: with no effect it said "holds" about 0.22 of the time on the 5/10/15-seed plan
    (against the stated 0.0967), far beyond what chance allows a rule within alpha."""
    wrong = _old_rule_wrong_holds(PLANS[15], seed=3)
    assert _upper_tail(TRIALS, wrong, ALPHA) < 1e-6
    assert 0.17 < wrong / TRIALS < 0.28


def test_the_old_rule_at_one_look_of_five_seeds_is_21_in_252_exactly():
    """5 of 5 seeds above the median of the other 5: the 3 lowest of the 10 ranks must be the big N's,
    so C(7, 5) of the C(10, 5) equally likely rank sets: 21/252 = 0.083, not the sign test's 1/32."""
    hits = 0
    for small in itertools.combinations(range(10), 5):
        big = sorted(set(range(10)) - set(small))
        hits += min(small) > big[2]
    assert Fraction(hits, math.comb(10, 5)) == Fraction(21, 252)


def _run(seed: int, n: int, epochs: np.ndarray, onset: float, jitter: np.ndarray) -> RunResult:
    """A run whose held-out IoU is 0 before ``onset`` and about 0.6 after, jittering per checkpoint."""
    iou = np.where(epochs >= onset, 0.6 * jitter, 0.0)
    spec = RunSpec(truth="ring@64", n=n, seed=seed, epochs=int(epochs[-1]))
    history = {"epoch": epochs.astype(float), "step": epochs.astype(float), "held_out_iou": iou}
    return RunResult(spec, history, {}, np.ones((2, 2), np.float32), None, np.arange(n), None)


END_TO_END_TRIALS = 400


def _end_to_end(spacing: tuple[int, int], claim_names=("slower", "less-stable")) -> dict[str, int]:
    """Wrong "holds" of ``claims.slower`` and ``claims.less_stable`` over END_TO_END_TRIALS claims with no
    effect of N, the big N on a grid of ``spacing[0]`` epochs up to 2000, the small N trained twice as
    long on a grid of ``spacing[1]``."""
    rng = np.random.default_rng(5)
    counts, end = PLANS[15], 2000
    plan = [tuple(range(c)) for c in counts]
    fine, coarse = np.r_[np.arange(0, end, spacing[0]), end], np.arange(0, 2 * end + 1, spacing[1])
    wrong = dict.fromkeys(claim_names, 0)
    for _ in range(END_TO_END_TRIALS):
        base = rng.exponential(600, size=counts[-1])
        runs: dict[int, list[RunResult]] = {5000: [], 2500: []}
        for n, grid in ((5000, fine), (2500, coarse)):
            for s in range(counts[-1]):
                onset = base[s] + rng.exponential(600)
                runs[n].append(_run(s, n, grid, onset, np.exp(rng.normal(0, 0.2, size=len(grid)))))

        def slow(g, runs=runs):
            return claims.slower({n: [runs[n][s] for s in g.seeds] for n in runs}, level=0.5, end_epoch=end)

        def shaky(g, runs=runs):
            by_n = {n: [runs[n][s] for s in g.seeds] for n in runs}
            return claims.less_stable(by_n, small=(2500,), end_epoch=end)

        for name, build in (("slower", slow), ("less-stable", shaky)):
            if name in wrong:
                wrong[name] += decide_over_seeds(build, _Seeds(), plan, ALPHA).status == HOLDS
    return wrong


@pytest.mark.parametrize("spacing", [(40, 80), (60, 200)])
def test_the_claim_functions_hold_with_no_effect_at_most_alpha_of_the_time_on_different_grids(spacing):
    """End to end, through ``claims.slower`` and ``claims.less_stable``: both sizes' runs of a seed are
    drawn from one law (a seed effect on the onset, ~1/4 of runs never reaching the level by the end),
    the small N trained longer on a coarser grid, as in the profiles (smoke: twice as coarse, nested;
    paper: 200 against 60 epochs, not nested). Read on one grid (``claims.shared_grid``), the
    wrong-"holds" rate stays within the design's error (0.040 and 0.048 nested, 0.025 and 0.080 not,
    against 0.0967)."""
    error = stats.design(PLANS[15], ALPHA).error_holds
    for claim, k in _end_to_end(spacing).items():
        assert _upper_tail(END_TO_END_TRIALS, k, error) > 1e-6, (claim, k / END_TO_END_TRIALS, error)


def test_each_run_read_on_its_own_grid_would_err_beyond_alpha(monkeypatch):
    """Why both runs are read on one grid: on their own (60 against 200 epochs, as in the paper profile)
    the coarser run's reach time is rounded up further, and with no effect "slower" held 0.19 of the
    time (less-stable 0.17)."""
    monkeypatch.setattr(claims, "shared_grid", lambda a, b: None)
    k = _end_to_end((60, 200), ("slower",))["slower"]
    assert _upper_tail(END_TO_END_TRIALS, k, stats.design(PLANS[15], ALPHA).error_holds) < 1e-6
