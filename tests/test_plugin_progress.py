"""A sweep through the pytest plugin says its progress: on the terminal, and from pytest-xdist's workers,
whose terminal reporter writes nowhere, on stderr with the worker's id (issue 32)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = """
from genprobe import claims
from genprobe.runs import RunSpec


def nets(g, n):
    specs = [
        RunSpec(truth="ring@64", n=n, seed=s, depth=3, width=8, epochs=3, eval_res=32, curve_res=32, checkpoints=2)
        for s in g.seeds
    ]
    return g.runs(specs)


def test_a(probe):
    probe.check(lambda g: claims.threshold(nets(g, 200), "held_out_iou", ">=", 0.0, claim="a"), expect="report")


def test_b(probe):
    probe.check(lambda g: claims.threshold(nets(g, 300), "held_out_iou", ">=", 0.0, claim="b"), expect="report")
"""


@pytest.fixture
def suite(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENPROBE_PROFILE", raising=False)
    pytester.makepyfile(test_progress=SUITE)
    return pytester


def test_the_terminal_shows_the_sweeps_progress(suite):
    result = suite.runpytest_subprocess("--genprobe-no-report", "--genprobe-seeds=0-4", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["sweep: * to train", "sweep: *, 5/5 runs in *"])


def test_xdist_workers_show_their_progress_on_stderr(suite):
    pytest.importorskip("xdist")
    result = suite.runpytest_subprocess("-n", "2", "--genprobe-no-report", "--genprobe-seeds=0-4", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    result.stderr.fnmatch_lines(
        ["[[]gw?[]] sweep: 1 group, 5 runs to train*", "[[]gw?[]] sweep: 1/1 group, 5/5 runs in *"]
    )
