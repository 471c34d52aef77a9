"""How a number is written in tables, verdicts and reports: one function for every place."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["number"]


def number(x: Any, *, signed: bool = False, decimals: int | None = None) -> str:
    """``x`` for a person to read.

    Default: a whole number as an integer (below 1e6), else 3 significant digits; ``nan``, ``inf``,
    ``-inf``; a value that is not a number as ``str(x)``. ``signed``: a change, ``+0.012``, ``-0.21``,
    ``0``, ``+inf`` (3 significant digits). ``decimals``: a column of metrics, ``0.742``, ``12``.

    >>> number(3.0), number(0.123456), number(float("nan")), number("n/a")
    ('3', '0.123', 'nan', 'n/a')
    >>> number(0.0123, signed=True), number(0.0, signed=True), number(0.74219, decimals=3)
    ('+0.0123', '0', '0.742')
    """
    if x is None:
        return "nan"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return ("+inf" if signed else "inf") if f > 0 else "-inf"
    if signed:
        return "0" if f == 0 else f"{f:+.3g}"
    if decimals is not None:
        return f"{f:.0f}" if f.is_integer() else f"{f:.{decimals}f}"
    return str(int(f)) if f.is_integer() and abs(f) < 1e6 else f"{f:.3g}"
