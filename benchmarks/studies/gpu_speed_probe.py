"""GPU step throughput of the batched trainer: eager vs a CUDA-graph-captured step.

Not a test (pytest-benchmark's GPU benchmark is in test_speed.py); a probe run
by ``benchmarks/studies/gpu_check.sh`` on a lent GPU. Prints net-steps/s and GFLOP/s
(one net-step of the post's net at batch 1024 is 6 * 27091 * 1024 FLOP).
"""

from __future__ import annotations

import time

import torch

from genprobe.model import BatchedMLP

FLOP = 6 * 27091 * 1024


def eager(B: int, steps: int = 200) -> float:
    m = BatchedMLP(list(range(B))).cuda()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, fused=True)
    x = torch.rand(B, 1024, 2, device="cuda")
    y = torch.rand(B, 1024, device="cuda")

    def step():
        loss = (m(x) - y).square().mean(1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return B * steps / (time.perf_counter() - t)


def graphed(B: int, steps: int = 200) -> float:
    m = BatchedMLP(list(range(B))).cuda()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, capturable=True, foreach=True)
    x = torch.rand(B, 1024, 2, device="cuda")
    y = torch.rand(B, 1024, device="cuda")
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            opt.zero_grad(set_to_none=False)
            (m(x) - y).square().mean(1).sum().backward()
            opt.step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=False)
    with torch.cuda.graph(g):
        (m(x) - y).square().mean(1).sum().backward()
        opt.step()
    for _ in range(10):
        g.replay()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        g.replay()
    torch.cuda.synchronize()
    return B * steps / (time.perf_counter() - t)


if __name__ == "__main__":
    print(torch.__version__, torch.cuda.get_device_name(0))
    for B in (1, 16, 64, 256):
        e = eager(B)
        try:
            gr = graphed(B)
        except Exception as exc:  # report, don't hide
            gr = float("nan")
            print(f"graph capture failed at B={B}: {exc.__class__.__name__}: {exc}")
        print(
            f"B={B:4d}  eager {e:9.0f} net-steps/s ({e * FLOP / 1e9:7.1f} GFLOP/s)   "
            f"cuda-graph {gr:9.0f} net-steps/s ({gr * FLOP / 1e9:7.1f} GFLOP/s)  x{gr / e:.1f}"
        )
