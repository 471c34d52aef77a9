"""FastMLPStep computes the loss and gradients autograd computes, to float rounding."""

from __future__ import annotations

import os
import shutil

import pytest
import torch

from genprobe.errors import GenprobeError
from genprobe.fastmlp import FastMLPStep, supports
from genprobe.model import BatchedMLP
from genprobe.native import build


def _data(B: int, m: int, seed: int = 0, in_dim: int = 2):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, m, in_dim, generator=g), torch.rand(B, m, generator=g)


def _autograd(model: BatchedMLP, xb, yb, count=None):
    """The trainer's step (train.py): per-net MSE, optionally over the first count[b] points."""
    sq = (model(xb) - yb).square()
    if count is None:
        per_net = sq.mean(1)
    else:
        valid = torch.arange(xb.shape[1]).unsqueeze(0) < count.unsqueeze(1)
        per_net = (sq * valid).sum(1) / count
    for p in model.parameters():
        p.grad = None
    per_net.sum().backward()
    return per_net.detach(), [p.grad.clone() for p in model.parameters()]


def _fast(model: BatchedMLP, xb, yb, count=None, **kw):
    for p in model.parameters():
        p.grad = None
    per_net = FastMLPStep(model, **kw).loss_and_grads(xb, yb, count)
    return per_net, [p.grad.clone() for p in model.parameters()]


def _kernel_or_skip():
    kernel = build.load()
    if kernel is None:
        pytest.skip(f"C kernel unavailable: {build.unavailable_reason()}")
    return kernel


@pytest.fixture(params=["torch", "c"])
def backend(request):
    """Each autograd-parity test runs on both implementations of the step."""
    if request.param == "c":
        _kernel_or_skip()
    return request.param


def _assert_same(model, xb, yb, count=None, rtol=1e-4, atol=1e-6, **kw):
    loss_ref, grads_ref = _autograd(model, xb, yb, count)
    loss, grads = _fast(model, xb, yb, count, **kw)
    torch.testing.assert_close(loss, loss_ref, rtol=1e-5, atol=1e-7)
    names = [n for n, _ in model.named_parameters()]
    for name, g, r in zip(names, grads, grads_ref):
        torch.testing.assert_close(g, r, rtol=rtol, atol=atol, msg=lambda m, name=name: f"{name}: {m}")


SMALL = dict(depth=5, width=8)


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("nets_per_chunk", [None, 1, 2])
def test_small_grads_match_autograd(padded, nets_per_chunk):
    model = BatchedMLP([3, 1, 4], **SMALL)
    xb, yb = _data(3, 37)
    count = torch.tensor([37, 20, 1]) if padded else None
    _assert_same(model, xb, yb, count, nets_per_chunk=nets_per_chunk, backend="torch")


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("tile", [8, 16, 64])
def test_c_kernel_grads_match_autograd(padded, tile):
    """Tiles smaller than, equal to and larger than the batch; a 1-point net."""
    _kernel_or_skip()
    model = BatchedMLP([3, 1, 4], **SMALL)
    xb, yb = _data(3, 37)
    count = torch.tensor([37, 20, 1]) if padded else None
    _assert_same(model, xb, yb, count, backend="c", tile=tile)


@pytest.mark.parametrize("backend, pad", [("torch", False), ("torch", True), ("c", True)], indirect=["backend"])
def test_post_shape_one_step(backend, pad):
    model = BatchedMLP([0, 1, 2, 3])  # depth 30, width 30, slope 0.01
    xb, yb = _data(4, 1024, seed=1)
    _assert_same(model, xb, yb, pad=pad, backend=backend)


@pytest.mark.parametrize(
    "kw",
    [
        dict(depth=3, width=16, fourier_dim=8, negative_slope=0.0),  # the Fourier profile, small
        dict(depth=4, width=12, negative_slope=0.0),  # ReLU
        dict(depth=2, width=40, negative_slope=0.5),
        dict(depth=1, width=8),
        dict(depth=0, width=8),  # output layer only
    ],
)
def test_other_architectures(kw, backend):
    model = BatchedMLP([7, 8], **kw)
    xb, yb = _data(2, 29, seed=2)
    _assert_same(model, xb, yb, backend=backend)
    _assert_same(model, xb, yb, torch.tensor([5, 29]), backend=backend)


