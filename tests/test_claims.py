"""Claim functions and verdict rules on hand-made histories (no training)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genprobe import claims, stats
from genprobe.runs import RunResult, RunSpec
from genprobe.verdicts import HOLDS, INCONCLUSIVE, REFUTED, Check


def fake(seed: int, iou, n: int = 300, epochs=None, diverged_at=None, **metrics) -> RunResult:
    iou = np.asarray(iou, dtype=float)
    epochs = np.arange(len(iou)) * 100 if epochs is None else np.asarray(epochs)
    spec = RunSpec(truth="ring@64", n=n, seed=seed, epochs=int(epochs[-1]) or 1)
    history = {
        "epoch": epochs,
        "step": epochs,
        "held_out_iou": iou,
        "true_components": np.ones(len(iou)),
        "true_holes": np.ones(len(iou)),
    }
    for k, v in metrics.items():
        history[k] = np.asarray(v, dtype=float)
    return RunResult(
        spec=spec,
        history=history,
        final={},
        prediction=np.ones((2, 2), np.float32),
        boundaries=None,
        train_indices=np.arange(n),
        diverged_at=diverged_at,
    )


def test_window_is_the_median_of_the_late_checkpoints():
    r = fake(0, [0, 0, 0, 0, 0, 0.1, 0.9, 0.8, 0.0, 0.85, 0.8])  # a late collapse to 0 at one checkpoint
    assert claims.window(r, "held_out_iou") == pytest.approx(0.8)
    assert claims.window(r, "held_out_iou", end_epoch=500) == pytest.approx(0.05)  # epochs 400 and 500


def test_window_skips_undefined_checkpoints():
    r = fake(0, [0.5] * 5, annulus_share=[1, 1, np.nan, 0.9, 0.8])
    assert claims.window(r, "annulus_share", frac=0.5) == pytest.approx(0.85)


def test_reach_time_needs_a_run_of_checkpoints():
    r = fake(0, [0, 0.6, 0, 0, 0.5, 0.6, 0.7, 0.2])
    assert claims.reach_time(r, "held_out_iou", 0.5) == 400.0  # the lone spike at 100 does not count
    assert claims.reach_time(r, "held_out_iou", 0.9) == math.inf
    assert claims.reach_time(r, "held_out_iou", 0.5, end_epoch=500) == math.inf


def test_check_rules():
    """A check is a sign test on how many seeds meet the bound (genprobe.stats)."""
    assert Check("m", [0.8] * 5, ">=", 0.75, alpha=0.05).status == HOLDS  # 5 of 5: p = 0.031
    assert Check("m", [0.8] * 4 + [0.7], ">=", 0.75, alpha=0.05).status == INCONCLUSIVE  # 4 of 5: p = 0.19
    assert Check("m", [0.7] * 5, ">=", 0.75, alpha=0.05).status == REFUTED
    assert Check("m", [1.0, 2.0, 1.5, 0.5, 2.0], "<=", 2.0, alpha=0.05).status == HOLDS  # the bound itself meets it
    c = Check("m", [0.8] * 9 + [0.1], ">=", 0.75, alpha=0.05)
    assert c.status == HOLDS and c.decision == "9 of 10 seeds >= 0.75: holds, error <= 0.011"
    with pytest.raises(ValueError, match="op"):
        Check("m", [1.0], ">", 0)


def test_a_diverged_seed_counts_as_failed_with_a_note():
    good = [fake(s, [0.8] * 5) for s in range(4)]
    bad = fake(4, [0.8, 0.8, 0.8, np.nan, np.nan], diverged_at=250)
    v = claims.threshold(good + [bad], "held_out_iou", ">=", 0.7).at_level(0.05)
    assert math.isnan(v.checks[0].values[4])
    assert v.status == INCONCLUSIVE  # 4 of 5: the diverged seed misses the bound
    assert any("diverged" in note and "failed seed" in note for note in v.notes)
    assert "1 diverged" in v.checks[0].measured
    all_bad = [fake(s, [0.8] * 5, diverged_at=100) for s in range(5)]
    assert claims.threshold(all_bad, "held_out_iou", ">=", 0.7).at_level(0.05).status == REFUTED


def test_sequential_decision_stops_once_decided_and_uses_the_look_level():
    """decide_over_seeds: more seeds only while inconclusive; each look at alpha / looks."""
    from genprobe.verdicts import decide_over_seeds

    class Seeds:
        def __init__(self, seeds=()):
            self.seeds, self.asked = tuple(seeds), []

        def on(self, seeds):
            self.asked.append(tuple(seeds))
            return Seeds(seeds)

    values = {s: 0.8 for s in range(10)} | {1: 0.1}  # seed 1 misses the bound

    def build(g):
        return claims.threshold([fake(s, [values[s]] * 5) for s in g.seeds], "held_out_iou", ">=", 0.7)

    probe = Seeds()
    v = decide_over_seeds(build, probe, [tuple(range(5)), tuple(range(10))], alpha=0.1)
    assert probe.asked == [tuple(range(5)), tuple(range(10))]  # 4 of 5 undecided, 9 of 10 decide
    level = stats.design([5, 10], 0.1).holds_level[1]  # the exact design's level at 10 seeds: 8 of 10 hold
    assert v.status == HOLDS and (v.look, v.looks) == (2, 2) and v.checks[0].alpha == level
    values[1] = 0.8
    probe = Seeds()
    v = decide_over_seeds(build, probe, [tuple(range(5)), tuple(range(10))], alpha=0.1)
    assert probe.asked == [tuple(range(5))] and v.status == HOLDS and v.look == 1


def test_a_claim_of_six_checks_refutes_only_at_its_share_of_the_error():
    """Refuting is error-controlled per claim: each of 6 checks refutes at 0.1 / 6, which 0 of 5 seeds
    (p = 1/32) does not reach; 10 seeds do. A claim of 1 check refutes at 0 of 5."""
    from genprobe.verdicts import decide_over_seeds

    plan = [tuple(range(5)), tuple(range(10)), tuple(range(15))]
    six = decide_over_seeds(_claim([0] * 6), _Seeds(), plan, alpha=0.1)
    assert six.status == REFUTED and six.look == 2
    one = decide_over_seeds(_claim([0]), _Seeds(), plan, alpha=0.1)
    assert one.status == REFUTED and one.look == 1
    assert six.checks[0].alpha_refuted == stats.design([5, 10, 15], 0.1, checks=6).refuted_level[1]


class _Seeds:
    def __init__(self, seeds=()):
        self.seeds = tuple(seeds)

    def on(self, seeds):
        return _Seeds(seeds)


def _claim(counts_met):
    """A claim whose check i is met on the first counts_met[i] seeds of each look."""
    from genprobe.verdicts import Verdict

    return lambda g: Verdict(
        "c",
        "s",
        "x",
        1,
        list(g.seeds),
        [
            Check(f"m{i}", [1.0 if j < k else 0.0 for j in range(len(g.seeds))], ">=", 1)
            for i, k in enumerate(counts_met)
        ],
    )


def test_a_control_refutes_by_its_declared_check_from_five_seeds():
    """refuted_by: the refuting error goes to the declared check alone, so 0 of 5 refutes a claim of six
    checks at the first look; the undeclared checks are still measured, still decide "holds", and never
    refute (0 of 15 on an undeclared check leaves the claim inconclusive)."""
    from genprobe.verdicts import decide_over_seeds

    plan = [tuple(range(5)), tuple(range(10)), tuple(range(15))]
    v = decide_over_seeds(_claim([0] * 6), _Seeds(), plan, alpha=0.1, refuted_by=["m2"])
    assert v.status == REFUTED and v.look == 1 and v.refuted_by == ["m2"]
    assert [c.status for c in v.checks].count(REFUTED) == 1 and v.checks[2].status == REFUTED
    assert v.checks[2].alpha_refuted == stats.design([5, 10, 15], 0.1, checks=1).refuted_level[0]
    # an undeclared check at 0 of 15 refutes nothing; the declared one holding leaves it inconclusive
    w = decide_over_seeds(_claim([15, 0]), _Seeds(), plan, alpha=0.1, refuted_by="m0")
    assert w.status == INCONCLUSIVE and w.look == 3 and w.checks[1].alpha_refuted == 0.0
    # "holds" still needs every check
    assert decide_over_seeds(_claim([15, 15]), _Seeds(), plan, alpha=0.1, refuted_by="m0").status == HOLDS


def test_refuted_by_errs_at_most_alpha_for_the_claim():
    """Exact: a true claim (the declared checks each met with chance 1/2, the best case for a wrong
    "refuted") is refuted wrongly with chance at most alpha; two declared checks split it."""
    for declared in (1, 2, 3):
        d = stats.design([5, 10, 15], 0.1, checks=declared)
        assert declared * d.outcome(0.5)[REFUTED] <= 0.1 + 1e-12


def test_refuted_by_a_check_the_claim_lacks_is_one_line_naming_it():
    from genprobe.errors import GenprobeError
    from genprobe.verdicts import Verdict, decide_over_seeds

    with pytest.raises(GenprobeError, match=r"refuted_by='held_out' is not a check of c; its checks: 'm0'") as e:
        decide_over_seeds(_claim([0]), _Seeds(), [tuple(range(5))], alpha=0.1, refuted_by=["held_out"])
    assert "\n" not in str(e.value)
    v = decide_over_seeds(_claim([0, 5]), _Seeds(), [tuple(range(5))], alpha=0.1, refuted_by=["m0"])
    assert Verdict.from_json(v.to_json()).refuted_by == ["m0"]


def test_a_comparison_reads_the_reference_at_the_subjects_window():
    """Net against net with different budgets: both are read on the window ending at ``end_epoch``
    (the reference was read at its own end before, so a longer-trained reference scored its later IoU)."""
    short = [fake(s, [0.5] * 11) for s in range(5)]  # epochs 0..1000
    longer = [fake(s, [0.5] * 11 + [0.9] * 10) for s in range(5)]  # epochs 0..2000, better after 1000
    v = claims.compare(short, longer, "held_out_iou", ">=", -0.01, end_epoch=1000)
    assert v.checks[0].values == [0.0] * 5 and v.at_level(0.05).status == HOLDS


def test_longer_training_compares_two_windows_of_one_run():
    runs = [fake(s, [0.1] * 10 + [0.4] * 10) for s in range(5)]
    v = claims.longer_helps(runs, short_epoch=900, long_epoch=1900, min_gain=0.1)
    assert v.checks[0].values[0] == pytest.approx(0.3) and v.passed


def test_catching_up_compares_the_long_window_of_the_sparse_net_with_the_dense_net_at_the_short_one():
    """The sparse net's IoU at the long budget against the dense net's at the short budget, paired by seed:
    a sparse net that gains but stays below is not caught up; one that reaches the dense level is."""
    dense = [fake(s, [0.8] * 10, n=5000) for s in range(5)]  # 0.8 up to epoch 900
    gains = [fake(s, [0.1] * 10 + [0.4] * 10) for s in range(5)]  # gains 0.3, stays 0.4 below
    caught = [fake(s, [0.1] * 10 + [0.78] * 10) for s in range(5)]  # reaches 0.78: within 0.05
    args = {"short_epoch": 900, "long_epoch": 1900, "tolerance": 0.05}
    v = claims.catches_up(gains, dense, **args)
    assert v.checks[0].values[0] == pytest.approx(-0.4) and not v.passed
    assert claims.longer_helps(gains, short_epoch=900, long_epoch=1900, min_gain=0.1).passed
    w = claims.catches_up(caught, dense, **args)
    assert w.checks[0].values[0] == pytest.approx(-0.02) and w.passed
    with pytest.raises(ValueError, match="same seeds"):
        claims.catches_up(caught, dense[:4], **args)


def test_instability_is_zero_for_a_constant_model_and_positive_for_a_flickering_one():
    assert claims.late_instability(fake(0, [0.5] * 10)) == 0.0
    assert claims.late_instability(fake(0, [0.8, 0.0] * 5)) == pytest.approx(0.8)


def test_compare_needs_the_same_seeds():
    with pytest.raises(ValueError, match="same seeds"):
        claims.compare([fake(0, [0.5] * 3)], [fake(1, [0.5] * 3)], "held_out_iou", ">=", 0)


def test_verdict_round_trips_through_dict():
    from genprobe.verdicts import Verdict

    v = claims.threshold([fake(s, [0.8] * 5) for s in range(3)], "held_out_iou", ">=", 0.7)
    v.role = "control"
    v.at_level(0.05, 2, 2, alpha_refuted=0.01)
    w = Verdict.from_dict(v.to_dict())
    assert w.status == v.status and w.role == "control" and w.checks[0].values == v.checks[0].values
    assert (w.look, w.looks, w.checks[0].alpha, w.checks[0].alpha_refuted) == (2, 2, 0.05, 0.01)


def test_paired_comparisons_read_both_runs_at_the_same_late_window():
    """The reference's window is its own late training, not its first checkpoint (a regression)."""
    nets = [fake(s, [0.1, 0.5, 0.5, 0.5, 0.5]) for s in range(5)]
    refs = [fake(s, [0.9, 0.2, 0.2, 0.2, 0.2]) for s in range(5)]
    v = claims.compare(nets, refs, "held_out_iou", ">=", 0.25)
    assert v.checks[0].values == pytest.approx([0.3] * 5) and v.passed


