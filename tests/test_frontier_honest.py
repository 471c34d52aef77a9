"""Honest frontiers (issue 31, item 7): ``always`` / ``never`` only where the data say so, an uninformative
interval says it is, and a claim asked where it means nothing has no frontier.

Each case below is one the old rules overstated (the fitted curve's ``always`` over the data's 3 of 5 and 34 of
70, "< 312 .. > 5000" for a grid where every seed held, a downward N* for a claim whose share falls with N).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from genprobe.frontier import (
    ABOVE,
    ALWAYS,
    BELOW,
    CROSSES,
    KINDS,
    LEVEL,
    NEVER,
    NONE,
    UNDECIDED,
    critical_counts,
    frontier,
)
from genprobe.frontier_report import Row, format_table, markdown_table, settle

POST = (312, 625, 1250, 2500, 5000)


def counts(ks, seeds, sizes=POST, **kwargs):
    """The frontier of ``ks[i]`` of ``seeds`` holding at ``sizes[i]``."""
    return frontier(list(sizes), [[True] * k + [False] * (seeds - k) for k in ks], bootstrap=50, **kwargs)


def test_three_of_five_at_the_smallest_size_is_not_always():
    """3 of 5 hold at 312, all 5 above: the old rules said ``always``; 5 seeds cannot show any share to be
    above 1/2 at 95 % (5 of 5 has chance 1/32), and the text says so."""
    f = counts([3, 5, 5, 5, 5], 5)
    assert f.kind == UNDECIDED and not f.informative and f.n_star is None
    assert "5 of 5 has chance 0.0312" in f.text() and "6 seeds are the fewest" in f.text()
    assert "uninformative" in f.interval_text()


def test_34_of_70_at_the_smallest_size_is_not_always():
    """The frontier page's contiguous/net row (34, 63, 64, 70, 70 of 70): fewer than half hold at 312, so not
    ``always``: the curve stays above 1/2 over the grid but the data do not establish it; N* at most 625
    (63 of 70 is clearly above 1/2 there, 34 of 70 at 312 is on neither side), not bounded below."""
    f = counts([34, 63, 64, 70, 70], 70)
    assert f.kind == BELOW and (f.low, f.high) == (None, 625.0)
    assert f.text().startswith("below the grid, not established") and "34/70 at 312" in f.text()
    assert f.short() == "below the grid, not established (N* <= 625)"


def test_three_of_six_at_312_crosses_below_1250():
    """``genprobe frontier contiguous --sizes 312,625,1250`` on seeds of ours: 3, 5, 6 of 6. Not ``always``: only
    6 of 6 at 1250 is clearly above 1/2, so N* is at most 1250."""
    f = counts([3, 5, 6], 6, sizes=(312, 625, 1250))
    assert f.kind == CROSSES and (f.low, f.high) == (None, 1250.0)
    assert "at most 1250 (no lower bound on this grid" in f.text()


def test_every_seed_holding_everywhere_reads_as_such():
    """70 of 70 at every size: ``always``, N* at most 312 and not bounded below, in words (the old text was
    "< 312 .. > 5000"); 5 of 5 everywhere is undecided, and says why."""
    f = counts([70] * 5, 70)
    assert f.kind == ALWAYS and (f.low, f.high) == (None, 312.0) and f.short() == "always (N* <= 312)"
    assert "clearly above 1/2 at every size measured, down to 312 (70/70 there)" in f.text()
    assert "N* at most 312, not bounded below" in f.text()
    for text in (f.text(), f.short(), f.interval_text()):
        assert "< 312" not in text and "> 5000" not in text
    g = counts([0] * 5, 70)
    assert g.kind == NEVER and (g.low, g.high) == (5000.0, None) and g.short() == "never (N* > 5000)"
    few = counts([5] * 5, 5)
    assert few.kind == UNDECIDED and "5 of 5 has chance" in few.text()


def test_a_share_that_falls_with_n_has_no_frontier():
    """``genprobe frontier ring-not-points --sizes 312,625,1250,2500`` on seeds of ours: the share falls to 0 of 6
    at 2500 (the claim's bound is relative to the dot memoriser, which catches up as points multiply); the old
    rules reported a downward crossing N* = 1146. No frontier, and the text says why."""
    f = counts([3, 4, 1, 0], 6, sizes=(312, 625, 1250, 2500))
    assert f.kind == NONE and f.n_star is None and f.direction == "down"
    assert f.text().startswith("no frontier: the share falls as N grows (3/6 at 312, 0/6 at 2500)")
    assert "N* =" not in f.text()


def test_neither_model_holding_at_the_top_is_no_frontier_question():
    """Rows of one claim for the net and 1-NN, both at 0 seeds at the largest size: every row of that claim
    says it is not a frontier question (also when both hold nowhere at all, where each alone reads
    ``never``); a dot row that never holds while 1-NN does stays ``never``."""
    sizes = (312, 625, 1250, 2500)
    seeds = tuple(range(20))
    rows = [
        Row("ring-not-points", "net", counts([12, 8, 2, 0], 20, sizes=sizes), seeds),
        Row("ring-not-points", "knn", counts([15, 11, 3, 0], 20, sizes=sizes), seeds),
        Row("ring-not-points", "dot", counts([0, 0, 0, 0], 20, sizes=sizes), seeds),
        Row("nowhere", "net", counts([0, 0, 0, 0], 20, sizes=sizes), seeds),
        Row("nowhere", "knn", counts([0, 0, 0, 0], 20, sizes=sizes), seeds),
        Row("contiguous", "knn", counts([2, 13, 20, 20], 20, sizes=sizes), seeds),
        Row("contiguous", "dot", counts([0, 0, 0, 0], 20, sizes=sizes), seeds),
    ]
    assert rows[3].frontier.kind == rows[4].frontier.kind == NEVER
    settled = settle(rows)
    assert [r.frontier.kind for r in settled] == [NONE, NONE, NONE, NONE, NONE, CROSSES, NEVER]
    assert "on any seed at N = 2500, the most data measured" in settled[0].frontier.text()
    assert "on any seed at any size measured" in settled[3].frontier.text()
    assert settle(settled) == settled
    table = format_table(rows)
    assert "no frontier: neither the net nor the 1-NN rule holds ring-not-points" in table
    assert any("| nowhere | net |" in line and "no frontier" in line for line in markdown_table(rows))


@settings(max_examples=60, deadline=None)
@given(seeds=st.integers(1, 40), data=st.data())
def test_always_and_never_only_where_the_data_agree(seeds, data):
    """Whatever the counts: ``always`` exactly when every size's share is significantly above 1/2 (exact
    binomial, each side at (1 - level) / 2), so the share observed at the smallest size is above 1/2 and its
    interval agrees; ``never`` mirrored at the largest; N* only for a crossing; the interval's ends are sizes
    of the grid, low below high."""
    ks = data.draw(st.lists(st.integers(0, seeds), min_size=2, max_size=6))
    sizes = [int(300 * 2**i) for i in range(len(ks))]
    f = counts(ks, seeds, sizes=sizes)
    below, above, _ = critical_counts(seeds)
    assert f.kind in KINDS
    if f.kind == ALWAYS:
        assert above is not None and all(k >= above for k in ks) and ks[0] / seeds > 0.5
        assert binom.sf(ks[0] - 1, seeds, 0.5) <= (1 - LEVEL) / 2
    elif above is not None and all(k >= above for k in ks):
        raise AssertionError(f"{ks} of {seeds} are clearly above 1/2 everywhere, but {f.kind}")
    if f.kind == NEVER:
        assert below is not None and all(k <= below for k in ks) and ks[-1] / seeds < 0.5
    if f.kind in (ALWAYS, NEVER, BELOW, ABOVE, NONE):
        assert f.n_star is None and "N* =" not in f.text()
    if f.kind == CROSSES:
        assert f.n_star is not None and f.informative
    for end in (f.low, f.high):
        assert end is None or end in sizes
    if f.low is not None and f.high is not None:
        assert f.low < f.high
    if not f.informative:
        assert "uninformative" in f.interval_text()
    assert "<" not in f.interval_text() and ">" not in f.interval_text()


def test_the_intervals_ends_are_the_tests_decisions():
    """20 seeds: 15 of 20 is the fewest clearly above 1/2 (chance 0.0207 under 1/2), 5 the most clearly below."""
    assert critical_counts(20) == (5, 15, float(binom.sf(14, 20, 0.5)))
    f = counts([4, 5, 6, 14, 15, 20], 20, sizes=(221, 312, 442, 625, 884, 1250))
    assert (f.low, f.high) == (312.0, 884.0) and f.interval_text() == "312 .. 884"
    assert f.covers(313) and f.covers(884) and not f.covers(312) and not f.covers(885)
    assert np.isfinite(f.fit_low or 0.0)


def test_a_fitted_crossing_outside_the_exact_interval_says_so():
    """The frontier page's as-good-as-1nn/net row (18, 26, 12, 56, 69 of 70) is not one rising curve: 12 of 70 at 1250
    puts N* above 1250, where the curve crosses at 1163; the cell gives the interval, not the curve's N*."""
    f = counts([18, 26, 12, 56, 69], 70)
    assert f.kind == CROSSES and (f.low, f.high) == (1250.0, 2500.0) and not f.covers(f.n_star)
    assert f.short().startswith("N* in 1250 .. 2500 (the curve's 1163 lies outside), fits badly")
    assert "lies outside it" in f.text()