@pytest.mark.parametrize("padded", [False, True])
def test_fifty_adam_steps_match(padded, backend):
    """Train twice from the same seeds as train.py does; predictions agree after 50 fused-Adam steps."""
    B, n_max, batch = 3, 100, 37  # 3 steps per epoch, the last one 26 points long
    X, Y = _data(B, n_max, seed=3)
    ns = torch.tensor([100, 90, 80]) if padded else torch.full((B,), n_max)
    models = [BatchedMLP([3, 1, 4], **SMALL) for _ in range(2)]
    opts = [torch.optim.Adam(mdl.parameters(), lr=1e-3, fused=True) for mdl in models]
    fast = FastMLPStep(models[1], backend=backend)
    gen = torch.Generator().manual_seed(4)
    for step in range(50):
        k = step % 3
        if k == 0:
            perm = torch.zeros(B, n_max, dtype=torch.int64)
            for b in range(B):
                perm[b, : ns[b]] = torch.randperm(int(ns[b]), generator=gen)
        lo = k * batch
        idx = perm[:, lo : lo + batch]
        xb = torch.gather(X, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
        yb = torch.gather(Y, 1, idx)
        count = (ns - lo).clamp(max=batch) if padded else None
        opts[0].zero_grad(set_to_none=True)
        loss_ref, _ = _autograd(models[0], xb, yb, count)
        opts[0].step()
        opts[1].zero_grad(set_to_none=True)  # as train.py does: the step sets the grads again
        loss = fast.loss_and_grads(xb, yb, count)
        opts[1].step()
        torch.testing.assert_close(loss, loss_ref, rtol=1e-4, atol=1e-6)
    with torch.no_grad():
        torch.testing.assert_close(models[1](X), models[0](X), rtol=0, atol=1e-4)
    for p, q in zip(models[1].parameters(), models[0].parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-4)


def test_reuse_across_batch_lengths_and_weight_updates(backend):
    """One FastMLPStep serves changing weights and a short last batch."""
    model = BatchedMLP([5, 6], **SMALL)
    fast = FastMLPStep(model, backend=backend)
    for m, seed in [(37, 0), (11, 1), (37, 2)]:
        xb, yb = _data(2, m, seed)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.01)
        loss_ref, grads_ref = _autograd(model, xb, yb)
        loss = fast.loss_and_grads(xb, yb)
        torch.testing.assert_close(loss, loss_ref, rtol=1e-5, atol=1e-7)
        for p, r in zip(model.parameters(), grads_ref):
            torch.testing.assert_close(p.grad, r, rtol=1e-4, atol=1e-6)


def test_networks_stay_independent(backend):
    """A diverged net (NaN weights) leaves the other nets' loss and gradients untouched."""
    model = BatchedMLP([1, 2, 3], **SMALL)
    xb, yb = _data(3, 37)
    loss_ok, grads_ok = _fast(model, xb, yb, nets_per_chunk=3, backend=backend)
    with torch.no_grad():
        model.weights[2][1].fill_(float("nan"))
    loss, grads = _fast(model, xb, yb, nets_per_chunk=3, backend=backend)
    assert torch.isnan(loss[1]) and torch.isfinite(loss[[0, 2]]).all()
    torch.testing.assert_close(loss[[0, 2]], loss_ok[[0, 2]], rtol=0, atol=0)
    for g, r in zip(grads, grads_ok):
        torch.testing.assert_close(g[[0, 2]], r[[0, 2]], rtol=0, atol=0)


def test_result_does_not_depend_on_batch_mates(backend):
    """Net b's gradients match those of the same net trained alone (up to rounding)."""
    xb, yb = _data(3, 37)
    _, grads3 = _fast(BatchedMLP([3, 1, 4], **SMALL), xb, yb, backend=backend)
    _, grads1 = _fast(BatchedMLP([1], **SMALL), xb[1:2], yb[1:2], backend=backend)
    for g3, g1 in zip(grads3, grads1):
        torch.testing.assert_close(g3[1:2], g1, rtol=1e-5, atol=1e-7)


