"""The documentation's evidence pages (``docs/evidence/<name>.md``): each study writes its pages whole from
the committed evidence, and ``tests/test_evidence.py`` and ``tests/test_frontier.py`` compare every page with
what its generator makes of that evidence now (a stale page fails them: rerun the study with ``--write``).

A page is its title, a line naming the command that writes it, a short hand-written introduction (kept in
the generator, so it travels with the numbers it introduces) and the generated sections; the explanation
pages (``docs/explanation/``) say what the numbers mean and link here.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: where the evidence pages live (``mkdocs.yml``'s "Evidence" section)
DOCS_EVIDENCE = ROOT / "docs" / "evidence"


def page(title: str, command: str, intro: str, *sections: str) -> str:
    """One whole evidence page: ``# title``, a note naming ``command`` (the one that writes it), the
    introduction and the generated sections, each its own block."""
    note = (
        f'!!! note "Generated"\n    This page is written whole by `{command}` from the committed evidence; '
        "do not edit it by hand (the test suite fails when it is stale)."
    )
    blocks = [f"# {title}", note, intro.strip(), *(s.strip() for s in sections)]
    return "\n\n".join(b for b in blocks if b) + "\n"


def path(name: str) -> Path:
    """The page ``docs/evidence/<name>.md``."""
    return DOCS_EVIDENCE / f"{name}.md"


def write_page(name: str, text: str) -> Path:
    """Write ``docs/evidence/<name>.md`` whole and return its path."""
    out = path(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out
