"""Pre-registration: what decides each claim test's verdict, frozen before the seeds that confirm it.

A claim test's *definition* is everything that turns its runs into a verdict:

* ``test``: the test function's code (its syntax tree without docstrings, so rewording a docstring is
  no change) and its parameters;
* ``code``: every function and class of the claim layer the test reaches (``genprobe.claims``,
  ``shapes``, ``frontier``, ``metrics`` and the suite's own helpers), found by following the names its
  code uses, transitively, each by the digest of its syntax tree: its checks, metrics and windows;
* ``thresholds``: the profile's bounds for every claim key the reached code names;
* ``design``: the decision rule (the sequential sign test's boundaries on every plan, by behaviour),
  the profile's start seeds, step, most seeds, level and budgets, and the gate policy that turns
  confirmation replays into expectations (``genprobe.calibration``: its constants and numbers, by
  behaviour, its structure by code, the layout's plans). How seeds' values become a sign test
  (``genprobe.verdicts``) is code the test reaches, so it is in ``code``.

:func:`register` digests each part and the whole, per test and profile. The digests are committed in
``genprobe/evidence/registration.json`` (``python benchmarks/studies/registration.py --write``) *before*
the confirmation seeds they govern are trained; ``genprobe sweep --export`` stamps each export with the
registration in force (:func:`stamp`) and the commit it was trained from, and ``tests/test_evidence.py``
refuses an expectation from a confirmation set whose stamp differs from the test's current digest. A
changed definition is confirmed on fresh seeds, never on seeds already looked at.

Pure python and the standard library (the gate policy's module is imported only to digest it).
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import textwrap
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "REGISTRATION",
    "CLAIM_LAYER",
    "code_digest",
    "reachable",
    "definition",
    "digest",
    "register",
    "load",
    "stamp",
    "changed",
]

REGISTRATION = Path(__file__).resolve().parent / "evidence" / "registration.json"

#: modules whose functions and classes define what a claim checks (followed transitively from a test)
CLAIM_LAYER = (
    "genprobe.claims",
    "genprobe.shapes",
    "genprobe.frontier",
    "genprobe.metrics",
    "genprobe.verdicts",
    "benchmarks",
)
#: the gate policy's structure (genprobe.calibration: how confirmation replays become expectations), by
#: code; its numbers (levels, the pessimistic chance, the plans it costs) by behaviour, in :func:`_policy`
POLICY = ("StandIn.check", "_plan", "reliability", "_longest_needed", "expectations")
#: the plans and check counts the decision rule's behaviour is fingerprinted on (:func:`_rule`)
RULE_PLANS = ((5,), (5, 10, 15), (5, 10, 15, 20), (5, 10, 15, 20, 25, 30), (5, 10, 15, 20, 25, 30, 35, 40))


def _sha(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


class _NoDocstrings(ast.NodeTransformer):
    """Drops docstrings, and reads the suite's fixture by one name: ``probe`` was called ``genprobe``
    before (the old name is an alias of the same fixture), so renaming it is no change of definition. The
    old name is the one digested, so that definitions registered before the rename keep their digests."""

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == "probe":
            node.id = "genprobe"
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        if node.arg == "probe":
            node.arg = "genprobe"
        return node

    def _strip(self, node: Any) -> Any:
        self.generic_visit(node)
        body = node.body
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Module = _strip


def _tree_text(source: str) -> str:
    tree = _NoDocstrings().visit(ast.parse(textwrap.dedent(source)))
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def code_digest(obj: Any) -> str:
    """The digest of a function's, class's or module's syntax tree without docstrings or comments:
    rewording its documentation or reformatting it is no change; changing what it computes is.

    >>> _tree_text('def f(x):\\n    "doc"\\n    return x + 1  # a comment') == _tree_text("def f(x): return x + 1")
    True
    """
    return _sha(_tree_text(inspect.getsource(obj)))


def _in_layer(obj: Any, layer: Sequence[str]) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return any(module == m or module.startswith(m + ".") for m in layer)


def _names(code: types.CodeType) -> tuple[set[str], set[str]]:
    """The global and attribute names, and the string constants, of ``code`` and the code nested in it."""
    names, strings = set(code.co_names), set()
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            n, s = _names(c)
            names |= n
            strings |= s
        elif isinstance(c, str):
            strings.add(c)
    return names, strings


def _unpack(objs: Iterable[Any], depth: int = 3) -> Iterable[Any]:
    """``objs`` and, inside every dict, list, tuple or set among them (to ``depth`` levels), what they hold:
    a claim reached through a table of builders (``genprobe.shapes.SHAPE_CLAIMS``) is reached."""
    for obj in objs:
        yield obj
        if depth > 0 and isinstance(obj, (dict, list, tuple, set, frozenset)):
            values = obj.values() if isinstance(obj, dict) else obj
            yield from _unpack(list(values), depth - 1)


def _qualname(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def reachable(fn: Callable, layer: Sequence[str] = CLAIM_LAYER) -> tuple[dict[str, str], set[str]]:
    """The functions and classes of ``layer`` that ``fn`` reaches (qualified name -> :func:`code_digest`),
    following the names each one's code uses through its module's globals, modules' attributes and
    closures, and every string constant met on the way (claim keys, metric names)."""
    seen: dict[str, str] = {}
    strings: set[str] = set()
    todo: list[Any] = [fn]
    while todo:
        obj = todo.pop()
        if isinstance(obj, type):
            members = [m for m in vars(obj).values() if inspect.isfunction(m)]
            todo += [m for m in members if _qualname(m) not in seen]
            continue
        code = getattr(obj, "__code__", None)
        if code is None:
            continue
        names, consts = _names(code)
        strings |= consts
        scope: dict[str, Any] = dict(getattr(obj, "__globals__", {}))
        for cell_name, cell in zip(code.co_freevars, getattr(obj, "__closure__", None) or ()):
            try:
                scope[cell_name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        found = []
        for name in names | set(code.co_freevars):
            target = scope.get(name)
            if isinstance(target, types.ModuleType):
                found += [getattr(target, a) for a in names if hasattr(target, a)]
            elif target is not None:
                found.append(target)
        found = list(_unpack(found))
        for target in found:
            if not (inspect.isfunction(target) or isinstance(target, type)) or not _in_layer(target, layer):
                continue
            key = _qualname(target)
            if key in seen:
                continue
            try:
                seen[key] = code_digest(target)
            except (OSError, TypeError):  # no source (built in C, or made at run time)
                continue
            todo.append(target)
    if _in_layer(fn, layer) or fn.__module__.startswith("benchmarks"):
        seen.setdefault(_qualname(fn), code_digest(fn))
    return dict(sorted(seen.items())), strings


def _rule(alpha: float = 0.1) -> str:
    """The decision rule (the exact sequential sign test of ``genprobe.stats``) by its behaviour: every
    boundary of every plan the suite can run, for claims of one to six checks. A refactor that decides the
    same is no change; a boundary that moves is."""
    from .stats import design

    bounds = [
        (plan, checks, design(plan, alpha, checks).holds_at, design(plan, alpha, checks).refuted_at)
        for plan in RULE_PLANS
        for checks in range(1, 7)
    ]
    return _sha(repr(bounds))


def _policy() -> dict[str, Any]:
    """The gate policy: its constants, its numbers on a grid (the pessimistic chance of a check, the
    plan a claim would need) and its structure by code."""
    from . import calibration as c

    out: dict[str, Any] = {
        "GATE_RELIABILITY": c.GATE_RELIABILITY,
        "Q_CONFIDENCE": c.Q_CONFIDENCE,
        "MAX_PLAN_SEEDS": c.MAX_PLAN_SEEDS,
        "q": _sha(repr([round(c._pessimistic_q(k, 30, e), 10) for k in range(31) for e in ("holds", "refuted")])),
        "needed": _sha(
            repr(
                [
                    c.seeds_needed([q] * m, e)
                    for q in (0.7, 0.8, 0.9, 0.97)
                    for m in (1, 3)
                    for e in ("holds", "refuted")
                ]
            )
        ),
    }
    for name in POLICY:
        obj: Any = c
        for part in name.split("."):
            obj = getattr(obj, part)
        out[name] = code_digest(obj)
    return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float):
        return repr(x)
    return x


def definition(
    test_id: str,
    fn: Callable,
    params: Mapping[str, Any],
    profile: Any,
    plan_tops: Sequence[int],
    rule: str | None = None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What decides ``test_id``'s verdict at ``profile`` (a :class:`genprobe.profiles.Profile`): its
    parts as digests (``test``, ``code``, ``thresholds``, ``design``), each readable on its own so that a
    change says which part moved."""
    code, strings = reachable(fn)
    marks = [m.args[0] for m in getattr(fn, "pytestmark", []) if m.name == "claim" and m.args]
    keys = sorted((set(strings) | set(marks)) & set(profile.thresholds))
    thresholds = {k: _jsonable(profile.thresholds[k]) for k in keys}
    design = {
        "rule": rule or _rule(profile.alpha),
        "policy": dict(policy or _policy()),
        "alpha": repr(profile.alpha),
        "first_seeds": len(profile.seeds),
        "seed_step": profile.seed_step,
        "max_seeds": profile.max_seeds,
        "report_looks": profile.report_looks,
        "plan_tops": list(plan_tops),
        "window": {"epochs": profile.epochs, "long_epochs": profile.long_epochs},
    }
    test = {"code": code_digest(fn), "params": _jsonable(dict(params))}
    return {
        "test": _sha(json.dumps(test, sort_keys=True)),
        "code": _sha(json.dumps(code, sort_keys=True)),
        "thresholds": _sha(json.dumps(thresholds, sort_keys=True)),
        "design": _sha(json.dumps(design, sort_keys=True)),
        "functions": code,
    }