def test_c_kernel_bitwise_independent_of_threads_and_batch_mates():
    """Each net is computed alone: the split over threads and the other nets change no bit."""
    _kernel_or_skip()
    xb, yb = _data(5, 300, seed=6)
    count = torch.tensor([300, 299, 120, 64, 1])
    model = BatchedMLP([3, 1, 4, 1, 5], depth=4, width=30)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        loss1, grads1 = _fast(model, xb, yb, count, backend="c")
        torch.set_num_threads(3)  # ranges 0-1, 1-3, 3-5 on three threads
        loss3, grads3 = _fast(model, xb, yb, count, backend="c")
    finally:
        torch.set_num_threads(before)
    torch.testing.assert_close(loss3, loss1, rtol=0, atol=0)
    for a, b in zip(grads3, grads1):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    alone = BatchedMLP([4], depth=4, width=30)
    loss_a, grads_a = _fast(alone, xb[2:3], yb[2:3], count[2:3], backend="c")
    torch.testing.assert_close(loss_a, loss1[2:3], rtol=0, atol=0)
    for a, b in zip(grads_a, grads1):
        torch.testing.assert_close(a, b[2:3], rtol=0, atol=0)


def test_backend_choice():
    model = BatchedMLP([0], **SMALL)
    assert FastMLPStep(model, backend="torch").backend == "torch"
    assert FastMLPStep(model.double()).backend == "torch"  # the kernel is float32 only
    with pytest.raises(ValueError, match="float32"):
        FastMLPStep(model.double(), backend="c")
    with pytest.raises(ValueError, match="'gpu'"):
        FastMLPStep(BatchedMLP([0], **SMALL), backend="gpu")
    with pytest.raises(ValueError, match="tile must be a positive multiple of 8, got 12"):
        FastMLPStep(BatchedMLP([0], **SMALL), tile=12)
    if build.load() is not None:
        assert FastMLPStep(BatchedMLP([0], **SMALL)).backend == "c"


@pytest.fixture
def fresh_kernel(monkeypatch, tmp_path):
    """An empty kernel cache, and no memory of earlier loads."""
    monkeypatch.setenv("GENPROBE_KERNEL_CACHE", str(tmp_path / "kernels"))
    build._load_cached.cache_clear()
    yield tmp_path / "kernels"
    build._load_cached.cache_clear()


def test_kernel_builds_into_its_cache_and_is_reused(fresh_kernel, monkeypatch):
    if shutil.which("cc") is None and "CC" not in os.environ:
        pytest.skip("no C compiler")
    kernel = build.load()
    assert kernel is not None and kernel.path.parent == fresh_kernel
    built = sorted(fresh_kernel.iterdir())
    assert [p.suffix for p in built] == [".so"]  # no temporary files left behind
    build._load_cached.cache_clear()
    mtime = built[0].stat().st_mtime_ns
    assert build.load().path == built[0] and built[0].stat().st_mtime_ns == mtime  # loaded, not rebuilt


def test_without_a_compiler_training_falls_back_to_torch_ops(fresh_kernel, monkeypatch):
    monkeypatch.setenv("GENPROBE_CKERNEL", "auto")  # CI sets require
    monkeypatch.setenv("CC", str(fresh_kernel / "no-such-cc"))
    with pytest.warns(RuntimeWarning, match="C kernel unavailable.*no-such-cc"):
        step = FastMLPStep(BatchedMLP([0], **SMALL))
    assert step.backend == "torch"
    assert "no-such-cc" in build.unavailable_reason()
    with pytest.raises(ValueError, match="unavailable"):
        FastMLPStep(BatchedMLP([0], **SMALL), backend="c")
    monkeypatch.setenv("GENPROBE_CKERNEL", "require")
    with pytest.raises(GenprobeError, match="GENPROBE_CKERNEL=require.*no-such-cc"):
        build.load()


def test_kernel_modes(fresh_kernel, monkeypatch):
    monkeypatch.setenv("GENPROBE_CKERNEL", "off")
    assert build.load() is None and FastMLPStep(BatchedMLP([0], **SMALL)).backend == "torch"
    assert not fresh_kernel.exists()  # nothing built
    monkeypatch.setenv("GENPROBE_CKERNEL", "fast")
    with pytest.raises(GenprobeError, match="GENPROBE_CKERNEL='fast' is not one of auto, off, require"):
        build.load()


