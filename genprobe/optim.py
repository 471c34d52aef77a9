"""Adam whose update of one number depends on that number's history alone.

Why not ``torch.optim.Adam``: its CPU kernels (fused and foreach alike) run
a vector loop over each parameter tensor and a scalar loop over the last few
elements, and the two round differently (one uses fused multiply-adds). The
elements that land in the scalar tail depend on the tensor's total size, so
with B networks stacked in one tensor, net 0's last weights were updated
differently alone (B = 1) than beside a batch-mate (B = 2), and training
chaos turned that last-bit difference into a different net (held-out IoU
0.60 alone against 0.13 in a pair, issue 9). The tail also moves with the
CPU's vector width (AVX2 or AVX-512), so it differed between machines too.

:class:`ExactAdam` is Adam (Kingma & Ba 2015, torch's defaults and order of
operations) written as a sequence of single, correctly rounded float
operations (``*``, ``+``, ``sqrt``, ``/``), one op each and none with an
``alpha``/``value`` factor that a kernel could fuse into an FMA. IEEE 754
rounds each such operation the same in a vector lane, in a scalar loop and
on any vector width, so an element's update no longer depends on where it
sits, on its batch-mates or on the CPU's instruction set. One caveat:
torch's CPU ``sqrt`` is not correctly rounded (about 0.7 % of float32 inputs
are one unit off), but it is the same function in its vector and scalar
loops and at every ``ATEN_CPU_CAPABILITY`` (tested: tests/test_optim.py),
which is what position independence needs. It matches ``torch.optim.Adam``
to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

__all__ = ["ExactAdam"]


class ExactAdam:
    """Adam over ``params`` (their ``.grad``), position-independent to the bit.

    Args:
        params: the tensors to update (their ``.grad`` must be set before
            :meth:`step`; a parameter without a gradient is skipped).
        lr: learning rate.
        betas: moment decay rates (torch's defaults).
        eps: added to the root of the second moment.
        nets: with B networks stacked along every parameter's first
            dimension, B: then :meth:`reset` can restart some networks only,
            each keeping its own step count (a group that mixes the post's
            two protocols). A network's numbers are the same as in a group
            of its own protocol, to the bit (tests/test_optim.py).

    :meth:`reset` forgets the moments and the step count, which is what the
    post's script did by building a fresh optimizer every epoch.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        nets: int | None = None,
    ):
        self.params = list(params)
        if not self.params:
            raise ValueError("ExactAdam needs at least one parameter")
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"lr must be a positive number, got {lr!r}")
        if nets is not None and (nets < 1 or any(p.dim() == 0 or p.shape[0] != nets for p in self.params)):
            raise ValueError(f"nets={nets!r} must be the first dimension of every parameter")
        self.lr, (self.beta1, self.beta2), self.eps = float(lr), betas, float(eps)
        self.nets = nets
        # the moments of every parameter in one buffer each, a row per network
        # (one row when nets is None): ten ops per step on one tensor instead
        # of ten on each of many small ones (dispatch dominated), and a
        # network's own bias correction broadcasts along its row
        rows = nets or 1
        self._sizes = [p.numel() // rows for p in self.params]
        p0 = self.params[0]
        self.exp_avg = torch.zeros(rows, sum(self._sizes), dtype=p0.dtype, device=p0.device)
        self.exp_avg_sq = torch.zeros_like(self.exp_avg)
        self._steps = [0] * rows
        self._root: torch.Tensor | None = None

    @property
    def t(self) -> int:
        """The step count (of every network; an error while networks differ)."""
        if len(set(self._steps)) != 1:
            raise ValueError(f"the networks are at different steps {self._steps}; see steps")
        return self._steps[0]

    @property
    def steps(self) -> tuple[int, ...]:
        """Each network's step count (one entry when ``nets`` is None)."""
        return tuple(self._steps)

    def reset(self, nets: Iterable[int] | None = None) -> None:
        """A fresh optimizer (zero moments, step count 0): for every network, or for ``nets`` only.

        In place: the blog protocol resets every epoch, and allocating fresh
        buffers there cost 5 ms a reset (torch's OpenMP workers woke).
        """
        if nets is None:
            chosen = list(range(len(self._steps)))
        elif self.nets is None:
            raise ValueError("reset(nets) needs ExactAdam(..., nets=B)")
        else:
            chosen = sorted(set(nets))
            if chosen and (chosen[0] < 0 or chosen[-1] >= self.nets):
                raise ValueError(f"nets must be in [0, {self.nets}), got {chosen}")
        for b in chosen:
            self._steps[b] = 0
        if len(chosen) == len(self._steps):
            self.exp_avg.zero_()
            self.exp_avg_sq.zero_()
        elif chosen:
            idx = torch.tensor(chosen, device=self.exp_avg.device)
            self.exp_avg.index_fill_(0, idx, 0.0)
            self.exp_avg_sq.index_fill_(0, idx, 0.0)

    def _per_net(self, values: list[float]) -> torch.Tensor:
        """A column of each network's value, rounded to float as a Python scalar operand is."""
        return torch.tensor(values, dtype=torch.float64).to(self.exp_avg.dtype).to(self.exp_avg.device).unsqueeze(1)

    def _scalars(self, t: int) -> tuple[float, float]:
        """Step t's lr / (1 - beta1^t) and sqrt(1 - beta2^t), in double (an op rounds them to float)."""
        return self.lr / (1.0 - self.beta1**t), math.sqrt(1.0 - self.beta2**t)

    # The pieces of one step for a fused kernel (genprobe.fastmlp's C step), in ExactAdam's operations:
    # the kernel updates the moments while each network's gradients are in cache (moment_constants,
    # moment_offsets), torch takes the square root of the second moment (root: the same torch.sqrt as
    # step, which MKL computes to within one unit, not correctly rounded, so it cannot be written in C
    # to the bit), and the kernel applies the update (advance gives each network's two scalars).

    def moment_offsets(self, params: list[torch.Tensor]) -> list[int] | None:
        """Where each of ``params`` (this optimizer's own tensors, any order) starts in network b's row of
        the moments, or None if one is not among them, they are not all of them, or the optimizer was
        built without ``nets``."""
        index = {id(p): i for i, p in enumerate(self.params)}
        if self.nets is None or len(params) != len(self.params) or {id(p) for p in params} != set(index):
            return None  # without nets=B, a row is not one network's
        starts = [0]
        for size in self._sizes:
            starts.append(starts[-1] + size)
        return [starts[index[id(p)]] for p in params]

    @property
    def row(self) -> int:
        """Numbers in one network's row of the moments (every parameter's share of that network)."""
        return self.exp_avg.shape[1]

    def moment_constants(self) -> tuple[float, float, float, float]:
        """beta1, 1 - beta1, beta2, 1 - beta2 as step uses them (each rounded to float by the op)."""
        return self.beta1, 1.0 - self.beta1, self.beta2, 1.0 - self.beta2

    def advance(self) -> tuple[list[float], list[float]]:
        """Count a step of every network; each network's (step sizes, corrections) for it (see _scalars)."""
        self._steps = [t + 1 for t in self._steps]
        pairs = [self._scalars(t) for t in self._steps]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def root(self) -> torch.Tensor:
        """sqrt of the second moments, as step computes it, in a buffer reused from step to step."""
        if self._root is None:
            self._root = torch.empty_like(self.exp_avg_sq)
        return torch.sqrt(self.exp_avg_sq, out=self._root)

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params if p.grad is not None]
        if len(grads) != len(self.params):
            if not grads:
                return
            raise ValueError("ExactAdam: every parameter needs a gradient (or none does)")
        step_sizes, corrections = self.advance()
        b1, c1, b2, c2 = self.moment_constants()
        rows = len(self._steps)
        g = torch.cat([gr.reshape(rows, -1) for gr in grads], dim=1)
        m, v = self.exp_avg, self.exp_avg_sq
        # m = b1 m + (1 - b1) g
        m.mul_(b1)
        m.add_(g * c1)
        # v = b2 v + (1 - b2) g^2
        v.mul_(b2)
        sq = g * g
        sq.mul_(c2)
        v.add_(sq)
        # p -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps), as torch orders it;
        # the bias corrections are computed in double once, then rounded to float by the op
        # (a column of those floats where the networks' steps differ: the same bits,
        # since a float op rounds the same with a scalar or a tensor operand)
        step_size: float | torch.Tensor
        correction: float | torch.Tensor
        if len(set(self._steps)) == 1:
            step_size, correction = step_sizes[0], corrections[0]
        else:
            step_size, correction = self._per_net(step_sizes), self._per_net(corrections)
        denom = v.sqrt()
        denom.div_(correction)
        denom.add_(self.eps)
        upd = m / denom
        upd.mul_(step_size)
        torch._foreach_sub_([p.view(rows, -1) for p in self.params], list(upd.split(self._sizes, dim=1)))
