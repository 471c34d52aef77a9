"""Where sessions are saved and found: ``.genprobe/0001_NAME.json``, numbered in order.

A session's snapshot (:mod:`genprobe.compare.snapshot`: every check's value
per seed and where they came from) is saved as ``ROOT/NNNN_NAME.json``, the
next number, in the manner of pytest-benchmark's ``.benchmarks``; a save is
found again by name (the latest with that name), number, ``NNNN_NAME`` or
path.

No torch, no pytest.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import GenprobeError
from ..jsonio import atomic_write, from_json_safe, to_json_safe
from .snapshot import FORMAT, Row, snapshot

__all__ = ["DEFAULT_ROOT", "check_name", "saved", "format_saved", "save", "load"]

#: Where saves go by default (relative to the working directory, as pytest-benchmark's ``.benchmarks``).
DEFAULT_ROOT = ".genprobe"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FILE = re.compile(r"(\d{4,})_(.+)\.json")


def check_name(name: str) -> str:
    """``name`` if it can name a save, else a one-line GenprobeError.

    Letters, digits, ``.``, ``_`` and ``-``, not starting with a symbol, not
    all digits (that would read as a save's number), at most 100 characters.

    >>> check_name("main-torch2.4")
    'main-torch2.4'
    >>> check_name("0003")
    Traceback (most recent call last):
    ...
    genprobe.errors.GenprobeError: bad save name '0003': all digits reads as a save's number; use letters too
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(".json"):
        raise GenprobeError(
            f"bad save name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if name.isdigit():
        raise GenprobeError(f"bad save name {name!r}: all digits reads as a save's number; use letters too")
    return name


def saved(root: str | os.PathLike = DEFAULT_ROOT) -> list[Path]:
    """The saves under ``root``, oldest (lowest number) first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _FILE.fullmatch(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def format_saved(root: str | os.PathLike = DEFAULT_ROOT) -> str:
    """One line per save: file, date, profile, git commit, tests (what ``genprobe compare --list`` prints)."""
    files = saved(root)
    if not files:
        return f"no saves under {str(root)!r}"
    width = max(len(p.name) for p in files)
    lines = []
    for p in files:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            meta = data.get("meta", {})
            info = (
                f"{str(meta.get('datetime', '?'))[:19]}  profile {meta.get('profile', '?')}  "
                f"commit {str(meta.get('git_commit') or '?')[:12]}  {len(data.get('tests', []))} tests"
            )
        except (OSError, ValueError, AttributeError) as exc:
            info = f"unreadable: {exc.__class__.__name__}"
        lines.append(f"{p.name.ljust(width)}  {info}")
    return "\n".join(lines)


def _listing(root: Path) -> str:
    files = saved(root)
    if not files:
        return f"nothing is saved under {str(root)!r}"
    names = [p.name for p in files]
    shown = ", ".join(names[-10:])
    return f"saved under {str(root)!r}: " + ("..., " if len(names) > 10 else "") + shown


def _resolve(ref: str | os.PathLike, root: Path) -> Path:
    """A save's file: by number, ``NNNN_name``, name (the latest) or, for anything else, as a path."""
    text = os.fspath(ref)
    files = saved(root)
    parsed = [(int(m.group(1)), m.group(2), p) for p in files if (m := _FILE.fullmatch(p.name))]
    hits: list[Path] = []
    if not isinstance(ref, os.PathLike) and os.sep not in text and "/" not in text and not text.endswith(".json"):
        if text.isdigit():
            hits = [p for num, _, p in parsed if num == int(text)]
        else:
            hits = [p for _, _, p in parsed if p.stem == text] or [p for _, name, p in parsed if name == text]
    if not hits and Path(text).is_file():
        return Path(text)
    if not hits:
        raise GenprobeError(f"no save {text!r}: {_listing(root)}")
    return hits[-1]  # the latest with that name


def save(
    rows: Iterable[Row],
    name: str,
    root: str | os.PathLike = DEFAULT_ROOT,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save a session's verdicts as ``root/NNNN_name.json`` (the next number) and return its path.

    Written atomically (a reader sees all of it or nothing) with the user's
    normal permissions (0644 under umask 022); two sessions saving at once
    get different numbers.
    """
    from filelock import FileLock

    check_name(name)
    data = snapshot(rows, meta)
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenprobeError(f"cannot create the save folder {str(root)!r}: {exc.strerror or exc}") from None
    with FileLock(str(root / ".lock"), timeout=60):
        files = saved(root)
        number = int(_FILE.fullmatch(files[-1].name).group(1)) + 1 if files else 1  # type: ignore[union-attr]
        path = root / f"{number:04d}_{name}.json"
        data["meta"] = data["meta"] | {"name": name, "number": number}
        text = json.dumps(to_json_safe(data), indent=1, allow_nan=False, ensure_ascii=False) + "\n"
        atomic_write(path, text.encode("utf-8"))
    return path


def load(ref: str | os.PathLike, root: str | os.PathLike = DEFAULT_ROOT) -> dict[str, Any]:
    """A save by name (the latest with that name), number (``3`` or ``0003``), ``0003_name`` or path.

    Returns the :func:`~genprobe.compare.snapshot.snapshot` dict (NaN restored, seeds as ints) with
    ``file`` added. A missing or unreadable one is a one-line GenprobeError.
    """
    root = Path(root)
    path = _resolve(ref, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GenprobeError(f"cannot read save {str(path)!r}: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tests"), dict):
        raise GenprobeError(f"{str(path)!r} is not a genprobe save (format {FORMAT!r})")
    for t in data["tests"].values():
        t["seeds"] = [int(s) for s in t.get("seeds", [])]
        for c in t.get("checks", []):
            c["threshold"] = from_json_safe(c.get("threshold"))
            c["median"] = from_json_safe(c.get("median"))
            v = c.get("values", [])
            if isinstance(v, dict):
                c["values"] = {int(s): float(from_json_safe(x)) for s, x in v.items()}
            else:
                c["values"] = [float(from_json_safe(x)) for x in v]
    data["file"] = str(path)
    return data
