"""Saved sessions and regressions between them (genprobe.compare, ``genprobe compare``)."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from genprobe import compare as cmp
from genprobe.cli import main
from genprobe.errors import GenprobeError
from genprobe.jsonio import to_json_safe
from genprobe.verdicts import Check, Verdict

NODE = "benchmarks/test_claims.py::test_no_overfitting_at_5000_points[standard]"
OTHER = "benchmarks/test_claims.py::test_contiguous_regions[312]"
SUFFIX = "::no-overfitting[N=5000]"  # a test's key: nodeid::claim[N=n]


def K(nodeid: str) -> str:
    return nodeid + SUFFIX


BASE_IOU = [0.80, 0.82, 0.78, 0.85, 0.81]
BASE_TOPO = [0.0, 1.0, 0.0, 0.0, 2.0]


def row(iou=BASE_IOU, topo=BASE_TOPO, seeds=(0, 1, 2, 3, 4), nodeid=NODE, expect="holds", subject="mlp/standard"):
    """One plugin row, serialised as the plugin does (to_dict, then to_json_safe)."""
    v = Verdict(
        claim="no-overfitting",
        statement="held-out IoU stays high",
        subject=subject,
        n=5000,
        seeds=list(seeds),
        checks=[
            Check("held_out_iou", list(iou), ">=", 0.65, alpha=0.033),
            Check("topology_error", list(topo), "<=", 0, alpha=0.033),
        ],
        runs=[f"key{s}" for s in seeds],
    )
    return (nodeid, to_json_safe(v.to_dict()), expect)


def session(**kw):
    """Two tests, both with these values."""
    return [row(**kw), row(nodeid=OTHER, expect="report", **kw)]


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse errors exit through the parser
        return int(exc.code or 0)


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genprobe: error: "), err
    return err


# -- saving and loading ------------------------------------------------------------------------------------------


def test_save_load_round_trip_keeps_values_by_seed_and_meta(tmp_path):
    rows = [row(iou=[0.8, math.nan, 0.7], topo=[0, 1, math.inf], seeds=(3, 7, 9))]
    path = cmp.save(rows, "main", tmp_path, meta={"profile": "smoke", "device": "cpu"})
    assert path == tmp_path / "0001_main.json"
    raw = json.loads(path.read_text())
    test = raw["tests"][K(NODE)]
    assert test["checks"][0]["values"] == {"3": 0.8, "7": None, "9": 0.7}  # NaN (diverged) as null
    assert test["runs"] == ["key3", "key7", "key9"] and test["expect"] == "holds" and test["role"] == "claim"
    for k in ("genprobe", "torch", "numpy", "python", "git_commit", "datetime"):
        assert k in raw["meta"], k
    assert raw["meta"]["profile"] == "smoke" and raw["meta"]["number"] == 1 and raw["meta"]["name"] == "main"

    data = cmp.load("main", tmp_path)
    c0, c1 = data["tests"][K(NODE)]["checks"]
    assert c0["metric"] == "held_out_iou" and c0["op"] == ">=" and c0["threshold"] == 0.65
    assert c0["values"][3] == 0.8 and math.isnan(c0["values"][7]) and c1["values"][9] == math.inf
    assert data["tests"][K(NODE)]["seeds"] == [3, 7, 9]


def test_saves_are_numbered_and_found_by_name_number_stem_and_path(tmp_path):
    p1 = cmp.save(session(), "main", tmp_path)
    p2 = cmp.save(session(), "fast-adam", tmp_path)
    p3 = cmp.save(session(iou=[0.1] * 5), "main", tmp_path)
    assert [p.name for p in (p1, p2, p3)] == ["0001_main.json", "0002_fast-adam.json", "0003_main.json"]
    assert cmp.saved(tmp_path) == [p1, p2, p3]
    assert cmp.load("main", tmp_path)["file"] == str(p3)  # the latest with that name
    assert cmp.load("0001", tmp_path)["file"] == str(p1)
    assert cmp.load("2", tmp_path)["file"] == str(p2)
    assert cmp.load("0001_main", tmp_path)["file"] == str(p1)
    assert cmp.load(p2, tmp_path)["file"] == str(p2)
    assert cmp.load(str(p1), tmp_path / "elsewhere")["file"] == str(p1)
    listing = cmp.format_saved(tmp_path)
    assert listing.splitlines()[0].startswith("0001_main.json") and "2 tests" in listing


def test_saves_at_once_get_different_numbers(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda i: cmp.save(session(), f"run{i}", tmp_path), range(8)))
    assert sorted(p.name.split("_")[0] for p in paths) == [f"{i:04d}" for i in range(1, 9)]
    assert all(cmp.load(p, tmp_path)["tests"] for p in paths)


def test_saved_file_is_readable_by_others(tmp_path):
    old = os.umask(0o022)
    try:
        path = cmp.save(session(), "main", tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("name", ["", "0003", "a/b", "../x", "-x", "has space", "x.json", "a" * 101, "é"])
def test_bad_names_are_one_line_errors(tmp_path, name):
    with pytest.raises(GenprobeError) as e:
        cmp.save(session(), name, tmp_path)
    assert "\n" not in str(e.value) and repr(name) in str(e.value)
    assert not tmp_path.exists() or not cmp.saved(tmp_path)


def test_missing_ref_lists_what_is_saved(tmp_path):
    with pytest.raises(GenprobeError, match="nothing is saved"):
        cmp.load("main", tmp_path)
    cmp.save(session(), "main", tmp_path)
    for ref in ("mian", "0009", "gone.json", "x/y"):
        with pytest.raises(GenprobeError) as e:
            cmp.load(ref, tmp_path)
        msg = str(e.value)
        assert "\n" not in msg and repr(ref) in msg and "0001_main.json" in msg


def test_a_file_that_is_no_save_is_one_line(tmp_path):
    bad = tmp_path / "0001_junk.json"
    bad.write_text("{not json\n\n")
    other = tmp_path / "0002_other.json"
    other.write_text(json.dumps({"benchmarks": []}))
    for ref in ("junk", "other"):
        with pytest.raises(GenprobeError) as e:
            cmp.load(ref, tmp_path)
        assert "\n" not in str(e.value)


# -- comparing and fail rules ------------------------------------------------------------------------------------


def comparison(base_rows, new_rows, tmp_path):
    """Through the files, as the CLI does."""
    cmp.save(base_rows, "base", tmp_path)
    cmp.save(new_rows, "new", tmp_path)
    return cmp.compare(cmp.load("base", tmp_path), cmp.load("new", tmp_path))


def pair(c: cmp.Comparison, metric: str, test: str = NODE) -> cmp.Pair:
    return next(p for p in c.pairs if p.test == K(test) and p.metric == metric)


def test_identical_sessions_have_no_regression_even_at_delta_zero(tmp_path):
    c = comparison(session(), session(), tmp_path)
    assert len(c.pairs) == 4 and not c.added and not c.removed
    assert pair(c, "held_out_iou").changes == (0.0,) * 5
    assert cmp.regressions(c, ["held_out_iou:0", "topology_error:0"]) == []


def test_uniformly_worse_model_regresses_beyond_delta_only(tmp_path):
    worse = [v - 0.2 for v in BASE_IOU]
    c = comparison(session(), [row(iou=worse), row(nodeid=OTHER, iou=worse)], tmp_path)
    p = pair(c, "held_out_iou")
    assert p.median == pytest.approx(-0.2) and p.min == pytest.approx(-0.2) and p.max == pytest.approx(-0.2)
    found = cmp.regressions(c, [cmp.parse_fail_rule("held_out_iou:0.05")])
    assert {j.pair.test for j in found} == {K(NODE), K(OTHER)}
    # each (test, metric) at level 0.1, as a claim's check; 5 of 5 seeds give p = 1/32 = 0.031
    assert all(j.level == pytest.approx(0.1) and j.test.k == 5 for j in found)
    line = found[0].explanation
    assert line == (
        "test_no_overfitting_at_5000_points[standard] no-overfitting[N=5000] held_out_iou: "
        "5 of 5 seeds worse by > 0.05 (median -0.2), error <= 0.031"
    )
    assert cmp.regressions(c, ["held_out_iou:0.3"]) == []
    assert cmp.regressions(c, ["topology_error:0"]) == []  # the other metric did not change


def test_each_test_is_judged_at_the_level_of_a_check_so_five_seeds_decide_however_many_tests(tmp_path):
    worse = [v - 0.2 for v in BASE_IOU]
    nodes = [f"benchmarks/test_claims.py::test_x[{i}]" for i in range(20)]
    c = comparison([row(nodeid=n) for n in nodes], [row(nodeid=n, iou=worse) for n in nodes], tmp_path)
    js = cmp.judge(c, ["held_out_iou:0.05"])
    assert len(js) == 20 and all(j.level == pytest.approx(0.1) and j.regressed for j in js)


def test_controls_and_expected_refutations_are_not_gated(tmp_path):
    worse = [v - 0.2 for v in BASE_IOU]
    for expect in ("fails", "refuted"):
        c = comparison([row(expect=expect)], [row(expect=expect, iou=worse)], tmp_path / expect)
        assert cmp.judge(c, ["held_out_iou:0.05"]) == []
        assert "held_out_iou" in cmp.format_comparison(c, ["held_out_iou:0.05"])  # still shown


def test_a_gated_check_that_is_no_longer_measured_fails_the_rule(tmp_path):
    c = comparison(session(), [row()], tmp_path)
    (j,) = cmp.regressions(c, ["held_out_iou:0.05"])
    assert j.decision == "missing" and "missing from the new session" in j.explanation
    assert j.pair.test == K(OTHER)


def test_a_row_reported_twice_counts_once(tmp_path):
    c = cmp.compare([row()], [row(), row()])
    assert len(c.pairs) == 2 and not c.added and not c.removed  # held_out_iou and topology_error, once


def test_ok_says_why(tmp_path):
    c = comparison(session(), session(iou=[v - d for v, d in zip(BASE_IOU, [0.2, 0.2, 0.2, 0.2, 0])]), tmp_path)
    (j, _) = cmp.judge(c, ["held_out_iou:0.05"])
    assert j.decision == "ok" and j.explanation.endswith(
        "4 of 5 seeds worse by > 0.05 (median -0.2), p = 0.19 > 0.1: not a regression"
    )


def test_noise_around_zero_is_no_regression(tmp_path):
    noisy = [v + d for v, d in zip(BASE_IOU, [0.1, -0.1, 0.08, -0.12, 0.02])]
    c = comparison(session(), session(iou=noisy), tmp_path)
    assert cmp.regressions(c, ["held_out_iou:0.05", "held_out_iou:0"]) == []


def test_pairs_only_common_seeds(tmp_path):
    base = session(iou=BASE_IOU, seeds=(0, 1, 2, 3, 4))
    # seeds 2-6: seed 5 and 6 are new; seeds 0, 1 are gone; each common seed is 0.3 worse
    new_iou = [BASE_IOU[2] - 0.3, BASE_IOU[3] - 0.3, BASE_IOU[4] - 0.3, 0.9, 0.9]
    c = comparison(base, session(iou=new_iou, seeds=(2, 3, 4, 5, 6)), tmp_path)
    p = pair(c, "held_out_iou")
    assert p.seeds == (2, 3, 4) and p.only_new == (5, 6) and p.only_old == (0, 1)
    assert p.changes == pytest.approx((-0.3, -0.3, -0.3))
    js = cmp.judge(c, ["held_out_iou:0.05"])
    assert all(j.decision == "too few seeds" for j in js)  # 3 seeds: p >= 1/8 > 0.1
    assert not any(j.regressed for j in js)
    table = cmp.format_comparison(c, ["held_out_iou:0.05"])
    assert "3 (+2 new, -2 old)" in table and "too few seeds to decide (3 paired, needs 4" in table


def test_two_seeds_can_never_decide_and_the_table_says_so(tmp_path):
    c = comparison(
        [row(seeds=(0, 1), iou=[0.8, 0.8], topo=[0, 0])], [row(seeds=(0, 1), iou=[0, 0], topo=[0, 0])], tmp_path
    )
    (j,) = cmp.judge(c, ["held_out_iou:0.05"])
    assert j.decision == "too few seeds" and not j.regressed
    assert "too few seeds" in cmp.format_comparison(c, ["held_out_iou:0.05"])


def test_lower_is_better_for_le_checks(tmp_path):
    more_errors = [v + 3 for v in BASE_TOPO]
    c = comparison(session(), session(topo=more_errors), tmp_path)
    p = pair(c, "topology_error")
    assert p.op == "<=" and p.changes == (-3.0,) * 5
    assert len(cmp.regressions(c, ["topology_error:1"])) == 2
    # fewer errors is an improvement, never a regression
    c = comparison(session(topo=more_errors), session(), tmp_path / "b")
    assert pair(c, "topology_error").changes == (3.0,) * 5
    assert cmp.regressions(c, ["topology_error:0"]) == []


def test_nan_counts_as_worse(tmp_path):
    diverged = [math.nan] * 4 + [BASE_IOU[4]]
    c = comparison(session(), session(iou=diverged), tmp_path)
    p = pair(c, "held_out_iou")
    assert p.changes[:4] == (-math.inf,) * 4 and p.changes[4] == 0.0
    js = cmp.regressions(c, ["held_out_iou:0.5"], alpha=0.2)  # 4 of 5 worse: p = 0.19 <= 0.2
    assert len(js) == 2 and all(j.test.k == 4 for j in js)
    (j,) = cmp.regressions(cmp.compare([row()], [row(iou=[math.nan] * 5)]), ["held_out_iou:0.5"])
    assert j.test.k == 5 and "(median -inf)" in j.explanation
    # diverged before and after: no change; diverged before only: better
    assert cmp.change(math.nan, math.nan, ">=") == 0.0 and cmp.change(math.nan, 0.1, "<=") == math.inf
    c = comparison(session(iou=diverged), session(iou=diverged), tmp_path / "b")
    assert cmp.regressions(c, ["held_out_iou:0"]) == []


def test_added_and_removed_tests_and_checks_are_listed(tmp_path):
    third = "benchmarks/test_controls.py::test_knn_baseline[312]"
    new = [row(), row(nodeid=third)]
    _, d, e = new[0]
    d = dict(d, checks=[d["checks"][0], dict(d["checks"][0], metric="contrast")])
    new[0] = (NODE, d, e)
    c = comparison(session(), new, tmp_path)
    assert c.added == [K(third)] and c.removed == [K(OTHER)]
    assert c.added_checks == [(K(NODE), "contrast")] and c.removed_checks == [(K(NODE), "topology_error")]
    table = cmp.format_comparison(c)
    assert "only in the new save (added): test_knn_baseline[312] no-overfitting" in table
    assert "only in the base save (removed): test_contiguous_regions[312] no-overfitting" in table
    assert (
        "checks only in the base save (removed): "
        "test_no_overfitting_at_5000_points[standard] no-overfitting[N=5000] topology_error" in table
    )
    # a gated check the new save no longer measures fails its rule
    assert {j.decision for j in cmp.judge(c, ["topology_error:0"])} == {"missing"}


def test_rows_compare_directly_and_a_test_with_two_verdicts_keeps_both(tmp_path):
    twice = [row(), row(iou=[v + 0.01 for v in BASE_IOU])]
    c = cmp.compare(twice, [row(), row(iou=[v - 0.3 for v in BASE_IOU])])
    assert len({p.test for p in c.pairs}) == 2 and not c.added
    (j,) = cmp.regressions(c, ["held_out_iou:0.1"])
    assert j.pair.test.endswith("#2")


def test_metric_names_with_symbols_and_bad_rules():
    r = cmp.parse_fail_rule("held_out_iou - 1-nn:0.05")
    assert (r.metric, r.delta) == ("held_out_iou - 1-nn", 0.05)
    assert cmp.parse_fail_rule("IoU@6000 - IoU@3000: 1e-2") == cmp.FailRule("IoU@6000 - IoU@3000", 0.01)
    assert str(r) == "held_out_iou - 1-nn:0.05"
    for text in ("held_out_iou", ":0.1", "held_out_iou:", "held_out_iou:-0.1", "held_out_iou:x", "a:nan", "a:inf"):
        with pytest.raises(GenprobeError) as e:
            cmp.parse_fail_rule(text)
        assert "\n" not in str(e.value) and repr(text) in str(e.value)


def test_rule_on_an_unknown_metric_is_an_error(tmp_path):
    c = comparison(session(), session(), tmp_path)
    with pytest.raises(GenprobeError, match="no check measures 'held_out_IOU'.*'held_out_iou'"):
        cmp.regressions(c, ["held_out_IOU:0.1"])
    assert cmp.regressions(c, ["held_out_IOU:0.1"], strict=False) == []


def test_table_has_a_row_per_test_and_metric(tmp_path):
    worse = [v - 0.2 for v in BASE_IOU]
    c = comparison(session(), session(iou=worse), tmp_path)
    table = cmp.format_comparison(c, ["held_out_iou:0.05"])
    lines = table.splitlines()
    assert "0001_base.json -> 0002_new.json" in lines[0]
    head = next(i for i, line in enumerate(lines) if line.startswith("test "))
    body = lines[head + 1 : head + 5]
    assert len(body) == 4
    iou = next(line for line in body if line.startswith("test_no_overfitting") and "held_out_iou" in line)
    assert "-0.2 [-0.2..-0.2]" in iou and "REGRESSED: 5 of 5 seeds worse by > 0.05, error <= 0.031" in iou
    topo = next(line for line in body if "topology_error" in line)
    assert topo.split()[-1] == "-"  # no rule on it


# -- the command line --------------------------------------------------------------------------------------------


def test_cli_exit_codes(tmp_path, capsys):
    root = str(tmp_path)
    cmp.save(session(), "base", tmp_path)
    cmp.save(session(iou=[v - 0.2 for v in BASE_IOU]), "worse", tmp_path)
    assert run(["compare", "base", "base", "--root", root, "--fail", "held_out_iou:0.05"]) == 0
    assert "median change" in capsys.readouterr().out
    assert run(["compare", "base", "worse", "--root", root, "--fail", "held_out_iou:0.05"]) == 1
    out = capsys.readouterr().out
    assert out.count("REGRESSION held_out_iou:0.05: ") == 2
    assert run(["compare", "1", "2", "--root", root, "--fail", "held_out_iou:0.3"]) == 0
    assert run(["compare", "base", "worse", "--root", root]) == 0  # no rule: a table, never a failure
    capsys.readouterr()
    assert run(["compare", "--list", "--root", root]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("0002_worse.json")

    for argv in (
        ["compare", "base", "nope", "--root", root],
        ["compare", "base", "worse", "--root", root, "--fail", "held_out_iou"],
        ["compare", "base", "worse", "--root", root, "--fail", "typo:0.1"],
        ["compare", "base", "--root", root],
        ["compare", "base", "worse", "--bogus"],
    ):
        assert run(argv) == 2, argv
        one_line(capsys)


def test_cli_as_a_process(tmp_path):
    cmp.save(session(), "base", tmp_path)
    cmp.save(session(iou=[v - 0.2 for v in BASE_IOU]), "worse", tmp_path)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    p = subprocess.run(
        [sys.executable, "-m", "genprobe.cli", "compare", "base", "worse", "--fail", "held_out_iou:0.05"],
        cwd=tmp_path.parent,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no save 'base'" in p.stderr  # default root .genprobe
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "genprobe.cli",
            "compare",
            "base",
            "worse",
            "--root",
            str(tmp_path),
            "--fail",
            "held_out_iou:0.05",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert p.returncode == 1, p.stderr
    assert "REGRESSED" in p.stdout and p.stderr == ""


def test_compare_imports_neither_torch_nor_pytest():
    code = "import sys, genprobe.compare; print(sorted(m for m in ('torch', 'pytest') if m in sys.modules))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "[]"


def test_a_changed_model_is_compared_with_the_run_before_it_and_named():
    """A pull request that changes the model's arguments (its label names them) pairs by test and claim,
    seed by seed, and the comparison says what the model was and is."""
    from genprobe.runs import RunSpec

    wide = RunSpec(width=64).what()
    assert wide == "mlp(width=64)/standard" and RunSpec().what() == "mlp/standard"
    c = cmp.compare([row()], [row(iou=[v - 0.1 for v in BASE_IOU], subject=wide)])
    assert not c.added and not c.removed and len(c.pairs) == 2
    assert any(f"from mlp/standard to {wide}" in n for n in c.notes)


def test_a_save_keyed_by_subject_pairs_with_one_keyed_by_claim():
    """Saves from the version whose keys held the subject (``claim[subject,N=n]``) still pair."""
    old = cmp.snapshot([row()])
    old["tests"] = {k.replace("[N=", "[mlp/standard,N="): t for k, t in old["tests"].items()}
    assert list(old["tests"]) == [NODE + "::no-overfitting[mlp/standard,N=5000]"]
    c = cmp.compare(old, [row()])
    assert not c.added and not c.removed and len(c.pairs) == 2
