"""Where a result came from: versions, device, git commit."""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path

__all__ = ["provenance", "git_commit"]


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


def provenance(device: str | None = None) -> dict[str, object]:
    import numpy
    import torch

    from . import __version__

    info: dict[str, object] = {
        "genprobe": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "torch_threads": torch.get_num_threads(),
    }
    if device is not None:
        info["device"] = device
        if device.startswith("cuda"):
            info["device_name"] = torch.cuda.get_device_name(0)
    return info
