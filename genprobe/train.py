"""The batched trainer: B networks, one tensor, each with its own data and Adam.

Adam is elementwise, so one Adam over stacked weights with the *sum* of the
per-network losses is B independent Adams. The ``blog`` protocol rebuilds the
optimizer at the start of every epoch, as the post's script did; ``standard``
keeps one for the whole run. One group may hold both: each network's Adam
restarts on its own protocol's schedule (:class:`~genprobe.optim.ExactAdam`
``reset(nets)``), so both protocols share the cores in one batch.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import metrics
from .errors import GenprobeError
from .fastmlp import FastMLPStep, supports
from .metrics.regions import polytope_metrics
from .model import BatchedMLP, init_generator
from .optim import ExactAdam
from .options import DEVICES
from .provenance import provenance
from .runs import RunResult, RunSpec
from .sampling import TrainingSet, grid_coords, sample_training_set
from .truth import TrueImage
from .usermodel import BatchedUserModel

__all__ = [
    "resolve_device",
    "train_group",
    "group_key",
    "checkpoint_epochs",
    "grid_coords",
    "EVAL_CHUNK",
    "batch_work",
    "split_for_workers",
]

# Points per forward pass when evaluating a grid: bounds evaluation memory to
# about EVAL_CHUNK * B * width * 4 bytes per layer whatever the grid size, and
# keeps a layer's activations in cache (measured on 2 cores, 16 nets: 1.6M
# points/s at 4096, 0.4M at 32768).
EVAL_CHUNK = 4096


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> cuda, then mps, then cpu; a forced device must exist."""
    if not isinstance(device, str):
        raise GenprobeError(f"device must be a string, got {device!r}")
    base = device.split(":")[0]
    if base not in DEVICES:
        raise GenprobeError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if base == "cuda" and not torch.cuda.is_available():
        raise GenprobeError(f"device {device!r} requested but this machine has no CUDA GPU (torch {torch.__version__})")
    if base == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise GenprobeError(f"device {device!r} requested but MPS is not available here")
    return device


def group_key(spec: RunSpec) -> tuple:
    """Specs with equal keys can train in one batch (N, seed, labels and protocol may differ)."""
    d = spec.to_dict()
    for name in ("n", "seed", "labels", "protocol"):
        d.pop(name)
    d["model_kwargs"] = spec.typed_kwargs  # 1, 1.0 and True build other models
    return (tuple(sorted(d.items())), spec.steps_per_epoch, spec.total_epochs, spec.total_steps)


def checkpoint_epochs(spec: RunSpec) -> list[int]:
    """Epoch 0 and ``spec.checkpoints`` evenly spaced epochs up to the last."""
    total = spec.total_epochs
    return sorted({0} | {max(1, round(k * total / spec.checkpoints)) for k in range(1, spec.checkpoints + 1)})


