"""The pytest plugin, driven through pytester as a user would (tiny runs only)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

pytest_plugins = ["pytester"]

# Inner sessions run in subprocesses: torch and numpy cannot be imported twice
# into one process, which in-process pytester runs would need.

TINY = """
import pytest
from genprobe import claims
from genprobe.runs import RunSpec
from genprobe.verdicts import Check, Verdict


def tiny(seed, **kw):
    base = dict(
        truth="ring@64", n=300, seed=seed, depth=4, width=16, epochs=40, eval_res=32, curve_res=32, checkpoints=4
    )
    return RunSpec(**(base | kw))


def nets(g):
    return g.runs([tiny(s) for s in g.seeds])


def dots(g):
    return g.runs([tiny(s, model="dot") for s in g.seeds])


@pytest.mark.claim("iou-floor")
def test_holds(probe):
    probe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 0.0, claim="iou-floor"))


@pytest.mark.claim("impossible")
def test_refuted_expected(probe):
    probe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 2.0, claim="impossible"), expect="refuted")


@pytest.mark.claim("control")
def test_control(probe):
    probe.check(lambda g: claims.threshold(dots(g), "components", "<=", 0, claim="control"), expect="fails")


@pytest.mark.claim("nets")
def test_nets_recorded(probe):
    probe.check(lambda g: claims.threshold(nets(g), "held_out_iou", ">=", 0.0, claim="nets"))
"""

COIN = """
import pytest
from genprobe.verdicts import Check, Verdict


def coin(g):
    # every other seed meets the bound: no number of seeds decides it
    checks = [Check("parity", [s % 2 for s in g.seeds], ">=", 1)]
    return Verdict("coin", "a fair coin", "none", 1, list(g.seeds), checks)


@pytest.mark.claim("coin")
def test_coin_gated(probe):
    probe.check(coin)


@pytest.mark.claim("coin")
def test_coin_reported(probe):
    probe.check(coin, expect="report")