def test_a_missing_value_is_reported_as_what_it_means():
    """NaN is a diverged run for a metric, but a seed with no frontier for a frontier check: the report
    says which, and the label survives the verdict's round trip."""
    from genprobe.verdicts import Check, Verdict

    assert "(1 diverged)" in Check("held_out_iou", [0.8, math.nan, 0.7], ">=", 0.5).measured
    c = Check("halvings", [1.0, math.nan, 0.0], ">=", 0.0, missing="with no frontier for either model")
    assert "(1 with no frontier for either model)" in c.measured and "diverged" not in c.measured
    v = claims.threshold([fake(s, [0.8] * 5) for s in range(3)], "held_out_iou", ">=", 0.7)
    v.checks = [c]
    assert Verdict.from_dict(v.to_dict()).checks[0].missing == c.missing


def _reaching(seed: int, at: int | None, n: int, length: int = 11) -> RunResult:
    """A run whose IoU reaches 0.5 at checkpoint ``at`` (epoch 100 * at) and stays; None: never."""
    k = length if at is None else at
    return fake(seed, [0.0] * k + [0.5] * (length - k), n=n)


def test_slower_compares_every_pair_of_neighbouring_sizes_paired_by_seed():
    """One check per neighbouring pair (5000/2500 included), each seed's smaller N against the same
    seed's larger N; per seed the difference of reach times."""
    at = {5000: [1, 1, 2, 1, 1], 2500: [2, 3, 2, 4, 1], 1250: [5, 5, 5, 5, 5]}
    runs = {n: [_reaching(s, a, n) for s, a in enumerate(at[n])] for n in at}
    v = claims.slower(runs, level=0.5)
    assert [c.metric for c in v.checks] == [
        "epochs to IoU>=0.5: N=2500 - N=5000",
        "epochs to IoU>=0.5: N=1250 - N=2500",
    ]
    assert v.checks[0].values == [100.0, 200.0, 0.0, 300.0, 0.0]  # seeds 2 and 4 tie: not slower
    assert v.checks[0].threshold == claims.LATER == 1.0
    assert v.checks[1].values == [300.0, 200.0, 300.0, 100.0, 400.0]
    assert v.checks[0].status == INCONCLUSIVE and v.checks[1].status == HOLDS  # 3 of 5, 5 of 5
    assert v.n == "5000..1250" and v.claim == "slower"


