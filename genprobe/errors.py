"""The one exception genprobe raises for bad input.

Every user-facing check raises :class:`GenprobeError` with a one-line message
that names the offending value, so the CLI and the pytest plugin can print it
without a traceback.
"""

from __future__ import annotations

__all__ = ["GenprobeError", "DivergedError"]


class GenprobeError(ValueError):
    """Bad input: a one-line message that names the bad value."""


class DivergedError(GenprobeError):
    """A training run whose loss became NaN or inf."""