"""


@pytest.fixture
def suite(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENPROBE_PROFILE", raising=False)
    pytester.makepyfile(test_tiny=TINY)
    return pytester


def test_options_are_in_one_group(pytester):
    result = pytester.runpytest_subprocess("--help")
    out = result.stdout.str()
    assert "genprobe claim suite" in out
    for opt in (
        "--genprobe-profile",
        "--genprobe-device",
        "--genprobe-seeds",
        "--genprobe-cache",
        "--genprobe-report",
        "--genprobe-claim",
    ):
        assert opt in out


def test_header_names_profile_device_seeds_cache(suite):
    from genprobe.profiles import get_profile

    smoke = get_profile("smoke")
    longest = max(smoke.max_seeds_for(t) for t in smoke.gated_tests())  # from the committed evidence
    result = suite.runpytest_subprocess("--genprobe-seeds=0,1", "--co")
    result.stdout.fnmatch_lines(
        [
            "genprobe: profile=smoke, device=auto, torch *, seeds=0,1 "
            f"(up to 15 where undecided; up to {longest} for the tests the evidence gates with a longer plan), cache=*"
        ]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--genprobe-profile=huge"], "*unknown profile 'huge'*"),
        (["--genprobe-device=tpu"], "*unknown device 'tpu'*"),
        (["--genprobe-seeds=a,b"], "*bad seed 'a'*"),
        (["--genprobe-seeds=-3"], "*bad seed*"),
        (["--genprobe-claim=nope"], "*unknown claim 'nope'*"),
    ],
)
def test_bad_options_are_usage_errors(suite, args, message):
    result = suite.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_profile_from_environment(suite, monkeypatch):
    monkeypatch.setenv("GENPROBE_PROFILE", "nope")
    result = suite.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown profile 'nope'*"])


def test_other_projects_are_not_affected_by_genprobe_settings(pytester, monkeypatch):
    """A project that has genprobe installed but does not use it: a bad GENPROBE_* variable is no
    usage error there, and nothing heavy is imported at configure (issue 11)."""
    monkeypatch.setenv("GENPROBE_PROFILE", "nope")
    pytester.makeconftest(
        "import sys\n"
        "def pytest_configure(config):\n"
        "    config._numpy_at_configure = 'numpy' in sys.modules\n"
        "def pytest_report_header(config):\n"
        "    return f'numpy at configure: {config._numpy_at_configure}'\n"
    )
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*unknown profile 'nope'* (checked where genprobe's fixture or claims are used)*"])
    assert "numpy at configure: False" in result.stdout.str()


def test_claim_selection_trains_only_what_the_claim_needs(pytester, tmp_path, monkeypatch):
    """--genprobe-claim with a cold cache: the selected claim's runs, not the whole profile (issue 11)."""
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    pytester.makeconftest(
        "import genprobe.sweep\n"
        "real = genprobe.sweep.run_sweep\n"
        "def counting(specs, *a, **k):\n"
        "    specs = list(specs)\n"
        "    print(f'asked for {len(specs)} runs')\n"
        "    return real(specs, *a, **k)\n"
        "genprobe.sweep.run_sweep = counting\n"
    )
    pytester.makepyfile(
        test_profile=(
            "import pytest\n"
            "from genprobe import claims\n"
            "@pytest.mark.claim('dots')\n"
            "def test_dots(probe):\n"
            "    dots = lambda g: claims.threshold(g.baseline('dot', 312), 'components', '>=', 0, claim='dots')\n"
            "    probe.check(dots)\n"
            "@pytest.mark.claim('nets')\n"
            "def test_nets(probe):  # the profile's nets: minutes of training\n"
            "    probe.check(lambda g: claims.threshold(g.net(312), 'held_out_iou', '>=', 0, claim='nets'))\n"
        )
    )
    result = pytester.runpytest_subprocess("--genprobe-seeds=0", "--genprobe-no-report", "--genprobe-claim=dots", "-s")
    result.assert_outcomes(passed=1, deselected=1)
    asked = [int(line.split()[2]) for line in result.stdout.lines if line.startswith("asked for")]
    assert asked and max(asked) <= 5  # the dot run of each seed a look asks for; the profile is 50+ runs a seed


def test_cuda_without_gpu_is_a_usage_error(suite):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = suite.runpytest_subprocess("--genprobe-device=cuda")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cuda*no CUDA GPU*"])


def test_summary_report_and_junit(suite, tmp_path):
    report = tmp_path / "report"
    junit = tmp_path / "junit.xml"
    result = suite.runpytest_subprocess(
        "--genprobe-seeds=0,1", f"--genprobe-report={report}", f"--junitxml={junit}", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=3, xfailed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*genprobe claims (smoke profile, seeds from 0,1)*",
            "rule: an exact sequential sign test per check*",
            "*claim*subject*N*metric*seeds meeting the bound*measured*outcome*",
        ]
    )
    assert "(claim expected refuted)" in out and "control: " in out
    # 2 seeds cannot decide (p >= 0.25); the claims took more, stopping at 7 of 7 (p = 0.008)
    assert "7 of 7 seeds >= 0: holds" in out
    result.stdout.fnmatch_lines([f"genprobe report: {report}*"])
    summary = (report / "summary.md").read_text()
    assert "iou-floor" in summary and "impossible" in summary
    # the gallery of wrong pictures, with the committed verdicts of the smoke profile's shape claims
    assert "## What the claims reject" in summary and "![the gallery](gallery.png)" in summary
    assert (report / "gallery.png").stat().st_size > 0
    data = json.loads((report / "results.json").read_text())
    assert {v["claim"] for v in data["verdicts"]} == {"iou-floor", "impossible", "control", "nets"}
    assert data["info"]["seeds"] == [0, 1]
    # the page beside it: a row per verdict, every thumbnail it shows written beside it
    page = (report / "index.html").read_text()
    assert page.count('<tr class="verdict"') == len(data["verdicts"])
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert "thumbs/gallery.jpg" not in srcs and "gallery.png" in srcs
    assert any(s.startswith("thumbs/panel_") for s in srcs) and all((report / s).is_file() for s in srcs)
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).iter("property")}
    assert "genprobe_verdict" in props and props["genprobe:iou-floor:N=300:seeds"] == "7"
    assert props["genprobe:iou-floor:N=300:held_out_iou"].startswith("7 of 7 seeds >= 0: holds")


