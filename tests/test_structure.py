"""The module map of the README ("Where things live") holds: lower layers never import higher ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layers() -> list[list[str]]:
    """The README table's rows, top (lowest layer) first: the backticked module names of each."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[m for m in re.findall(r"`([a-z_]+)/?(?:\.c)?`", row.split("|")[1]) if _source(m)] for row in rows]


def _source(module: str) -> list[Path]:
    """The files of a module or package of genprobe (none when there is no such module)."""
    path = ROOT / "genprobe" / module
    if path.is_dir() and (path / "__init__.py").exists():
        return sorted(path.glob("*.py"))
    return [path.with_suffix(".py")] if path.with_suffix(".py").exists() else []


def test_every_module_is_in_the_map_once():
    mapped = [m for layer in _layers() for m in layer]
    modules = sorted(
        p.stem if p.is_file() else p.name
        for p in (ROOT / "genprobe").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    )
    assert sorted(mapped) == modules


def test_lower_layers_never_import_higher_ones_and_only_the_plugin_imports_pytest():
    layer = {m: i for i, ms in enumerate(_layers()) for m in ms}
    wrong = []
    for m, i in layer.items():
        for path in _source(m):
            inside = path.parent.name == m  # a package's files import genprobe's modules with ".."
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == (2 if inside else 1):
                    dep = (node.module or "").split(".")[0]
                    if dep in layer and layer[dep] > i:
                        wrong.append(f"{m} imports {dep}")
                names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
                mod = node.module if isinstance(node, ast.ImportFrom) else None
                if m != "plugin" and ("pytest" in names or mod == "pytest") and m != "cli":
                    wrong.append(f"{m} imports pytest")
    assert not wrong, wrong
