"""Claim frontiers (genprobe.frontier): the share of seeds holding a claim against N, and where it crosses 1/2.

Synthetic per-seed outcomes check the fit and the verdicts (the interval's coverage, with outcomes nested
within seeds, is tests/test_frontier_coverage.py; the honest verdicts, tests/test_frontier_honest.py); the
per-seed indicator is checked on committed evidence (no training).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.studies import pages
from genprobe.frontier import (
    ABOVE,
    ALWAYS,
    BELOW,
    CROSSES,
    NEVER,
    NONE,
    UNDECIDED,
    claim_holds,
    critical_counts,
    fit_logistic,
    frontier,
    frontier_of,
    holds_per_seed,
    jeffreys_interval,
)
from genprobe.verdicts import Check, Verdict


@settings(max_examples=12, deadline=None)
@given(scale=st.integers(1, 50), data=st.data())
def test_frontier_scales_with_the_sizes(scale, data):
    """log N is the scale: multiplying every size by c multiplies N* and the interval by c, and the order in
    which sizes are given does not matter."""
    ks = data.draw(st.lists(st.integers(0, 6), min_size=5, max_size=5))
    holds = [[True] * k + [False] * (6 - k) for k in ks]
    sizes = [312, 625, 1250, 2500, 5000]
    f = frontier(sizes, holds, bootstrap=50)
    g = frontier([n * scale for n in sizes][::-1], holds[::-1], bootstrap=50)
    assert (f.kind, f.direction) == (g.kind, g.direction)
    for x, y in ((f.n_star, g.n_star), (f.low, g.low), (f.high, g.high)):
        assert (x is None) == (y is None)
        if x is not None and y is not None:
            assert y == pytest.approx(x * scale, rel=1e-6)


@settings(max_examples=20, deadline=None)
@given(
    ks=st.lists(st.integers(0, 4), min_size=2, max_size=8),
    seeds=st.integers(10, 20),
    side=st.sampled_from([NEVER, ALWAYS]),
)
def test_monotone_data_that_never_cross_say_so(ks, seeds, side):
    """Shares that rise with N but stay below 1/2 over the grid are ``never`` where every size's share is
    clearly below 1/2 (the exact test: at most ``critical_counts(seeds)[0]`` hold), else the grid's end is not
    established (``above``) or nothing is (``undecided``); mirrored, ``always``; never an N*."""
    ks = sorted(ks)  # at most 4 of >= 10 seeds: below 1/2 everywhere
    counts = ks if side == NEVER else [seeds - k for k in reversed(ks)]
    sizes = [int(200 * 2**i) for i in range(len(ks))]
    f = frontier(sizes, [[True] * k + [False] * (seeds - k) for k in counts], bootstrap=50)
    below, _, _ = critical_counts(seeds)
    clear = below is not None and all(k <= below for k in ks)
    assert f.kind == (side if clear else f.kind) and f.n_star is None
    assert f.kind in ((side,) if clear else (ABOVE if side == NEVER else BELOW, UNDECIDED, NONE))
    assert all(end is None or min(sizes) <= end <= max(sizes) for end in (f.low, f.high)), "extrapolated"
    assert "N* =" not in f.text()


def test_all_or_nothing():
    """6 seeds holding at every size (or at none) are ``always`` (``never``): 6 of 6 has chance 1/64 under a share
    of 1/2; 5 seeds cannot tell any share from 1/2 at 95 % (1/32 > 0.025), and say so."""
    assert frontier([312, 5000], [[False] * 6, [False] * 6], bootstrap=50).kind == NEVER
    assert frontier([312, 5000], [[True] * 6, [True] * 6], bootstrap=50).kind == ALWAYS
    for holds in (False, True):
        f = frontier([312, 5000], [[holds] * 5, [holds] * 5], bootstrap=50)
        assert f.kind == UNDECIDED and "6 seeds are the fewest that can" in f.text()


def test_sharp_frontier_lies_between_the_sizes_where_it_flips():
    """Complete separation (none hold at 625 and below, all at 1250 and above): finite N* between them."""
    f = frontier([312, 625, 1250, 2500, 5000], [[False] * 10] * 2 + [[True] * 10] * 3)
    assert f.kind == CROSSES and 625 < f.n_star < 1250
    assert f.low is not None and f.high is not None and f.low <= f.n_star <= f.high
    assert f.direction == "up" and f.fitted(f.n_star) == pytest.approx(0.5)


def test_share_intervals_are_jeffreys():
    f = frontier([312, 5000], [[True, False, False, False], [True] * 4], bootstrap=20)
    s = f.shares[0]
    assert (s.n, s.k, s.seeds, s.share) == (312, 1, 4, 0.25)
    assert (s.low, s.high) == jeffreys_interval(1, 4)
    lo, hi = jeffreys_interval(3, 10)
    assert lo < 0.3 < hi and f.to_dict()["text"] == f.text()


def test_firth_fit_is_finite_under_separation():
    a, b = fit_logistic(np.array([-1.0, 1.0]), np.array([0, 10]), np.array([10, 10]))
    assert math.isfinite(a) and math.isfinite(b) and b > 0


@pytest.mark.parametrize(
    "sizes, holds, seeds, named",
    [
        ([0, 625], [[True], [False]], None, "got 0"),
        ([-312, 625], [[True], [False]], None, "got -312"),
        ([312.5, 625], [[True], [False]], None, "got 312.5"),
        ([float("nan"), 625], [[True], [False]], None, "got nan"),
        (["312", 625], [[True], [False]], None, "got '312'"),
        ([312], [[True]], None, "at least 2 sizes, got 1"),
        ([312, 312], [[True], [False]], None, "distinct"),
        ([312, 625], [[True]], None, "1 lists of outcomes for 2 sizes"),
        ([312, 625], [[True], []], None, "no seeds at N=625"),
        ([312, 625], [[True], [2]], None, "got 2"),
        ([312, 625], [[True], [False]], [[0]], "1 lists of seeds for 2 sizes"),
        ([312, 625], [[True], [False]], [[0], [1, 2]], "N=625: 2 seeds for 1 outcomes"),
    ],
)
def test_bad_input_is_one_line_naming_the_value(sizes, holds, seeds, named):
    with pytest.raises(ValueError) as exc:
        frontier(sizes, holds, seeds)
    assert named in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("kwargs, named", [({"level": 1.0}, "got 1.0"), ({"bootstrap": 0}, "got 0")])
def test_bad_options(kwargs, named):
    with pytest.raises(ValueError, match=named):
        frontier([312, 625], [[True], [False]], **kwargs)


# -- the per-seed indicator, from a claim's own checks -------------------------------------


def _verdict(checks: list[Check]) -> Verdict:
    return Verdict("c", "", "mlp", 312, seeds=[0, 1, 2], checks=checks)


def test_a_seed_holds_when_every_check_meets_its_bound():
    v = _verdict(
        [
            Check("a", [0.9, 0.2, 0.9], ">=", 0.5),
            Check("b", [1.0, 1.0, math.nan], "<=", 2.0),  # NaN: a diverged seed misses
        ]
    )
    assert holds_per_seed(v) == [True, False, False]
    assert holds_per_seed(_verdict([])) == [False, False, False]
    with pytest.raises(ValueError, match="2 values for 3 seeds"):
        holds_per_seed(_verdict([Check("a", [1.0, 1.0], ">=", 0.5)]))


@pytest.fixture(scope="module")
def evidence_probe():
    """Committed smoke-profile runs of seeds 110-114 (C kernel), as the claim suite sees them; no training."""
    from benchmarks.studies.threshold_evidence import EVIDENCE
    from genprobe.calibration import StandIn, load_export
    from genprobe.profiles import get_profile

    runs = load_export(EVIDENCE / "smoke-cpu-c-seeds110-114.json.gz")
    return StandIn(runs, get_profile("smoke"), range(110, 115), first=5)


def test_claim_holds_reads_the_claims_own_checks(evidence_probe):
    """Per seed, as the claim's verdict judges it: for a one-check claim the seeds that hold are the sign
    test's k; asked of 1-NN, "as good as 1-NN" holds on every seed (it is compared with itself)."""
    from genprobe.shapes import shape_claim

    sizes = (5000, 312)
    holds = claim_holds("as-good-as-1nn", evidence_probe, sizes)
    for n in sizes:
        v = shape_claim("as-good-as-1nn", n)(evidence_probe)
        assert len(holds[n]) == 5 and sum(holds[n]) == v.checks[0].test.k
    assert claim_holds("as-good-as-1nn", evidence_probe, sizes, model="knn") == {5000: [True] * 5, 312: [True] * 5}
    rnp = claim_holds("ring-not-points", evidence_probe, (625, 312))
    v = shape_claim("ring-not-points", 312)(evidence_probe)
    assert rnp[312] == [
        all(c.values[i] >= c.threshold if c.op == ">=" else c.values[i] <= c.threshold for c in v.checks)
        for i in range(5)
    ]
    f = frontier_of(holds, evidence_probe.seeds, bootstrap=50)
    assert f.sizes == (312, 5000)


