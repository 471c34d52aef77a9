"""Which of a report's pictures are already drawn from the same runs by the same code: a warm rerun keeps them.

A picture's stamp is a digest of what draws it: the drawing code (this package's modules), PIL's and
matplotlib's versions, what the caller says about the picture (its kind, title, groups, ...) and the content of
every run it shows (spec, metrics, history, prediction, boundaries, training points). The report folder keeps
``thumbs/stamps.json``: per file, its stamp and the size and modification time it had when written. A picture is
redrawn unless its entry matches the new stamp and every file it names (the picture and its thumbnail) still
has the size and time recorded, so a file another session overwrote meanwhile is drawn again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..jsonio import atomic_write as _atomic_write
from ..jsonio import to_json_safe as _jsonable

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunResult

__all__ = ["STAMPS", "PictureStamps", "run_digest"]

STAMPS = "thumbs/stamps.json"  # in the report folder, beside the thumbnails


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """The drawing code and the libraries that draw: a change to either redraws every picture."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("*.py")) + [here.parent / "frontier_report.py", here.parent / "gallery.py"]:
        try:
            h.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            h.update(path.name.encode() + b"\0missing")
    for lib in ("pillow", "matplotlib", "numpy"):
        try:
            h.update(f"{lib}={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    return h.hexdigest()


def _array(h: Any, name: str, a: Any) -> None:
    a = np.ascontiguousarray(np.asarray(a))
    h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
    h.update(a.tobytes())


def run_digest(r: RunResult) -> str | None:
    """A digest of what a picture can show of run ``r``; None where its true image cannot be read (its key
    cannot be computed), so nothing about it is trusted."""
    try:
        key = r.spec.key
    except Exception:
        return None
    h = hashlib.blake2b(digest_size=20)
    head = {"key": key, "spec": r.spec.to_dict(), "final": r.final, "diverged_at": r.diverged_at}
    h.update(json.dumps(_jsonable(head), sort_keys=True).encode())
    for k in sorted(r.history):
        _array(h, f"h_{k}", r.history[k])
    _array(h, "prediction", r.prediction)
    _array(h, "train_indices", r.train_indices)
    if r.boundaries is not None:
        _array(h, "boundaries", r.boundaries)
    return h.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class PictureStamps:
    """The stamps of the pictures in report folder ``out``: :meth:`fresh` says whether a picture can be
    kept, :meth:`drawn` records one just written, :meth:`save` writes ``thumbs/stamps.json``."""

    def __init__(self, out: Path):
        self.out = Path(out)
        self._digests: dict[int, str | None] = {}
        try:
            old = json.loads((self.out / STAMPS).read_text())
            self._old: dict[str, Any] = old if isinstance(old, dict) else {}
        except (OSError, ValueError):
            self._old = {}
        self._new: dict[str, Any] = {}

    def _run(self, r: RunResult) -> str | None:
        if id(r) not in self._digests:
            self._digests[id(r)] = run_digest(r)
        return self._digests[id(r)]

    def stamp(self, kind: str, params: Any, runs: Iterable[RunResult]) -> str | None:
        """The stamp of a picture of ``kind`` drawn with ``params`` (JSON) from ``runs`` in this order; None
        where a run has no digest (the picture is then always drawn)."""
        digests = [self._run(r) for r in runs]
        if any(d is None for d in digests):
            return None
        h = hashlib.sha256()
        h.update(_code_digest().encode())
        h.update(json.dumps([kind, _jsonable(params), digests], sort_keys=True).encode())
        return h.hexdigest()

    def fresh(self, name: str, stamp: str | None, files: Sequence[str]) -> bool:
        """Whether picture ``name`` (its ``files``, relative to the folder) was drawn with ``stamp`` and left
        untouched since; if so it is kept in the new stamps."""
        entry = self._old.get(name)
        if stamp is None or not isinstance(entry, dict) or entry.get("stamp") != stamp:
            return False
        stats = entry.get("files")
        if not isinstance(stats, dict) or sorted(stats) != sorted(files):
            return False
        if any(_stat(self.out / f) != stats[f] for f in files):
            return False
        self._new[name] = entry
        return True

    def drawn(self, name: str, stamp: str | None, files: Sequence[str]) -> None:
        """Record picture ``name`` just written as ``files`` from ``stamp``."""
        if stamp is None:
            return
        stats = {f: _stat(self.out / f) for f in files}
        if all(s is not None for s in stats.values()):
            self._new[name] = {"stamp": stamp, "files": stats}

    def save(self) -> None:
        """Write ``thumbs/stamps.json``: the entries read, updated with the pictures kept or drawn this time (an
        entry whose files changed since is never trusted: :meth:`fresh`); a failure only costs a redraw."""
        merged = self._old | self._new
        try:
            _atomic_write(self.out / STAMPS, (json.dumps(merged, indent=1, sort_keys=True) + "\n").encode())
        except OSError:
            pass