def test_slower_censors_at_a_common_end_and_a_seed_with_no_order_is_no_evidence():
    """The small N not reaching the level while the big one does is slower (+inf, meets); the reverse is
    faster (-inf); reaching it at neither has no order: NaN, a seed that misses, so a claim whose sizes
    never reach the level is refuted, never held, and the report says why."""
    assert claims.delay(math.inf, 300.0) == math.inf and claims.delay(300.0, math.inf) == -math.inf
    assert math.isnan(claims.delay(math.inf, math.inf)) and math.isnan(claims.delay(math.nan, 100.0))
    big = [_reaching(s, 2, 5000) for s in range(5)]
    late = [_reaching(s, 9, 2500) for s in range(5)]  # reaches at epoch 900, after the end at 500
    v = claims.slower({5000: big, 2500: late}, level=0.5, end_epoch=500)
    assert v.checks[0].values == [math.inf] * 5 and v.passed
    never = {n: [_reaching(s, None, n) for s in range(5)] for n in (5000, 2500)}
    w = claims.slower(never, level=0.5)
    assert all(math.isnan(x) for x in w.checks[0].values) and w.status == REFUTED
    assert "5 reached at neither by each run's end (no order)" in w.checks[0].measured
    diverged = [fake(s, [0.0, 0.0, 0.5, np.nan, np.nan], n=2500, diverged_at=300) for s in range(5)]
    assert all(math.isnan(x) for x in claims.slower({5000: big, 2500: diverged}, level=0.5).checks[0].values)


