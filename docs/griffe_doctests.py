"""A griffe extension for the API reference: genprobe's docstrings are written for reading in the source
(reStructuredText-ish), so before Markdown renders them the doctest examples (``>>>`` lines and their
output) become fenced ``pycon`` blocks (else their output, ``[0.224, 0.776]``, reads as link references),
and Sphinx roles (``:class:`RunSpec```) become plain code."""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj):`~?([^`]+)`")


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` / ``...`` lines and the output after them (up to a blank line) in a
    ``pycon`` fence, keeping its indentation."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        if not stripped.startswith(">>>"):
            out.append(lines[i])
            i += 1
            continue
        indent = lines[i][: len(lines[i]) - len(stripped)]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        if out and out[-1].strip():
            out.append("")
        out += [f"{indent}```pycon", *(f"{indent}{b}" for b in block), f"{indent}```"]
    return "\n".join(out)


def plain_roles(text: str) -> str:
    """``:class:`~genprobe.runs.RunSpec``` -> ```genprobe.runs.RunSpec```."""
    return ROLE.sub(lambda m: f"`{m.group(1)}`", text)


class FenceDoctests(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: ARG002 - griffe's signature
        if obj.docstring is not None:
            text = plain_roles(obj.docstring.value)
            obj.docstring.value = fence_doctests(text) if ">>>" in text else text