def test_second_run_reuses_the_cache(suite, tmp_path, monkeypatch):
    first = suite.runpytest_subprocess("--genprobe-seeds=0", "--genprobe-no-report", "-k", "nets")
    first.assert_outcomes(passed=1)

    # a second session must not train: make training impossible
    suite.makeconftest(
        "import genprobe.sweep\n"
        "def _no(*a, **k):\n    raise AssertionError('trained again')\n"
        "genprobe.sweep.train_group = _no\n"
    )
    second = suite.runpytest_subprocess("--genprobe-seeds=0", "--genprobe-no-report", "-k", "nets")
    second.assert_outcomes(passed=1)


def test_claim_selection(suite):
    result = suite.runpytest_subprocess("--genprobe-seeds=0", "--genprobe-no-report", "--genprobe-claim=control")
    result.assert_outcomes(passed=1, deselected=3)


def test_refuted_claim_that_holds_fails_strictly(suite):
    suite.makepyfile(
        test_strict="""
import pytest
from genprobe import claims
from genprobe.runs import RunSpec

def test_strict(probe):
    runs = probe.runs(
        [RunSpec(truth="ring@64", n=300, seed=s, model="dot", eval_res=32, curve_res=32) for s in range(5)]
    )
    probe.check(claims.threshold(runs, "held_out_iou", ">=", 0.0), expect="refuted")
"""
    )
    result = suite.runpytest_subprocess("--genprobe-no-report", "test_strict.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*XPASS(strict)*expected refuted, got holds*"])


def test_control_that_passes_the_claim_fails(suite):
    suite.makepyfile(
        test_ctrl="""
from genprobe import claims
from genprobe.runs import RunSpec

def test_ctrl(probe):
    runs = probe.runs(
        [RunSpec(truth="ring@64", n=300, seed=s, model="dot", eval_res=32, curve_res=32) for s in range(5)]
    )
    probe.check(claims.threshold(runs, "held_out_iou", ">=", 0.0), expect="fails")
"""
    )
    result = suite.runpytest_subprocess("--genprobe-no-report", "test_ctrl.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*control not refuted (holds)*"])


def test_a_control_names_the_check_it_breaks(suite):
    """refuted_by: a claim of two checks refutes the dot memoriser from its one declared check at 5 seeds;
    a name that is no check of the claim fails the test in one line, naming it."""
    suite.makepyfile(
        test_by="""
from genprobe import claims
from genprobe.runs import RunSpec
from genprobe.verdicts import Verdict

def both(g):
    runs = g.runs([RunSpec(truth="ring@64", n=300, seed=s, model="dot", eval_res=32, curve_res=32) for s in g.seeds])
    a = claims.threshold(runs, "held_out_iou", ">=", 0.5)
    b = claims.threshold(runs, "components", "<=", 0)
    return Verdict("two", "two checks", a.subject, a.n, a.seeds, a.checks + b.checks)

def test_declared(probe):
    v = probe.check(both, expect="fails", refuted_by="held_out_iou")
    assert len(v.seeds) == 5 and v.refuted_by == ["held_out_iou"]

def test_misnamed(probe):
    probe.check(both, expect="fails", refuted_by="held_out")
"""
    )
    result = suite.runpytest_subprocess("--genprobe-no-report", "test_by.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*refuted_by='held_out' is not a check of two; its checks: 'held_out_iou', 'components'"]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_claim_marker_names_the_claim_once(suite, tmp_path):
    suite.makepyfile(
        test_marks="""
import pytest
from genprobe import claims
from genprobe.runs import RunSpec

def dots(g):
    return g.runs([RunSpec(truth="ring@64", n=300, seed=s, model="dot", eval_res=32, curve_res=32) for s in g.seeds])

@pytest.mark.claim("dots-floor")
def test_named_by_marker(probe):
    probe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 0.0))

@pytest.mark.claim("one")
@pytest.mark.claim("two")
def test_two_markers(probe):
    probe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 0.0))
"""
    )
    junit = tmp_path / "junit.xml"
    result = suite.runpytest_subprocess(
        "--genprobe-no-report", "--genprobe-seeds=0-4", "test_marks.py", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*one claim marker per test, got 'two', 'one'*"])
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).iter("property")}
    assert "genprobe:dots-floor:N=300:held_out_iou" in props
    verdict = json.loads(next(v for k, v in props.items() if k == "genprobe_verdict"))["verdict"]
    assert verdict["claim"] == "dots-floor" and verdict["expect"] == "holds" and verdict["protocol"] is None
    assert verdict["statement"] == "held_out_iou >= 0.0"


