"""Adding a metric through the registry (genprobe.metrics.register): what it costs and what it keeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

import genprobe.sweep as sweep_mod
from genprobe import metrics
from genprobe.errors import GenprobeError
from genprobe.runs import Cache, RunSpec
from genprobe.sweep import run_sweep

TINY = dict(truth="ring@64", n=200, epochs=3, depth=3, width=8, eval_res=16, curve_res=16, checkpoints=1)


def ink(s: metrics.Scored) -> float:
    """Mean darkness of the prediction: a metric no version of genprobe had."""
    return float(np.mean(1.0 - s.grey))


@pytest.fixture
def registered():
    metrics.register("ink", ink, title="mean darkness", better="neither")
    try:
        yield
    finally:
        metrics.unregister("ink")
    assert "ink" not in metrics.METRICS


def test_a_new_metric_reaches_cached_runs_without_training_and_keeps_them_valid(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    specs = [RunSpec(**TINY), RunSpec(**TINY, seed=1), RunSpec(**TINY, model="knn")]
    before = {s: r for s, r in zip(specs, run_sweep(specs, cache=cache, device="cpu", progress=False))}
    files = {s: cache.path(s).read_bytes() for s in specs}
    assert all("ink" not in r.final for r in before.values())

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was retrained")

    monkeypatch.setattr(sweep_mod, "train_group", no_training)
    metrics.register("ink", ink, title="mean darkness", better="neither")
    try:
        after = run_sweep(specs, cache=cache, device="cpu", progress=False)
        for s, r in zip(specs, after):
            want = float(np.mean(1.0 - np.nan_to_num(before[s].prediction, nan=1.0)))
            assert r.final["ink"] == pytest.approx(want, abs=1e-6), s.label()
            # every other number is the cached run's, and the cache entry was not rewritten
            assert {k: v for k, v in r.final.items() if k != "ink"} == before[s].final
            assert cache.path(s).read_bytes() == files[s]
        assert metrics.title("ink") == "mean darkness" and metrics.METRICS["ink"].better == "neither"
    finally:
        metrics.unregister("ink")
    # without the metric, the same cache reads as before
    monkeypatch.undo()
    again = run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert all("ink" not in r.final for r in again)


def test_a_run_trained_after_the_registration_records_the_metric_along_training(registered, tmp_path):
    [r] = run_sweep([RunSpec(**TINY, seed=2)], cache=Cache(tmp_path / "c"), device="cpu", progress=False)
    assert "ink" in r.final and len(r.history["ink"]) == len(r.history["epoch"])
    assert np.all(np.isfinite(r.history["ink"]))


def test_evaluate_returns_registered_metrics_and_a_failing_one_reads_nan():
    truth = np.ones((32, 32))
    truth[10:20, 10:20] = 0.0
    pred = truth.copy()
    mask = np.zeros_like(truth, dtype=bool)

    def broken(s):
        raise ZeroDivisionError("bad metric")

    metrics.register("broken", broken)
    try:
        with pytest.warns(UserWarning, match="broken"):
            out = metrics.evaluate(pred, truth, mask)
        assert math.isnan(out["broken"]) and out["held_out_iou"] == 1.0
    finally:
        metrics.unregister("broken")
    assert "broken" not in metrics.evaluate(pred, truth, mask)


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("held_out_iou", {}, "already registered"),
        ("not a name", {}, "identifier"),
        ("fine", {"better": "up"}, "better must be"),
    ],
)
def test_bad_registrations_are_one_clear_error(name, kwargs, match):
    with pytest.raises(GenprobeError, match=match):
        metrics.register(name, ink, **kwargs)
    with pytest.raises(GenprobeError, match="built-ins cannot be removed"):
        metrics.unregister("held_out_iou")


def test_registering_the_same_metric_twice_is_a_no_op(registered):
    assert metrics.register("ink", ink, title="mean darkness", better="neither") == metrics.METRICS["ink"]
    with pytest.raises(GenprobeError, match="already registered"):
        metrics.register("ink", lambda s: 0.0)


EVIDENCE_WITH_PICTURES = "benchmarks/studies/evidence/smoke-cpu-c-seeds10-14.json.gz"


def test_a_new_metric_reaches_a_committed_evidence_export_without_training():
    """The committed export of smoke seeds 10-14 holds each run's final picture (--export-pictures): a
    metric registered now gets its final value for every run from it. The picture is the run's own: a
    metric computed from it the way held-out IoU is gives the export's held-out IoU on every run but the
    dot memoriser's."""
    from pathlib import Path

    from genprobe.calibration import load_export

    path = Path(__file__).resolve().parents[1] / EVIDENCE_WITH_PICTURES

    def iou_again(s: metrics.Scored) -> float:
        held = ~s.train_mask
        a, b = s.black & held, s.geometry.truth_black & held
        union = (a | b).sum()
        return float((a & b).sum() / union) if union else 1.0

    metrics.register("iou_again", iou_again, title="held-out IoU, recomputed")
    try:
        runs = load_export(path)
    finally:
        metrics.unregister("iou_again")
    assert len(runs) == 150 and all("iou_again" in r.final for r in runs.values())
    drawn = [r for r in runs.values() if r.spec.model != "dot"]  # the dots' own IoU is on the true image's grid
    assert len(drawn) == 115  # 16 trained runs and 7 1-NN runs a seed
    for r in drawn:
        assert r.final["iou_again"] == pytest.approx(r.final["held_out_iou"], abs=1e-12), r.spec.label()
    # without the metric the same export reads as before
    assert all("iou_again" not in r.final for r in load_export(path).values())