def test_slower_per_step_reads_the_step_axis():
    runs = {n: [_reaching(s, 2, n) for s in range(5)] for n in (5000, 2500)}
    for r in runs[5000]:
        r.history["step"] = r.history["epoch"] * 5  # five optimizer steps per epoch at 5000 points
    v = claims.slower(runs, level=0.5, x="step")
    assert v.checks[0].metric.startswith("steps to") and v.checks[0].values == [-800.0] * 5
    assert claims.slower(runs, level=0.5).checks[0].values == [0.0] * 5  # per epoch: a tie


def test_relative_instability_is_level_free_and_zero_for_a_net_that_never_changes():
    wobble = [0.8, 0.6] * 5
    r = claims.relative_instability(fake(0, wobble), frac=1.0)  # every checkpoint: mean 0.7, jumps 0.2
    assert r == pytest.approx(0.2 / 0.7)
    assert claims.relative_instability(fake(0, [v / 8 for v in wobble]), frac=1.0) == pytest.approx(r)  # any scale
    assert claims.relative_instability(fake(0, wobble)) == pytest.approx(0.2 / 0.68)  # the last half by default
    assert claims.relative_instability(fake(0, [0.0] * 10)) == 0.0  # stuck at IoU 0: not unstable
    assert claims.relative_instability(fake(0, [0.5] * 10)) == 0.0
    assert claims.relative_instability(fake(0, [0.6, 0.0] * 5), frac=1.0) == pytest.approx(0.6 / 0.3)  # to white
    assert math.isnan(claims.relative_instability(fake(0, [0.5] * 10, diverged_at=500)))