@pytest.mark.parametrize(
    "claim, model, named",
    [("no-such-claim", "net", "unknown claim 'no-such-claim'"), ("contiguous", "svm", "unknown model 'svm'")],
)
def test_claim_holds_bad_names(evidence_probe, claim, model, named):
    with pytest.raises(ValueError, match=named):
        claim_holds(claim, evidence_probe, (312,), model=model)


def test_a_curve_that_does_not_fit_says_so():
    """Shares that are not one logistic curve in log N (down, then up) get a small goodness-of-fit p and a
    warning in the text; two sizes have no degrees of freedom left (no p)."""
    f = frontier([312, 625, 1250, 2500, 5000], [[True] * k + [False] * (25 - k) for k in (12, 12, 2, 22, 25)])
    assert f.fit_p is not None and f.fit_p < 0.01 and "fits the shares badly" in f.text()
    assert frontier([312, 5000], [[False] * 5, [True] * 5], bootstrap=20).fit_p is None


def test_report_table_json_and_figure(tmp_path):
    """The layout shared by genprobe frontier and benchmarks/studies/frontier_study.py."""
    import json

    from genprobe.frontier_report import Row, format_table, save_figure, save_json

    f = frontier([312, 625, 1250], [[False] * 4, [True, False, True, True], [True] * 4], bootstrap=20)
    rows = [Row("contiguous", "net", f, (0, 1, 2, 3)), Row("as-good-as-1nn", "knn", f, (0, 1, 2, 3))]
    table = format_table(rows)
    assert "N=625: 3/4" in table and "1-NN rule" in table and f.text() in table
    save_json(tmp_path / "f.json", rows, note="x")
    data = json.loads((tmp_path / "f.json").read_text())
    assert data["note"] == "x" and data["rows"][0]["shares"][1]["k"] == 3 and data["rows"][1]["model"] == "knn"
    save_figure(tmp_path / "f.png", rows, title="t")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frontier_study_on_one_committed_set(tmp_path, capsys):
    """benchmarks/studies/frontier_study.py on committed runs (seeds 110-114, no training): every claim and model,
    ring-not-points at the Fourier control's sizes only; the table says that only 5 sizes exist."""
    from benchmarks.studies import frontier_study

    rows = frontier_study.study(("smoke-cpu-c-seeds110-114.json.gz",), bootstrap=20)
    assert len(rows) == len(frontier_study.CLAIMS) * len(frontier_study.MODELS)
    rnp = [r for r in rows if r.claim == "ring-not-points"]
    assert all(r.frontier.sizes == (312, 625) for r in rnp)
    assert all(r.frontier.sizes == (312, 625, 1250, 2500, 5000) for r in rows if r.claim != "ring-not-points")
    assert all(r.seeds == (110, 111, 112, 113, 114) for r in rows)


