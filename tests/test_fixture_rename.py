"""The fixture is ``probe`` (the class's name); ``genprobe``, its old name, still works and warns (issue 32)."""

from __future__ import annotations

pytest_plugins = ["pytester"]

USES = """
import pytest
from genprobe import claims


from genprobe.runs import RunSpec


def dots(g):
    return g.runs([RunSpec(truth="ring@64", n=300, seed=s, model="dot", eval_res=32) for s in g.seeds])


def test_new_name(probe):
    probe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 0.0, claim="new"), expect="report")


def test_old_name(genprobe):
    genprobe.check(lambda g: claims.threshold(dots(g), "held_out_iou", ">=", 0.0, claim="old"), expect="report")
"""


def test_the_old_fixture_name_works_and_warns(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENPROBE_PROFILE", raising=False)
    pytester.makepyfile(test_rename=USES)
    result = pytester.runpytest_subprocess("--genprobe-no-report", "--genprobe-seeds=0-4", "-W", "default")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "DeprecationWarning: the genprobe fixture is now called probe" in out
    assert out.count("fixture is now called probe") == 1  # test_new_name does not warn


def test_another_projects_probe_fixture_is_not_genprobes(pytester, monkeypatch):
    """A project with a fixture of its own called ``probe`` and genprobe installed: genprobe's settings are
    not checked there (a bad GENPROBE_* variable is no usage error)."""
    monkeypatch.setenv("GENPROBE_PROFILE", "nope")
    pytester.makeconftest("import pytest\n@pytest.fixture\ndef probe():\n    return 42\n")
    pytester.makepyfile(test_own="def test_one(probe):\n    assert probe == 42\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
