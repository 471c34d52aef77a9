"""Speed probe: training throughput of B nets, four ways, side by side in one run.

Not a test (pytest does not collect it: the name does not start with test_).
Run it as a script::

    python benchmarks/studies/speed_probe.py                 # the post's net, B=16, batch 1024
    python benchmarks/studies/speed_probe.py --threads 1 --clock cpu   # steadier on a busy machine

Prints net-steps/s and GFLOP/s (one net-step = 6 * params * batch FLOP) for

* naive     one ``nn.Sequential`` per net, its own ``DataLoader`` and Adam,
            the nets stepped one after another;
* autograd  the batched trainer's step: ``BatchedMLP`` + autograd + fused Adam;
* fast      the same step with :class:`genprobe.fastmlp.FastMLPStep`: the
            fused C kernel (``genprobe/native/kernel.c``, the CPU default), and its
            fallback on torch ops (``fast torch-ops``);
  (``grads only`` rows: loss and gradients on a fixed batch, without the data
  gather and the Adam step, i.e. the work the ceiling measures);
* ceiling   ``torch.bmm`` alone on the same shapes: per layer the forward
            ``h @ W``, the backward ``g @ W^T`` and ``h^T @ g`` (``hot``: the
            same tensors for every layer, as in a matmul benchmark; ``cold``:
            distinct activations per layer, as training has to keep them).

Methods are measured in interleaved rounds; the best round of each is
reported (the least disturbed by other work on the machine) together with
the median. Compare the ratios, which are measured side by side; absolute
numbers on a shared CPU are noisy. ``--clock cpu`` measures process CPU time
instead of wall time, which ignores time the process spent descheduled: with
``--threads 1`` it is the steadiest measure on a contended machine (with more
threads it also counts OpenMP spin-waiting).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from genprobe.fastmlp import FastMLPStep, torch_threads  # noqa: E402
from genprobe.model import BatchedMLP, param_count  # noqa: E402
from genprobe.optim import ExactAdam  # noqa: E402


def cpu_model() -> str:
    """The CPU's model name and vector ISA (``AMD EPYC ... (avx512f)``), as the speed page names it."""
    import platform

    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    isa = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    return f"{name} ({isa}, {os.cpu_count()} logical CPUs)"