@pytest.mark.slow
def test_the_frontier_page_table_is_what_the_committed_evidence_gives():
    """The frontier page's table (``docs/evidence/frontier.md``) is generated (``python
    benchmarks/studies/frontier_study.py --write``): every cell is recomputed here, the exact intervals
    included (a small bootstrap: it only feeds the curve's own interval, which the page does not print), and
    the confirmation seeds' table and answer where the evidence holds confirmation seeds."""
    from benchmarks.studies import frontier_study as fs

    files = fs.evidence_files(fs.C_PATTERNS)
    rows = fs.study(files, 20)
    page = pages.path(fs.PAGE).read_text()
    section = page[page.index(fs.README_BEGIN) : page.index(fs.README_END)]
    ours = fs.readme_section(rows, files, fs.confirmation_rows(files, 20))
    assert "calibration seeds" in section and "seeds 0-9 are the calibration set" not in section

    assert section == ours[: ours.index(fs.README_END)], (
        "docs/evidence/frontier.md is stale: run python benchmarks/studies/frontier_study.py --write"
    )


# -- per-seed frontiers, the frontier verdict and the data-versus-training map ---------------------


def test_seed_frontiers_read_the_largest_sizes_first():
    """A seed's frontier is the smallest size from which the claim holds at every larger one; failing at
    the largest is inf; a hole above a size moves the frontier above the hole."""
    from genprobe.frontier import seed_frontiers

    holds = {312: [True, True, False, True], 625: [True, False, True, True], 1250: [True, True, True, False]}
    assert seed_frontiers(holds) == [312.0, 1250.0, 625.0, math.inf]
    with pytest.raises(ValueError, match="one outcome per seed"):
        seed_frontiers({312: [True], 625: [True, False]})


