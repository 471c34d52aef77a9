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
    return [
        [m for m in re.findall(r"`([a-z_]+)(?:\.c)?`", row.split("|")[1]) if (ROOT / "genprobe" / f"{m}.py").exists()]
        for row in rows
    ]


def test_every_module_is_in_the_map_once():
    mapped = [m for layer in _layers() for m in layer]
    modules = sorted(p.stem for p in (ROOT / "genprobe").glob("*.py") if p.stem != "__init__")
    assert sorted(mapped) == modules


def test_lower_layers_never_import_higher_ones_and_only_the_plugin_imports_pytest():
    layer = {m: i for i, ms in enumerate(_layers()) for m in ms}
    wrong = []
    for m, i in layer.items():
        tree = ast.parse((ROOT / "genprobe" / f"{m}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                dep = (node.module or "").split(".")[0]
                if dep in layer and layer[dep] > i:
                    wrong.append(f"{m} imports {dep}")
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            mod = node.module if isinstance(node, ast.ImportFrom) else None
            if m != "plugin" and ("pytest" in names or mod == "pytest") and m != "cli":
                wrong.append(f"{m} imports pytest")
    assert not wrong, wrong