def test_absolute_instability_calls_a_low_net_that_jumps_proportionally_more_the_steadier():
    """Why the claim is level-free: a 312-point net drawing little (IoU 0.1, losing half of it at every
    other checkpoint) against a 5000-point net at IoU 0.8 wobbling by 0.1. In absolute terms the small
    net moves less (0.05 against 0.1), so the absolute measure could never find it less stable; relative
    to its level it moves far more (0.67 against 0.13), and the claim holds."""
    small = [fake(s, [0.1, 0.05] * 5, n=312) for s in range(5)]
    big = [fake(s, [0.8, 0.7] * 5, n=5000) for s in range(5)]
    assert claims.late_instability(small[0]) < claims.late_instability(big[0])
    v = claims.less_stable({5000: big, 312: small}, small=(312,), factor=1.0, frac=1.0)
    assert v.checks[0].values == pytest.approx([(0.05 / 0.075) / (0.1 / 0.75)] * 5)
    assert v.checks[0].metric == "relative IoU instability N=312 / N=5000" and v.passed


def test_less_stable_is_strict_and_a_net_that_never_changes_never_passes():
    """A tie (two nets that never change, or equal ratios) is not less stable; a small net stuck at IoU 0
    has instability 0; a 5000-point net that never changes against a small one that does is (inf)."""
    flat = [fake(s, [0.5] * 10, n=5000) for s in range(5)]
    stuck = [fake(s, [0.0] * 10, n=312) for s in range(5)]
    moving = [fake(s, [0.6, 0.3] * 5, n=312) for s in range(5)]
    same = [fake(s, [0.6, 0.3] * 5, n=5000) for s in range(5)]
    v = claims.less_stable({5000: flat, 312: stuck}, small=(312,))
    assert v.checks[0].values == [1.0] * 5 and v.status == REFUTED  # 0 against 0: a tie, not less stable
    assert claims.less_stable({5000: same, 312: stuck}, small=(312,)).checks[0].values == [0.0] * 5
    w = claims.less_stable({5000: same, 312: moving}, small=(312,))
    assert w.checks[0].values == pytest.approx([1.0] * 5) and w.status == REFUTED  # equal: not strictly more
    assert claims.less_stable({5000: flat, 312: moving}, small=(312,)).checks[0].values == [math.inf] * 5


