"""Unit tests of the calibration policy (genprobe.calibration) apart from the committed evidence."""

from __future__ import annotations

from genprobe import calibration
from genprobe.profiles import get_profile


def test_a_set_replays_the_looks_its_seeds_cover_and_a_small_one_only_the_first():
    smoke = get_profile("smoke")
    start = (10, 11, 12, 13, 14)
    assert [len(p) for p in calibration._plan(start, tuple(range(10, 40)), smoke, 30)] == [5, 10, 15, 20, 25, 30]
    # 8 seeds: the first look alone (a test undecided there is inconclusive on this set, never gated on it)
    assert calibration._plan(start, tuple(range(10, 18)), smoke, 15) == [start]


def test_the_share_interval_holds_the_share_and_narrows_with_seeds():
    lo, hi = calibration.share_interval(8, 10)
    assert lo < 0.8 < hi
    lo2, hi2 = calibration.share_interval(80, 100)
    assert hi2 - lo2 < hi - lo
    assert calibration.share_interval(0, 10)[0] == 0.0 and calibration.share_interval(10, 10)[1] == 1.0


def test_a_pessimistic_chance_gates_less_than_the_point_estimate():
    """The gate reads each bound's chance at the pessimistic end of its interval: 10 of 10 seeds is not 1."""
    q = calibration._pessimistic_q(10, 10, "holds")
    assert 0.7 < q < 0.95
    assert calibration._pessimistic_q(0, 10, "refuted") > 0.0
    counts = [5, 10, 15]
    assert calibration._claim_probability([q], counts, 0.1, "holds") < calibration._claim_probability(
        [0.99], counts, 0.1, "holds"
    )


def test_a_layout_without_confirmation_seeds_sets_no_expectation():
    """Calibration seeds alone never decide what a test is expected to do (the paper profile until its
    confirmation seeds are in): every test then takes the profile's unmeasured expectation."""
    from genprobe.verdicts import Check, Verdict

    layout = calibration.Layout("smoke", {"calibration": ((), "calibration", "")}, (), (15,), ("a", "b"), ("c", "d"))
    v = Verdict("c", "s", "mlp/standard", 5000, [0, 1, 2, 3, 4], [Check("x", [1.0] * 5, ">=", 0.5)])
    row = calibration.Row("test_x", {"calibration": [calibration.Outcome(v, None, v, {15: v})]}, layout=layout)
    assert calibration.expectations([row]) == {}
