"""Names of run groups in reports and the file names made from them."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunSpec

__all__ = ["group_label", "slug"]


def slug(text: str) -> str:
    """A file-name-safe form of ``text``: letters, digits, ``-``, ``_``, ``.``.

    >>> slug("mlp/standard N=312")
    'mlp-standard_N312'
    >>> slug("../..")
    'x'
    """
    s = text.replace("/", "-").replace(" ", "_").replace("=", "")
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", s)
    s = re.sub(r"\.{2,}", ".", s).strip("._-")
    return s or "x"


def group_label(spec: RunSpec) -> str:
    """A run's label without the seed, built from model, features, labels,
    protocol (and k for k-NN) and N, e.g. ``mlp/standard N=312``."""
    return f"{spec.what()} N={spec.n}"


def _without(spec: RunSpec, *fields: str) -> str:
    """Stable identity of ``spec`` ignoring ``fields`` (for grouping)."""
    d = spec.to_dict()
    for f in fields:
        d.pop(f, None)
    return json.dumps(d, sort_keys=True)