def test_xdist_gives_one_summary_and_same_verdicts(suite, tmp_path):
    pytest.importorskip("xdist")
    serial = suite.runpytest_subprocess("--genprobe-seeds=0,1", "--genprobe-no-report")
    parallel = suite.runpytest_subprocess("--genprobe-seeds=0,1", "--genprobe-no-report", "-n", "2")
    serial.assert_outcomes(passed=3, xfailed=1)
    parallel.assert_outcomes(passed=3, xfailed=1)
    assert parallel.stdout.str().count("genprobe claims (") == 1

    def rows(res):
        lines = res.stdout.str().split("genprobe claims (", 1)[1].splitlines()[2:]
        return sorted(line for line in lines if line.strip() and not line.startswith("=") and "passed" not in line)

    assert rows(serial) == rows(parallel)


def test_undecided_at_the_most_seeds_fails_a_gate_and_is_reported_otherwise(suite, tmp_path):
    suite.makepyfile(test_coin=COIN)
    junit = tmp_path / "junit.xml"
    result = suite.runpytest_subprocess("--genprobe-no-report", "test_coin.py", f"--junitxml={junit}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*expected holds, got inconclusive at 15 seeds, the most this profile trains for it*"])
    result.stdout.fnmatch_lines(["*7 of 15 seeds >= 1: inconclusive*"])
    props = [(p.get("name"), p.get("value")) for p in ET.parse(junit).iter("property")]
    assert ("genprobe:coin:N=1:seeds", "15") in props  # looks at 5, 10 and 15 seeds: the profile's plan


def test_more_seeds_continue_after_the_start_seeds(suite, tmp_path):
    suite.makepyfile(test_coin=COIN)
    junit = tmp_path / "junit.xml"
    suite.runpytest_subprocess(
        "--genprobe-no-report", "test_coin.py::test_coin_gated", "--genprobe-seeds=20-24", f"--junitxml={junit}"
    )
    payload = next(
        json.loads(p.get("value")) for p in ET.parse(junit).iter("property") if p.get("name") == "genprobe_verdict"
    )
    assert payload["verdict"]["seeds"] == list(range(20, 35))
    assert (payload["verdict"]["look"], payload["verdict"]["looks"]) == (3, 3)

    suite.runpytest_subprocess(
        "--genprobe-no-report", "test_coin.py::test_coin_reported", "--genprobe-seeds=20-24", f"--junitxml={junit}"
    )
    payload = next(
        json.loads(p.get("value")) for p in ET.parse(junit).iter("property") if p.get("name") == "genprobe_verdict"
    )
    assert payload["verdict"]["seeds"] == list(range(20, 25)) and payload["expect"] == "report"
    assert (payload["verdict"]["look"], payload["verdict"]["looks"]) == (
        1,
        3,
    )  # reported: one look, at the plan's level
