"""The module map of the docs ("Where things live", docs/reference/modules.md) holds: lower layers never import
higher ones."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layers() -> list[list[str]]:
    """The map's rows, top (lowest layer) first: the backticked module names of each."""
    text = (ROOT / "docs" / "reference" / "modules.md").read_text()
    section = text.split("# Where things live", 1)[1].split("\nOutside the package:", 1)[0]
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
        if (p.suffix == ".py" and p.stem not in ("__init__", "__main__")) or (p / "__init__.py").exists()
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
                # the plugin is pytest's; the CLI's `genprobe report` and the calibration replay run it
                if m not in ("plugin", "cli", "calibration") and ("pytest" in names or mod == "pytest"):
                    wrong.append(f"{m} imports pytest")
    assert not wrong, wrong


def _imports() -> dict[str, set[str]]:
    """genprobe's modules (``genprobe.plugin.session``, ...) and the genprobe modules each imports anywhere in
    its source: at the top, inside functions, or under ``TYPE_CHECKING`` (a cycle of types is a cycle of
    meaning too). ``from . import x`` counts as importing the submodule ``x``, not its package."""
    pkg_root = ROOT / "genprobe"
    files = {}
    for p in pkg_root.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph: dict[str, set[str]] = {m: set() for m in files}
    for m, p in files.items():
        package = m if p.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in files]
                found = subs or ([target] if target in files else [])
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names if a.name in files]
            else:
                continue
            graph[m].update(f for f in found if f != m)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycles_between_modules_or_inside_packages():
    assert _cycles(_imports()) == []


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a made-up graph with a cycle through three modules, and one of its own."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"f"}, "f": {"e"}}
    assert sorted(_cycles(graph)) == [["a", "b", "c"], ["e", "f"]]
    assert "genprobe.runs" in _imports()["genprobe.sweep"]  # the real graph has edges
