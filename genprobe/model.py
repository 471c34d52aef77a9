"""B independent MLPs held as stacked weights and run with batched matmuls.

One 30x30 network cannot keep even two CPU cores busy; B of them stacked as
(B, in, out) weight tensors and run with ``baddbmm`` can. Each network has its
own seed, so its initial weights (and Fourier features) do not depend on which
other networks share the batch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .sampling import stream_seed

__all__ = ["BatchedMLP", "param_count", "init_generator"]

# Multiplier of the polynomial hash that folds per-layer activation codes
# into one int64 pattern id (wraps around; collisions are negligible here).
_HASH_PRIME = 1_000_003
_BITS = 15


@functools.lru_cache(maxsize=16)
def _packing_matrix(width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(width, ceil(width / 15)): column c sums 2^k over neurons 15c + k."""
    cols = -(-width // _BITS)
    m = torch.zeros(width, cols, dtype=torch.float64)
    k = torch.arange(width)
    m[k, k // _BITS] = torch.pow(2.0, (k % _BITS).double())
    return m.to(device=device, dtype=dtype)


def init_generator(seed: int, stream: int) -> torch.Generator:
    """A CPU generator for one network's stream (0: init, 1: shuffles, ...)."""
    return torch.Generator().manual_seed(stream_seed(seed, stream))


def param_count(depth: int, width: int, in_dim: int = 2) -> int:
    """Trainable parameters of one network: ``param_count(30, 30) == 27091``."""
    return in_dim * width + width + (depth - 1) * (width * width + width) + width + 1


class BatchedMLP(torch.nn.Module):
    """B networks ``in -> depth x width (LeakyReLU) -> 1`` with stacked weights.

    Init follows the post's script: Kaiming-normal weights (fan_in, gain
    sqrt(2)), every bias 0.1 (output layer included).

    Args:
        seeds: one seed per network; network b is initialised from seeds[b] only.
        depth: hidden layers.
        width: neurons per hidden layer.
        negative_slope: LeakyReLU slope (0.0 gives ReLU).
        fourier_dim: if > 0, inputs are mapped to [sin 2 pi xB, cos 2 pi xB]
            with a fixed random (2, fourier_dim) matrix B ~ N(0, fourier_scale^2).
        fourier_scale: standard deviation of the Fourier frequencies.
    """

    freqs: torch.Tensor | None  # a buffer: (B, 2, m) Fourier frequencies, or None

    def __init__(
        self,
        seeds: Sequence[int],
        depth: int = 30,
        width: int = 30,
        negative_slope: float = 0.01,
        fourier_dim: int = 0,
        fourier_scale: float = 10.0,
        bias_init: float = 0.1,
    ):
        super().__init__()
        self.n_nets = len(seeds)
        self.depth, self.width = depth, width
        self.negative_slope = negative_slope
        in_dim = 2 * fourier_dim if fourier_dim > 0 else 2
        dims = [in_dim] + [width] * depth + [1]
        weights: list[list[torch.Tensor]] = [[] for _ in dims[:-1]]
        freqs = []
        for seed in seeds:
            g = init_generator(seed, 0)
            if fourier_dim > 0:
                freqs.append(torch.randn(2, fourier_dim, generator=g) * fourier_scale)
            for layer, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
                weights[layer].append(torch.randn(fan_in, fan_out, generator=g) * math.sqrt(2.0 / fan_in))
        # weights[l]: (B, in_l, out_l); biases[l]: (B, 1, out_l)
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.stack(w)) for w in weights])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.full((len(seeds), 1, d), bias_init)) for d in dims[1:]]
        )
        self.register_buffer("freqs", torch.stack(freqs) if freqs else None)  # (B, 2, m)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 2) points -> (B, M, in_dim) network inputs."""
        if self.freqs is None:
            return x
        proj = (2 * math.pi) * torch.bmm(x, self.freqs)
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 2) points -> (B, M) predicted grey values."""
        h = self.features(x)
        # plain lists: slicing a ParameterList builds a new module each call (a tenth of a 1024^2 evaluation)
        ws, bs = list(self.weights), list(self.biases)
        for w, b in zip(ws[:-1], bs[:-1]):
            h = F.leaky_relu(torch.baddbmm(b, h, w), self.negative_slope)
        return torch.baddbmm(bs[-1], h, ws[-1]).squeeze(-1)

    @torch.no_grad()
    def predict_and_patterns(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, 2) -> predictions (B, M) and activation-pattern ids (B, M) int64.

        Two points share an id iff every hidden neuron has the same on/off
        state at both, i.e. they lie in the same linear region (up to hash
        collisions).
        """
        h = self.features(x)
        ids = torch.zeros(x.shape[:2], dtype=torch.int64, device=x.device)
        ws, bs = list(self.weights), list(self.biases)
        for w, b in zip(ws[:-1], bs[:-1]):
            pre = torch.baddbmm(b, h, w)
            # pack the on/off states into integers with one float matmul:
            # 15 bits per column keep every sum exact in float32 (< 2^24)
            on = (pre > 0).to(pre.dtype)
            codes = torch.matmul(on, _packing_matrix(pre.shape[-1], pre.dtype, pre.device)).to(torch.int64)
            for c in range(codes.shape[-1]):
                ids = ids * _HASH_PRIME + codes[..., c]
            h = F.leaky_relu(pre, self.negative_slope)
        out = torch.baddbmm(bs[-1], h, ws[-1]).squeeze(-1)
        return out, ids