def digest(parts: Mapping[str, Any]) -> str:
    """One test's digest from its parts (:func:`definition`)."""
    return _sha(json.dumps({k: parts[k] for k in ("test", "code", "thresholds", "design")}, sort_keys=True))


def register(
    suite: Iterable[tuple[str, Callable, Mapping[str, Any]]], layouts: Mapping[str, Sequence[int]]
) -> dict[str, Any]:
    """The registration of every test of ``suite`` (``calibration.cases``) at every profile of
    ``layouts`` (profile name -> the plans its evidence layout gates with): per profile and test its
    digest and parts, and once, every reached function's digest (so a diff names what changed)."""
    from .profiles import get_profile

    policy = _policy()
    suite = list(suite)
    functions: dict[str, str] = {}
    profiles: dict[str, dict[str, Any]] = {}
    for name, tops in layouts.items():
        profile = get_profile(name)
        rule = _rule(profile.alpha)
        tests = {}
        for test_id, fn, params in suite:
            parts = definition(test_id, fn, params, profile, tops, rule, policy)
            functions.update(parts.pop("functions"))
            tests[test_id] = {"digest": digest(parts), **parts}
        profiles[name] = tests
    return {"policy": _jsonable(policy), "functions": dict(sorted(functions.items())), "profiles": profiles}


