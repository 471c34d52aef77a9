"""Speed and memory, measured with pytest-benchmark (never asserted as wall times).

    pytest benchmarks/test_speed.py --benchmark-json speed.json

Every benchmark puts its throughput in ``extra_info`` (net-steps/s, GFLOP/s;
one net-step of the post's net at batch 1024 is 6 x 27,091 x 1024 FLOP =
166 MFLOP), so ``--benchmark-json`` holds them. ``test_side_by_side_ratios``
measures the naive loop, the autograd step, the fast step (the fused C
kernel, and its fallback on torch ops) and the bmm ceiling interleaved in one
run and records the ratios (the targets: fast >= 6x naive and >= 80 % of the
bmm ceiling); it asserts only what no machine noise can flip (the batched step
beats the naive loop by 2x). The figures we measured are on the speed pages
(docs/evidence/speed.md, docs/explanation/speed.md).
"""

from __future__ import annotations

import math
import os
import resource
import time
import types

import numpy as np
import pytest
import torch

from genprobe.fastmlp import FastMLPStep
from genprobe.model import BatchedMLP, param_count
from genprobe.profiles import get_profile
from genprobe.runs import RunSpec
from genprobe.sweep import padding_waste, plan_groups, run_sweep
from genprobe.train import EVAL_CHUNK, grid_coords, grid_predictions

from .studies.speed_probe import Batched, Ceiling, Fourier, Naive, Sgemm, cpu_model, interleaved_best, make_data

NETS, BATCH, DEPTH, WIDTH = 16, 1024, 30, 30
# GENPROBE_SPEED_CLOCK=cpu: the side-by-side benchmarks time by the process's CPU time, not the wall clock
# (on a machine shared with other work: its descheduling is not counted; with 2 threads the kernel's rate
# per CPU-second is its rate per thread, and torch's OpenMP spin-waits count against torch)
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = os.environ.get("GENPROBE_SPEED_CLOCK", "wall").strip().lower() or "wall"
if CLOCK not in CLOCKS:
    raise ValueError(f"GENPROBE_SPEED_CLOCK must be wall or cpu, got {CLOCK!r}")
FLOP_PER_NET_STEP = 6 * param_count(DEPTH, WIDTH) * BATCH
ARGS = types.SimpleNamespace(nets=NETS, batch=BATCH, depth=DEPTH, width=WIDTH)


def _record(benchmark, net_steps_per_call: int) -> None:
    if benchmark.stats is None:  # --benchmark-disable: ran once, nothing measured
        return
    mean = benchmark.stats.stats.mean
    rate = net_steps_per_call / mean
    benchmark.extra_info.update(
        net_steps_per_s=round(rate, 1), gflop_per_s=round(rate * FLOP_PER_NET_STEP / 1e9, 2), nets=NETS, batch=BATCH
    )


@pytest.fixture(scope="module")
def data():
    return make_data(NETS, 4096)


METHODS = {
    "naive_loop": lambda X, Y: Naive(ARGS, X, Y),
    "batched_autograd": lambda X, Y: Batched(ARGS, X, Y, fast=False),
    "batched_fast": lambda X, Y: Batched(ARGS, X, Y, fast=True),  # the C kernel where it builds
    "batched_fast_torch_ops": lambda X, Y: Batched(ARGS, X, Y, fast=True, backend="torch"),
    # the C kernel step with ExactAdam as its own torch ops after the gradients: what Adam in the kernel saves
    "batched_fast_adam_torch_ops": lambda X, Y: Batched(ARGS, X, Y, fast=True, adam="exact_torch_ops"),
    # the C kernel step with torch's fused Adam instead of ExactAdam: what position independence costs
    "batched_fast_fused_adam": lambda X, Y: Batched(ARGS, X, Y, fast=True, adam="fused"),
    "bmm_ceiling_hot": lambda X, Y: Ceiling(ARGS, cold=False),
    "bmm_ceiling_cold": lambda X, Y: Ceiling(ARGS, cold=True),
}


@pytest.mark.parametrize("method", list(METHODS))
def test_train_step(benchmark, data, method):
    """One optimizer step of 16 nets of the post's shape (batch 1024), five ways."""
    m = METHODS[method](*data)
    m.step()
    benchmark.pedantic(m.step, rounds=5 if method == "naive_loop" else 15, warmup_rounds=1)
    _record(benchmark, NETS)
    benchmark.extra_info["backend"] = getattr(m, "backend", method)