def test_supports():
    assert supports(BatchedMLP([0], **SMALL))
    assert supports(BatchedMLP([0], fourier_dim=4, **SMALL))
    assert not supports(BatchedMLP([0], negative_slope=-0.1, **SMALL))
    assert not supports(torch.nn.Linear(2, 1))
    assert not supports(BatchedMLP([0], **SMALL).half())
    with pytest.raises(ValueError):
        FastMLPStep(BatchedMLP([0], negative_slope=-0.1, **SMALL))
    with pytest.raises(ValueError):
        FastMLPStep(BatchedMLP([0], **SMALL), nets_per_chunk=0)


def test_float64():
    model = BatchedMLP([0, 1], **SMALL).double()
    xb, yb = _data(2, 37)
    _assert_same(model, xb.double(), yb.double(), rtol=1e-10, atol=1e-12)


# architectures the kernel's forward is checked on: small, the post's, ReLU on Fourier features, no hidden
# layer, a wide leaky one
FORWARD_ARCHS = [
    dict(depth=5, width=8),
    dict(),
    dict(depth=3, width=16, fourier_dim=8, negative_slope=0.0),
    dict(depth=0, width=8),
    dict(depth=2, width=40, negative_slope=0.5),
]


@pytest.mark.parametrize("kw", FORWARD_ARCHS)
def test_c_kernel_predictions_match_the_model(kw):
    """The kernel's forward: per-net points and a grid shared by every net (read once)."""
    _kernel_or_skip()
    model = BatchedMLP([1, 2, 3], **kw)
    fast = FastMLPStep(model, backend="c")
    x = torch.rand(3, 1000, 2, generator=torch.Generator().manual_seed(7))
    grid = x[:1, :777].expand(3, -1, -1)
    for pts in (x, grid, x[:, :5]):
        with torch.no_grad():
            torch.testing.assert_close(fast.predict(pts), model(pts), rtol=1e-5, atol=3e-5)


@pytest.mark.parametrize("kw", FORWARD_ARCHS)
def test_c_kernel_pattern_ids_are_the_models_hash(kw):
    """The kernel's activation-pattern ids are BatchedMLP.predict_and_patterns' hash of the same on/off
    states: equal wherever no neuron sits within float rounding of its switch (all but a few points in
    ten thousand of the post's 30-layer net), with the same predictions; and each net's ids do not depend
    on the nets beside it."""
    _kernel_or_skip()
    model = BatchedMLP([1, 2, 3], **kw)
    fast = FastMLPStep(model, backend="c")
    grid = torch.rand(1, 3000, 2, generator=torch.Generator().manual_seed(9)).expand(3, -1, -1)
    pred, ids = fast.predict_and_patterns(grid)
    want_pred, want_ids = model.predict_and_patterns(grid)
    assert ids.dtype == torch.int64 and ids.shape == (3, 3000)
    torch.testing.assert_close(pred, want_pred, rtol=1e-5, atol=3e-5)
    assert (ids == want_ids).double().mean() >= 0.999
    alone = FastMLPStep(BatchedMLP([2], **kw), backend="c").predict_and_patterns(grid[:1])
    assert torch.equal(alone[1][0], ids[1]) and torch.equal(alone[0][0], pred[1])
    assert torch.equal(FastMLPStep(model, backend="torch").predict_and_patterns(grid)[1], want_ids)


def test_c_kernel_predictions_do_not_depend_on_the_thread_split():
    _kernel_or_skip()
    model = BatchedMLP([1, 2], depth=4, width=30)
    x = torch.rand(2, 517, 2, generator=torch.Generator().manual_seed(8))
    before = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2, 3):
            torch.set_num_threads(n)
            outs.append(FastMLPStep(model, backend="c").predict(x))
    finally:
        torch.set_num_threads(before)
    for o in outs[1:]:
        torch.testing.assert_close(o, outs[0], rtol=0, atol=0)
    assert FastMLPStep(model, backend="torch").predict(x).shape == (2, 517)