def load(path: Path = REGISTRATION) -> dict[str, Any]:
    """The committed registration (empty where none is committed)."""
    return json.loads(path.read_text()) if path.exists() else {"profiles": {}}


def committed(commit: str, cwd: Path | None = None) -> dict[str, Any] | None:
    """The registration as committed at ``commit`` (None: not committed there, or no git history)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "show", f"{commit}:genprobe/evidence/registration.json"],
            cwd=cwd or REGISTRATION.parents[2],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else None


def stamp(commits: Iterable[str | None], profile: str) -> dict[str, Any]:
    """The registration runs were trained under, from the commits their results record
    (``meta["git_commit"]``): one clean commit, and each test's digest at ``profile`` in the registration
    committed there. ``digests`` is None where the runs came from several commits, an uncommitted tree
    (``-dirty``) or a commit without a registration: such runs can never confirm a test.
    ``genprobe sweep --export`` writes it into the export."""
    found = sorted({str(c) for c in commits})
    out: dict[str, Any] = {"profile": profile, "commits": found, "commit": None, "digests": None}
    if len(found) != 1 or found[0].endswith("-dirty") or found[0] == "None":
        return out
    reg = committed(found[0])
    tests = (reg or {}).get("profiles", {}).get(profile)
    out["commit"] = found[0]
    if tests:
        out["digests"] = {t: e["digest"] for t, e in sorted(tests.items())}
    return out


def changed(old: Mapping[str, Any], new: Mapping[str, Any], profile: str) -> dict[str, list[str]]:
    """Per test whose digest differs between two registrations, the parts that moved (``added`` and
    ``removed`` for tests only one of them has)."""
    a, b = old.get("profiles", {}).get(profile, {}), new.get("profiles", {}).get(profile, {})
    out: dict[str, list[str]] = {}
    for test in sorted(set(a) | set(b)):
        if test not in a:
            out[test] = ["added"]
        elif test not in b:
            out[test] = ["removed"]
        elif a[test]["digest"] != b[test]["digest"]:
            out[test] = [p for p in ("test", "code", "thresholds", "design") if a[test].get(p) != b[test].get(p)]
    return out