def test_sparse_as_pairs_the_two_frontiers_by_seed(evidence_probe):
    """The frontier verdict's per-seed value is log2 of the reference's per-seed frontier over the
    subject's, from the claim's own per-seed outcomes; the dot memoriser, which never holds a shape
    claim, is put one halving beyond the grid and is refuted against 1-NN."""
    from genprobe.frontier import seed_frontiers, sparse_as
    from genprobe.profiles import POST_SIZES

    v = sparse_as("concept-learnt", evidence_probe, POST_SIZES)
    net = seed_frontiers(claim_holds("concept-learnt", evidence_probe, POST_SIZES))
    knn = seed_frontiers(claim_holds("concept-learnt", evidence_probe, POST_SIZES, model="knn"))
    beyond = 2.0 * max(POST_SIZES)
    want = [
        math.nan if min(a, beyond) == min(b, beyond) == beyond else math.log2(min(b, beyond) / min(a, beyond))
        for a, b in zip(net, knn)
    ]
    np.testing.assert_array_equal(v.checks[0].values, want)
    assert v.seeds == list(evidence_probe.seeds) and v.claim == "concept-learnt-frontier"
    assert v.checks[0].op == ">=" and v.checks[0].threshold == 0.0
    dot = sparse_as("contiguous", evidence_probe, POST_SIZES, subject="dot")
    assert all(x < 0 for x in dot.checks[0].values) and dot.status == "refuted"


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"claim": "nope"}, "unknown claim 'nope'"),
        ({"claim": "contiguous", "reference": "svm"}, "unknown model 'svm'"),
        ({"claim": "contiguous", "sizes": (312,)}, "at least 2 sizes"),
    ],
)
def test_sparse_as_bad_input(evidence_probe, kwargs, named):
    from genprobe.frontier import sparse_as

    kwargs = {"probe": evidence_probe, "sizes": (312, 625), **kwargs}
    with pytest.raises(ValueError, match=named):
        sparse_as(**kwargs)