def test_c_kernel_rejects_bad_inputs_with_one_clear_error():
    """What the kernel cannot compute the way torch would is an error naming the value, never a guess."""
    _kernel_or_skip()
    model = BatchedMLP([1, 2, 3], **SMALL)
    fast = FastMLPStep(model, backend="c")
    xb, yb = _data(3, 12)
    for bad in ([3, 4, 20], [3, 0, 5], [3, 2.5, 5]):
        with pytest.raises(ValueError, match=r"count must hold whole numbers in \[1, 12\].*got \["):
            fast.loss_and_grads(xb, yb, torch.tensor(bad, dtype=torch.float32))
    with pytest.raises(ValueError, match=r"expected count of shape \(3,\), got \(2,\)"):
        fast.loss_and_grads(xb, yb, torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="2 features per point"):
        fast.loss_and_grads(torch.rand(3, 12, 1), yb)
    with pytest.raises(ValueError, match=r"expected x \(B=3, M, 2\)"):
        fast.predict(torch.rand(3, 4, 3))
    loss = fast.loss_and_grads(xb, yb, torch.tensor([12, 5, 1]))  # still usable after the errors
    assert torch.isfinite(loss).all()


def test_damaged_cached_build_is_rebuilt_and_others_can_load_it(fresh_kernel):
    """A truncated build left by a crashed process is replaced, not loaded (nor kept as a reason to fall back)."""
    if shutil.which("cc") is None and "CC" not in os.environ:
        pytest.skip("no C compiler")
    path = build.build_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    kernel = build.load()
    assert kernel is not None and kernel.path == path and build.unavailable_reason() is None
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o755 & ~umask  # others sharing the cache can load it


def test_an_explicit_march_that_does_not_build_is_not_silently_replaced(fresh_kernel, monkeypatch):
    if shutil.which("cc") is None and "CC" not in os.environ:
        pytest.skip("no C compiler")
    monkeypatch.setenv("GENPROBE_CKERNEL_MARCH", "no-such-cpu")
    monkeypatch.setenv("GENPROBE_CKERNEL", "require")
    with pytest.raises(GenprobeError, match="no-such-cpu"):
        build.load()
    assert not list(fresh_kernel.glob("*.so"))  # no slow fallback build cached under its name


