"""The C kernel's entry points, declared once for Python.

Each :class:`Function` is one ``gp_*`` definition of ``kernel.c``: its
return type and its parameters by name and C type, in the C order, spelled
as the C file spells them. The ctypes types follow from the C types through
:data:`CTYPES` (every pointer is a ``c_void_p``: callers pass tensors'
``data_ptr()``, ctypes arrays or None). :class:`genprobe.native.build.Kernel`
sets each function's ``argtypes``/``restype`` from here, and its methods take
the parameters by name (:meth:`Function.args` checks them), so a call site
reads ``kernel.loss_and_grads(L=..., dims=..., ...)``.

``tests/test_native.py`` parses the prototypes out of ``kernel.c`` and checks
that names, order and types match :data:`FUNCTIONS`: change both together.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CTYPES",
    "Param",
    "Function",
    "WORKSPACE_FLOATS",
    "LOSS_AND_GRADS",
    "FORWARD",
    "TRAIN_STEP",
    "ADAM_UPDATE",
    "FUNCTIONS",
    "ctype_of",
]

# C scalar type -> ctypes type; a pointer of any kind is a c_void_p
CTYPES: dict[str, type] = {"int": ctypes.c_int, "long": ctypes.c_long, "float": ctypes.c_float}


def ctype_of(c: str) -> type:
    """The ctypes type of a C type as declared here (``"int"``, ``"const float *const *"``, ...)."""
    if "*" in c:
        return ctypes.c_void_p
    try:
        return CTYPES[c]
    except KeyError:
        raise ValueError(f"no ctypes type for the C type {c!r}") from None


@dataclass(frozen=True)
class Param:
    name: str
    c: str  # the C type, as kernel.c writes it

    @property
    def ctype(self) -> type:
        return ctype_of(self.c)


@dataclass(frozen=True)
class Function:
    """One entry point: ``returns symbol(params...)``; ``name`` is the method of :class:`Kernel`."""

    symbol: str
    returns: str
    params: tuple[Param, ...]
    doc: str

    @property
    def name(self) -> str:
        return self.symbol.removeprefix("gp_")

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The parameters as (name, C type) pairs, to declare a function that takes them and more."""
        return tuple((p.name, p.c) for p in self.params)

    @property
    def argtypes(self) -> list[type]:
        return [p.ctype for p in self.params]

    @property
    def restype(self) -> type:
        return ctype_of(self.returns)

    def args(self, kwargs: Mapping[str, Any]) -> list[Any]:
        """The positional arguments, in the C order, for these keyword ones; TypeError if any is missing or unknown."""
        try:
            if len(kwargs) == len(self.params):
                return [kwargs[n] for n in self.names]
        except KeyError:
            pass
        missing = [n for n in self.names if n not in kwargs]
        unknown = [n for n in kwargs if n not in self.names]
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise TypeError(f"{self.symbol}({', '.join(self.names)}): {'; '.join(parts)}")

    def prototype(self) -> str:
        """The C declaration, for messages and docs."""
        params = ", ".join(f"{p.c}{'' if p.c.endswith('*') else ' '}{p.name}" for p in self.params)
        return f"{self.returns} {self.symbol}({params})"


def _fn(symbol: str, returns: str, doc: str, *params: tuple[str, str]) -> Function:
    return Function(symbol, returns, tuple(Param(name, c) for name, c in params), doc)


WORKSPACE_FLOATS = _fn(
    "gp_workspace_floats",
    "long",
    "Floats of workspace one thread needs, or -1 if the shapes are out of range.",
    ("L", "int"),
    ("dims", "const int *"),
    ("tile", "int"),
)

LOSS_AND_GRADS = _fn(
    "gp_loss_and_grads",
    "int",
    "Loss and gradients of networks lo..hi-1; 0, -1 (shapes out of range) or -2 (a count not in [1, m]).",
    ("L", "int"),
    ("dims", "const int *"),
    ("lo", "int"),
    ("hi", "int"),
    ("m", "int"),
    ("W", "const float *const *"),
    ("b", "const float *const *"),
    ("gW", "float *const *"),
    ("gb", "float *const *"),
    ("x", "const float *"),
    ("y", "const float *"),
    ("count", "const float *"),
    ("negative_slope", "float"),
    ("loss", "float *"),
    ("ws", "float *"),
    ("tile", "int"),
)

FORWARD = _fn(
    "gp_forward",
    "int",
    "Predictions (and, unless ids is NULL, activation-pattern ids) of networks lo..hi-1 at rows r_lo..r_hi-1; "
    "0, or -1 if the arguments are out of range.",
    ("L", "int"),
    ("dims", "const int *"),
    ("lo", "int"),
    ("hi", "int"),
    ("r_lo", "int"),
    ("r_hi", "int"),
    ("m", "long"),
    ("W", "const float *const *"),
    ("b", "const float *const *"),
    ("x", "const float *"),
    ("x_net_stride", "long"),
    ("negative_slope", "float"),
    ("out", "float *"),
    ("ids", "uint64_t *"),
    ("ws", "float *"),
    ("tile", "int"),
)

TRAIN_STEP = _fn(
    "gp_train_step",
    "int",
    "gp_loss_and_grads, then each network's Adam moments (ExactAdam's operations) in rows of am and av; "
    "the same status.",
    *LOSS_AND_GRADS.pairs,
    ("am", "float *"),
    ("av", "float *"),
    ("row", "long"),
    ("offsets", "const long *"),
    ("betas", "const float *"),
)

ADAM_UPDATE = _fn(
    "gp_adam_update",
    "int",
    "Adam's update of networks lo..hi-1 from their moments and root = sqrt(av) (ExactAdam's operations); 0.",
    ("L", "int"),
    ("dims", "const int *"),
    ("lo", "int"),
    ("hi", "int"),
    ("W", "float *const *"),
    ("b", "float *const *"),
    ("am", "const float *"),
    ("root", "const float *"),
    ("row", "long"),
    ("offsets", "const long *"),
    ("step_size", "const float *"),
    ("correction", "const float *"),
    ("eps", "float"),
)

FUNCTIONS: tuple[Function, ...] = (WORKSPACE_FLOATS, LOSS_AND_GRADS, FORWARD, TRAIN_STEP, ADAM_UPDATE)