def test_side_by_side_ratios(benchmark, data):
    """The ratios, from interleaved rounds in one run (best round of each)."""
    methods = {name: make(*data) for name, make in METHODS.items()}
    steps = interleaved_best(methods, 3, lambda name: 2 if name == "naive_loop" else 8, CLOCKS[CLOCK])
    best = {name: NETS * rate for name, rate in steps.items()}
    benchmark.pedantic(lambda: None, rounds=1)
    ratios = {
        "fast_over_naive": best["batched_fast"] / best["naive_loop"],
        "torch_ops_over_naive": best["batched_fast_torch_ops"] / best["naive_loop"],
        "fast_over_autograd": best["batched_fast"] / best["batched_autograd"],
        "fast_over_bmm_hot": best["batched_fast"] / best["bmm_ceiling_hot"],
        "fast_over_bmm_cold": best["batched_fast"] / best["bmm_ceiling_cold"],
        "exact_adam_over_fused_adam": best["batched_fast"] / best["batched_fast_fused_adam"],
        "adam_in_kernel_over_torch_ops": best["batched_fast"] / best["batched_fast_adam_torch_ops"],
    }
    benchmark.extra_info.update({f"{k}_net_steps_per_s": round(v, 1) for k, v in best.items()})
    benchmark.extra_info.update({k: round(v, 3) for k, v in ratios.items()})
    benchmark.extra_info["fast_backend"] = methods["batched_fast"].backend
    benchmark.extra_info["clock"] = CLOCK
    benchmark.extra_info.update(gflop_per_s={k: round(v * FLOP_PER_NET_STEP / 1e9, 1) for k, v in best.items()})
    print(" ".join(f"{k}={v:.2f}" for k, v in ratios.items()))
    assert ratios["fast_over_naive"] >= 2.0, best


def test_against_one_core_sgemm(benchmark, data):
    """The training steps against one core's large sgemm, interleaved in one run (best round of each):
    the post's net (C kernel and torch ops) and the Fourier-feature control (4 x 256 on 128 Fourier
    features, 625 points a step), GFLOP/s per thread over ``torch.mm`` of 2048^2 on one thread.
    ``benchmarks/studies/speed_table.py`` writes the speed page (docs/evidence/speed.md) from this benchmark's
    ``extra_info``."""

    threads = torch.get_num_threads()
    small = types.SimpleNamespace(nets=threads, batch=312, depth=DEPTH, width=WIDTH)
    methods = {
        "post_net_c": Batched(ARGS, *data, fast=True),
        # the sweep's longest parts: one net a thread, 312 points a step (a 312-point net's whole epoch)
        "post_net_c_312_points": Batched(small, *make_data(threads, 312), fast=True),
        "post_net_torch_ops": Batched(ARGS, *data, fast=True, backend="torch"),
        "fourier_c": Fourier(NETS, "auto"),
        "fourier_torch_ops": Fourier(NETS, "torch"),
        "sgemm_one_thread": Sgemm(),
    }
    flop = {name: getattr(m, "flop", FLOP_PER_NET_STEP) for name, m in methods.items()}
    units = {name: getattr(m, "units", NETS) for name, m in methods.items()}
    steps = interleaved_best(methods, 3, lambda name: 6, CLOCKS[CLOCK])
    best = {name: rate * units[name] * flop[name] / 1e9 for name, rate in steps.items()}
    benchmark.pedantic(lambda: None, rounds=1)
    sgemm = best["sgemm_one_thread"]
    per_thread = {k: v / (1 if k == "sgemm_one_thread" else threads) for k, v in best.items()}
    benchmark.extra_info.update(
        cpu=cpu_model(),
        threads=threads,
        clock=CLOCK,
        torch=torch.__version__,
        backends={k: getattr(m, "backend", "") for k, m in methods.items()},
        gflop_per_s={k: round(v, 1) for k, v in best.items()},
        gflop_per_s_per_thread={k: round(v, 1) for k, v in per_thread.items()},
        of_one_core_sgemm={k: round(v / sgemm, 3) for k, v in per_thread.items()},
        fourier_c_over_torch_ops=round(best["fourier_c"] / best["fourier_torch_ops"], 3),
    )
    print(" ".join(f"{k}={v / sgemm:.2f}" for k, v in per_thread.items()), f"(of one core's sgemm, {cpu_model()})")
    assert all(v > 0 for v in best.values())


