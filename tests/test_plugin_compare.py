"""Saved sessions and compare-fail through pytest, as a CI job uses them (tiny runs, subprocesses)."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
from PIL import Image

pytest_plugins = ["pytester"]

# a user's own model, in its own file outside genprobe
MODEL = """
import torch


def make(width=32, depth=4):
    layers, d = [], 2
    for _ in range(depth):
        layers += [torch.nn.Linear(d, width), torch.nn.LeakyReLU(0.01)]
        d = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(d, 1))
"""

# its claim test: the learning rate comes from the environment, so a CI job can "break" it
TEST = """
import os

import pytest
from genprobe import claims
from genprobe.runs import RunSpec

LR = float(os.environ.get("TINY_LR", "0.01"))


def spec(seed):
    return RunSpec(
        truth=os.environ["TINY_TRUTH"], model="tinymodel:make", model_kwargs={"width": 32}, n=1000, batch=250,
        seed=seed, epochs=60, lr=LR, eval_res=32, curve_res=32, checkpoints=4,
    )


@pytest.mark.claim("draws-the-ring")
def test_draws_the_ring(probe):
    probe.check(
        lambda g: claims.threshold(g.runs([spec(s) for s in g.seeds]), "held_out_iou", ">=", 0.05), expect="report"
    )
"""


@pytest.fixture
def project(pytester, tmp_path, monkeypatch):
    """A user's project: a model module, a claim test on it, a thick ring (learnt in 60 epochs)."""
    res = 64
    y, x = np.mgrid[0:res, 0:res] / res
    ring = np.where(np.abs(np.hypot(x - 0.5, y - 0.5) - 0.3) < 0.07, 0, 255).astype(np.uint8)
    Image.fromarray(ring).save(tmp_path / "thick.png")
    monkeypatch.setenv("TINY_TRUTH", str(tmp_path / "thick.png"))
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GENPROBE_PROFILE", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makepyfile(tinymodel=MODEL, test_mine=TEST)
    return pytester


def _run(project, *args):
    return project.runpytest_subprocess("--genprobe-seeds=0-4", "--genprobe-no-report", "-p", "no:cacheprovider", *args)


def test_a_worse_model_fails_compare_fail_and_an_identical_rerun_passes(project, monkeypatch):
    saved = _run(project, "--genprobe-save=good")
    assert saved.ret == 0, saved.stdout.str()
    (path,) = (project.path / ".genprobe").glob("0001_good.json")
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # readable by a colleague / CI artifacts
    data = json.loads(path.read_text())
    (test,) = data["tests"].values()
    assert sorted(test["checks"][0]["values"]) == ["0", "1", "2", "3", "4"]
    assert data["meta"]["specs"] and all(s["model"] == "tinymodel:make" for s in data["meta"]["specs"].values())

    same = _run(project, "--genprobe-compare=good", "--genprobe-compare-fail=held_out_iou:0.05")
    assert same.ret == 0, same.stdout.str()
    same.stdout.fnmatch_lines(["*genprobe compare with good*", "*test_draws_the_ring*held_out_iou*"])
    assert "REGRESSION" not in same.stdout.str()

    monkeypatch.setenv("TINY_LR", "0.001")  # 10x too low: every seed draws less of the ring
    # saving under the baseline's own name compares with the previous save, not with itself
    worse = _run(
        project, "--genprobe-save=good", "--genprobe-compare=good", "--genprobe-compare-fail=held_out_iou:0.05"
    )
    assert worse.ret == pytest.ExitCode.TESTS_FAILED, worse.stdout.str()
    assert (project.path / ".genprobe" / "0002_good.json").exists()
    worse.stdout.fnmatch_lines(["*REGRESSION*test_draws_the_ring*held_out_iou: 5 of 5 seeds worse by > 0.05*"])
    worse.stdout.fnmatch_lines(["*1 passed*"])  # the test itself passed: only the gate failed

    lenient = _run(project, "--genprobe-compare=0001", "--genprobe-compare-fail=held_out_iou:0.9")
    assert lenient.ret == 0, lenient.stdout.str()


def test_compare_fail_without_a_saved_baseline_fails_in_one_line(project):
    result = _run(project, "--genprobe-compare=nothing", "--genprobe-compare-fail=held_out_iou:0.05")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*genprobe: cannot compare:*nothing*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--genprobe-compare-fail=held_out_iou"], "*held_out_iou*"),
        (["--genprobe-compare-fail=held_out_iou:0.05"], "*needs --genprobe-compare*"),
        (["--genprobe-save=../x"], "*../x*"),
    ],
)
def test_bad_compare_options_are_one_line_usage_errors(project, args, message):
    result = _run(project, "--genprobe-compare=good", *args) if "needs" not in message else _run(project, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