def test_controls_pair_any_two_groups_of_runs_by_seed_and_name_what_differs():
    std = [_reaching(s, 1, 5000) for s in range(5)]
    blog = [
        RunResult(**{**vars(_reaching(s, 3, 5000)), "spec": r.spec.replace(protocol="blog")}) for s, r in enumerate(std)
    ]
    v = claims.slower_than(std, blog, level=0.5)
    assert v.claim == "slower" and v.checks[0].metric == "epochs to IoU>=0.5: N=5000 standard - N=5000 blog"
    assert v.checks[0].values == [-200.0] * 5 and v.status == REFUTED
    w = claims.less_stable_than(std, blog)
    assert w.claim == "less-stable" and w.checks[0].metric.endswith("N=5000 standard / N=5000 blog")
    with pytest.raises(ValueError, match="same seeds"):
        claims.slower_than(std, blog[:4], level=0.5)
    with pytest.raises(ValueError, match="same seeds"):
        claims.less_stable_than(std[1:], blog[:4])


def test_a_pair_is_read_on_one_grid_the_coarser_runs_checkpoints():
    """Runs trained longer record checkpoints further apart (smoke: 67 against 33 epochs; paper: 200
    against 60). With one and the same curve, the coarser grid rounds the reach time up and sees larger
    jumps, so on their own grids the small N would look slower and less stable with no effect at all;
    read at the coarser run's checkpoints (the finer run at its nearest, here within 20 epochs) the two
    are equal: a tie, which is neither."""

    def curve(epochs):
        k = np.round(np.asarray(epochs, dtype=float) / 200)  # one value per 200-epoch block
        return np.where(k <= 2, 0.0, 0.5 + 0.1 * (k % 2))  # reaches the level from block 3 (epoch 500 on)

    fine, coarse = np.r_[np.arange(0, 2000, 60), 2000], np.arange(0, 4001, 200)  # each ends at its budget
    big = [fake(s, curve(fine), n=1250, epochs=fine) for s in range(5)]
    small = [fake(s, curve(coarse), n=625, epochs=coarse) for s in range(5)]
    own = [claims.reach_time(r[0], "held_out_iou", 0.5, end_epoch=2000) for r in (small, big)]
    assert own == [600.0, 540.0]  # on its own grid the small N is later, by rounding alone
    grid = claims.shared_grid(small[0], big[0])
    assert grid.tolist() == list(range(0, 2001, 200))
    assert [claims.reach_time(r[0], "held_out_iou", 0.5, end_epoch=2000, at=grid) for r in (small, big)] == [600.0] * 2
    v = claims.slower({1250: big, 625: small}, level=0.5, end_epoch=2000)
    assert v.checks[0].values == [0.0] * 5 and v.status == REFUTED
    on_own = [claims.relative_instability(r[0], end_epoch=2000) for r in (small, big)]
    assert on_own[0] > 2 * on_own[1]  # the coarser grid sees a jump at every checkpoint
    w = claims.less_stable({5000: big, 625: small}, small=(625,), end_epoch=2000)
    assert w.checks[0].values == [1.0] * 5 and w.status == REFUTED
