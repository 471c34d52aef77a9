"""A run is a value: a frozen :class:`RunSpec`, its :class:`RunResult`, and a cache.

The spec's hash names its result on disk. Results are written atomically
(temp file + ``os.replace``) under a per-run file lock, so parallel workers
never train the same run twice and a killed run never leaves half a file.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import math
import numbers
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GenprobeError
from .factory import check_path
from .jsonio import atomic_write
from .rules import RULES
from .truth import TrueImage, resolve_truth

__all__ = [
    "RunSpec",
    "RunResult",
    "Cache",
    "MODELS",
    "BUILTIN_NETS",
    "PROTOCOLS",
    "LABELS",
    "FEATURES",
    "default_cache_dir",
    "is_user_model",
    "normalise_model_kwargs",
]

# Bump when a change alters what a spec computes, so old entries are not reused.
CACHE_VERSION = 3
# The same for one untrained rule is its genprobe.rules.Rule.version (its runs are recomputed; the others kept).

#: the trained net and the built-in untrained rules; ``genprobe.rules.RULES`` holds every rule, registered ones too
MODELS = ("mlp", "knn", "dot")
# The built-in nets' architecture and optimiser, as labels name them where a run differs: the post's net
# (RunSpec's defaults) and the Fourier-feature control (protocol.md: 4 x 256 ReLU on 128 random Fourier
# features of scale 10; genprobe.profiles.Profile.fourier builds it from this).
BUILTIN_NETS: dict[str, dict[str, Any]] = {
    "mlp": {"depth": 30, "width": 30, "negative_slope": 0.01, "lr": 1e-3, "batch": 1024},
    "fourier": {
        "depth": 4,
        "width": 256,
        "negative_slope": 0.0,
        "fourier_dim": 128,
        "fourier_scale": 10.0,
        "lr": 1e-3,
        "batch": 1024,
    },
}
PROTOCOLS = ("standard", "blog")
LABELS = ("true", "shuffled")
FEATURES = ("none", "fourier")


def _positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise GenprobeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise GenprobeError(f"{name} must be >= {minimum}, got {value}")


def _positive_float(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise GenprobeError(f"{name} must be a positive finite number, got {value!r}")


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise GenprobeError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")


# A value of a user model's keyword argument: a JSON scalar.
Scalar = bool | int | float | str | None
ModelKwargs = tuple[tuple[str, Scalar], ...]


def is_user_model(model: object) -> bool:
    """True for a user factory ``"pkg.module:factory"`` (a ``model`` with a colon)."""
    return isinstance(model, str) and ":" in model


def normalise_model_kwargs(value: object) -> ModelKwargs:
    """``model_kwargs`` as the spec stores it: (name, value) pairs sorted by name.

    Accepts a mapping or a sequence of pairs (what :meth:`RunSpec.to_dict` and
    the JSON cache header hold). Names are Python identifiers; values are JSON
    scalars (bool, int, float, str, None; floats finite), so the spec stays
    hashable and its key a JSON payload.
    """
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise GenprobeError(f"model_kwargs must be a dict of name: value, got {value!r}")
            items.append((item[0], item[1]))
    else:
        raise GenprobeError(f"model_kwargs must be a dict of name: value, got {value!r}")
    out: dict[str, Scalar] = {}
    for k, v in items:
        if not isinstance(k, str) or not k.isidentifier():
            raise GenprobeError(f"model_kwargs name {k!r} must be a Python identifier")
        if k in out:
            raise GenprobeError(f"model_kwargs name {k!r} given twice")
        if v is None or isinstance(v, (bool, str)):
            pass
        elif isinstance(v, numbers.Integral):
            v = int(v)
        elif isinstance(v, numbers.Real) and math.isfinite(v):
            v = float(v)
        else:
            raise GenprobeError(
                f"model_kwargs {k}={v!r}: a value must be a bool, int, finite float, str or None (a JSON scalar)"
            )
        out[k] = v
    return tuple(sorted(out.items()))


@functools.lru_cache(maxsize=32)
def _load_truth(truth: str, mtime: float) -> TrueImage:
    return resolve_truth(truth)


def load_truth(truth: str) -> TrueImage:
    """The spec's true image (PNGs re-read when the file changes)."""
    try:
        mtime = os.stat(truth).st_mtime if not truth.startswith("ring") else 0.0
    except OSError:
        mtime = -1.0
    return _load_truth(truth, mtime)


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines one run's result.

    Defaults are the post's experiment (``protocol.md``); ``steps`` switches to
    a step-matched budget.

    ``model`` may also be a user factory ``"pkg.module:factory"``: any callable
    that returns a ``torch.nn.Module`` mapping (points, 2) coordinates in
    [0, 1]^2 to (points, 1) or (points,) grey values, called with
    ``model_kwargs`` (:mod:`genprobe.usermodel`). Such a run trains like the
    MLP (same data, Adam, protocols, budgets and metrics); the built-in
    architecture fields ``depth``, ``width``, ``negative_slope``, ``features``,
    ``fourier_dim`` and ``fourier_scale`` are ignored by it (they stay part of
    the spec, so leave them at their defaults). Its cache key also holds a
    sha256 of the factory's module source file: editing the file retrains.
    Only the path's form is checked here; importing happens when the key is
    first computed or the model is built.
    """

    truth: str = "ring"  # "ring", "ring@RES" or a PNG path
    n: int = 5000  # training points, drawn without replacement
    seed: int = 0  # points, init, shuffles and controls all derive from it
    model: str = "mlp"  # mlp | knn (k-nearest-neighbour rule) | dot (dot memoriser) | a registered rule
    protocol: str = "standard"  # standard: one Adam; blog: a fresh Adam every epoch
    labels: str = "true"  # true | shuffled (grey values permuted among the N points)
    depth: int = 30  # hidden layers
    width: int = 30  # neurons per hidden layer
    negative_slope: float = 0.01  # LeakyReLU slope; 0.0 is ReLU
    features: str = "none"  # none | fourier (random Fourier features of (x, y))
    fourier_dim: int = 128  # number of frequencies (inputs are 2 * fourier_dim)
    fourier_scale: float = 10.0  # std of the frequencies; ~10 draws a piece per point
    epochs: int = 6000  # budget in epochs (ignored when steps is set)
    steps: int | None = None  # budget in optimizer steps, whatever N (step-matched)
    lr: float = 1e-3  # Adam learning rate, default betas
    batch: int = 1024  # minibatch; the last partial batch is kept
    k: int = 1  # neighbours for model="knn"
    eval_res: int = 256  # grid of the final prediction and metrics
    curve_res: int = 128  # grid of the metrics recorded along training
    checkpoints: int = 40  # evenly spaced metric checkpoints (plus epoch 0)
    wedge: float = 0.0  # degrees of the image, seen from its centre around +x, left without training points
    # keyword arguments of a user factory: give a dict, stored as sorted (name, JSON scalar) pairs
    model_kwargs: ModelKwargs = ()

    def __post_init__(self) -> None:
        if is_user_model(self.model):
            check_path(self.model, f"built-in models: {', '.join(MODELS)}")
        elif self.model != "mlp" and self.model not in RULES:
            raise GenprobeError(
                f"unknown model {self.model!r}; choose from mlp, {', '.join(RULES)} (genprobe.rules), "
                "or a factory 'pkg.module:factory'"
            )
        object.__setattr__(self, "model_kwargs", normalise_model_kwargs(self.model_kwargs))
        if self.model_kwargs and (self.model == "mlp" or (self.model in RULES and RULES[self.model].builtin)):
            raise GenprobeError(
                f"model_kwargs are for a user model 'pkg.module:factory' or a registered rule, not model {self.model!r}"
            )
        _choice("protocol", self.protocol, PROTOCOLS)
        _choice("labels", self.labels, LABELS)
        _choice("features", self.features, FEATURES)
        if not isinstance(self.truth, str) or not self.truth:
            raise GenprobeError(f"truth must be 'ring' or a PNG path, got {self.truth!r}")
        _positive_int("n", self.n)
        _positive_int("seed", self.seed, minimum=0)
        for name in ("depth", "width", "fourier_dim", "epochs", "batch", "k", "eval_res", "curve_res", "checkpoints"):
            _positive_int(name, getattr(self, name))
        if self.steps is not None:
            _positive_int("steps", self.steps)
        _positive_float("lr", self.lr)
        _positive_float("fourier_scale", self.fourier_scale)
        if isinstance(self.wedge, bool) or not isinstance(self.wedge, numbers.Real) or not 0.0 <= self.wedge < 360.0:
            raise GenprobeError(f"wedge must be in [0, 360) degrees, got {self.wedge!r}")
        if not isinstance(self.negative_slope, numbers.Real) or not 0.0 <= self.negative_slope < 1.0:
            raise GenprobeError(f"negative_slope must be in [0, 1), got {self.negative_slope!r}")

    # -- derived ---------------------------------------------------------
    @property
    def user_model(self) -> bool:
        """True when ``model`` is a user factory ``"pkg.module:factory"``."""
        return is_user_model(self.model)

    @property
    def trained(self) -> bool:
        return self.model == "mlp" or self.user_model

    @property
    def rule_params(self) -> dict[str, Any]:
        """The keyword arguments of an untrained rule's functions: ``knn``'s ``k``, a registered rule's
        ``model_kwargs``."""
        return {"k": self.k} if self.model == "knn" else dict(self.model_kwargs)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n // self.batch)

    @property
    def total_epochs(self) -> int:
        """Epochs actually run (the last one partial in step-matched mode)."""
        if not self.trained:
            return 0
        return self.epochs if self.steps is None else -(-self.steps // self.steps_per_epoch)

    @property
    def total_steps(self) -> int:
        if not self.trained:
            return 0
        return self.steps if self.steps is not None else self.epochs * self.steps_per_epoch

    # Equality and hash by value *and type* of each model keyword argument: 1, 1.0 and True are
    # equal in Python but build different models and have different keys, so they are different runs.
    @property
    def typed_kwargs(self) -> tuple[tuple[str, str, Scalar], ...]:
        """``model_kwargs`` as (name, type name, value): what tells ``1``, ``1.0`` and ``True`` apart."""
        return tuple((k, type(v).__name__, v) for k, v in self.model_kwargs)

    @functools.cached_property
    def _identity(self) -> tuple:
        return tuple(
            self.typed_kwargs if f.name == "model_kwargs" else getattr(self, f.name) for f in dataclasses.fields(self)
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._identity == other._identity  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._identity)

    def replace(self, **changes: Any) -> RunSpec:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise GenprobeError(f"unknown RunSpec field(s): {', '.join(unknown)}")
        return cls(**d)

    def load_truth(self) -> TrueImage:
        return load_truth(self.truth)

    @functools.cached_property
    def key(self) -> str:
        """Content hash: spec fields + the true image's pixels + cache version."""
        payload = self.to_dict()
        if not payload["wedge"]:
            del payload["wedge"]  # added later: runs without a wedge keep their keys
        if not payload["model_kwargs"]:
            del payload["model_kwargs"]  # the same
        if self.user_model:
            from .factory import source_digest  # imports the user's module

            payload["model_source"] = source_digest(self.model)
        payload["truth_digest"] = self.load_truth().digest
        payload["cache_version"] = CACHE_VERSION
        rule = RULES.get(self.model)
        if rule is not None and rule.version != 1:
            payload["model_version"] = rule.version
        if rule is not None and not rule.builtin:
            payload["rule_source"] = rule.digest  # editing a registered rule recomputes its runs
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]

    def what(self) -> str:
        """The model part of a label: ``mlp/standard``, ``fourier-shuffled/blog``, ``1-nn``, ``dot``,
        ``mymod:make(width=64)/standard``; a built-in net that is not the post's (or the Fourier control's)
        names what differs, e.g. ``mlp(depth=8,width=60)/standard``."""
        what = f"{self.k}-nn" if self.model == "knn" else self.model
        if self.model == "mlp":
            what = "fourier" if self.features == "fourier" else "mlp"
            differ = [(k, getattr(self, k)) for k, v in BUILTIN_NETS[what].items() if getattr(self, k) != v]
            if differ:
                what += "(" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in differ) + ")"
        elif self.model_kwargs:
            what += "(" + ",".join(f"{k}={v}" for k, v in self.model_kwargs) + ")"
        if self.labels == "shuffled":
            what += "-shuffled"
        what = f"{what}/{self.protocol}" if self.trained else what
        return f"{what}/wedge{self.wedge:g}" if self.wedge else what

    def label(self) -> str:
        """Short human name, e.g. ``mlp/standard N=312 seed=0``."""
        return f"{self.what()} N={self.n} seed={self.seed}"


