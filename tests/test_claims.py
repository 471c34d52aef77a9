"""Claim functions and verdict rules on hand-made histories (no training)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genprobe import claims
from genprobe.runs import RunResult, RunSpec
from genprobe.verdicts import HOLDS, INCONCLUSIVE, REFUTED, Check


def fake(seed: int, iou, n: int = 300, epochs=None, diverged_at=None, **metrics) -> RunResult:
    iou = np.asarray(iou, dtype=float)
    epochs = np.arange(len(iou)) * 100 if epochs is None else np.asarray(epochs)
    spec = RunSpec(truth="ring@64", n=n, seed=seed, epochs=int(epochs[-1]) or 1)
    history = {"epoch": epochs, "step": epochs, "held_out_iou": iou, "true_components": np.ones(len(iou)), "true_holes": np.ones(len(iou))}
    for k, v in metrics.items():
        history[k] = np.asarray(v, dtype=float)
    return RunResult(spec=spec, history=history, final={}, prediction=np.ones((2, 2), np.float32), boundaries=None, train_indices=np.arange(n), diverged_at=diverged_at)


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
    assert Check("m", [0.7, 0.8, 0.9], ">=", 0.75).status == HOLDS
    assert Check("m", [0.7, 0.7, 0.9], ">=", 0.75).status == REFUTED
    assert Check("m", [0.2, 0.8, 0.9], ">=", 0.75, worst=0.5).status == INCONCLUSIVE
    assert Check("m", [1.0, 2.0, 3.0], "<=", 2.0).status == HOLDS
    with pytest.raises(ValueError, match="op"):
        Check("m", [1.0], ">", 0)


def test_a_diverged_seed_counts_as_failed_with_a_note():
    good = [fake(s, [0.8] * 5) for s in (0, 1)]
    bad = fake(2, [0.8, 0.8, 0.8, np.nan, np.nan], diverged_at=250)
    v = claims.threshold(good + [bad], "held_out_iou", ">=", 0.7, worst=0.5)
    assert math.isnan(v.checks[0].values[2])
    assert v.status == INCONCLUSIVE  # the median holds, the diverged seed does not
    assert any("diverged" in note and "failed seed" in note for note in v.notes)
    assert "1 diverged" in v.checks[0].measured
    two_bad = claims.threshold([good[0], bad, fake(3, [0.8] * 5, diverged_at=100)], "held_out_iou", ">=", 0.7)
    assert two_bad.status == REFUTED  # a diverged seed is the worst value, not a skipped one


def test_longer_training_compares_two_windows_of_one_run():
    r = fake(0, [0.1] * 10 + [0.4] * 10)
    v = claims.longer_training_helps([r], short_epoch=900, long_epoch=1900, min_gain=0.1)
    assert v.checks[0].values[0] == pytest.approx(0.3) and v.passed


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
    w = Verdict.from_dict(v.to_dict())
    assert w.status == v.status and w.role == "control" and w.checks[0].values == v.checks[0].values
