"""A user's model factory ``"pkg.module:factory"``: its form, its module loaded, and its source hashed.

Loading (:func:`load_factory`): ``pkg.module`` is imported as usual; if it is
not importable, once more with the current working directory on
``sys.path`` (``genprobe train --model mymodel:make`` run from the folder of
``mymodel.py``). A module already imported whose source file has changed
since is executed afresh from the file, so that the code that trains is the
code :func:`source_digest` hashed into the run's cache key.

No torch here: :mod:`genprobe.runs` hashes a user run's key with
:func:`source_digest`, and :mod:`genprobe.usermodel` builds and batches the
modules the factory returns.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import GenprobeError

__all__ = ["check_path", "load_factory", "source_digest", "one_line"]

_LOCK = threading.RLock()
# module name -> sha256 of the source its code in sys.modules was executed from
_EXECUTED: dict[str, str] = {}


def one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _import(path: str, module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        # the module itself (or its package) is missing, not something it imports
        if not (module_name == missing or module_name.startswith(missing + ".")):
            raise GenprobeError(f"cannot import module {module_name!r} of model {path!r}: {one_line(exc)}") from None
        cwd = os.getcwd()
        if cwd in sys.path:
            raise GenprobeError(f"cannot import module {module_name!r} of model {path!r}: {one_line(exc)}") from None
    except Exception as exc:  # the user's module failed while executing
        raise GenprobeError(f"cannot import module {module_name!r} of model {path!r}: {one_line(exc)}") from None
    # not importable: once more from the working directory (`genprobe train` run in the model's folder)
    sys.path.append(cwd)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise GenprobeError(
            f"cannot import module {module_name!r} of model {path!r} (also tried from {cwd!r}): {one_line(exc)}"
        ) from None


def _source_file(obj: object) -> str | None:
    try:
        f = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except (TypeError, OSError):
        return None
    return f if f and os.path.isfile(f) else None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refresh(mod: ModuleType, path: str, seen_before: bool) -> bool:
    """Run ``mod`` afresh from its file where the code in memory may not be that file's: the file changed
    since it ran, or it was imported before genprobe first saw it (``seen_before``: by a notebook, a
    conftest, the user's own test). True when it was executed again."""
    file = _source_file(mod)
    if file is None:
        return False
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise GenprobeError(f"cannot read {file!r}, the source of model {path!r}: {exc.strerror}") from None
    digest = _digest(data)
    ran = _EXECUTED.get(mod.__name__)
    if ran == digest or (ran is None and not seen_before):
        _EXECUTED[mod.__name__] = digest
        return False
    # not a .pyc, whose mtime may not have moved
    try:
        exec(compile(data, file, "exec", dont_inherit=True), mod.__dict__)
    except Exception as exc:
        raise GenprobeError(f"cannot import module {mod.__name__!r} of model {path!r}: {one_line(exc)}") from None
    _EXECUTED[mod.__name__] = digest
    return True


def _module(path: str) -> ModuleType:
    """The factory's module, imported, with the code in memory that of its file (and of the file that
    defines the factory, where the module re-exports it): what :func:`source_digest` hashes is what runs."""
    module_name = path.partition(":")[0]
    with _LOCK:
        seen_before = module_name in sys.modules and module_name not in _EXECUTED
        mod = _import(path, module_name)
        try:
            factory = _resolve(path, mod)
        except GenprobeError:
            factory = None
        home = sys.modules.get(getattr(factory, "__module__", "") or "")
        if home is not None and home is not mod:
            if _refresh(home, path, home.__name__ not in _EXECUTED):
                _EXECUTED.pop(module_name, None)  # re-export it from the new code
                seen_before = True
        _refresh(mod, path, seen_before)
        return mod


def _resolve(path: str, mod: ModuleType) -> Callable[..., Any]:
    obj: Any = mod
    for part in path.partition(":")[2].split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise GenprobeError(f"model {path!r}: module {mod.__name__!r} has no attribute {part!r}") from None
    if not callable(obj):
        raise GenprobeError(f"model {path!r} is a {type(obj).__name__}, not a callable that returns a torch.nn.Module")
    return obj


def check_path(path: str, hint: str = "") -> None:
    """``module:attr`` with dotted identifiers on both sides (the form only; nothing is imported).

    Raises:
        GenprobeError: one line naming ``path`` (and ``hint``, e.g. the built-in models).
    """
    module, _, attr = path.partition(":")
    if not all(part.isidentifier() for part in module.split(".")) or not all(
        part.isidentifier() for part in attr.split(".")
    ):
        raise GenprobeError(
            f"model {path!r} is not a factory path 'pkg.module:factory' (dotted identifiers around one colon)"
            + (f"; {hint}" if hint else "")
        )


def load_factory(path: str) -> Callable[..., Any]:
    """The callable ``path`` (``"pkg.module:factory"``, dotted attributes allowed) names."""
    check_path(path)
    return _resolve(path, _module(path))


def source_digest(path: str) -> str:
    """sha256 of the source file(s) of the factory ``path``: its module's file, and the file that
    defines the factory where that is another one (a re-export). Part of a user run's cache key."""
    with _LOCK:
        mod = _module(path)
        factory = _resolve(path, mod)
        files = sorted({f for f in (_source_file(mod), _source_file(factory)) if f is not None})
        h = hashlib.sha256()
        for f in files:
            h.update(_digest(Path(f).read_bytes()).encode())
        return h.hexdigest()
