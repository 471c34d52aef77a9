"""Where a result came from: versions, device, git commit."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["provenance", "versions", "git_commit"]


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the genprobe checkout (None when not in a git checkout)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True, text=True, check=False
    )
    return commit + ("-dirty" if dirty.stdout.strip() else "")


def _version(dist: str) -> str | None:
    """The version of ``dist``: its loaded module's ``__version__``, else its installed metadata (no import)."""
    module = sys.modules.get(dist)
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, object]:
    """genprobe, torch and numpy versions, python, platform and git commit, without importing torch."""
    from . import __version__

    return {
        "genprobe": __version__,
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def provenance(device: str | None = None) -> dict[str, object]:
    """:func:`versions`, the torch thread count and the device a result was computed on."""
    import torch

    info: dict[str, object] = versions() | {"torch_threads": torch.get_num_threads()}
    if device is not None:
        info["device"] = device
        if device.startswith("cuda"):
            info["device_name"] = torch.cuda.get_device_name(0)
    return info