@torch.no_grad()
def grid_predictions(
    model: BatchedMLP | BatchedUserModel,
    coords: torch.Tensor,
    with_patterns: bool = False,
    forward: Callable | None = None,
    patterns: Callable | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Every net at the points ``coords`` (M, 2): predictions (B, M), and pattern ids (B, M) or None.

    ``forward``: computes predictions for all points at once in bounded memory
    (:meth:`FastMLPStep.predict` on the C kernel; not for pattern ids), and
    ``patterns`` predictions and pattern ids in the same way
    (:meth:`FastMLPStep.predict_and_patterns`); otherwise ``model`` runs on
    chunks of ``EVAL_CHUNK`` points. Pattern ids need a :class:`BatchedMLP`.
    """
    B = model.n_nets
    if forward is not None and not with_patterns:
        return forward(coords.unsqueeze(0).expand(B, -1, -1)), None
    if patterns is not None and with_patterns:
        return patterns(coords.unsqueeze(0).expand(B, -1, -1))
    if with_patterns and not isinstance(model, BatchedMLP):
        raise GenprobeError("activation pattern ids need the built-in MLP (model='mlp')")
    preds, ids = [], []
    for start in range(0, coords.shape[0], EVAL_CHUNK):
        x = coords[start : start + EVAL_CHUNK].unsqueeze(0).expand(B, -1, -1)
        if with_patterns:
            assert isinstance(model, BatchedMLP)
            p, i = model.predict_and_patterns(x)
            ids.append(i)
        else:
            p = model(x)
        preds.append(p)
    return torch.cat(preds, 1), torch.cat(ids, 1) if with_patterns else None


class _Evaluator:
    """Evaluates a batch of nets on a fixed grid against the truth."""

    def __init__(self, truth_grid: np.ndarray, sets: Sequence[TrainingSet], device: str, wedge: float = 0.0):
        self.res = truth_grid.shape[0]
        self.truth = truth_grid
        self.coords = torch.from_numpy(grid_coords(self.res)).to(device)
        self.masks = [ts.mask_at(self.res) for ts in sets]
        self.geometry = metrics.TruthGeometry.from_truth(truth_grid)  # built once, reused at every checkpoint
        self.wedge = wedge

    def predict(
        self,
        model: BatchedMLP | BatchedUserModel,
        with_patterns: bool = False,
        forward: Callable | None = None,
        patterns: Callable | None = None,
    ):
        """Predictions (B, res, res), and pattern ids with ``with_patterns`` (see :func:`grid_predictions`)."""
        shape = (model.n_nets, self.res, self.res)
        pred, ids = grid_predictions(model, self.coords, with_patterns, forward, patterns)
        out = pred.float().cpu().numpy().reshape(shape)
        if not with_patterns:
            return out
        assert ids is not None
        return out, ids.cpu().numpy().reshape(shape)

    def metrics(self, pred: np.ndarray, b: int, pred_train: np.ndarray, targets: np.ndarray) -> dict[str, float]:
        return metrics.evaluate(
            pred,
            self.truth,
            self.masks[b],
            pred_train=pred_train,
            train_targets=targets,
            geometry=self.geometry,
            wedge=self.wedge,
        )


STEPS = ("auto", "c", "torch", "autograd")


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module):
    """``model.eval()`` for the duration (BatchNorm of a user model uses its running statistics), then train mode."""
    model.eval()
    try:
        yield
    finally:
        model.train()


def _check_group(specs: Sequence[RunSpec]) -> None:
    if not specs:
        raise GenprobeError("train_group needs at least one spec")
    keys = {group_key(s) for s in specs}
    if len(keys) != 1:
        raise GenprobeError(
            "specs in one group must differ only in n, seed, labels and protocol with equal steps per epoch"
        )
    if any(not s.trained for s in specs):
        raise GenprobeError("train_group trains model='mlp' or user-model specs only")


@dataclass
class _Data:
    """A group's training points as padded tensors: X (B, n_max, 2), Y (B, n_max), the sets, each N."""

    sets: list[TrainingSet]
    X: torch.Tensor
    Y: torch.Tensor
    ns: torch.Tensor  # (B,) on the device
    n_max: int
    padded: bool  # some net has fewer points than n_max

    @classmethod
    def load(cls, specs: Sequence[RunSpec], truth: TrueImage, device: str) -> _Data:
        sets = [
            sample_training_set(truth, s.n, s.seed, shuffle_labels=s.labels == "shuffled", wedge=s.wedge) for s in specs
        ]
        B, n_max = len(specs), max(s.n for s in specs)
        ns = torch.tensor([s.n for s in specs])
        X = torch.zeros(B, n_max, 2)
        Y = torch.zeros(B, n_max)
        for b, ts in enumerate(sets):
            X[b, : len(ts)] = torch.from_numpy(ts.coords)
            Y[b, : len(ts)] = torch.from_numpy(ts.targets)
        return cls(sets, X.to(device), Y.to(device), ns.to(device), n_max, bool((ns != n_max).any()))


def _build_model(specs: Sequence[RunSpec], device: str) -> BatchedMLP | BatchedUserModel:
    """The group's B nets, each initialised from its own seed."""
    s0, seeds = specs[0], [s.seed for s in specs]
    if s0.user_model:
        return BatchedUserModel(s0.model, dict(s0.model_kwargs), seeds).to(device)
    return BatchedMLP(
        seeds,
        depth=s0.depth,
        width=s0.width,
        negative_slope=s0.negative_slope,
        fourier_dim=s0.fourier_dim if s0.features == "fourier" else 0,
        fourier_scale=s0.fourier_scale,
    ).to(device)


#: one minibatch's per-net losses, with every parameter's gradient set: (xb, yb, count) -> (B,)
LossAndGrads = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
#: one optimizer step on a minibatch, its per-net losses: (xb, yb, count) -> (B,)
TrainStep = LossAndGrads


def _then_step(loss_and_grads: LossAndGrads, opt: ExactAdam) -> TrainStep:
    """The step that computes the gradients and then calls ``opt.step()``."""

    def train_step(xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None) -> torch.Tensor:
        per_net = loss_and_grads(xb, yb, count)
        opt.step()
        return per_net

    return train_step


def _autograd_step(model: torch.nn.Module, batch: int, device: str) -> LossAndGrads:
    """Gradients by autograd (GPUs, user models, ``step="autograd"``): mean squared error per net over
    its ``count`` valid points of the minibatch (all of them where ``count`` is None)."""
    params = list(model.parameters())
    arange_batch = torch.arange(batch, device=device)

    def loss_and_grads(xb: torch.Tensor, yb: torch.Tensor, count: torch.Tensor | None) -> torch.Tensor:
        sq = (model(xb) - yb).square()
        if count is not None:
            valid = arange_batch[: xb.shape[1]].unsqueeze(0) < count.unsqueeze(1)
            per_net = (sq * valid).sum(1) / count
        else:
            per_net = sq.mean(1)
        for p in params:
            p.grad = None
        per_net.sum().backward()
        return per_net

    return loss_and_grads


class _Recorder:
    """The metric curves: every net on the curve grid and at its training points, at each checkpoint."""

    def __init__(self, specs: Sequence[RunSpec], truth: TrueImage, data: _Data, model, forward, device: str):
        s0 = specs[0]
        self.specs, self.data, self.model, self.forward = specs, data, model, forward
        self.curve = _Evaluator(truth.at_resolution(s0.curve_res), data.sets, device, s0.wedge)
        self.history: list[list[dict[str, float]]] = [[] for _ in specs]
        self.epochs: list[int] = []
        self.steps: list[int] = []
        self.seconds = 0.0  # in checkpoint evaluations (not training), for meta

    def __call__(self, epoch: int, step: int) -> None:
        t0 = time.perf_counter()
        with torch.no_grad(), _eval_mode(self.model):
            pred = self.curve.predict(self.model, forward=self.forward)
            pred_train = (self.forward or self.model)(self.data.X).float().cpu().numpy()
        self.epochs.append(epoch)
        self.steps.append(step)
        for b, spec in enumerate(self.specs):
            targets = self.data.sets[b].targets
            self.history[b].append(self.curve.metrics(pred[b], b, pred_train[b, : spec.n], targets))
        self.seconds += time.perf_counter() - t0

    def curves(self, b: int) -> dict[str, np.ndarray]:
        """Net ``b``'s history: epoch, step and every metric at each checkpoint."""
        hist = {"epoch": np.array(self.epochs), "step": np.array(self.steps)}
        for name in self.history[b][0]:
            hist[name] = np.array([h[name] for h in self.history[b]], dtype=np.float64)
        return hist


def _train(
    specs: Sequence[RunSpec],
    data: _Data,
    train_step: TrainStep,
    opt: ExactAdam,
    record: _Recorder,
    solo: Callable[[], contextlib.AbstractContextManager],
    device: str,
    progress: bool | None,
    on_epoch: Callable[[int], None] | None,
) -> list[int | None]:
    """The epochs: per-net shuffles, minibatch steps, the blog protocol's Adam restarts, checkpoints, and
    a stop once every net has diverged. Returns the epoch each net diverged at (None: it did not)."""
    from tqdm.auto import tqdm

    s0, B = specs[0], len(specs)
    restarts = [b for b, s in enumerate(specs) if s.protocol == "blog"]
    shuffle_gens = [init_generator(s.seed, 1) for s in specs]
    checkpoints = set(checkpoint_epochs(s0))
    diverged_at: list[int | None] = [None] * B
    nonfinite = torch.zeros(B, dtype=torch.bool, device=device)
    S, total_epochs, total_steps = s0.steps_per_epoch, s0.total_epochs, s0.total_steps
    bar = tqdm(
        total=total_epochs,
        disable=(not progress) if progress is not None else None,
        unit="epoch",
        desc=f"{B} net(s) N={'/'.join(sorted({str(s.n) for s in specs}, key=int))}",
        leave=False,
        mininterval=1.0,
    )
    record(0, 0)
    done = 0
    try:
        for epoch in range(1, total_epochs + 1):
            with solo():  # the epoch's torch ops on one thread (FastMLPStep.solo)
                if restarts:
                    opt.reset(restarts)  # the post's script: Adam's moments and bias correction restart
                perm = torch.zeros(B, data.n_max, dtype=torch.int64)
                for b, s in enumerate(specs):
                    perm[b, : s.n] = torch.randperm(s.n, generator=shuffle_gens[b])
                perm = perm.to(device)
                for k in range(S):
                    if done >= total_steps:
                        break
                    lo = k * s0.batch
                    idx = perm[:, lo : lo + s0.batch]  # (B, m)
                    xb = torch.gather(data.X, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
                    yb = torch.gather(data.Y, 1, idx)
                    count = (data.ns - lo).clamp(max=s0.batch) if data.padded else None  # >= 1: equal steps
                    per_net = train_step(xb, yb, count)
                    nonfinite |= ~torch.isfinite(per_net.detach())
                    done += 1
            if bool(nonfinite.any()):
                for b in torch.nonzero(nonfinite).flatten().tolist():
                    if diverged_at[b] is None:
                        diverged_at[b] = epoch
                if all(d is not None for d in diverged_at):
                    record(epoch, done)
                    break  # every net in the group has diverged: stop early
            if epoch in checkpoints:
                record(epoch, done)
            bar.update(1)
            if on_epoch is not None:
                on_epoch(epoch)
    finally:
        bar.close()
    return diverged_at


def _final(
    specs: Sequence[RunSpec], truth: TrueImage, data: _Data, model, fast: FastMLPStep | None, forward, device: str
) -> tuple[np.ndarray, list[dict[str, float]], list[np.ndarray | None]]:
    """The final evaluation on the eval grid: predictions (B, res, res), each net's final metrics (with
    ``linear_regions`` where pattern ids exist) and its region boundaries (None for a user model)."""
    s0 = specs[0]
    final = _Evaluator(truth.at_resolution(s0.eval_res), data.sets, device, s0.wedge)
    ids: np.ndarray | None = None
    with _eval_mode(model):
        if isinstance(model, BatchedMLP) and forward is not None:
            # the C kernel: predictions and pattern ids in one pass, each net alone (torch's bmm rounds
            # differently for other group sizes, so neither depends on which nets share the group)
            assert fast is not None
            pred, ids = final.predict(model, with_patterns=True, patterns=fast.predict_and_patterns)
        elif isinstance(model, BatchedMLP):
            pred, ids = final.predict(model, with_patterns=True)
        else:  # no pattern ids: no linear regions nor their boundaries
            pred = final.predict(model, forward=forward)
        with torch.no_grad():
            pred_train = (forward or model)(data.X).float().cpu().numpy()
            train_ids: np.ndarray | None = None  # pattern ids at the training points (the polytope memoriser's)
            if ids is not None:
                on_points = fast.predict_and_patterns if fast is not None and forward is not None else None
                _, at_points = (on_points or model.predict_and_patterns)(data.X)
                train_ids = at_points.cpu().numpy()
    finals, bounds = [], []
    for b, spec in enumerate(specs):
        fin = final.metrics(pred[b], b, pred_train[b, : spec.n], data.sets[b].targets)
        if ids is not None:
            fin["linear_regions"] = float(metrics.linear_regions(ids[b]))
            assert train_ids is not None
            black = data.sets[b].targets < 0.5  # the points it was trained to paint black (labels as trained)
            fin |= polytope_metrics(
                ids[b], pred[b] < 0.5, train_ids[b, : spec.n][black], final.geometry.truth_black, final.masks[b]
            )
        finals.append(fin)
        bounds.append(metrics.region_boundaries(ids[b]) if ids is not None else None)
    return pred, finals, bounds


def train_group(
    specs: Sequence[RunSpec],
    device: str = "auto",
    progress: bool | None = None,
    on_epoch: Callable[[int], None] | None = None,
    step: str = "auto",
) -> list[RunResult]:
    """Train B = len(specs) networks together; one result per spec, in order.

    All specs must share :func:`group_key` (same architecture, budget,
    steps per epoch); N, seed, labels and protocol may differ per network.
    A user model (``model="pkg.module:factory"``) trains as
    :class:`~genprobe.usermodel.BatchedUserModel` on the autograd step; its
    results have no linear-region pattern ids (``boundaries`` None, no
    ``linear_regions`` metric).
    Deterministic on CPU: a network's result depends on its own spec only, not
    on which other networks share its batch or on the thread count (bitwise
    with the C kernel, tests/test_determinism.py; to float rounding with
    torch ops, whose batched matmuls round per group size).

    Args:
        specs: the runs.
        device: ``auto``, ``cpu``, ``cuda``, ``mps``.
        progress: show a progress bar (None: only on a terminal).
        on_epoch: called after every epoch with the epoch number (tests use it
            to interrupt a run).
        step: how a CPU training step computes the gradients: ``auto`` (the
            fused C kernel if it builds, else torch ops), ``c``, ``torch``
            (:class:`~genprobe.fastmlp.FastMLPStep` on torch ops) or
            ``autograd``. All give the same numbers up to float rounding
            (tests/test_train.py); GPUs always use autograd.
    """
    if step not in STEPS:
        raise GenprobeError(f"step must be one of {', '.join(STEPS)}, got {step!r}")
    _check_group(specs)
    device = resolve_device(device)
    t0 = time.perf_counter()
    s0 = specs[0]
    truth = s0.load_truth()
    data = _Data.load(specs, truth, device)
    model = _build_model(specs, device)
    # CPU: a hand-written forward/backward without autograd (the fused C kernel,
    # or torch ops if it cannot be built); on GPUs autograd is kept.
    use_fast = device == "cpu" and supports(model) and step != "autograd"  # False for a user model
    fast = (
        FastMLPStep(model, backend="auto" if step == "auto" else step)
        if use_fast and isinstance(model, BatchedMLP)  # (supports() says so; this tells mypy)
        else None
    )
    # torch on one thread around the C kernel's own threads (FastMLPStep.solo)
    solo = fast.solo if fast is not None else contextlib.nullcontext
    # predictions at checkpoints: the C kernel's forward where there is one
    forward = fast.predict if fast is not None and fast.backend == "c" else None
    # not torch.optim.Adam: its CPU kernels round a tensor's last elements
    # differently, so a net's update depended on its batch-mates (optim.py)
    opt = ExactAdam(list(model.parameters()), lr=s0.lr, nets=len(specs))
    if fast is not None:  # the C kernel takes Adam's step too (FastMLPStep.train_step)
        train_step: TrainStep = functools.partial(fast.train_step, opt=opt)
    else:
        train_step = _then_step(_autograd_step(model, s0.batch, device), opt)
    record = _Recorder(specs, truth, data, model, forward, device)

    diverged_at = _train(specs, data, train_step, opt, record, solo, device, progress, on_epoch)

    t_final = time.perf_counter()
    pred, finals, bounds = _final(specs, truth, data, model, fast, forward, device)
    seconds = time.perf_counter() - t0
    meta = provenance(device) | {
        "seconds": seconds,
        # of which evaluation, not training: the checkpoints' curves, and the final prediction and metrics
        "seconds_checkpoints": record.seconds,
        "seconds_final": seconds - (t_final - t0),
        "group_size": len(specs),
        "step": fast.backend if fast is not None else "autograd",
    }
    if isinstance(model, BatchedUserModel):
        meta["batching"] = model.batching  # vmap, or the per-net loop it fell back to
    return [
        RunResult(
            spec=spec,
            history=record.curves(b),
            final=finals[b],
            prediction=pred[b].astype(np.float32),
            boundaries=bounds[b],
            train_indices=data.sets[b].indices,
            diverged_at=diverged_at[b],
            meta=dict(meta),
        )
        for b, spec in enumerate(specs)
    ]


def batch_work(batch: Sequence[RunSpec]) -> int:
    """Rough training work of a batch (steps x points per step x weights), to run the longest first."""
    return sum(s.total_steps * min(s.n, s.batch) * s.depth * s.width**2 for s in batch)


def split_for_workers(groups: Sequence[list[RunSpec]], workers: int) -> list[list[RunSpec]]:
    """Cut each group into ``workers`` near-equal parts, longest work first.

    Trained one per core, the parts keep both cores busy where one group of
    an odd size on two threads leaves a core idle (5 nets: 3 and 2). A net's
    numbers do not depend on its batch-mates (C kernel, bitwise), so cutting
    a group changes no result.
    """
    parts: list[list[RunSpec]] = []
    for g in groups:
        k = min(workers, len(g))
        parts += [g[len(g) * i // k : len(g) * (i + 1) // k] for i in range(k)]
    return sorted(parts, key=batch_work, reverse=True)
