"""The verdict rule (genprobe.stats): exact tails, the exact sequential design's error (against brute force),
properties, and its error rate by simulation."""

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
    d = stats.design(plan)
    assert plan == [5, 10, 15] and d.holds_at == (5, 8, 11) and d.refuted_at == (0, 2, 4)
    assert [d.decide(0, k) for k in (5, 4, 1, 0)] == [HOLDS, INCONCLUSIVE, INCONCLUSIVE, REFUTED]
    assert [d.decide(1, k) for k in (8, 7, 3, 2)] == [HOLDS, INCONCLUSIVE, INCONCLUSIVE, REFUTED]
    assert [d.decide(2, k) for k in (11, 10, 5, 4)] == [HOLDS, INCONCLUSIVE, INCONCLUSIVE, REFUTED]
    # each look's nominal level is the sign test's p-value at its boundary
    for i, n in enumerate(plan):
        for k in range(n + 1):
            assert decide(n, k, d.holds_level[i], d.refuted_level[i]).decision == d.decide(i, k)


def _brute_force_error(plan, holds_at, refuted_at=None, q=0.5):
    """P(the rule ever says holds), by listing every sequence of seeds meeting or missing the bound: an oracle
    independent of the dynamic programme. ``refuted_at`` None: non-binding (nothing stops the sequence)."""
    n_max = plan[-1]
    meets = (np.arange(2**n_max)[:, None] >> np.arange(n_max)) & 1  # every sequence, one per row
    p = np.prod(np.where(meets == 1, q, 1 - q), axis=1)
    running = np.cumsum(meets, axis=1)
    said, stopped = np.zeros(len(p), bool), np.zeros(len(p), bool)
    for i, n in enumerate(plan):
        k = running[:, n - 1]
        said |= ~stopped & (k >= holds_at[i])
        stopped |= k >= holds_at[i]
        if refuted_at is not None:
            stopped |= k <= refuted_at[i]
    return float(math.fsum(p[said]))


def test_the_default_design_spends_its_stated_error_exactly():
    """The docs' figure (docs/explanation/verdicts.md): looks at 5, 10, 15 seeds spend between 0.9 and 1 times
    alpha per direction, counted over all 2^15 sequences of seeds (not by the dynamic programme the design uses)."""
    d = stats.design([5, 10, 15], stats.ALPHA)
    holds = _brute_force_error(d.counts, d.holds_at)
    refuted = _brute_force_error(d.counts, [n - r for n, r in zip(d.counts, d.refuted_at)])
    assert holds == pytest.approx(d.error_holds, abs=1e-12) and refuted == pytest.approx(d.error_refuted, abs=1e-12)
    for e in (holds, refuted):
        assert 0.9 * stats.ALPHA <= e <= stats.ALPHA
    assert holds == pytest.approx(0.0967, abs=5e-5)
    # the rule as run stops at its first decision, so it errs no more than the non-binding figure
    assert _brute_force_error(d.counts, d.holds_at, d.refuted_at) <= holds
    # the old rule (alpha / 3 at each look) spent 0.046 of it
    assert _brute_force_error([5, 10, 15], [5, 9, 12]) == pytest.approx(0.0459, abs=5e-5)


plans = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(
    lambda steps: [sum(steps[: i + 1]) for i in range(len(steps))]
)
levels = st.sampled_from([0.01, 0.025, 0.05, 0.1, 0.2])


@given(plans, levels, st.integers(1, 8))
def test_every_design_spends_at_most_its_error_and_as_much_as_one_boundary_allows(plan, alpha, checks):
    d = stats.design(plan, alpha, checks)
    assert d.error_holds <= alpha + 1e-12 and d.error_refuted <= alpha / checks + 1e-12
    assert _brute_force_error(plan, d.holds_at) == pytest.approx(d.error_holds, abs=1e-12)
    # no boundary can be lowered by one without spending more than alpha (or deciding at half the seeds)
    for i, n in enumerate(plan):
        lower = list(d.holds_at)
        lower[i] -= 1
        assert lower[i] <= n / 2 or stats.crossing_probability(plan, lower) > alpha


@given(plans, levels, st.integers(1, 8))
def test_holds_and_refuted_exclude_each_other_and_are_monotone_in_the_count(plan, alpha, checks):
    d = stats.design(plan, alpha, checks)
    for i, n in enumerate(plan):
        assert d.refuted_at[i] < n / 2 < d.holds_at[i]
        decisions = [ORDER[d.decide(i, k)] for k in range(n + 1)]
        assert decisions == sorted(decisions)


@given(plans, levels)
def test_the_holds_error_only_falls_below_the_boundary(plan, alpha):
    """q = 1/2 is the worst case of "the median misses the bound": at every q < 1/2 a wrong "holds" is rarer."""
    d = stats.design(plan, alpha)
    at_half = stats.crossing_probability(plan, d.holds_at, 0.5)
    for q in (0.1, 0.3, 0.45):
        assert stats.crossing_probability(plan, d.holds_at, q) <= at_half + 1e-12


def test_a_claim_of_many_checks_refutes_at_alpha_over_m():
    """Claim-level error on the refuting side: m checks each at alpha / m, so wrongly refuting a true claim
    (any one check refuted) is at most alpha. With 6 checks, 0 of 5 seeds (p = 1/32) cannot refute yet."""
    for m in range(1, 9):
        d = stats.design([5, 10, 15], stats.ALPHA, checks=m)
        assert m * d.error_refuted <= stats.ALPHA + 1e-12
        assert d.holds_at == stats.design([5, 10, 15]).holds_at  # holding is an intersection-union test: alpha
    six = stats.design([5, 10, 15], stats.ALPHA, checks=6)
    assert six.decide(0, 0) == INCONCLUSIVE and six.decide(1, 1) == REFUTED


def test_decision_probability_matches_simulation():
    for q in (0.5, 0.8, 0.9, 0.97):
        exact = stats.decision_probability(q, [5, 10, 15], stats.ALPHA)
        assert _sequential(q, [5, 10, 15], stats.ALPHA, trials=20000, seed=4)[HOLDS] == pytest.approx(exact, abs=0.01)
    assert stats.decision_probability(0.0, [5, 10, 15], stats.ALPHA, REFUTED) == 1.0
    # the figure: a check met by 80 % of seeds is decided 86 % of the time (the old rule: 70 %)
    assert stats.decision_probability(0.8, [5, 10, 15], stats.ALPHA) == pytest.approx(0.861, abs=5e-4)
    out = stats.design([5, 10, 15]).outcome(0.8)
    assert out[HOLDS] + out[REFUTED] + out[INCONCLUSIVE] == pytest.approx(1.0)
    assert 5 <= out["seeds"] <= 15


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(ValueError, match="alpha must be in"):
        decide(5, 5, 0.5)
    with pytest.raises(ValueError, match="increasing positive"):
        stats.design([10, 5])
    with pytest.raises(ValueError, match="k <= n"):
        decide(5, 6, 0.05)
    with pytest.raises(ValueError, match="op"):
        sign_test([1.0], ">", 0, 0.05)


def _sequential(q: float, plan: list[int], alpha: float, trials: int, seed: int) -> dict[str, float]:
    """Share of simulated claims decided each way when each seed meets the bound with probability q."""
    rng = np.random.default_rng(seed)
    meets = rng.random((trials, plan[-1])) < q
    design = stats.design(plan, alpha)
    out = {HOLDS: 0, REFUTED: 0, INCONCLUSIVE: 0}
    for row in meets:
        for i, n in enumerate(plan):
            d = design.decide(i, int(row[:n].sum()))
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