# -- the frontier study: its seed sets and its answer to "how sparse before it stops" ----------------------


def test_the_study_compares_frontiers_by_their_intervals():
    """The net holds a claim down to sparser data than 1-NN only where the two exact intervals do not overlap;
    overlapping ones give the fitted ratio and say it is not established; no frontier, no comparison."""
    from benchmarks.studies.frontier_study import sparse_answer

    net = counts([0, 2, 19, 20, 20], 20)  # N* in 625 .. 1250
    knn = counts([0, 0, 0, 3, 19], 20)  # N* in 2500 .. 5000
    assert (net.high, knn.low) == (1250.0, 2500.0)
    assert "the net holds it on half the seeds down to sparser data than 1-NN" in sparse_answer(net, knn)
    assert "1-NN holds it on half the seeds down to sparser data than the net" in sparse_answer(knn, net)
    close = counts([0, 8, 12, 20, 20], 20)
    assert sparse_answer(net, close).endswith(
        "the intervals overlap: which holds it down to sparser data is not established"
    )
    gone = counts([3, 4, 1, 0], 6, sizes=(312, 625, 1250, 2500))
    assert sparse_answer(gone, knn) == "no comparison: the net has no frontier here"


def test_the_study_names_its_seed_sets():
    """Seeds are labelled by the smoke evidence's sets (calibration: the thresholds were set on 0-9); a seed set
    can be chosen; --write refuses anything but the page's own seeds."""
    import pytest

    from benchmarks.studies import frontier_study as fs

    assert fs.seed_label(range(20)) == "calibration seeds 0-19 (the thresholds were set on 0-9)"
    assert fs._spans([0, 1, 2, 5, 7, 8]) == "0-2, 5 and 7-8"
    files = fs.evidence_files(fs.C_PATTERNS)
    calibration = fs.set_files(files, "calibration")
    assert "smoke-cpu-seeds0-9.json.gz" in calibration and set(calibration) <= set(files)
    assert all(fs.role_of(s) == "calibration" for f in calibration for s in fs.file_seeds(f))
    with pytest.raises(ValueError, match="unknown seed set 'fresh'"):
        fs.set_files(files, "fresh")
    assert fs.parse_seed_list("110-112,115") == (110, 111, 112, 115)
    with pytest.raises(SystemExit, match="--write writes the page from the defaults"):
        fs.main(["--seeds", "calibration", "--write"])


def test_the_page_answers_from_confirmation_seeds_where_there_are_any():
    """With confirmation rows, the five-size section adds their table and their answer; without, it says that
    the answers come from calibration seeds."""
    from benchmarks.studies import frontier_study as fs

    files = ("smoke-cpu-c-seeds110-114.json.gz",)
    rows = fs.study(files, bootstrap=20)
    with_them = fs.readme_section(rows, files, rows)
    assert "The confirmation seeds alone" in with_them
    assert "How sparse before it stops, on the confirmation" in with_them
    assert with_them.count("- **How sparse before it stops**") == 4
    without = fs.readme_section(rows, files)
    assert "holds no confirmation seeds of this profile yet" in without and "How sparse" not in without
