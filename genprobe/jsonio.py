"""Atomic file writes and JSON for values with NaN/inf and numpy types.

One place for what the cache, the CLI, the plugin and the report all write.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write", "to_json_safe", "from_json_safe", "picture_to_text", "picture_from_text"]


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` via a temp file in the same folder, fsync, ``os.replace``.

    A reader sees the old file, the new file or none; never half of one. The
    file gets the user's normal permissions (0644 under umask 022), not the
    temp file's 0600, so a colleague or a CI artifact server can read it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def to_json_safe(obj: Any) -> Any:
    """Plain JSON values: NaN -> None (null), +inf/-inf -> "inf"/"-inf";
    numpy scalars/arrays, tuples, sets, paths and dataclasses converted;
    anything else by ``str``.

    >>> to_json_safe({"a": float("nan"), "b": np.array([1.5, float("inf")])})
    {'a': None, 'b': [1.5, 'inf']}
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(obj, Mapping):
        return {str(k): to_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return to_json_safe(obj.tolist())
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return [to_json_safe(v) for v in items]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_json_safe(dataclasses.asdict(obj))
    return str(obj)


def from_json_safe(obj: Any) -> Any:
    """The inverse for numbers: None -> NaN, "inf"/"-inf" -> +-inf, recursively into lists and dicts.

    >>> from_json_safe({"a": [None, "inf"], "b": {"c": "-inf"}})
    {'a': [nan, inf], 'b': {'c': -inf}}
    """
    if obj is None:
        return math.nan
    if isinstance(obj, str):
        return math.inf if obj == "inf" else -math.inf if obj == "-inf" else obj
    if isinstance(obj, list):
        return [from_json_safe(v) for v in obj]
    if isinstance(obj, dict):
        return {k: from_json_safe(v) for k, v in obj.items()}
    return obj


def picture_to_text(grey: np.ndarray) -> str:
    """A (H, W) grey picture as text for JSON: an 8-bit greyscale PNG in base64 (about 6 KB at 256^2).

    Values are clipped to [0, 1] and rounded to the nearest 1/255, NaN (a diverged run) is white: so a
    pixel is below 0.5 in :func:`picture_from_text`'s picture exactly when it was below 0.5 here, and
    every metric of the thresholded picture (IoU, components, holes, ...) is the same on both; a metric
    of the grey values themselves moves by at most 1/510 a pixel.
    """
    import base64
    import io

    from PIL import Image

    g = np.nan_to_num(np.asarray(grey, dtype=np.float64), nan=1.0)
    q = np.floor(np.clip(g, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(q, mode="L").save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def picture_from_text(text: str) -> np.ndarray:
    """The (H, W) float32 picture :func:`picture_to_text` wrote (grey = byte / 255)."""
    import base64
    import io

    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(text))) as img:
        return np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