@dataclass
class RunResult:
    """What one run produced.

    Attributes:
        spec: the run.
        history: ``epoch`` and ``step`` (C,) plus one (C,) array per metric,
            recorded at the checkpoints on the ``curve_res`` grid.
        final: metrics of the final prediction on the ``eval_res`` grid.
        prediction: (eval_res, eval_res) final predicted grey image.
        boundaries: (eval_res, eval_res) bool linear-region boundaries, or None.
        train_indices: (N,) flat pixel indices of the training points.
        diverged_at: epoch at which the loss became NaN/inf, else None.
        meta: device, versions, git commit, wall time.
    """

    spec: RunSpec
    history: dict[str, np.ndarray]
    final: dict[str, float]
    prediction: np.ndarray
    boundaries: np.ndarray | None
    train_indices: np.ndarray
    diverged_at: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def to_bytes(self) -> bytes:
        arrays = {f"h_{k}": np.asarray(v) for k, v in self.history.items()}
        arrays["prediction"] = self.prediction.astype(np.float32)
        arrays["train_indices"] = self.train_indices.astype(np.int64)
        if self.boundaries is not None:
            arrays["boundaries"] = self.boundaries.astype(bool)
        header = {
            "spec": self.spec.to_dict(),
            "final": self.final,
            "diverged_at": self.diverged_at,
            "meta": self.meta,
        }
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RunResult:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            history = {k[2:]: z[k] for k in z.files if k.startswith("h_")}
            return cls(
                spec=RunSpec.from_dict(header["spec"]),
                history=history,
                final={k: float(v) for k, v in header["final"].items()},
                prediction=z["prediction"],
                boundaries=z["boundaries"] if "boundaries" in z.files else None,
                train_indices=z["train_indices"],
                diverged_at=header["diverged_at"],
                meta=header["meta"],
            )


