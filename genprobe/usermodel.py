"""Bring your own model: a factory ``"pkg.module:factory"`` trained as B copies at once.

A :class:`~genprobe.runs.RunSpec` whose ``model`` holds a colon names a user
factory: any callable that returns a ``torch.nn.Module``, called with the
spec's ``model_kwargs``. The module's contract: it gets (points, 2)
coordinates in [0, 1]^2 (float32) and returns (points, 1) or (points,)
floating-point grey values (0 black, 1 white), differentiable in its
trainable parameters. :class:`BatchedUserModel` checks that once on a few
points before training; anything else is one :class:`GenprobeError` line.

Loading (:func:`load_factory`, :func:`source_digest`, in
:mod:`genprobe.factory`, which has no torch): ``pkg.module`` is imported as
usual, or from the working directory, and re-executed where its file changed,
so that the code that trains is the code hashed into the run's cache key.

Batching (:class:`BatchedUserModel`): copy b is built by the factory with
torch's CPU random generator seeded from its own spec seed only (the same
derivation as :class:`~genprobe.model.BatchedMLP`, stream 0), inside
``torch.random.fork_rng`` so nothing else sees that draw. The copies'
parameters and buffers are stacked (``torch.func.stack_module_state``) and
run with ``torch.func.functional_call`` under ``torch.func.vmap``. The
wrapper has :class:`~genprobe.model.BatchedMLP`'s interface as the trainer
uses it: ``n_nets``, ``forward((B, M, 2)) -> (B, M)`` and ``parameters()``
yielding the stacked trainable leaves, each with leading dimension B (so
:class:`~genprobe.optim.ExactAdam` ``nets=B`` and autograd work unchanged).

Where vmap cannot run the module (python control flow on tensor values,
``.item()``, random ops such as dropout in training mode, in-place writes
into unbatched tensors, ...), it falls back to a loop of
``functional_call`` over the nets, on slices of the same stacked
parameters: the same numbers, B times the dispatch. One ``warnings.warn``
per model says why. Random ops in a module's forward (dropout in training
mode) draw from torch's global generator, which genprobe does not seed per
run: such a run depends on its batch-mates and on whatever drew from that
generator before, so it is not reproducible and its cached result is one
draw. Keep randomness out of the forward, or take it as part of the model.

Limits: state a copy keeps outside its parameters and buffers (a plain
tensor attribute) is copy 0's for every net; there are no linear-region
pattern ids, so a user run has ``boundaries=None`` and no
``linear_regions`` metric. Checkpoint and final predictions run in eval
mode (``module.eval()``, e.g. BatchNorm's running statistics), training
steps in train mode.
"""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.func import functional_call, stack_module_state, vmap

from .errors import GenprobeError
from .factory import load_factory, one_line, source_digest
from .sampling import stream_seed

__all__ = ["load_factory", "source_digest", "build_copies", "check", "seed_of", "BatchedUserModel", "PROBE_POINTS"]

# Points the module is first called on: a few distinct coordinates in [0, 1]^2
# (more than 2, so a BatchNorm in training mode has a batch to normalise).
PROBE_POINTS = 8

# building copies draws from torch's global generator (inside fork_rng): one model at a time
_LOCK = threading.RLock()


def seed_of(seed: int) -> int:
    """The torch seed copy ``seed`` is built under: BatchedMLP's init stream
    (:func:`genprobe.sampling.stream_seed` ``(seed, 0)``, as :func:`genprobe.model.init_generator`)."""
    return stream_seed(seed, 0)


def build_copies(path: str, kwargs: Mapping[str, Any], seeds: Sequence[int]) -> list[torch.nn.Module]:
    """One module per seed, copy b built with torch's CPU generator seeded from ``seeds[b]`` alone."""
    factory = load_factory(path)
    copies = []
    # under the lock: the global generator is seeded per copy, and run_sweep builds groups on threads
    for seed in seeds:
        with _LOCK, torch.random.fork_rng(devices=[]):
            torch.random.default_generator.manual_seed(seed_of(seed))  # the CPU generator only, as forked
            try:
                m = factory(**kwargs)
            except Exception as exc:
                args = f" with {dict(kwargs)!r}" if kwargs else ""
                raise GenprobeError(f"model {path!r} failed when called{args}: {one_line(exc)}") from None
        if not isinstance(m, torch.nn.Module):
            raise GenprobeError(f"model {path!r} returned a {type(m).__name__}, not a torch.nn.Module")
        copies.append(m)
    return copies


