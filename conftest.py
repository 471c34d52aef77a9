"""Repository-wide pytest setup.

The genprobe plugin itself is registered through the ``pytest11`` entry point
(see pyproject.toml), so any project that installs genprobe gets it; nothing
genprobe-specific is configured here.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Shared CI machines are slow and noisy: no per-example deadline there.
settings.register_profile("ci", deadline=None, max_examples=50)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
