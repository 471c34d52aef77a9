"""The verdict rule (genprobe.stats): exact tails, properties, and its error rate by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from genprobe import stats
from genprobe.stats import HOLDS, INCONCLUSIVE, REFUTED, decide, looks, sign_test

ORDER = {REFUTED: 0, INCONCLUSIVE: 1, HOLDS: 2}
values = st.lists(st.floats(min_value=-10, max_value=10, allow_nan=False) | st.just(math.nan), min_size=1, max_size=20)
alphas = st.sampled_from([0.01, 0.033, 0.05, 0.1, 0.2])


@pytest.mark.parametrize("n", [1, 5, 10, 15, 30])
def test_binomial_tail_matches_scipy(n):
    for k in range(-1, n + 2):
        assert stats.binom_tail(n, k) == pytest.approx(scipy_stats.binom.sf(k - 1, n, 0.5), abs=1e-15)


@given(values, st.floats(-10, 10), alphas)
def test_never_both_and_p_values_are_consistent(vals, bound, alpha):
    t = sign_test(vals, ">=", bound, alpha)
    assert t.decision in ORDER
    assert not (t.p_holds <= alpha and t.p_refuted <= alpha)  # the two tails sum to more than 1
    assert t.k == sum(v >= bound for v in vals if not math.isnan(v))


@given(values, st.floats(-10, 10), alphas, st.data())
def test_monotone_in_the_values(vals, bound, alpha, data):
    """Raising a value never moves a '>=' verdict towards refuted, nor a '<=' one towards holds;
    a diverged seed (NaN) is the worst value for both, so replacing it never makes a verdict worse."""
    i = data.draw(st.integers(0, len(vals) - 1))
    changed = list(vals)
    if math.isnan(vals[i]):
        changed[i] = data.draw(st.floats(min_value=-20, max_value=20))
        for op in (">=", "<="):
            assert (
                ORDER[sign_test(changed, op, bound, alpha).decision]
                >= ORDER[sign_test(vals, op, bound, alpha).decision]
            )
        return
    changed[i] = vals[i] + data.draw(st.floats(0, 10))
    assert ORDER[sign_test(changed, ">=", bound, alpha).decision] >= ORDER[sign_test(vals, ">=", bound, alpha).decision]
    assert ORDER[sign_test(changed, "<=", bound, alpha).decision] <= ORDER[sign_test(vals, "<=", bound, alpha).decision]


@given(values, st.floats(-10, 10), alphas)
def test_symmetric(vals, bound, alpha):
    """Mirroring the values and the bound changes nothing; swapping meets and misses swaps the verdict."""
    a = sign_test(vals, ">=", bound, alpha)
    b = sign_test([-v for v in vals], "<=", -bound, alpha)
    assert (a.k, a.decision) == (b.k, b.decision)
    swap = {HOLDS: REFUTED, REFUTED: HOLDS, INCONCLUSIVE: INCONCLUSIVE}
    assert decide(a.n, a.n - a.k, alpha).decision == swap[a.decision]


@given(st.permutations(list(range(10))), alphas)
def test_order_of_the_seeds_does_not_matter(perm, alpha):
    vals = [0.1 * i for i in range(10)]
    assert sign_test([vals[i] for i in perm], ">=", 0.25, alpha) == sign_test(vals, ">=", 0.25, alpha)


def test_a_nan_seed_misses_every_bound():
    assert sign_test([math.nan] * 5, ">=", -math.inf, 0.05).decision == REFUTED
    assert sign_test([math.nan] * 5, "<=", math.inf, 0.05).decision == REFUTED
    assert sign_test([1.0] * 5, ">=", math.nan, 0.05).decision == REFUTED


def test_the_default_plan_decides_at_five_seeds():
    plan = looks(5, 5, 15)
    level = stats.look_alpha(len(plan))
    assert plan == [5, 10, 15] and level == pytest.approx(0.1 / 3)
    assert decide(5, 5, level).decision == HOLDS and decide(5, 4, level).decision == INCONCLUSIVE
    assert decide(10, 9, level).decision == HOLDS and decide(10, 8, level).decision == INCONCLUSIVE
    assert decide(15, 12, level).decision == HOLDS and decide(15, 11, level).decision == INCONCLUSIVE
    assert decide(10, 1, level).decision == REFUTED and decide(5, 0, level).decision == REFUTED


def test_decision_probability_matches_simulation():
    for q in (0.5, 0.9, 0.97):
        exact = stats.decision_probability(q, [5, 10, 15], stats.ALPHA)
        assert _sequential(q, [5, 10, 15], stats.ALPHA, trials=20000, seed=4)[HOLDS] == pytest.approx(exact, abs=0.01)
    assert stats.decision_probability(0.0, [5, 10, 15], stats.ALPHA, REFUTED) == 1.0


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(ValueError, match="alpha must be in"):
        decide(5, 5, 0.5)
    with pytest.raises(ValueError, match="k <= n"):
        decide(5, 6, 0.05)
    with pytest.raises(ValueError, match="op"):
        sign_test([1.0], ">", 0, 0.05)


def _sequential(q: float, plan: list[int], alpha: float, trials: int, seed: int) -> dict[str, float]:
    """Share of simulated claims decided each way when each seed meets the bound with probability q."""
    rng = np.random.default_rng(seed)
    meets = rng.random((trials, plan[-1])) < q
    level = stats.look_alpha(len(plan), alpha)
    out = {HOLDS: 0, REFUTED: 0, INCONCLUSIVE: 0}
    for row in meets:
        for n in plan:
            d = decide(n, int(row[:n].sum()), level).decision
            if d != INCONCLUSIVE:
                break
        out[d] += 1
    return {k: v / trials for k, v in out.items()}


@pytest.mark.parametrize("plan", [[5, 10], [5, 10, 15], [10]])
def test_error_rate_over_all_looks_is_at_most_alpha(plan):
    """At the boundary (a seed meets the bound half the time) neither verdict comes out more than alpha of the time."""
    alpha = stats.ALPHA
    shares = _sequential(0.5, plan, alpha, trials=20000, seed=1)
    se = math.sqrt(alpha * (1 - alpha) / 20000)
    assert shares[HOLDS] <= alpha + 3 * se and shares[REFUTED] <= alpha + 3 * se
    # on the wrong side of the boundary a wrong verdict is rarer still
    assert _sequential(0.3, plan, alpha, trials=20000, seed=2)[HOLDS] <= shares[HOLDS]


def test_power_a_claim_every_seed_meets_is_decided_at_the_first_look():
    assert _sequential(1.0, [5, 10], stats.ALPHA, trials=100, seed=0)[HOLDS] == 1.0
    # 95 % of seeds meeting the bound: decided nearly always within 10 seeds
    assert _sequential(0.95, [5, 10], stats.ALPHA, trials=5000, seed=3)[HOLDS] > 0.9
