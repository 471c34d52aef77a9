"""ExactAdam: Adam to float rounding, and the update of a number depends on that number alone."""

from __future__ import annotations

import pytest
import torch

from genprobe.optim import ExactAdam


def _grads(shapes, steps, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [[torch.randn(*s, generator=g) for s in shapes] for _ in range(steps)]


def _run(opt_cls, params, grads, **kw):
    opt = opt_cls(params, lr=1e-2, **kw)
    for step in grads:
        for p, gr in zip(params, step):
            p.grad = gr.clone()
        opt.step()
    return [p.detach().clone() for p in params]


def test_matches_torch_adam_to_float_rounding():
    shapes = [(3, 30, 30), (3, 1, 30), (3, 2, 30)]
    grads = _grads(shapes, 20)
    init = [torch.randn(*s, generator=torch.Generator().manual_seed(1)) for s in shapes]
    ours = _run(ExactAdam, [p.clone().requires_grad_() for p in init], grads)
    ref = _run(torch.optim.Adam, [p.clone().requires_grad_() for p in init], grads)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("size", [1, 7, 30, 900, 1800, 4099])
def test_an_element_is_updated_the_same_wherever_it_sits(size):
    """torch's CPU Adam rounds a tensor's tail elements differently; ours must not (issue 9)."""
    grads = _grads([(size,)], 5, seed=size)
    p0 = torch.randn(size, generator=torch.Generator().manual_seed(2))
    alone = _run(ExactAdam, [p0.clone().requires_grad_()], grads)[0]
    for pad in (1, 3, 16, 901):  # the same numbers at every offset of a longer tensor
        big = torch.cat([torch.ones(pad), p0, torch.ones(pad)]).requires_grad_()
        big_grads = [[torch.cat([torch.ones(pad), gr[0], torch.ones(pad)])] for gr in grads]
        out = _run(ExactAdam, [big], big_grads)[0]
        assert torch.equal(out[pad : pad + size], alone)


def test_reset_is_a_fresh_optimizer():
    grads = _grads([(5,)], 3)
    p = torch.zeros(5, requires_grad=True)
    opt = ExactAdam([p], lr=0.1)
    p.grad = grads[0][0].clone()
    opt.step()
    opt.reset()
    q = p.detach().clone().requires_grad_()
    fresh = ExactAdam([q], lr=0.1)
    for o, t in ((opt, p), (fresh, q)):
        t.grad = grads[1][0].clone()
        o.step()
    assert torch.equal(p, q) and opt.t == 1


def test_resetting_some_nets_is_their_own_fresh_optimizer():
    """reset(nets) restarts those nets only; every net's numbers are those of an optimizer of its own."""
    B, steps = 3, 6
    grads = _grads([(B, 4, 5), (B, 5)], steps)
    init = [torch.randn(B, 4, 5, generator=torch.Generator().manual_seed(3)), torch.zeros(B, 5)]
    params = [p.clone() for p in init]
    opt = ExactAdam(params, lr=0.05, nets=B)
    own = [[p[b].clone() for p in init] for b in range(B)]
    own_opts = [ExactAdam(q, lr=0.05) for q in own]
    for k in range(steps):
        if k in (2, 4):
            opt.reset([1])  # net 1 restarts, like the blog protocol's nets
            own_opts[1].reset()
        for p, g in zip(params, grads[k]):
            p.grad = g.clone()
        opt.step()
        for b in range(B):
            for q, g in zip(own[b], grads[k]):
                q.grad = g[b].clone()
            own_opts[b].step()
    assert opt.steps == (6, 2, 6)
    for b in range(B):
        for p, q in zip(params, own[b]):
            assert torch.equal(p[b], q)
    with pytest.raises(ValueError, match="different steps"):
        opt.t
    with pytest.raises(ValueError, match=r"nets must be in \[0, 3\), got \[3\]"):
        opt.reset([3])
    with pytest.raises(ValueError, match="needs ExactAdam"):
        ExactAdam([torch.zeros(2)]).reset([0])
    with pytest.raises(ValueError, match="nets=4 must be the first dimension"):
        ExactAdam([torch.zeros(3, 2)], nets=4)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one parameter"):
        ExactAdam([])
    with pytest.raises(ValueError, match="lr must be a positive number, got -1"):
        ExactAdam([torch.zeros(1)], lr=-1)


_CAPABILITY_SCRIPT = """
import hashlib, numpy as np, torch
from genprobe.optim import ExactAdam
rng = np.random.default_rng(0)  # not torch.randn: its own vector kernels differ per capability
p = torch.from_numpy(rng.standard_normal(4099).astype(np.float32)).requires_grad_()
opt = ExactAdam([p], lr=1e-2)
for _ in range(5):
    p.grad = torch.from_numpy(rng.standard_normal(4099).astype(np.float32))
    opt.step()
print(torch.backends.cpu.get_cpu_capability(), hashlib.sha256(p.detach().numpy().tobytes()).hexdigest())
"""


@pytest.mark.parametrize("capability", ["default", "avx2"])
def test_updates_do_not_depend_on_torchs_cpu_dispatch(capability):
    """ExactAdam's ops (sqrt included, which torch does not round correctly) give the same bits
    whichever vector kernels torch dispatches to (ATEN_CPU_CAPABILITY)."""
    import os
    import subprocess
    import sys

    def run(env_cap):
        env = dict(os.environ, OMP_NUM_THREADS="1")
        env.pop("ATEN_CPU_CAPABILITY", None)
        if env_cap:
            env["ATEN_CPU_CAPABILITY"] = env_cap
        out = subprocess.run(
            [sys.executable, "-c", _CAPABILITY_SCRIPT], capture_output=True, text=True, env=env, check=True
        )
        return out.stdout.split()

    native_cap, native = run(None)
    cap, other = run(capability)
    if cap.lower() == native_cap.lower():
        pytest.skip(f"this CPU's own capability is {native_cap}")
    assert other == native