def _probe_points(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    t = torch.linspace(0.05, 0.95, PROBE_POINTS, dtype=dtype, device=device)
    return torch.stack([t, t.flip(0)], dim=1)  # (P, 2)


def _check_output(path: str, out: object, points: int) -> None:
    if not isinstance(out, torch.Tensor):
        raise GenprobeError(f"model {path!r} returned a {type(out).__name__} for ({points}, 2) points, not a tensor")
    if not out.is_floating_point():
        raise GenprobeError(f"model {path!r} returned dtype {out.dtype}; grey values need a floating-point dtype")
    if tuple(out.shape) not in ((points,), (points, 1)):
        raise GenprobeError(
            f"model {path!r} returned shape {tuple(out.shape)} for ({points}, 2) points; "
            f"it must be ({points}, 1) or ({points},)"
        )


def _probe(path: str, module: torch.nn.Module) -> None:
    """Call a scratch copy once on a few points: the forward contract, or one GenprobeError line."""
    trainable = [p for p in module.parameters() if p.requires_grad]
    if not trainable:
        raise GenprobeError(f"model {path!r} has no trainable parameters")
    scratch = copy.deepcopy(module).train()  # the probe must not move BatchNorm statistics
    x = _probe_points(trainable[0].device, torch.get_default_dtype())
    try:
        out = scratch(x)
    except Exception as exc:
        raise GenprobeError(f"model {path!r} failed on ({PROBE_POINTS}, 2) points: {one_line(exc)}") from None
    _check_output(path, out, PROBE_POINTS)
    if not out.requires_grad:
        raise GenprobeError(f"model {path!r}: its output does not depend on its trainable parameters")


class BatchedUserModel(torch.nn.Module):
    """B copies of a user module, stacked, with :class:`~genprobe.model.BatchedMLP`'s training interface.

    Args:
        path: the factory, ``"pkg.module:factory"``.
        kwargs: its keyword arguments.
        seeds: one seed per copy; copy b is initialised from ``seeds[b]`` only.
        vmap: run the copies with ``torch.func.vmap`` (None: if a probe step
            under vmap works, else a per-net loop with a warning); False
            forces the loop (the speed benchmark's reference).

    Attributes:
        n_nets: B.
        batching: ``"vmap"`` or ``"loop"``.
    """

    def __init__(self, path: str, kwargs: Mapping[str, Any], seeds: Sequence[int], vmap: bool | None = None) -> None:
        super().__init__()
        self.path = path
        self.n_nets = len(seeds)
        copies = build_copies(path, kwargs, seeds)
        _probe(path, copies[0])
        try:
            params, buffers = stack_module_state(copies)  # type: ignore[arg-type]
        except Exception as exc:  # copies of different shapes
            raise GenprobeError(f"model {path!r}: cannot stack its copies: {one_line(exc)}") from None
        # trainable leaves (B, ...) are this module's parameters; frozen ones travel with the buffers
        self._param_names = [k for k, v in params.items() if v.requires_grad]
        self.stacked = torch.nn.ParameterList([torch.nn.Parameter(params[k]) for k in self._param_names])
        self._state_names = [k for k, v in params.items() if not v.requires_grad] + list(buffers)
        for i, k in enumerate(self._state_names):
            self.register_buffer(f"state_{i}", (params | buffers)[k])
        # the module functional_call runs with the stacked tensors swapped in; not a submodule,
        # so its own (copy 0's) parameters are not this module's
        self._base = [copies[0]]
        self.batching = "vmap"
        if vmap is False:
            self.batching = "loop"
        else:
            reason = self._vmap_fails()
            if reason is not None:
                if vmap:
                    raise GenprobeError(f"model {path!r} cannot run under torch.func.vmap: {reason}")
                warnings.warn(
                    f"genprobe: model {path!r} cannot run under torch.func.vmap ({reason}); "
                    "training its copies in a loop over the nets instead (slower, same numbers)",
                    stacklevel=2,
                )
                self.batching = "loop"

    # -- state -------------------------------------------------------------
    def _params(self) -> dict[str, torch.Tensor]:
        return dict(zip(self._param_names, self.stacked))

    def _state(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, f"state_{i}") for i, k in enumerate(self._state_names)}

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        # .to(device) etc. also move the base module (tensors it holds outside its parameters)
        self._base[0]._apply(fn)
        return super()._apply(fn, recurse)

    def train(self, mode: bool = True) -> BatchedUserModel:
        super().train(mode)
        self._base[0].train(mode)
        return self

    # -- forward -----------------------------------------------------------
    def _one(self, params: dict[str, torch.Tensor], state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        out = functional_call(self._base[0], (params, state), (x,))
        return out.reshape(x.shape[0])  # (M, 1) or (M,) -> (M,)

    def _vmap_fails(self) -> str | None:
        """Why a forward and backward under vmap fail on the probe points, or None."""
        base = self._base[0]
        base.train()
        p0 = self.stacked[0]
        x = _probe_points(p0.device, torch.get_default_dtype()).expand(self.n_nets, -1, -1)
        state = {k: v.clone() for k, v in self._state().items()}  # the probe leaves the statistics alone
        try:
            out = vmap(self._one)(self._params(), state, x)
            torch.autograd.grad(out.sum(), list(self.stacked), allow_unused=True)
            base.eval()  # checkpoints and the final picture predict in eval mode: that path must run too
            with torch.no_grad():
                vmap(self._one)(self._params(), state, x)
        except Exception as exc:
            reason = one_line(exc)
            return reason.split(". ", 1)[0]  # torch's vmap messages go on with advice on filing an issue
        finally:
            base.train()
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, 2) points -> (B, M) predicted grey values."""
        x = x.clone()  # the module may write into its input; the caller's points stay as they were
        params, state = self._params(), self._state()
        if self.batching == "vmap":
            return vmap(self._one)(params, state, x)
        return torch.stack(
            [
                self._one({k: v[b] for k, v in params.items()}, {k: v[b] for k, v in state.items()}, x[b])
                for b in range(self.n_nets)
            ]
        )


def check(path: str, kwargs: Mapping[str, Any], seed: int = 0) -> None:
    """Build one copy and probe it: the errors :class:`BatchedUserModel` would raise, before any training."""
    _probe(path, build_copies(path, kwargs, [seed])[0])