def default_cache_dir() -> Path:
    """``$GENPROBE_CACHE``, else the user's cache folder for genprobe as platformdirs finds it:
    ``$XDG_CACHE_HOME/genprobe`` or ``~/.cache/genprobe`` on Linux, ``~/Library/Caches/genprobe`` on macOS,
    ``%LOCALAPPDATA%\\genprobe\\Cache`` on Windows."""
    env = os.environ.get("GENPROBE_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("genprobe", appauthor=False))


class Cache:
    """Run results on disk, one ``<key>.npz`` per spec.

    Writes go to a temp file in the same folder, are fsynced, then renamed
    over the target: a reader sees the old file, the new file, or none.
    A per-key lock (``filelock``) keeps two processes from training one run.
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        try:
            (self.root / "runs").mkdir(parents=True, exist_ok=True)
            (self.root / "locks").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GenprobeError(f"cannot use cache folder {str(self.root)!r}: {exc.strerror}") from None
        self.corrupt_seen: list[str] = []
        self._sweep_stale_temp_files()

    def _sweep_stale_temp_files(self, older_than_s: float = 3600.0) -> None:
        """Remove temp files that a killed writer left behind (never a live writer's)."""
        import time

        now = time.time()
        for tmp in (self.root / "runs").glob(".*.tmp"):
            try:
                if now - tmp.stat().st_mtime > older_than_s:
                    tmp.unlink()
            except OSError:
                pass

    def path(self, spec: RunSpec) -> Path:
        return self.root / "runs" / f"{spec.key}.npz"

    def lock(self, spec: RunSpec):
        from filelock import FileLock

        return FileLock(str(self.root / "locks" / f"{spec.key}.lock"))

    def get(self, spec: RunSpec) -> RunResult | None:
        """The cached result, or None; a corrupt entry is reported and removed."""
        p = self.path(spec)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return None
        try:
            result = RunResult.from_bytes(data)
            if result.spec != spec:
                raise ValueError("spec mismatch")
        except Exception as exc:  # any decoding failure means the entry is unusable
            warnings.warn(
                f"genprobe: corrupt cache entry {p.name} ({exc.__class__.__name__}); recomputing", stacklevel=2
            )
            self.corrupt_seen.append(p.name)
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            return None
        return result

    def put(self, result: RunResult) -> Path:
        return atomic_write(self.path(result.spec), result.to_bytes())