def make_data(B: int, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(B, n, 2, generator=g)
    Y = (((X - 0.5) ** 2).sum(-1) < 0.1).float()  # a disc: any target does for timing
    return X, Y


class Batched:
    """The trainer's inner step (standard protocol, unpadded), autograd or fast."""

    def __init__(self, args, X, Y, fast: bool, backend: str = "auto", adam: str = "exact"):
        self.B, self.batch = args.nets, args.batch
        self.model = BatchedMLP(list(range(self.B)), depth=args.depth, width=args.width)
        self.params = list(self.model.parameters())
        # the trainer's Adam (position-independent, genprobe/optim.py); "fused": torch's, for its cost
        self.opt = (
            ExactAdam(self.params, lr=1e-3, nets=self.B)
            if adam in ("exact", "exact_torch_ops")
            else torch.optim.Adam(self.params, lr=1e-3, fused=True)
        )
        # "exact": the trainer's step (FastMLPStep.train_step: on the C kernel, Adam's moments and update
        # in the kernel); "exact_torch_ops": the same ExactAdam as its own dozen torch ops after the gradients
        self.in_kernel = adam == "exact"
        self.units, self.flop = self.B, 6 * param_count(args.depth, args.width) * self.batch  # net-steps, FLOP each
        self.fast = FastMLPStep(self.model, backend=backend) if fast else None
        self.backend = self.fast.backend if fast else "autograd"
        self.X, self.Y = X, Y
        self.gen = torch.Generator().manual_seed(1)
        self.k, self.perm = 0, None

    def _grads(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """Loss and gradients of every net on one batch, as the trainer computes them."""
        if self.fast is not None:
            self.fast.loss_and_grads(xb, yb)
        else:
            per_net = (self.model(xb) - yb).square().mean(1)
            for p in self.params:
                p.grad = None
            per_net.sum().backward()

    def grads_only(self) -> None:
        """Loss and gradients on a fixed batch: no data gather, no optimizer."""
        self._grads(self.X[:, : self.batch], self.Y[:, : self.batch])

    def step(self) -> None:
        n = self.X.shape[1]
        if self.perm is None or (self.k + 1) * self.batch > n:
            self.perm = torch.stack([torch.randperm(n, generator=self.gen) for _ in range(self.B)])
            self.k = 0
        idx = self.perm[:, self.k * self.batch : (self.k + 1) * self.batch]
        self.k += 1
        with self.fast.solo() if self.fast is not None else contextlib.nullcontext():
            xb = torch.gather(self.X, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
            yb = torch.gather(self.Y, 1, idx)
            if self.fast is not None and self.in_kernel:
                self.fast.train_step(xb, yb, None, self.opt)
            else:
                self._grads(xb, yb)
                self.opt.step()


def interleaved_best(methods: dict, rounds: int, reps, clock=time.perf_counter) -> dict[str, float]:
    """Steps per second of each method, the best of ``rounds`` interleaved rounds of ``reps(name)`` steps
    (by ``clock``: wall clock, or ``time.process_time``, the process's CPU time, which leaves out the time a
    shared machine deschedules it), after one warm-up step each: measured side by side, so their ratios hold
    on a busy machine."""
    best = dict.fromkeys(methods, 0.0)
    for m in methods.values():
        m.step()
    for _ in range(rounds):
        for name, m in methods.items():
            n = reps(name)
            t0 = clock()
            for _ in range(n):
                m.step()
            best[name] = max(best[name], n / max(clock() - t0, 1e-9))
    return best


class _Call:
    def __init__(self, fn):
        self.step = fn


SGEMM_N = 2048


class Sgemm:
    """``torch.mm`` of two 2048 x 2048 float32 matrices on one thread: one core's large-sgemm throughput,
    the yardstick a training step's GFLOP/s per thread is held to."""

    units = 1
    flop = 2 * SGEMM_N**3

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.a = torch.randn(SGEMM_N, SGEMM_N, generator=g)
        self.b = torch.randn(SGEMM_N, SGEMM_N, generator=g)
        self.out = torch.empty(SGEMM_N, SGEMM_N)

    def step(self) -> None:
        with torch_threads(1):
            torch.mm(self.a, self.b, out=self.out)


class Fourier:
    """The Fourier-feature control's training step (``Profile.fourier``: 4 x 256 ReLU on 128 random Fourier
    features of (x, y), every one of its ``points`` training points a step), gradients and ExactAdam.
    ``flop``: one net-step's 6 x params x points."""

    def __init__(self, nets: int, backend: str, points: int = 625):
        g = torch.Generator().manual_seed(2)
        self.model = BatchedMLP(
            list(range(nets)), depth=4, width=256, negative_slope=0.0, fourier_dim=128, fourier_scale=10.0
        )
        self.params = list(self.model.parameters())
        self.opt = ExactAdam(self.params, lr=1e-3, nets=nets)
        self.fast = FastMLPStep(self.model, backend=backend)
        self.backend = self.fast.backend
        self.x = torch.rand(nets, points, 2, generator=g)
        self.y = (torch.rand(nets, points, generator=g) < 0.1).float()
        self.units = nets
        self.flop = 6 * sum(p[0].numel() for p in self.params) * points

    def step(self) -> None:
        with self.fast.solo():
            self.fast.train_step(self.x, self.y, None, self.opt)


class Naive:
    """One nn.Sequential + DataLoader + Adam per net; a 'step' steps every net once."""

    def __init__(self, args, X, Y):
        from torch.utils.data import DataLoader, TensorDataset

        self.nets, self.opts, self.loaders, self.iters = [], [], [], []
        for b in range(args.nets):
            torch.manual_seed(b)
            layers: list[torch.nn.Module] = []
            d = 2
            for _ in range(args.depth):
                layers += [torch.nn.Linear(d, args.width), torch.nn.LeakyReLU(0.01)]
                d = args.width
            layers.append(torch.nn.Linear(d, 1))
            net = torch.nn.Sequential(*layers)
            self.nets.append(net)
            self.opts.append(torch.optim.Adam(net.parameters(), lr=1e-3))
            loader = DataLoader(TensorDataset(X[b], Y[b]), batch_size=args.batch, shuffle=True, drop_last=True)
            self.loaders.append(loader)
            self.iters.append(iter(loader))
        self.loss = torch.nn.MSELoss()

    def step(self) -> None:
        for b, (net, opt) in enumerate(zip(self.nets, self.opts)):
            try:
                xb, yb = next(self.iters[b])
            except StopIteration:
                self.iters[b] = iter(self.loaders[b])
                xb, yb = next(self.iters[b])
            opt.zero_grad(set_to_none=True)
            self.loss(net(xb).squeeze(-1), yb).backward()
            opt.step()


class Ceiling:
    """bmm only: per layer h@W, g@W^T, h^T@g for all B nets."""

    def __init__(self, args, cold: bool):
        B, m, w = args.nets, args.batch, args.width
        dims = [2] + [w] * args.depth + [1]
        L = len(dims) - 1
        self.Ws = [torch.randn(B, i, o) for i, o in zip(dims[:-1], dims[1:])]
        if cold:
            self.hs = [torch.randn(B, m, i) for i in dims[:-1]]
            gs = [torch.randn(B, m, w) for _ in range(2)]
            self.gs = [gs[l % 2] for l in range(L - 1)] + [torch.randn(B, m, 1)]
        else:
            x, h, g, g1 = torch.randn(B, m, 2), torch.randn(B, m, w), torch.randn(B, m, w), torch.randn(B, m, 1)
            self.hs = [x] + [h] * (L - 1)
            self.gs = [g] * (L - 1) + [g1]

    def step(self) -> None:
        for h, W, g in zip(self.hs, self.Ws, self.gs):
            torch.bmm(h, W)
            torch.bmm(g, W.transpose(1, 2))
            torch.bmm(h.transpose(1, 2), g)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nets", type=int, default=16, help="B, networks trained together (default 16)")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=30)
    ap.add_argument("--width", type=int, default=30)
    ap.add_argument("--points", type=int, default=4096, help="training points per net")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved measurement rounds")
    ap.add_argument("--round-seconds", type=float, default=0.4, help="time per method per round")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads for this run (default: unchanged)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    ap.add_argument("--no-naive", action="store_true", help="skip the (slow) naive loop")
    ap.add_argument("--no-fourier", action="store_true", help="skip the Fourier-feature control's step")
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time

    X, Y = make_data(args.nets, max(args.points, args.batch))
    methods: dict[str, object] = {}
    if not args.no_naive:
        methods["naive loop"] = Naive(args, X, Y)
    methods["autograd batched"] = auto = Batched(args, X, Y, fast=False)
    methods["fast batched"] = fast = Batched(args, X, Y, fast=True)
    methods["fast torch-ops"] = Batched(args, X, Y, fast=True, backend="torch")
    methods["  autograd grads only"] = _Call(auto.grads_only)
    methods["  fast grads only"] = _Call(fast.grads_only)
    methods["bmm ceiling (hot)"] = Ceiling(args, cold=False)
    methods["bmm ceiling (cold)"] = Ceiling(args, cold=True)
    if not args.no_fourier:
        methods["fourier control, fast"] = Fourier(args.nets, "auto")
        methods["fourier control, torch-ops"] = Fourier(args.nets, "torch")
    methods["sgemm 2048^2, 1 thread"] = Sgemm()

    reps: dict[str, int] = {}
    for name, m in methods.items():  # warm up; size each block to ~round_seconds
        m.step()
        t0 = clock()
        m.step()
        reps[name] = max(1, round(args.round_seconds / max(clock() - t0, 1e-6)))
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, m in methods.items():
            n = reps[name]
            t0 = clock()
            for _ in range(n):
                m.step()
            rates[name].append(n * getattr(m, "units", args.nets) / max(clock() - t0, 1e-9))

    post_flop = 6 * param_count(args.depth, args.width) * args.batch
    flops = {name: getattr(m, "flop", post_flop) for name, m in methods.items()}
    best = {name: max(r) for name, r in rates.items()}
    ceil = best["bmm ceiling (hot)"]
    print(
        f"B={args.nets} depth={args.depth} width={args.width} batch={args.batch} "
        f"params/net={param_count(args.depth, args.width)} threads={torch.get_num_threads()} clock={args.clock} "
        f"torch={torch.__version__} fast={fast.backend}"
    )
    print(f"CPU: {cpu_model()}")
    print(f"{'method':<28} {'net-steps/s':>11} {'(median)':>9} {'GFLOP/s':>8} {'vs ceiling':>10}")
    for name, r in rates.items():
        same_shape = flops[name] == post_flop
        print(
            f"{name:<28} {best[name]:11.1f} {statistics.median(r):9.1f} {best[name] * flops[name] / 1e9:8.1f} "
            + (f"{best[name] / ceil:10.2f}" if same_shape else f"{'':>10}")
        )
    sgemm = best["sgemm 2048^2, 1 thread"] * Sgemm.flop / 1e9
    threads = torch.get_num_threads()
    per_thread = best["fast batched"] * post_flop / 1e9 / threads
    print(
        f"fast step per thread / one core's sgemm = {per_thread:.1f} / {sgemm:.1f} GFLOP/s = {per_thread / sgemm:.2f}"
        f" ({threads} thread(s))"
    )
    fast_rate, auto_rate = best["fast batched"], best["autograd batched"]
    cold = best["bmm ceiling (cold)"]
    line = f"fast / autograd = {fast_rate / auto_rate:.2f}x   fast / cold ceiling = {fast_rate / cold:.2f}"
    if "naive loop" in best:
        naive = best["naive loop"]
        line += f"   fast / naive = {fast_rate / naive:.1f}x   autograd / naive = {auto_rate / naive:.1f}x"
    print(line)


if __name__ == "__main__":
    main()
