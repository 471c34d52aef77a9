"""Build, cache and load the fused C training kernel (``kernel.c``).

The kernel is optional: :class:`genprobe.fastmlp.FastMLPStep` uses it for
float32 networks on the CPU when it loads, and its torch path otherwise.
It is compiled on first use with the machine's C compiler (``$CC``, else
``cc``) and ``-O3 -march=native`` into a cache folder, keyed by a hash of
the source, the flags, the compiler's version and the CPU's feature flags,
so a cached build is never loaded on a machine it was not built for.
Concurrent builds (pytest-xdist workers) are safe: each writes its own
temporary file and renames it into place.

Why a compiled kernel rather than more torch ops: at the post's shapes
(1024 x 30 by 30 x 30 matmuls) a torch step spends a third of its time in
separate passes for the bias, the activation and its derivative, and its
matmuls stream every layer's activations through memory. The kernel keeps
a tile of rows in cache through all layers and fuses those passes; the
speed benchmark measures both side by side (docs/explanation/speed.md). No
well-kept library does this for B independent small networks: oneDNN's
fused linear+activation works on one matrix at a time.

The entry points' names and types are declared once, in
:mod:`genprobe.native.interface`; :class:`Kernel` takes them from there.

Environment:
    GENPROBE_CKERNEL: ``auto`` (default: use it if it builds), ``off`` (never
        build or load it), ``require`` (fail loudly if it cannot be built).
    GENPROBE_CKERNEL_MARCH: the ``-march`` to build for (default ``native``;
        e.g. ``x86-64-v3`` for one build shared by a cluster's machines).
        The numbers are the same at every level: see :data:`FLAGS`.
    GENPROBE_KERNEL_CACHE: the cache folder (default
        ``$XDG_CACHE_HOME/genprobe/kernels`` or ``~/.cache/genprobe/kernels``).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shlex
import subprocess
import tempfile
import warnings
from pathlib import Path

from ..errors import GenprobeError
from . import interface
from .interface import Function

__all__ = ["Kernel", "load", "mode", "unavailable_reason", "march", "flags", "build_path", "cache_dir", "SOURCE"]

SOURCE = Path(__file__).with_name("kernel.c")
# -ffp-contract=off: the compiler fuses no multiply-add of its own; the
# kernel writes its FMAs out (vfma in kernel.c), so its numbers do not depend
# on the -march it is built for (tests/test_fastmlp.py builds it at two).
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=gnu11", "-fPIC", "-shared")
FALLBACK_FLAGS = ("-O3", "-ffp-contract=off", "-std=gnu11", "-fPIC", "-shared")  # a compiler without -march=native
MODES = ("auto", "off", "require")

_reason: str | None = None  # why the last load() returned None


def mode() -> str:
    """``GENPROBE_CKERNEL``, validated."""
    value = os.environ.get("GENPROBE_CKERNEL", "auto").strip().lower() or "auto"
    if value not in MODES:
        raise GenprobeError(f"GENPROBE_CKERNEL={value!r} is not one of {', '.join(MODES)}")
    return value


def cache_dir() -> Path:
    env = os.environ.get("GENPROBE_KERNEL_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs  # ~/.cache on Linux (or $XDG_CACHE_HOME), the platform's own folder on macOS and Windows

    return Path(platformdirs.user_cache_dir("genprobe", appauthor=False)) / "kernels"


def _cpu_signature() -> str:
    """Machine type and CPU feature flags: what -march=native compiled for."""
    sig = [platform.machine()]
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key = line.split(":", 1)[0].strip().lower()
                if key in ("flags", "features", "model name", "cpu part"):
                    sig.append(line.strip())
                if key in ("flags", "features"):
                    break  # the first CPU's is enough
    except OSError:
        sig.append(platform.processor())
    return "\n".join(sig)


def _compiler() -> list[str]:
    return shlex.split(os.environ.get("CC", "cc"))


def _compiler_version(cc: list[str]) -> str:
    try:
        return subprocess.run([*cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise _BuildError(f"C compiler {shlex.join(cc)!r} not usable: {e}") from None


class _BuildError(Exception):
    pass


def march() -> str:
    """The ``-march`` the kernel is built for: ``GENPROBE_CKERNEL_MARCH`` (default ``native``)."""
    return os.environ.get("GENPROBE_CKERNEL_MARCH", "").strip() or "native"


def flags() -> tuple[str, ...]:
    return tuple(f"-march={march()}" if f == "-march=native" else f for f in FLAGS)


def _build(cc: list[str], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    last = ""
    # an explicit GENPROBE_CKERNEL_MARCH that does not build is an error, not a silent slow build
    for flags_ in (flags(),) if march() != "native" else (flags(), FALLBACK_FLAGS):
        fd, tmp = tempfile.mkstemp(prefix=out.stem + ".", suffix=".tmp.so", dir=out.parent)
        os.close(fd)
        try:
            cmd = [*cc, *flags_, "-o", tmp, str(SOURCE)]
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if res.returncode == 0:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o755 & ~umask)  # mkstemp made it 0600: let others sharing the cache load it
                os.replace(tmp, out)  # atomic: a concurrent builder's identical file, or ours
                return
            lines = (res.stderr or res.stdout).strip().splitlines()
            errors = [ln.strip() for ln in lines if "error" in ln.lower()]
            last = (errors or lines or [f"exit status {res.returncode}"])[0]
        except (OSError, subprocess.SubprocessError) as e:
            last = str(e)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise _BuildError(f"compiling {SOURCE.name} with {shlex.join(cc)!r} failed: {last}")


class Kernel:
    """The loaded shared library; its entry points typed and called as :mod:`.interface` declares them.

    Each method takes the C function's parameters by name (``kernel.forward(L=..., dims=..., ...)``;
    a missing or unknown name is a TypeError) and returns its status; ctypes releases the GIL meanwhile.
    """

    def __init__(self, path: Path):
        self.path = path
        lib = ctypes.CDLL(str(path))
        self._fns = {}
        for fn in interface.FUNCTIONS:
            try:
                c = getattr(lib, fn.symbol)
            except AttributeError:
                raise OSError(f"{path} has no {fn.symbol}") from None  # damaged or foreign: rebuilt once
            c.argtypes = fn.argtypes
            c.restype = fn.restype
            self._fns[fn.symbol] = c

    def call(self, fn: Function, **kwargs) -> int:
        """``fn`` (one of :data:`.interface.FUNCTIONS`) with these arguments, by name."""
        return self._fns[fn.symbol](*fn.args(kwargs))

    def workspace_floats(self, **kwargs) -> int:
        """``gp_workspace_floats``: floats of workspace one thread needs, or -1 (shapes out of range)."""
        return self._fns["gp_workspace_floats"](*interface.WORKSPACE_FLOATS.args(kwargs))

    def loss_and_grads(self, **kwargs) -> int:
        """``gp_loss_and_grads``: 0, -1 (shapes out of range) or -2 (a count not a whole number in [1, m])."""
        return self._fns["gp_loss_and_grads"](*interface.LOSS_AND_GRADS.args(kwargs))

    def train_step(self, **kwargs) -> int:
        """``gp_train_step``: ``gp_loss_and_grads`` and each network's Adam moments; the same statuses."""
        return self._fns["gp_train_step"](*interface.TRAIN_STEP.args(kwargs))

    def adam_update(self, **kwargs) -> int:
        """``gp_adam_update``: Adam's update of the parameters from their moments; 0."""
        return self._fns["gp_adam_update"](*interface.ADAM_UPDATE.args(kwargs))

    def forward(self, **kwargs) -> int:
        """``gp_forward``: 0, or -1 (arguments out of range)."""
        return self._fns["gp_forward"](*interface.FORWARD.args(kwargs))