def test_training_map_is_the_claim_judged_earlier(evidence_probe):
    """Each cell is the claim with its window ending at that epoch: at the profile's own budget it is the
    suite's claim; past the budget a size was trained for, the cell is NaN, not a shorter run's last value."""
    from genprobe.frontier import training_map
    from genprobe.frontier_report import first_half

    p = evidence_probe.profile
    m = training_map("concept-learnt", evidence_probe, (5000, 625), (500, p.epochs, p.long_epochs))
    assert m.share.shape == (2, 3) and m.steps_per_epoch == (5.0, 1.0)
    for n in (5000, 625):
        assert m.at(n, p.epochs) == np.mean(claim_holds("concept-learnt", evidence_probe, [n])[n])
    assert math.isnan(m.at(5000, p.long_epochs)) and not math.isnan(m.at(625, p.long_epochs))
    assert math.isnan(m.median_iou[0, 2]) and 0 <= m.median_iou[1, 2] <= 1
    early = claim_holds("concept-learnt", evidence_probe, [5000], end_epoch=500)[5000]
    assert m.at(5000, 500) == np.mean(early)
    assert m.to_dict()["share"][0][2] is None or math.isnan(m.to_dict()["share"][0][2])
    assert len(first_half(m)) == 2


def test_first_half_needs_the_share_to_stay_above_one_half():
    from genprobe.frontier import TrainingMap
    from genprobe.frontier_report import first_half

    share = np.array([[0.2, 0.6, 0.4, 0.7], [0.6, 0.6, 0.8, np.nan], [0.0, 0.1, 0.2, 0.3]])
    m = TrainingMap("c", "standard", (1, 2, 3), (10, 20, 30, 40), (1.0, 1.0, 1.0), (0,), share, share)
    assert first_half(m) == [40.0, 10.0, None]


def test_map_figure(tmp_path, evidence_probe):
    from genprobe.frontier import training_map
    from genprobe.frontier_report import save_map_figure

    maps = [
        training_map("concept-learnt", evidence_probe, (5000, 2500, 625), (500, 1000, 2000, 4000)),
        training_map("ring-not-points", evidence_probe, (625, 312), (500, 1000, 2000, 4000)),
    ]
    save_map_figure(tmp_path / "m.png", maps, title="t")
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grid_runs_are_kept_once_and_compared(tmp_path):
    """frontier_study.py --keep: the runs at the grid's sizes are kept, each once (two exports that
    disagree on a run are an error); runs the committed sweeps also hold are compared with theirs."""
    import gzip
    import json

    from benchmarks.studies import frontier_study as fs
    from benchmarks.studies.threshold_evidence import EVIDENCE

    committed = json.loads(gzip.decompress((EVIDENCE / "smoke-cpu-seeds0-9.json.gz").read_bytes()))["runs"]
    post = [r for r in committed if r["spec"]["seed"] == 0][:3]
    new = {**post[0], "key": "k442", "spec": {**post[0]["spec"], "n": 442}}
    changed = {**post[1], "final": {**post[1]["final"], "held_out_iou": -1.0}}
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    a.write_bytes(gzip.compress(json.dumps({"runs": [post[0], new, changed]}).encode()))
    b.write_bytes(gzip.compress(json.dumps({"runs": [new]}).encode()))
    out = tmp_path / "kept.json.gz"
    post = [r for r in post if r["spec"]["n"] in fs.GRID]
    assert fs.keep_grid_runs([a, b], out) == 3
    assert "k442" in [r["key"] for r in json.loads(gzip.decompress(out.read_bytes()))["runs"]]
    assert fs.compare_with_sweeps([a]) == (1, 1)
    assert fs.compare_by_file([a]) == {"smoke-cpu-seeds0-9.json.gz": (1, 1)}
    b.write_bytes(gzip.compress(json.dumps({"runs": [{**new, "final": {}}]}).encode()))
    with pytest.raises(ValueError, match="disagrees"):
        fs.keep_grid_runs([a, b], out)


