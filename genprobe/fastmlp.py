"""A hand-written training step for :class:`~genprobe.model.BatchedMLP`.

:meth:`FastMLPStep.loss_and_grads` computes the same per-network MSE and
parameter gradients as ``model(xb)`` + ``loss.sum().backward()``, without
autograd, so the caller's optimizer runs unchanged on the filled ``p.grad``;
:meth:`FastMLPStep.train_step` adds the optimizer's step, which the C kernel
takes itself for :class:`~genprobe.optim.ExactAdam` (the trainer's, in
:mod:`genprobe.train`), to the bit. It has two implementations:

* ``backend="c"``: the fused C kernel (``native/kernel.c``, built on first
  use by :mod:`genprobe.native.build`), float32 on the CPU; the default where
  it builds.
  A tile of rows goes through every layer while it stays in the core's
  cache, with bias, activation and its derivative fused into the matmul
  loops; each network is computed alone on one thread. About 2x the torch
  ops below and faster than torch's ``bmm`` alone on the same shapes, at
  0.7-0.85 of one core's large sgemm per thread on AMD EPYC and Intel Xeon
  (docs/evidence/speed.md, a run per CPU family).
* ``backend="torch"``: batched torch ops, for float64, other devices, or
  where no C compiler is available. What makes it faster than autograd:

* No bias ops. Every activation buffer carries an extra column of ones and
    each layer's weight is held as ``[[W, 0], [b, 1]]`` (``(B, in+1, out+1)``),
    so one ``bmm`` computes ``h @ W + b`` *and* the next layer's ones column,
    and one ``bmm`` ``h^T @ g`` yields the weight and the bias gradient together.
    The leaky ReLU maps the ones column to itself, so it runs in place on the
    whole contiguous buffer.
  * In-place element-wise work: ``leaky_relu_`` in the forward; in the backward
    the fused ``leaky_relu_backward`` (keyed on the stored *output*, valid for
    slopes >= 0) overwrites the incoming gradient.
  * No allocations in the layer loops: activations, gradients and the
    augmented weights live in buffers reused from step to step (one set per
    batch shape).
  * Cache blocking over networks: forward and backward run for a few networks
    at a time (``nets_per_chunk``), so the gradient buffers and the activation
    just written stay in the core's L2 cache instead of streaming B networks'
    worth of data per layer. On a 2-core CPU this alone is worth ~15 %.

Numerically it matches autograd to float rounding (the bias is added inside
the matmul instead of after it, and sums run in a different order). Networks
stay independent: network b's loss and gradients depend on its own weights
and data only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import math
import os
import threading
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .model import BatchedMLP
from .optim import ExactAdam

if TYPE_CHECKING:
    from .native.build import Kernel

__all__ = ["FastMLPStep", "supports", "torch_threads", "CHUNK_BYTES", "BACKENDS"]

BACKENDS = ("auto", "c", "torch")

# Points whose Fourier features the C kernel's forward computes at once (256 floats a point in the
# control: 16 MiB a net), so evaluating a 1024^2 grid needs no (B, 1M, 256) tensor.
FEATURE_CHUNK = 16384

# Target size of one layer's activations for the networks handled together,
# per intra-op thread: small enough that a layer's input, output and the two
# gradient buffers stay in a core's L2 cache (2 MiB on the reference CPU).
CHUNK_BYTES = 256 * 1024

_lrelu_bwd = torch.ops.aten.leaky_relu_backward.grad_input


def supports(model: torch.nn.Module) -> bool:
    """True if :class:`FastMLPStep` computes exactly this model's loss gradients.

    Needs a :class:`BatchedMLP` (with or without Fourier features: those are
    fixed, so they only change the input) in float32/float64 with a
    non-negative LeakyReLU slope (the backward reads the sign from the
    activation's output). Otherwise use autograd.
    """
    if not isinstance(model, BatchedMLP):
        return False
    slope = model.negative_slope
    if not (isinstance(slope, (int, float)) and math.isfinite(slope) and slope >= 0):
        return False
    params = list(model.parameters())
    dtypes = {p.dtype for p in params}
    devices = {p.device for p in params}
    return len(dtypes) == 1 and dtypes <= {torch.float32, torch.float64} and len(devices) == 1


class _Buffers:
    """Everything sized by the batch length m (and the chunking)."""

    def __init__(self, step: FastMLPStep, m: int):
        B, dims, dev, dt = step.n_nets, step.dims, step.device, step.dtype
        L = len(dims) - 1
        # acts[l]: input of layer l, then a ones column (at dims[l]), then zero padding
        self.acts = [torch.zeros(B, m, c, device=dev, dtype=dt) for c in step.cols]
        for a, d in zip(self.acts, dims):
            a[..., d] = 1.0  # layer 0's stays; hidden ones are rewritten (exactly 1) by each forward
        self.out = torch.empty(B, m, 1, device=dev, dtype=dt)
        self.nets_per_chunk = step.nets_per_chunk or _default_chunk(B, m, max(step.cols[1:], default=1), dev, dt)
        c = self.nets_per_chunk
        self.arange = torch.arange(m, device=dev)
        # A one-net chunk takes torch's unbatched matmul path, which rounds
        # differently from the batched one (chunks of >= 2 nets give bitwise the
        # same numbers whatever their size, on MKL): fold a single leftover net
        # into the chunk before it, so a net's result does not depend on how many
        # nets share the step.
        bounds = list(range(0, B, c)) + [B]
        if c > 1 and len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
            del bounds[-2]
        c = max(hi - lo for lo, hi in zip(bounds[:-1], bounds[1:]))
        width = step.cols[1] if L > 1 else 1
        # gradient w.r.t. a hidden activation, ping-ponged; one chunk at a time
        self.g = [torch.empty(c, m, width, device=dev, dtype=dt) for _ in range(2 if L > 1 else 0)]
        self.chunks = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            sl = slice(lo, hi)
            n = hi - lo
            self.chunks.append(
                (
                    sl,
                    [a[sl] for a in self.acts],
                    [a[sl].transpose(1, 2) for a in self.acts],
                    [w[sl] for w in step.w_aug],
                    [w[sl] for w in step.w_back],
                    [g[sl] for g in step.g_aug],
                    [g[:n] for g in self.g],
                    self.out[sl],
                )
            )


def _default_chunk(B: int, m: int, cols: int, device: torch.device, dtype: torch.dtype) -> int:
    if device.type != "cpu":
        return B
    per_net = m * cols * (torch.finfo(dtype).bits // 8)  # one layer's activations of one net
    return min(B, max(2, torch.get_num_threads() * (CHUNK_BYTES // per_net)))  # >= 2: see _Buffers


def _padded(cols: int) -> int:
    """``cols`` rounded up to a multiple of 8 if that costs at most ~10 % more.

    MKL's small matmuls run faster on aligned widths: 30 + 1 -> 32 columns
    made the post's step ~4 % faster; zero columns stay zero through the
    layers (leaky_relu(0) == 0) and their gradients are never read.
    """
    up = -(-cols // 8) * 8
    return up if up * 10 <= cols * 11 else cols


class FastMLPStep:
    """Loss and gradients of a :class:`BatchedMLP` without autograd.

    Usage (one optimizer step; ``opt`` is any optimizer over ``model.parameters()``)::

        step = FastMLPStep(model)          # once; buffers are reused across steps
        per_net = step.loss_and_grads(xb, yb)
        opt.step()

    The weights are read at every call, so optimizer updates (and
    ``load_state_dict``) are picked up; build a new one after moving the
    model to another device or dtype. The ``.grad`` tensors it sets are its
    own buffers, overwritten by the next call.

    Args:
        model: the networks; see :func:`supports`.
        nets_per_chunk: networks run together through forward and backward;
            None: about ``CHUNK_BYTES`` of activations per layer per thread
            on CPU, at least 2 (2 nets of the post's shape at batch 1024 per
            thread), all of them on other devices.
        pad: round the activation buffers' widths up to a multiple of 8
            where that adds at most ~10 % (see :func:`_padded`).
        backend: ``auto`` (the C kernel for float32 on the CPU if it builds,
            else torch ops), ``c`` (error if it cannot be used) or ``torch``.
            ``nets_per_chunk`` and ``pad`` tune the torch ops only.
        tile: rows per tile in the C kernel (a multiple of 8); 64 keeps the
            post's net's tile in a 2 MiB L2 (32..256 measured within 3 %).
    """

    def __init__(
        self,
        model: BatchedMLP,
        nets_per_chunk: int | None = None,
        pad: bool = True,
        backend: str = "auto",
        tile: int = 64,
    ):
        if not supports(model):
            raise ValueError("FastMLPStep needs a float32/float64 BatchedMLP with negative_slope >= 0")
        if nets_per_chunk is not None and nets_per_chunk < 1:
            raise ValueError(f"nets_per_chunk must be >= 1, got {nets_per_chunk}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if not (isinstance(tile, int) and tile >= 8 and tile % 8 == 0):
            raise ValueError(f"tile must be a positive multiple of 8, got {tile!r}")
        self.model = model
        self.nets_per_chunk = nets_per_chunk
        p0 = model.weights[0]
        self.n_nets, self.device, self.dtype = p0.shape[0], p0.device, p0.dtype
        self.dims = [p0.shape[1]] + [w.shape[2] for w in model.weights]
        self._param_list = self._collect_params()
        self.grads = [torch.empty_like(p) for p in self._params()]
        self._c = None
        kernel = _kernel_for(self, backend)
        if kernel is not None:
            try:
                self._c = _CStep(self, kernel, tile)
            except ValueError:  # a shape the kernel does not take (> 1024 layers)
                if backend == "c":
                    raise
        if self._c is None:
            self._init_torch_ops(pad)
        self.backend = "c" if self._c is not None else "torch"

    def _init_torch_ops(self, pad: bool) -> None:
        """The augmented weights and gradient buffers of the torch-ops step."""
        B, L = self.n_nets, len(self.dims) - 1
        kw = dict(device=self.device, dtype=self.dtype)
        # w_aug[l] = [[W, 0], [b, 1], [0, 0]] (last layer: [[W], [b], [0]]), used by
        # the forward; w_back[l] = W^T zero-padded to w_aug[l]^T's shape, contiguous,
        # used for the input gradient: its zero columns keep the gradient of the
        # ones and padding columns exactly 0.
        self.w_aug, self.w_back, self.g_aug = [], [], []
        # columns of each layer's input buffer: features, the ones column, zero padding
        self.cols = [_padded(d + 1) if pad else d + 1 for d in self.dims[:-1]]
        for l in range(L):
            i, o = self.dims[l], self.dims[l + 1]
            hidden = l < L - 1
            ci, co = self.cols[l], self.cols[l + 1] if hidden else 1
            wa = torch.zeros(B, ci, co, **kw)
            if hidden:
                wa[:, i, o] = 1.0
            self.w_aug.append(wa)
            self.w_back.append(torch.zeros(B, co, ci, **kw))
            self.g_aug.append(torch.empty(B, ci, co, **kw))
        self._bufs: dict[int, _Buffers] = {}

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 2) points -> (B, M) predictions: ``model(x)`` up to float rounding.

        On the C kernel the points are processed in cache-sized tiles (memory
        beyond the output: a few hundred KiB per thread, whatever M), and an
        input shared by every net (``x.expand(B, -1, -1)``, the evaluation
        grid) is read once, not copied B times. On torch ops it is ``model(x)``.
        """
        if self._c is None:
            return self.model(x)
        return self._c.forward(x)[0]

    @torch.no_grad()
    def predict_and_patterns(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, 2) points -> predictions (B, M) and activation-pattern ids (B, M) int64, as
        :meth:`genprobe.model.BatchedMLP.predict_and_patterns` gives them (the same hash of the same
        on/off states; a point within float rounding of a neuron's switch may fall on the other side).

        On the C kernel both come from one pass in cache-sized tiles, each net alone (so, unlike torch's
        batched matmuls, the ids do not depend on which nets share a group); on torch ops it is the
        model's own pass.
        """
        if self._c is None:
            return self.model.predict_and_patterns(x)
        pred, ids = self._c.forward(x, patterns=True)
        assert ids is not None
        return pred, ids

    def solo(self):
        """Context for the torch ops of a training step around :meth:`loss_and_grads`.

        With the C kernel, torch runs on one thread inside it (see
        :class:`_CStep`); with torch ops, it changes nothing.
        """
        return torch_threads(1) if self._c is not None else contextlib.nullcontext()

    def _params(self) -> list[torch.Tensor]:
        """The parameters, in order (w0, b0, w1, b1, ...); the Parameter objects of the model at construction."""
        return self._param_list

    def _collect_params(self) -> list[torch.Tensor]:
        # once: indexing an nn.ParameterList costs ~5 us a parameter, per step
        return [p for wb in zip(self.model.weights, self.model.biases) for p in wb]

    def _sync(self) -> list[torch.Tensor]:
        """Copy the current weights into the augmented matrices; the params, in order."""
        params = self._params()
        dst, src = [], []
        for l, (wa, wb) in enumerate(zip(self.w_aug, self.w_back)):
            i, o = self.dims[l], self.dims[l + 1]
            w, b = params[2 * l], params[2 * l + 1]
            dst += [wa[:, :i, :o], wa[:, i : i + 1, :o], wb[:, :o, :i]]
            src += [w, b, w.transpose(1, 2)]
        torch._foreach_copy_(dst, src)
        return params

    def buffers(self, m: int) -> _Buffers:
        buf = self._bufs.get(m)
        if buf is None:
            if len(self._bufs) >= 4:  # batch lengths seen: full and last partial batch, normally
                self._bufs.clear()
            buf = self._bufs[m] = _Buffers(self, m)
        return buf

    @torch.no_grad()
    def train_step(
        self, xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None, opt: torch.optim.Optimizer | ExactAdam
    ) -> torch.Tensor:
        """:meth:`loss_and_grads`, then ``opt.step()``; the per-network losses.

        On the C kernel with an :class:`~genprobe.optim.ExactAdam` over exactly this model's parameters,
        the kernel updates each network's Adam moments while its gradients are still in cache and
        applies the update itself; only the square root of the second moment stays a torch op. The same
        operations as ``opt.step()``, so the same numbers to the bit (tests/test_fastmlp.py), at a
        fraction of its cost: ExactAdam's dozen torch ops were about half of a step of one net at 312
        points. Otherwise it is exactly the two calls.
        """
        if self._c is not None and isinstance(opt, ExactAdam):
            self._check_batch(xb, yb)
            loss = self._c.train_step(xb, yb, count, opt)
            if loss is not None:
                return loss
        loss = self.loss_and_grads(xb, yb, count)
        opt.step()
        return loss

    def _check_batch(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        B, m = yb.shape
        if xb.shape[:2] != (B, m) or B != self.n_nets:
            got = f"{tuple(xb.shape)} and {tuple(yb.shape)}"
            raise ValueError(f"expected xb (B={self.n_nets}, m, in) and yb (B, m); got {got}")

    @torch.no_grad()
    def loss_and_grads(self, xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None = None) -> torch.Tensor:
        """Per-network MSE (B,) at points ``xb`` (B, m, 2) against ``yb`` (B, m).

        Sets every parameter's ``.grad`` to the gradient of the *sum* of the
        returned losses (overwriting, as after ``zero_grad`` + ``backward``).
        ``count`` (B,) restricts network b's loss to its first ``count[b]``
        points: ``(sq * valid).sum(1) / count``, the trainer's padded batch.
        """
        self._check_batch(xb, yb)
        B, m = yb.shape
        if self._c is not None:
            return self._c(xb, yb, count)
        params = self._sync()
        bufs = self.buffers(m)
        feats = self.model.features(xb)
        bufs.acts[0][..., : self.dims[0]].copy_(feats)
        yb = yb.to(self.dtype)
        if count is not None:
            count = count.to(device=self.device, dtype=self.dtype)
        slope = float(self.model.negative_slope)
        L = len(self.dims) - 1
        bmm, lrelu_, lrelu_bwd = torch.bmm, F.leaky_relu_, _lrelu_bwd
        losses = []
        for sl, a, a_t, w_aug, w_back, g_aug, g_buf, out in bufs.chunks:
            for l in range(L - 1):
                bmm(a[l], w_aug[l], out=a[l + 1])
                lrelu_(a[l + 1], slope)
            bmm(a[L - 1], w_aug[L - 1], out=out)
            diff = out.squeeze(-1) - yb[sl]
            sq = diff.square()
            if count is None:
                losses.append(sq.mean(1))
                g = diff.mul_(2.0 / m)
            else:
                cnt = count[sl]
                valid = bufs.arange < cnt.unsqueeze(1)
                losses.append((sq * valid).sum(1) / cnt)
                g = diff.mul_(valid * (2.0 / cnt).unsqueeze(1))
            g = g.unsqueeze(-1)  # d(sum of losses)/d(output), (n, m, 1)
            k = 0
            for l in range(L - 1, -1, -1):
                if l < L - 1:
                    lrelu_bwd(g, a[l + 1], slope, True, grad_input=g)  # d/d(pre-activation)
                bmm(a_t[l], g, out=g_aug[l])  # [dW; db], (n, in+1, out(+1))
                if l > 0:
                    g = bmm(g, w_back[l], out=g_buf[k])  # d/d(layer input); ones column -> 0
                    k ^= 1
        src = []
        for l, ga in enumerate(self.g_aug):
            i, o = self.dims[l], self.dims[l + 1]
            src += [ga[:, :i, :o], ga[:, i : i + 1, :o]]
        torch._foreach_copy_(self.grads, src)
        for p, g in zip(params, self.grads):
            if p.grad is not g:
                p.grad = g
        return torch.cat(losses) if len(losses) > 1 else losses[0]


def _kernel_for(step: FastMLPStep, backend: str) -> Kernel | None:
    """The C kernel ``step`` runs on (float32, CPU, and it builds), or None for torch ops."""
    if backend == "torch":
        return None
    fits = step.dtype == torch.float32 and step.device.type == "cpu"
    if backend == "c" and not fits:
        raise ValueError(f"backend='c' needs float32 networks on the CPU, got {step.dtype} on {step.device}")
    if not fits:
        return None
    from .native import build

    kernel = build.load()
    if kernel is None and backend == "c":
        raise ValueError(f"backend='c': the C kernel is unavailable ({build.unavailable_reason()})")
    return kernel


@contextlib.contextmanager
def torch_threads(n: int):
    """Run torch's intra-op work on ``n`` threads inside the block."""
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_POOL: tuple[int, object] | None = None


def _pool():
    """A thread pool for this process (rebuilt after a fork: threads do not survive one)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (
            os.getpid(),
            concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="genprobe-step"),
        )
    return _POOL[1]


#: an ExactAdam the kernel steps: (it, its moment offsets, its moment constants) as ctypes arrays
_Fused = tuple[ExactAdam, ctypes.Array, ctypes.Array]


class _CStep:
    """:meth:`FastMLPStep.loss_and_grads` on the fused C kernel (``native/kernel.c``).

    The networks are split into contiguous ranges, one per intra-op thread
    (``torch.get_num_threads()`` when the step is built); each range runs on
    its own Python thread, which ctypes lets run without the GIL. Each
    network is computed alone, so its numbers do not depend on the split.

    Run the torch ops around it (data gather, optimizer) inside
    :func:`torch_threads` ``(1)``: after a multi-threaded torch op, torch's
    OpenMP workers spin-wait on the cores for a while, and the kernel's
    threads would share the cores with them (measured: 4 ms, +25 %, on a
    16-network step of the post's shape on 2 cores).
    """

    def __init__(self, step: FastMLPStep, kernel: Kernel, tile: int):
        self.step, self.tile = step, tile
        self.threads = torch.get_num_threads()  # read once: callers may run torch on 1 thread meanwhile
        self.kernel = kernel
        self.dims = (ctypes.c_int * len(step.dims))(*step.dims)
        self.L = len(step.dims) - 1
        self.ws_floats = kernel.workspace_floats(L=self.L, dims=self.dims, tile=tile)
        if self.ws_floats < 0:
            raise ValueError(f"the C kernel does not take layers {step.dims} with tile {tile}")
        self.workspaces: list[torch.Tensor] = []
        self.loss = torch.empty(step.n_nets, dtype=torch.float32)
        self._key: list[int] | None = None
        self._args: tuple[ctypes.Array, ...] = ()
        self._fused: _Fused | None = None
        # one call at a time: the workspaces and the loss buffer are shared by its threads
        self._lock = threading.Lock()

    def _pointer_args(self) -> tuple[ctypes.Array, ...]:
        """Pointer arrays to the weights, biases and their gradients (rebuilt if any moved).

        Keyed on the addresses alone (their strides cost as much again, every step): a parameter that
        moves is noticed and checked, one given a new layout at its old address (``p.data = p.data.t()``)
        is not; build a new step after changing the model's parameters other than in place."""
        params = self.step._params()
        key = [p.data_ptr() for p in params]
        if key != self._key:
            ws, bs = params[0::2], params[1::2]
            gws, gbs = self.step.grads[0::2], self.step.grads[1::2]
            self._args = (self._ptrs(ws), self._ptrs(bs), self._ptrs(gws), self._ptrs(gbs))
            self._key = key
        return self._args

    def _ptrs(self, tensors: list[torch.Tensor]) -> ctypes.Array:
        for t in tensors:
            if not t.is_contiguous() or t.dtype != torch.float32 or t.device.type != "cpu":
                raise ValueError("the C kernel needs contiguous float32 CPU parameters")
        return (ctypes.c_void_p * len(tensors))(*[t.data_ptr() for t in tensors])

    def _split(self, n: int) -> list[int]:
        """Bounds of ``n`` items (nets or rows) cut into one near-equal part per thread, at most ``n`` parts."""
        threads = max(1, min(self.threads, n))
        return [n * t // threads for t in range(threads + 1)]

    def _workspaces(self, threads: int) -> list[torch.Tensor]:
        while len(self.workspaces) < threads:
            self.workspaces.append(torch.empty(self.ws_floats, dtype=torch.float32))
        return self.workspaces

    def _check_features(self, feats: torch.Tensor, what: str, shape: tuple) -> None:
        if feats.shape[-1] != self.step.dims[0]:
            raise ValueError(
                f"expected {what} {shape} with {self.step.dims[0]} features per point, got {tuple(feats.shape)}"
            )

    def forward(self, x: torch.Tensor, patterns: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Predictions (B, M), and activation-pattern ids (B, M) int64 with ``patterns`` (else None)."""
        with self._lock:
            return self._forward(x, patterns)

    def _forward(self, x: torch.Tensor, patterns: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        model = self.step.model
        if x.dim() != 3 or x.shape[0] != self.step.n_nets or x.shape[-1] != 2:
            raise ValueError(f"expected x (B={self.step.n_nets}, M, 2), got {tuple(x.shape)}")
        B, M = x.shape[:2]
        out = torch.empty(B, M, dtype=torch.float32)
        # the kernel writes uint64 ids, which wrap like torch's int64 arithmetic: the same bits
        ids = torch.empty(B, M, dtype=torch.int64) if patterns else None
        if M == 0:
            return out, ids
        if model.freqs is None:  # the points are the inputs
            if B > 1 and x.stride(0) == 0:
                feats, net_stride = x[0].to(torch.float32).contiguous(), 0  # one grid for every net
            else:
                feats = x.to(torch.float32).contiguous()
                net_stride = M * feats.shape[-1]
            self._check_features(feats, "x", (B, M, 2))
            self._forward_rows(feats, net_stride, out, ids, x.shape)
            return out, ids
        # Fourier features (2 x fourier_dim floats a point) for FEATURE_CHUNK points at a time: all at
        # once were 1 GiB a net at 1024^2. A point's features and prediction do not depend on the chunk.
        for lo in range(0, M, FEATURE_CHUNK):
            hi = min(M, lo + FEATURE_CHUNK)
            feats = model.features(x[:, lo:hi]).to(torch.float32).contiguous()
            self._check_features(feats, "x", (B, M, 2))
            part = torch.empty(B, hi - lo, dtype=torch.float32)
            part_ids = torch.empty(B, hi - lo, dtype=torch.int64) if ids is not None else None
            self._forward_rows(feats, (hi - lo) * feats.shape[-1], part, part_ids, x.shape)
            out[:, lo:hi] = part
            if ids is not None and part_ids is not None:
                ids[:, lo:hi] = part_ids
        return out, ids

    def _forward_rows(
        self, feats: torch.Tensor, net_stride: int, out: torch.Tensor, ids: torch.Tensor | None, shape: tuple
    ) -> None:
        """The kernel's forward of every net at the rows of ``feats`` (net b's at ``b * net_stride``) into
        ``out`` (B, m) and ``ids``, the rows split between the threads."""
        B, M = out.shape
        W, b = self._pointer_args()[:2]
        rows = self._split(M)  # rows are independent: split them, not nets
        threads = len(rows) - 1
        spaces = self._workspaces(threads)
        kernel, slope = self.kernel, float(self.step.model.negative_slope)

        def run(t: int) -> int:
            return kernel.forward(
                L=self.L,
                dims=self.dims,
                lo=0,
                hi=B,
                r_lo=rows[t],
                r_hi=rows[t + 1],
                m=M,
                W=W,
                b=b,
                x=feats.data_ptr(),
                x_net_stride=net_stride,
                negative_slope=slope,
                out=out.data_ptr(),
                ids=ids.data_ptr() if ids is not None else None,
                ws=spaces[t].data_ptr(),
                tile=self.tile,
            )

        if any(self._run(run, threads)):
            raise ValueError(f"the C kernel rejected x of shape {tuple(shape)}")

    @staticmethod
    def _run(fn, threads: int) -> list[int]:
        """fn(0) here and fn(1..threads-1) on the pool; every call has ended when this returns."""
        if threads == 1:  # a sweep's worker: no pool (waiting on no futures costs 10 us a call)
            return [fn(0)]
        futures = [_pool().submit(fn, t) for t in range(1, threads)]
        try:
            first = fn(0)
        finally:
            concurrent.futures.wait(futures)  # never leave a thread writing into the buffers
        return [first] + [f.result() for f in futures]

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None) -> torch.Tensor:
        with self._lock:
            return self._loss_and_grads(xb, yb, count, None)

    def train_step(
        self, xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None, opt: ExactAdam
    ) -> torch.Tensor | None:
        """Loss, gradients and ``opt``'s step in the kernel (see :meth:`FastMLPStep.train_step`); the loss,
        or None if ``opt`` does not hold exactly this model's parameters (then nothing was computed)."""
        with self._lock:
            fused = self._fused_for(opt)
            if fused is None:
                return None
            loss = self._loss_and_grads(xb, yb, count, fused)
            W, b = self._args[:2]  # as _loss_and_grads found them
            step_sizes, corrections = opt.advance()
            B = self.step.n_nets
            ss, corr = (ctypes.c_float * B)(*step_sizes), (ctypes.c_float * B)(*corrections)
            root = opt.root()  # torch's sqrt, the one operation of ExactAdam's step not written in C
            bounds = self._split(B)  # the nets' split of _loss_and_grads
            threads = len(bounds) - 1
            kernel, eps = self.kernel, float(opt.eps)

            def run(t: int) -> int:
                return kernel.adam_update(
                    L=self.L,
                    dims=self.dims,
                    lo=bounds[t],
                    hi=bounds[t + 1],
                    W=W,
                    b=b,
                    am=opt.exp_avg.data_ptr(),
                    root=root.data_ptr(),
                    row=opt.row,
                    offsets=fused[1],
                    step_size=ss,
                    correction=corr,
                    eps=eps,
                )

            self._run(run, threads)
            return loss

    def _fused_for(self, opt: ExactAdam) -> _Fused | None:
        """``opt`` with its moment offsets and constants as the kernel takes them, or None if it cannot be fused."""
        if self._fused is not None and self._fused[0] is opt:
            return self._fused
        offsets = opt.moment_offsets(self.step._params()) if opt.nets == self.step.n_nets else None
        m, v = opt.exp_avg, opt.exp_avg_sq
        if offsets is None or m.dtype != torch.float32 or not (m.is_contiguous() and v.is_contiguous()):
            return None
        self._fused = (opt, (ctypes.c_long * len(offsets))(*offsets), (ctypes.c_float * 4)(*opt.moment_constants()))
        return self._fused

    def _loss_and_grads(
        self,
        xb: torch.Tensor,
        yb: torch.Tensor,
        count: torch.Tensor | None,
        fused: _Fused | None,
    ) -> torch.Tensor:
        step, model = self.step, self.step.model
        B, m = yb.shape
        x = model.features(xb).to(torch.float32).contiguous()
        self._check_features(x, "xb", (B, m, 2))
        y = yb.to(torch.float32).contiguous()
        if count is not None and tuple(count.shape) != (B,):
            raise ValueError(f"expected count of shape ({B},), got {tuple(count.shape)}")
        cnt = None if count is None else count.to(torch.float32).contiguous()
        W, b, gW, gb = self._pointer_args()
        bounds = self._split(B)
        threads = len(bounds) - 1
        spaces = self._workspaces(threads)
        kernel, slope = self.kernel, float(model.negative_slope)
        cptr = cnt.data_ptr() if cnt is not None else None
        common = dict(
            L=self.L,
            dims=self.dims,
            m=m,
            W=W,
            b=b,
            gW=gW,
            gb=gb,
            x=x.data_ptr(),
            y=y.data_ptr(),
            count=cptr,
            negative_slope=slope,
            loss=self.loss.data_ptr(),
            tile=self.tile,
        )
        if fused is not None:
            opt, offsets, betas = fused
            common.update(
                am=opt.exp_avg.data_ptr(), av=opt.exp_avg_sq.data_ptr(), row=opt.row, offsets=offsets, betas=betas
            )
            call = kernel.train_step
        else:
            call = kernel.loss_and_grads

        def run(t: int) -> int:
            return call(lo=bounds[t], hi=bounds[t + 1], ws=spaces[t].data_ptr(), **common)

        status = self._run(run, threads)
        if -2 in status:
            got = count.tolist() if count is not None else None
            raise ValueError(f"count must hold whole numbers in [1, {m}] (the batch length), got {got}")
        if any(status):
            raise ValueError(f"the C kernel rejected xb {tuple(xb.shape)} / yb {tuple(yb.shape)}")
        for p, g in zip(step._params(), step.grads):
            if p.grad is not g:
                p.grad = g
        return self.loss.clone()