def load() -> Kernel | None:
    """The kernel, built if needed; None if it is off or cannot be built (see :func:`unavailable_reason`).

    With ``GENPROBE_CKERNEL=require`` a failure raises :class:`GenprobeError`
    instead; with ``auto`` it warns once and the caller uses torch ops.
    """
    global _reason
    m = mode()
    if m == "off":
        _reason = "GENPROBE_CKERNEL=off"
        return None
    kernel, _reason = _load_cached(m, _compiler_key())
    return kernel


def _compiler_key() -> tuple[str, ...]:
    return (*_compiler(), str(cache_dir()), march())


def build_path(cc: list[str] | None = None) -> Path:
    """Where the build for this source, flags, compiler and CPU is cached."""
    cc = _compiler() if cc is None else cc
    h = hashlib.sha256()
    for part in (
        SOURCE.read_bytes(),
        repr(flags()).encode(),
        _compiler_version(cc).encode(),
        _cpu_signature().encode(),
    ):
        h.update(part)
        h.update(b"\0")
    return cache_dir() / f"genprobe_kernel_{h.hexdigest()[:20]}.so"


@functools.cache
def _load_cached(m: str, key: tuple[str, ...]) -> tuple[Kernel | None, str | None]:
    """(kernel, None), or (None, why not); built once per process and setting."""
    cc = _compiler()
    try:
        path = build_path(cc)
        if not path.exists():
            _build(cc, path)
        try:
            kernel = Kernel(path)
        except OSError:  # a damaged cached build (disk full, ...): build it again, once
            path.unlink(missing_ok=True)
            _build(cc, path)
            kernel = Kernel(path)
    except (_BuildError, OSError) as e:
        if m == "require":
            raise GenprobeError(f"GENPROBE_CKERNEL=require, but the C kernel is unavailable: {e}") from None
        warnings.warn(
            f"genprobe: C kernel unavailable, training uses torch ops (slower): {e}", RuntimeWarning, stacklevel=4
        )
        return None, str(e)
    return kernel, None


def unavailable_reason() -> str | None:
    """Why :func:`load` last returned None (None if it loaded)."""
    return _reason
