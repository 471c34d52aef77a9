"""The CUDA path: skipped cleanly on machines without a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genprobe.runs import RunSpec
from genprobe.train import resolve_device, train_group

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


def _specs(**kw):
    base = dict(truth="ring@128", n=500, depth=8, width=30, epochs=30, eval_res=64, curve_res=32, checkpoints=3)
    return [RunSpec(seed=s, **(base | kw)) for s in (0, 1)]


def test_auto_picks_cuda():
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:0") == "cuda:0"


@pytest.mark.parametrize("protocol", ["standard", "blog"])
def test_cuda_matches_cpu(protocol):
    """Same init, data and shuffles on both devices: float32 results agree closely."""
    specs = _specs(protocol=protocol)
    cpu = train_group(specs, device="cpu", progress=False)
    gpu = train_group(specs, device="cuda", progress=False)
    for a, b in zip(cpu, gpu):
        assert b.meta["device"] == "cuda"
        np.testing.assert_allclose(a.prediction, b.prediction, atol=5e-3)
        assert abs(a.final["held_out_iou"] - b.final["held_out_iou"]) < 0.05


def test_cuda_is_deterministic_for_a_seed():
    a = train_group(_specs(), device="cuda", progress=False)
    b = train_group(_specs(), device="cuda", progress=False)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.prediction, y.prediction, atol=1e-5)


def test_cuda_padded_group_and_fourier():
    mixed = [
        RunSpec(truth="ring@128", n=n, seed=0, depth=6, epochs=10, eval_res=32, curve_res=32, checkpoints=2)
        for n in (500, 450)
    ]
    assert len(train_group(mixed, device="cuda", progress=False)) == 2
    fourier = RunSpec(
        truth="ring@128",
        n=300,
        seed=0,
        depth=3,
        width=64,
        negative_slope=0.0,
        features="fourier",
        fourier_dim=32,
        steps=10,
        eval_res=32,
        curve_res=32,
        checkpoints=2,
    )
    (r,) = train_group([fourier], device="cuda", progress=False)
    assert r.prediction.shape == (32, 32)