@pytest.mark.parametrize("threads", [1, 3])
def test_train_step_takes_exact_adams_step_to_the_bit(threads):
    """FastMLPStep.train_step (the kernel's moments and update around torch's sqrt) gives the numbers of
    loss_and_grads + ExactAdam.step, bit for bit: padded batches, nets at different Adam steps (the blog
    protocol's restarts of some nets only) and any split of the nets over threads."""
    _kernel_or_skip()
    from genprobe.optim import ExactAdam

    B, n_max, batch = 5, 100, 37
    X, Y = _data(B, n_max, seed=7)
    ns = torch.tensor([100, 90, 80, 75, 100])
    models = [BatchedMLP([3, 1, 4, 1, 5], depth=4, width=30) for _ in range(2)]
    opts = [ExactAdam(list(m.parameters()), lr=3e-3, nets=B) for m in models]
    gen = torch.Generator().manual_seed(4)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        steps = [FastMLPStep(m, backend="c") for m in models]
        for step in range(30):
            k = step % 3
            if k == 0:
                for opt in opts:
                    opt.reset([1, 3])  # the blog protocol's nets restart Adam every epoch
                perm = torch.zeros(B, n_max, dtype=torch.int64)
                for b in range(B):
                    perm[b, : ns[b]] = torch.randperm(int(ns[b]), generator=gen)
            idx = perm[:, k * batch : (k + 1) * batch]
            xb = torch.gather(X, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
            yb = torch.gather(Y, 1, idx)
            count = (ns - k * batch).clamp(max=batch)
            loss_ref = steps[0].loss_and_grads(xb, yb, count)
            opts[0].step()
            loss = steps[1].train_step(xb, yb, count, opts[1])
            torch.testing.assert_close(loss, loss_ref, rtol=0, atol=0)
    finally:
        torch.set_num_threads(before)
    assert opts[1].steps == opts[0].steps == (30, 3, 30, 3, 30)
    for p, q in zip(models[1].parameters(), models[0].parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    torch.testing.assert_close(opts[1].exp_avg, opts[0].exp_avg, rtol=0, atol=0)
    torch.testing.assert_close(opts[1].exp_avg_sq, opts[0].exp_avg_sq, rtol=0, atol=0)


def test_train_step_with_another_optimizer_is_gradients_then_its_step(backend):
    """An optimizer the kernel cannot take (torch's Adam, or ExactAdam over other tensors) gets the
    gradients and its own step, the same as calling the two."""
    from genprobe.optim import ExactAdam

    xb, yb = _data(2, 40, seed=8)
    models = [BatchedMLP([1, 2], **SMALL) for _ in range(2)]
    opts = [torch.optim.Adam(models[0].parameters(), lr=1e-2), torch.optim.Adam(models[1].parameters(), lr=1e-2)]
    FastMLPStep(models[0], backend=backend).loss_and_grads(xb, yb)
    opts[0].step()
    FastMLPStep(models[1], backend=backend).train_step(xb, yb, None, opts[1])
    for p, q in zip(models[1].parameters(), models[0].parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    other = BatchedMLP([1, 2], **SMALL)
    partial = ExactAdam(list(other.parameters())[:3], lr=1e-2)  # not this model's parameters
    before = [p.clone() for p in other.parameters()]
    FastMLPStep(other, backend=backend).train_step(xb, yb, None, partial)
    changed = [not torch.equal(p, q) for p, q in zip(other.parameters(), before)]
    assert changed == [True] * 3 + [False] * (len(before) - 3)


def test_c_kernel_fourier_features_in_chunks_change_no_bit(monkeypatch):
    """The forward computes a Fourier net's features a chunk of points at a time (bounded memory at
    1024^2): predictions and pattern ids are the same bits whatever the chunk."""
    _kernel_or_skip()
    from genprobe import fastmlp

    model = BatchedMLP([3, 4], depth=3, width=64, negative_slope=0.0, fourier_dim=16, fourier_scale=10.0)
    step = FastMLPStep(model, backend="c")
    x = torch.rand(1, 5000, 2, generator=torch.Generator().manual_seed(9)).expand(2, -1, -1)
    whole = step.predict_and_patterns(x)
    monkeypatch.setattr(fastmlp, "FEATURE_CHUNK", 777)  # 7 chunks, the last one short
    chunked = step.predict_and_patterns(x)
    for a, b in zip(chunked, whole):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(step.predict(x), whole[0], rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(whole[0], model(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("depth", [1, 3])
def test_c_kernel_signed_zeros(depth):
    """A -0.0 input and -0.0 biases (issue 33): the kernel's matmuls broadcast 0 + a, never a -0.0, so
    the pre-activations are +0.0 as the matmul's own sum makes them (torch's too) and the prediction is
    +0.0, not the -0.0 a broadcast of the raw operand gives; the gradients are the kernel's as before."""
    _kernel_or_skip()
    model = BatchedMLP([0, 1], depth=depth, width=20)
    with torch.no_grad():
        for w in model.weights:
            w.abs_()  # positive weights: a -0.0 operand would make every product -0.0
        for b in model.biases:
            b.fill_(-0.0)
    x = torch.full((2, 16, 2), -0.0)
    x[1, 8:] = torch.rand(8, 2)  # net 1: half its rows ordinary points
    x[1, 8:12, 0] = -0.0  # and some with one -0.0 coordinate
    y = torch.rand(2, 16)
    fast = FastMLPStep(model, backend="c")
    pred = fast.predict(x)
    with torch.no_grad():
        ref = model(x)
    assert not torch.signbit(pred[:, :8]).any() and (pred[:, :8] == 0).all()  # +0.0, not -0.0
    assert torch.equal(torch.signbit(pred[0]), torch.signbit(ref[0]))  # the sign torch's matmuls give
    torch.testing.assert_close(pred, ref, rtol=1e-5, atol=1e-7)
    loss_ref, grads_ref = _autograd(model, x, y)
    loss, grads = _fast(model, x, y, backend="c")
    torch.testing.assert_close(loss, loss_ref, rtol=1e-5, atol=1e-7)
    for g, r in zip(grads, grads_ref):
        torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-6)
        assert not torch.signbit(g[g == 0]).any()  # every zero gradient +0.0 (sums start at +0.0)