# A user model (RunSpec(model="pkg.module:factory"), genprobe.usermodel): an 8 x 32 MLP built with
# nn.Sequential, B=16 copies, one training step at 256 points per net, batched with torch.func.vmap
# against the per-net loop of functional_call it falls back to where vmap cannot run a module.
USER_DEPTH, USER_WIDTH, USER_BATCH = 8, 32, 256


def user_mlp(depth: int = USER_DEPTH, width: int = USER_WIDTH) -> torch.nn.Module:
    layers: list[torch.nn.Module] = [torch.nn.Linear(2, width), torch.nn.LeakyReLU(0.01)]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(width, width), torch.nn.LeakyReLU(0.01)]
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))


class UserStep:
    """The trainer's autograd step (genprobe.train) on a BatchedUserModel: loss, backward, ExactAdam."""

    def __init__(self, X: torch.Tensor, Y: torch.Tensor, vmap: bool):
        from genprobe.optim import ExactAdam
        from genprobe.usermodel import BatchedUserModel

        self.model = BatchedUserModel(f"{__name__}:user_mlp", {}, list(range(NETS)), vmap=vmap)
        self.params = list(self.model.parameters())
        self.opt = ExactAdam(self.params, lr=1e-3, nets=NETS)
        self.x, self.y = X[:, :USER_BATCH].contiguous(), Y[:, :USER_BATCH].contiguous()

    def step(self) -> None:
        per_net = (self.model(self.x) - self.y).square().mean(1)
        for p in self.params:
            p.grad = None
        per_net.sum().backward()
        self.opt.step()


@pytest.mark.parametrize("batching", ["vmap", "loop"])
def test_user_model_step(benchmark, data, batching):
    """One optimizer step of 16 copies of a user's 8 x 32 nn.Sequential MLP, under vmap or in a loop."""
    m = UserStep(*data, vmap=batching == "vmap")
    m.step()
    benchmark.pedantic(m.step, rounds=10, warmup_rounds=1)
    if benchmark.stats is not None:
        benchmark.extra_info.update(
            net_steps_per_s=round(NETS / benchmark.stats.stats.mean, 1), nets=NETS, batch=USER_BATCH
        )


def test_user_model_vmap_over_loop(benchmark, data):
    """The vmap/loop ratio of the user-model step, from interleaved rounds in one run (best round of each).

    On one torch thread, as run_sweep trains each group (and steadier on a shared machine).
    """
    import time

    from genprobe.fastmlp import torch_threads

    methods = {"vmap": UserStep(*data, vmap=True), "loop": UserStep(*data, vmap=False)}
    best = dict.fromkeys(methods, 0.0)
    with torch_threads(1):
        for m in methods.values():
            m.step()
        for _ in range(5):
            for name, m in methods.items():
                t0 = time.perf_counter()
                for _ in range(4):
                    m.step()
                best[name] = max(best[name], 4 * NETS / (time.perf_counter() - t0))
    benchmark.pedantic(lambda: None, rounds=1)
    ratio = best["vmap"] / best["loop"]
    benchmark.extra_info.update({f"{k}_net_steps_per_s": round(v, 1) for k, v in best.items()})
    benchmark.extra_info["vmap_over_loop"] = round(ratio, 3)
    rates = " ".join(f"{k}={v:.0f} net-steps/s" for k, v in best.items())
    print(f"user model {USER_DEPTH}x{USER_WIDTH}, {NETS} nets, batch {USER_BATCH}: {rates} vmap_over_loop={ratio:.2f}")
    assert ratio >= 1.0, best


def _grid_eval(model: BatchedMLP, res: int, patterns: bool, forward=None):
    """The trainer's grid evaluation (genprobe.train.grid_predictions)."""
    return grid_predictions(model, torch.from_numpy(grid_coords(res)), patterns, forward)


