"""How a number is written in tables, verdicts and reports: one function for every place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["number", "duration", "table"]


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


def duration(seconds: float) -> str:
    """A span of time for a person: ``42s``, ``3m10s``, ``2h05m``.

    >>> duration(42.4), duration(190), duration(7500), duration(float("inf"))
    ('42s', '3m10s', '2h05m', '?')
    """
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def table(
    head: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[bool] | bool = False,
    max_width: int | None = None,
) -> str:
    """A fixed-width text table: each column as wide as its widest cell, two spaces apart, no trailing blanks.

    ``head``: the first line (None: none). ``right``: right-align every column (numbers) or, per column,
    those marked True; else left-aligned. ``max_width``: cut longer cells to this many characters.
    Every table genprobe prints to a terminal goes through here.

    >>> print(table(["seed", "iou"], [["0", "0.5"], ["12", "0.75"]], right=True))
    seed   iou
       0   0.5
      12  0.75
    >>> print(table(None, [["a", "long cell"], ["bb", "x"]], max_width=4))
    a   long
    bb  x
    """
    cells = [[str(x)[:max_width] for x in row] for row in ([head] if head is not None else []) + list(rows)]
    if not cells:
        return ""
    columns = len(cells[0])
    flags = [right] * columns if isinstance(right, bool) else list(right)
    widths = [max(len(row[i]) for row in cells) for i in range(columns)]
    return "\n".join(
        "  ".join(x.rjust(w) if r else x.ljust(w) for x, w, r in zip(row, widths, flags)).rstrip() for row in cells
    )
