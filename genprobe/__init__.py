"""genprobe: do small MLPs draw the ring, or only colour their training points?"""

from __future__ import annotations

__version__ = "0.1.0"