def test_the_report_has_a_frontiers_section(tmp_path, evidence_probe):
    """From a session's runs (here the committed runs of seeds 110-114): the shape claims' frontiers for
    the net, 1-NN and the dot memoriser, the maps, a "Frontiers" section, two figures and results.json's
    ``frontiers``; the dot memoriser holds none of them at any size, which 5 seeds cannot tell from a share of
    1/2 (``undecided``). Too few seeds: no section."""
    import json

    from genprobe.frontier_report import session_frontiers
    from genprobe.report import write_report

    results = list(evidence_probe._found.values())
    f = session_frontiers(evidence_probe.profile, results, bootstrap=20)
    assert {(r.claim, r.model) for r in f.rows} >= {("contiguous", "net"), ("ring-not-points", "dot")}
    assert all(r.seeds == (110, 111, 112, 113, 114) for r in f.rows)
    assert all(r.frontier.kind == UNDECIDED for r in f.rows if r.model == "dot")
    assert all(s.k == 0 for r in f.rows if r.model == "dot" for s in r.frontier.shares)
    assert [m.claim for m in f.maps] == ["concept-learnt", "ring-not-points"]
    write_report(tmp_path, "smoke", [], results[:3], {}, frontiers=f)
    summary = (tmp_path / "summary.md").read_text()
    assert "## Frontiers" in summary and "| contiguous | net |" in summary and "frontier-map.png" in summary
    assert (tmp_path / "frontier.png").exists() and (tmp_path / "frontier-map.png").exists()
    data = json.loads((tmp_path / "results.json").read_text())
    assert len(data["frontiers"]["rows"]) == len(f.rows) and data["frontiers"]["maps"][0]["claim"] == "concept-learnt"
    few = [r for r in results if r.spec.seed in (110, 111)]
    assert session_frontiers(evidence_probe.profile, few) is None


def test_frontier_thumbnail_for_the_html_row(evidence_probe):
    """pytest-html's row of a frontier test shows the claim's share of seeds holding against N (a JPEG
    from the test's own runs); runs that cannot draw it give None, not an error."""
    from genprobe.frontier_report import frontier_thumbnail

    results = list(evidence_probe._found.values())
    jpg = frontier_thumbnail(evidence_probe.profile, "contiguous", results, width=300)
    assert jpg is not None and jpg[:3] == b"\xff\xd8\xff"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(jpg)).width <= 300
    assert frontier_thumbnail(evidence_probe.profile, "contiguous", results[:4]) is None


@pytest.mark.slow
def test_the_frontier_page_grid_and_map_are_what_the_committed_evidence_gives():
    """The frontier page's 10-size frontier table, the map's iso-line table and the follow-up's table are
    generated (``python benchmarks/studies/frontier_study.py --write``) from the smoke sweeps and
    ``benchmarks/studies/evidence/frontier-smoke-c-seeds0-19.json.gz``: every cell recomputed here; the dot
    memoriser holds no shape claim at any size (``never``: 0 of 20 is clearly below 1/2), and the answers
    say which seeds they come from."""
    from benchmarks.studies import frontier_study as fs

    probe = fs.grid_probe()
    rows, maps = fs.grid_study(20, probe), fs.grid_maps(probe)
    assert all(r.frontier.kind == "never" for r in rows if r.model == "dot")
    assert all(len(r.frontier.sizes) == (4 if r.claim == "ring-not-points" else 10) for r in rows)
    page = pages.path(fs.PAGE).read_text()
    section = page[page.index(fs.GRID_BEGIN) : page.index(fs.GRID_END)]
    confirmed = bool(fs.set_files(fs.evidence_files(fs.C_PATTERNS), "confirmation"))
    ours = fs.grid_section(rows, maps, confirmed)
    assert "calibration seeds" in section and "not confirmed on fresh seeds" in section

    assert section == ours[: ours.index(fs.GRID_END)], (
        "docs/evidence/frontier.md is stale: run python benchmarks/studies/frontier_study.py --write"
    )
    # the rest of the page is the generator's own text around those sections, whole
    assert page.startswith(
        pages.page("Claim frontiers", "python benchmarks/studies/frontier_study.py --write", fs.INTRO)[:-1]
    )
    assert (pages.DOCS_EVIDENCE / "figures" / "frontier-grid.png").exists() and (
        pages.DOCS_EVIDENCE / "figures" / "frontier-map.png"
    ).exists(), "figures missing"