@pytest.mark.parametrize(
    "res, patterns, backend",
    [(1024, False, "c"), (512, False, "torch"), (256, True, "torch")],
    ids=["1024-predictions", "512-predictions-torch-ops", "256-with-patterns"],
)
def test_eval_grid(benchmark, res, patterns, backend):
    """16 nets on the full grid (what every checkpoint and the final evaluation do).

    Predictions at checkpoints run on the C kernel's forward where it builds
    (tiles of 64 points: a few hundred KiB per thread) and otherwise on torch
    ops in chunks of EVAL_CHUNK points (measured at 512^2 to keep a warm
    ``pytest benchmarks`` short: compare points/s); pattern ids (final
    evaluation) on torch ops. Peak extra memory is bounded by the chunk (EVAL_CHUNK points x
    16 nets x 30 floats per layer) plus the outputs (16 x res^2 x 4 bytes, + 8
    with pattern ids); the rise of the process's peak RSS is recorded.
    """
    model = BatchedMLP(list(range(NETS)))
    forward = None
    if backend == "c":
        fast = FastMLPStep(model)
        if fast.backend != "c":
            pytest.skip("C kernel unavailable")
        forward = fast.predict
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    benchmark.pedantic(_grid_eval, args=(model, res, patterns, forward), rounds=1, warmup_rounds=0)
    if benchmark.stats is None:
        return
    peak_rise_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    out_bytes = NETS * res * res * (12 if patterns else 4)
    benchmark.extra_info.update(
        points_per_s=round(NETS * res * res / benchmark.stats.stats.mean),
        peak_rss_rise_mib=round(peak_rise_mib, 1),
        bound_mib=round((EVAL_CHUNK * NETS * WIDTH * 4 * 4 + out_bytes) / 2**20, 1),
    )


def test_pattern_ids_c_kernel_over_torch_ops(benchmark):
    """The final evaluation's activation-pattern ids (linear regions): the C kernel's one pass (predictions
    and ids, each net alone) against torch ops' batched pass, 16 nets at 256^2, interleaved, best of 3
    rounds each, so the ratio is side by side on one machine."""
    model = BatchedMLP(list(range(NETS)))
    fast = FastMLPStep(model)
    if fast.backend != "c":
        pytest.skip("C kernel unavailable")
    res = 256
    best = {"c": math.inf, "torch": math.inf}
    for _ in range(3):
        for name, patterns in (("c", fast.predict_and_patterns), ("torch", None)):
            t0 = time.perf_counter()
            grid_predictions(model, torch.from_numpy(grid_coords(res)), True, patterns=patterns)
            best[name] = min(best[name], time.perf_counter() - t0)
    benchmark.pedantic(lambda: None, rounds=1)
    ratio = best["torch"] / best["c"]
    benchmark.extra_info.update({f"{k}_points_per_s": round(NETS * res * res / v) for k, v in best.items()})
    benchmark.extra_info["c_over_torch"] = round(ratio, 2)
    print(
        f"pattern ids, {NETS} nets at {res}^2: "
        + " ".join(f"{k}={v:.2f}s" for k, v in best.items())
        + f" ratio={ratio:.1f}"
    )
    assert ratio >= 2.0, best


def test_mixed_sweep_padding_waste_and_wall_time(benchmark, tmp_path):
    """A sweep of mixed N in one call: planned padding waste <= 20 %; wall time recorded."""
    plan = plan_groups([s for s in get_profile("smoke").sweep() if s.trained])
    wastes = [padding_waste(g) for g in plan]
    assert max(wastes) <= 0.2
    specs = [
        RunSpec(n=n, seed=s, epochs=20, checkpoints=2, eval_res=64, curve_res=32)
        for n in (5000, 2500, 1250, 625, 312)
        for s in (0, 1)
    ]
    benchmark.pedantic(lambda: run_sweep(specs, progress=False), rounds=1)
    if benchmark.stats is not None:
        benchmark.extra_info.update(
            groups=len(plan),
            max_padding_waste=round(max(wastes), 3),
            mean_padding_waste=round(float(np.mean(wastes)), 3),
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_gpu_train_step(benchmark):
    """The batched step on CUDA (eager), 64 nets."""
    B = 64
    m = BatchedMLP(list(range(B))).cuda()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, fused=True)
    x, y = torch.rand(B, BATCH, 2, device="cuda"), torch.rand(B, BATCH, device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        (m(x) - y).square().mean(1).sum().backward()
        opt.step()
        torch.cuda.synchronize()

    benchmark.pedantic(step, rounds=50, warmup_rounds=5)
    _record(benchmark, B)
