"""Saved sessions and regressions between two of them, in the manner of pytest-benchmark.

A session's verdicts (the plugin's ``rows``: ``(nodeid, verdict dict,
expectation)``) are saved as ``.genprobe/0001_NAME.json``, numbered in
order, with every check's value **per seed** and where they came from
(versions, git commit, date, profile). Two saves are compared test by test
(nodeid), check by check (metric) and seed by seed: a seed fixes the points
and the initialisation, so the same seed in both is a paired measurement and
its change is the effect of whatever changed between the two, not of luck.

A fail rule ``METRIC:DELTA`` says the change matters when a metric got
worse by more than ``DELTA``. One bad seed is no regression: a (test,
metric) regresses when significantly more than half of its paired seeds got
worse by more than ``DELTA``, by the sign test of :mod:`genprobe.stats` at
level ``alpha``: the rule of a claim's check, applied to each (test, metric)
as the suite applies it to each check (5 paired seeds can decide; a
Bonferroni correction over the ~20 tests a metric appears in would need 8
and so never fire at the suite's 5). Where no (test, metric) typically got
worse, each is flagged with chance at most ``alpha`` (for a change that is
only seed noise, less: every paired seed must be worse by more than
``DELTA``); over many tests some may be, so pick ``DELTA`` above the seed
noise of the README's margins table. Controls and claims expected refuted
are not gated (better and worse are the other way round for them). A
diverged seed (NaN) counts as worse. A gated check of the base that the new
session no longer measures fails the rule. With too few paired seeds (2 at
level 0.1) a pair can never decide; it is not a regression, and the table
says so.

The plugin needs :func:`save`, :func:`load`, :func:`compare`,
:func:`regressions` and :func:`format_comparison`; the command is
``genprobe compare A B --fail METRIC:DELTA``.

Pure python and numpy: no torch, no pytest.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GenprobeError
from .jsonio import atomic_write, from_json_safe, to_json_safe
from .stats import ALPHA, HOLDS, SignTest, binom_tail, sign_test

__all__ = [
    "FORMAT",
    "DEFAULT_ROOT",
    "FailRule",
    "Pair",
    "Comparison",
    "Judgement",
    "check_name",
    "default_meta",
    "snapshot",
    "save",
    "load",
    "saved",
    "format_saved",
    "compare",
    "change",
    "parse_fail_rule",
    "judge",
    "regressions",
    "format_comparison",
]

#: The ``format`` field of a saved file.
FORMAT = "genprobe-save/1"
#: Where saves go by default (relative to the working directory, as pytest-benchmark's ``.benchmarks``).
DEFAULT_ROOT = ".genprobe"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FILE = re.compile(r"(\d{4,})_(.+)\.json")

Row = tuple[str, Mapping[str, Any], str]  # (nodeid, verdict dict, expectation), as the plugin collects them


# -- names and files ---------------------------------------------------------------------------------------------


def check_name(name: str) -> str:
    """``name`` if it can name a save, else a one-line GenprobeError.

    Letters, digits, ``.``, ``_`` and ``-``, not starting with a symbol, not
    all digits (that would read as a save's number), at most 100 characters.

    >>> check_name("main-torch2.4")
    'main-torch2.4'
    >>> check_name("0003")
    Traceback (most recent call last):
    ...
    genprobe.errors.GenprobeError: bad save name '0003': all digits reads as a save's number; use letters too
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(".json"):
        raise GenprobeError(
            f"bad save name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if name.isdigit():
        raise GenprobeError(f"bad save name {name!r}: all digits reads as a save's number; use letters too")
    return name


def saved(root: str | os.PathLike = DEFAULT_ROOT) -> list[Path]:
    """The saves under ``root``, oldest (lowest number) first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _FILE.fullmatch(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def format_saved(root: str | os.PathLike = DEFAULT_ROOT) -> str:
    """One line per save: file, date, profile, git commit, tests (what ``genprobe compare --list`` prints)."""
    files = saved(root)
    if not files:
        return f"no saves under {str(root)!r}"
    width = max(len(p.name) for p in files)
    lines = []
    for p in files:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            meta = data.get("meta", {})
            info = (
                f"{str(meta.get('datetime', '?'))[:19]}  profile {meta.get('profile', '?')}  "
                f"commit {str(meta.get('git_commit') or '?')[:12]}  {len(data.get('tests', []))} tests"
            )
        except (OSError, ValueError, AttributeError) as exc:
            info = f"unreadable: {exc.__class__.__name__}"
        lines.append(f"{p.name.ljust(width)}  {info}")
    return "\n".join(lines)


def _listing(root: Path) -> str:
    files = saved(root)
    if not files:
        return f"nothing is saved under {str(root)!r}"
    names = [p.name for p in files]
    shown = ", ".join(names[-10:])
    return f"saved under {str(root)!r}: " + ("..., " if len(names) > 10 else "") + shown


def _resolve(ref: str | os.PathLike, root: Path) -> Path:
    """A save's file: by number, ``NNNN_name``, name (the latest) or, for anything else, as a path."""
    text = os.fspath(ref)
    files = saved(root)
    parsed = [(int(m.group(1)), m.group(2), p) for p in files if (m := _FILE.fullmatch(p.name))]
    hits: list[Path] = []
    if not isinstance(ref, os.PathLike) and os.sep not in text and "/" not in text and not text.endswith(".json"):
        if text.isdigit():
            hits = [p for num, _, p in parsed if num == int(text)]
        else:
            hits = [p for _, _, p in parsed if p.stem == text] or [p for _, name, p in parsed if name == text]
    if not hits and Path(text).is_file():
        return Path(text)
    if not hits:
        raise GenprobeError(f"no save {text!r}: {_listing(root)}")
    return hits[-1]  # the latest with that name


# -- saving ------------------------------------------------------------------------------------------------------


def default_meta() -> dict[str, Any]:
    """Where a save came from, without importing torch: versions, python, platform, git commit, date (UTC)."""
    from .provenance import versions

    return versions() | {"datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def _test_record(nodeid: str, verdict: Mapping[str, Any], expect: str) -> dict[str, Any]:
    seeds = [int(s) for s in verdict.get("seeds", [])]
    checks = []
    for c in verdict.get("checks", []):
        values = [float(v) for v in from_json_safe(list(c.get("values", [])))]
        record: dict[str, Any] = {
            "metric": str(c["metric"]),
            "op": str(c["op"]),
            "threshold": from_json_safe(c.get("threshold")),
            "status": c.get("status"),
            "median": from_json_safe(c.get("median")),
            "alpha": c.get("alpha"),
        }
        if len(values) == len(seeds):
            record["values"] = dict(zip(seeds, values))
        else:  # not one value per judged seed: kept, but cannot be paired by seed
            record["values"] = values
        checks.append(record)
    return {
        "nodeid": nodeid,
        "claim": verdict.get("claim"),
        "statement": verdict.get("statement"),
        "subject": verdict.get("subject"),
        "n": verdict.get("n"),
        "seeds": seeds,
        "expect": expect,
        "role": verdict.get("role"),
        "status": verdict.get("status"),
        "look": verdict.get("look"),
        "looks": verdict.get("looks"),
        "runs": list(verdict.get("runs", [])),
        "checks": checks,
    }


def _test_key(nodeid: str, d: Mapping[str, Any]) -> str:
    """``nodeid::claim[N=n]``: stable when a test gains another verdict (the claim marker names it) and when
    the model under test changes (its subject label names the model: a pull request that changes a
    keyword argument is compared with the run before it, and the comparison says what changed)."""
    return f"{nodeid}::{d.get('claim')}[N={d.get('n')}]"


def _test_keys(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """One key per (nodeid, verdict) (:func:`_test_key`); ``#2``, ... for a second verdict of the same claim
    and N in one test, in order."""
    keys: list[str] = []
    for nodeid, d in pairs:
        key = base = _test_key(nodeid, d)
        i = 1
        while key in keys:
            i += 1
            key = f"{base}#{i}"
        keys.append(key)
    return keys


def _keyed(tests: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """A save's tests under today's keys, rebuilt from each record (a save from a version whose keys held
    the subject pairs with one from today)."""
    records = list(tests.values())
    return dict(zip(_test_keys((str(t["nodeid"]), t) for t in records), records))


def _distinct(rows: Iterable[Row]) -> list[Row]:
    """The rows with exact repeats dropped (a test reported twice, e.g. by a rerun plugin, counts once)."""
    seen: set[str] = set()
    out = []
    for row in rows:
        text = json.dumps(to_json_safe(row), sort_keys=True)
        if text not in seen:
            seen.add(text)
            out.append(row)
    return out


def snapshot(rows: Iterable[Row], meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`save` writes and :func:`load` returns, in memory: ``format``, ``meta``, ``tests``.

    ``tests`` maps each test's key (its nodeid) to its verdict: claim,
    subject, N, seeds, expectation, role, the runs' cache keys and its
    checks, each with metric, op, threshold and ``values`` as
    ``{seed: value}`` (NaN for a diverged seed).

    ``rows``: ``(nodeid, verdict dict, expectation)``, the dict from
    :meth:`genprobe.verdicts.Verdict.to_dict` (as is or through
    :func:`genprobe.jsonio.to_json_safe`). ``meta`` is added to (and
    overrides) :func:`default_meta`; the plugin passes the profile and device.
    """
    rows = list(rows)
    rows = _distinct(rows)
    keys = _test_keys((nodeid, d) for nodeid, d, _ in rows)
    tests = {key: _test_record(nodeid, d, expect) for key, (nodeid, d, expect) in zip(keys, rows)}
    return {"format": FORMAT, "meta": default_meta() | dict(meta or {}), "tests": tests}


def save(
    rows: Iterable[Row],
    name: str,
    root: str | os.PathLike = DEFAULT_ROOT,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Save a session's verdicts as ``root/NNNN_name.json`` (the next number) and return its path.

    Written atomically (a reader sees all of it or nothing) with the user's
    normal permissions (0644 under umask 022); two sessions saving at once
    get different numbers.
    """
    from filelock import FileLock

    check_name(name)
    data = snapshot(rows, meta)
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenprobeError(f"cannot create the save folder {str(root)!r}: {exc.strerror or exc}") from None
    with FileLock(str(root / ".lock"), timeout=60):
        files = saved(root)
        number = int(_FILE.fullmatch(files[-1].name).group(1)) + 1 if files else 1  # type: ignore[union-attr]
        path = root / f"{number:04d}_{name}.json"
        data["meta"] = data["meta"] | {"name": name, "number": number}
        text = json.dumps(to_json_safe(data), indent=1, allow_nan=False, ensure_ascii=False) + "\n"
        atomic_write(path, text.encode("utf-8"))
    return path


def load(ref: str | os.PathLike, root: str | os.PathLike = DEFAULT_ROOT) -> dict[str, Any]:
    """A save by name (the latest with that name), number (``3`` or ``0003``), ``0003_name`` or path.

    Returns the :func:`snapshot` dict (NaN restored, seeds as ints) with
    ``file`` added. A missing or unreadable one is a one-line GenprobeError.
    """
    root = Path(root)
    path = _resolve(ref, root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GenprobeError(f"cannot read save {str(path)!r}: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("tests"), dict):
        raise GenprobeError(f"{str(path)!r} is not a genprobe save (format {FORMAT!r})")
    for t in data["tests"].values():
        t["seeds"] = [int(s) for s in t.get("seeds", [])]
        for c in t.get("checks", []):
            c["threshold"] = from_json_safe(c.get("threshold"))
            c["median"] = from_json_safe(c.get("median"))
            v = c.get("values", [])
            if isinstance(v, dict):
                c["values"] = {int(s): float(from_json_safe(x)) for s, x in v.items()}
            else:
                c["values"] = [float(from_json_safe(x)) for x in v]
    data["file"] = str(path)
    return data


# -- comparing ---------------------------------------------------------------------------------------------------


def change(old: float, new: float, op: str) -> float:
    """How much better ``new`` is than ``old`` for a check ``op`` (``>=``: higher is better, ``<=``: lower).

    A seed that diverged (NaN) in the new save only is infinitely worse;
    in the old only, infinitely better; in both (or inf in both), unchanged.

    >>> change(0.7, 0.5, ">="), change(0.7, 0.5, "<=")
    (-0.19999999999999996, 0.19999999999999996)
    >>> change(0.7, float("nan"), ">="), change(float("nan"), float("nan"), ">=")
    (-inf, 0.0)
    """
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    old_nan, new_nan = math.isnan(old), math.isnan(new)
    if old_nan or new_nan:
        return 0.0 if old_nan and new_nan else -math.inf if new_nan else math.inf
    if old == new:
        return 0.0  # also inf == inf
    return new - old if op == ">=" else old - new


@dataclass(frozen=True)
class Pair:
    """One check (metric) of one test in both saves, paired seed by seed.

    Attributes:
        test: the test's key (its nodeid).
        metric: the check's metric.
        op: ``>=`` or ``<=`` (the new save's): which way is better.
        seeds: the seeds in both, in order.
        old, new: their values in the base and the new save.
        only_old, only_new: seeds in one save only (not compared).
    """

    test: str
    metric: str
    op: str
    seeds: tuple[int, ...]
    old: tuple[float, ...]
    new: tuple[float, ...]
    only_old: tuple[int, ...] = ()
    only_new: tuple[int, ...] = ()
    expect: str = "holds"  # the new save's expectation: controls and expected refutations are not gated

    @property
    def gated(self) -> bool:
        """Whether fail rules judge it: not a control (``fails``) or a claim expected ``refuted``, whose
        better and worse are the other way round for the model under test."""
        return self.expect not in ("fails", "refuted")

    @property
    def changes(self) -> tuple[float, ...]:
        """Per paired seed, how much better the new value is (negative: worse)."""
        return tuple(change(o, n, self.op) for o, n in zip(self.old, self.new))

    @property
    def median(self) -> float:
        return float(statistics.median(self.changes)) if self.seeds else math.nan

    @property
    def min(self) -> float:
        return min(self.changes) if self.seeds else math.nan

    @property
    def max(self) -> float:
        return max(self.changes) if self.seeds else math.nan

    @property
    def name(self) -> str:
        return f"{_short(self.test)} {self.metric}"


@dataclass
class Comparison:
    """Two saves, paired: :class:`Pair` per common (test, metric), and what only one has.

    Attributes:
        base, new: labels of the two saves (file names).
        pairs: the common (test, metric) pairs, in the new save's order.
        added, removed: tests only in the new / the base save.
        added_checks, removed_checks: ``(test, metric)`` only in the new / the base save, of common tests.
        notes: checks in both that could not be paired (op changed, values not one per seed).
        metrics: every metric either save measures (to tell a fail rule's typo).
        missing: gated ``(test, metric)`` of the base that the new save lacks (a fail rule on that
            metric fails on them: a check that stops being measured is no pass).
    """

    base: str
    new: str
    pairs: list[Pair] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    added_checks: list[tuple[str, str]] = field(default_factory=list)
    removed_checks: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: set[str] = field(default_factory=set)
    missing: list[tuple[str, str]] = field(default_factory=list)  # gated (test, metric) of the base, gone


def _short(test: str) -> str:
    """A test's key without its file: ``test_x[standard] no-overfitting[N=5000]``."""
    return (test.split("::", 1)[1] if "::" in test else test).replace("::", " ")


def _checks_by_metric(test: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for c in test.get("checks", []):
        key, i = str(c["metric"]), 1
        while key in out:  # the same metric twice in one verdict: pair them in order
            i += 1
            key = f"{c['metric']} #{i}"
        out[key] = c
    return out


def _label(data: Mapping[str, Any], default: str) -> str:
    if data.get("file"):
        return Path(str(data["file"])).name
    meta = data.get("meta", {})
    if "number" in meta and "name" in meta:
        return f"{int(meta['number']):04d}_{meta['name']}"
    return default


def _as_snapshot(x: Mapping[str, Any] | Iterable[Row]) -> Mapping[str, Any]:
    if isinstance(x, Mapping):
        if x.get("format") != FORMAT:
            raise GenprobeError(f"not a genprobe save (format {x.get('format')!r}, expected {FORMAT!r})")
        return x
    return snapshot(x)


def compare(base: Mapping[str, Any] | Iterable[Row], new: Mapping[str, Any] | Iterable[Row]) -> Comparison:
    """Pair two saves (from :func:`load`, or a session's rows) by test, metric and seed.

    Only seeds in both are compared: the same seed means the same points and
    initialisation, so its change is a paired measurement.
    """
    b, n = _as_snapshot(base), _as_snapshot(new)
    out = Comparison(base=_label(b, "base"), new=_label(n, "new"))
    bt, nt = _keyed(b["tests"]), _keyed(n["tests"])
    out.metrics = {m for tests in (bt, nt) for t in tests.values() for m in _checks_by_metric(t)}
    out.added = [t for t in nt if t not in bt]
    out.removed = [t for t in bt if t not in nt]
    for test in (t for t in nt if t in bt):
        if bt[test].get("subject") != nt[test].get("subject"):
            out.notes.append(
                f"{_short(test)}: the model changed, from {bt[test].get('subject')} to {nt[test].get('subject')}"
            )
        bc, nc = _checks_by_metric(bt[test]), _checks_by_metric(nt[test])
        out.added_checks += [(test, m) for m in nc if m not in bc]
        out.removed_checks += [(test, m) for m in bc if m not in nc]
        for metric in (m for m in nc if m in bc):
            old, cur = bc[metric], nc[metric]
            if old["op"] != cur["op"]:
                out.notes.append(f"{_short(test)} {metric}: op changed from {old['op']} to {cur['op']}, not compared")
                continue
            ov, nv = old["values"], cur["values"]
            if not isinstance(ov, Mapping) or not isinstance(nv, Mapping):
                out.notes.append(f"{_short(test)} {metric}: values are not one per seed, not compared")
                continue
            ov = {int(s): float(v) for s, v in ov.items()}
            nv = {int(s): float(v) for s, v in nv.items()}
            seeds = tuple(s for s in nv if s in ov)
            out.pairs.append(
                Pair(
                    test=test,
                    metric=metric,
                    op=str(cur["op"]),
                    seeds=seeds,
                    old=tuple(ov[s] for s in seeds),
                    new=tuple(nv[s] for s in seeds),
                    only_old=tuple(s for s in ov if s not in nv),
                    only_new=tuple(s for s in nv if s not in ov),
                    expect=str(nt[test].get("expect") or "holds"),
                )
            )
    for test in out.removed:
        out.missing += [(test, m) for m in _checks_by_metric(bt[test]) if _gated(bt[test])]
    out.missing += [(t, m) for t, m in out.removed_checks if _gated(bt[t])]
    return out


def _gated(test: Mapping[str, Any]) -> bool:
    return test.get("expect") not in ("fails", "refuted")


# -- fail rules --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailRule:
    """``METRIC:DELTA``: fail when ``metric`` typically got worse by more than ``delta`` (>= 0)."""

    metric: str
    delta: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.delta:g}"


def parse_fail_rule(text: str | FailRule) -> FailRule:
    """``"METRIC:DELTA"`` -> :class:`FailRule`; split on the last ``:`` (metric names may hold any symbol).

    >>> parse_fail_rule("held_out_iou:0.05")
    FailRule(metric='held_out_iou', delta=0.05)
    >>> parse_fail_rule("held_out_iou - 1-nn: 0.1").metric
    'held_out_iou - 1-nn'
    >>> parse_fail_rule("iou")
    Traceback (most recent call last):
    ...
    genprobe.errors.GenprobeError: bad fail rule 'iou': use METRIC:DELTA, DELTA a number >= 0, e.g. held_out_iou:0.05
    """
    if isinstance(text, FailRule):
        return text
    metric, sep, number = str(text).rpartition(":")
    metric = metric.strip()
    try:
        delta = float(number.strip())
    except ValueError:
        delta = math.nan
    if not sep or not metric or not math.isfinite(delta) or delta < 0 or "\n" in str(text):
        raise GenprobeError(
            f"bad fail rule {str(text)!r}: use METRIC:DELTA, DELTA a number >= 0, e.g. held_out_iou:0.05"
        )
    return FailRule(metric, delta)


# -- judging -----------------------------------------------------------------------------------------------------

REGRESSED, OK, TOO_FEW, MISSING = "regressed", "ok", "too few seeds", "missing"


def _fmt(x: float) -> str:
    """Signed, 3 significant digits: ``-0.21``, ``+0.012``, ``0``, ``-inf``."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    return f"{x:+.3g}"


def _seeds_needed(level: float) -> int:
    """The fewest seeds with which the sign test can decide at ``level``: ``2**-n <= level``."""
    n = 1
    while binom_tail(n, n) > level:
        n += 1
    return n


@dataclass(frozen=True)
class Judgement:
    """One fail rule on one :class:`Pair`.

    Attributes:
        rule: the rule.
        pair: the (test, metric) it judged.
        level: the sign test's level (``alpha``).
        test: the sign test of "worse by more than delta" over the paired seeds.
        decision: ``regressed``, ``ok`` or ``too few seeds`` (could never decide at ``level``).
    """

    rule: FailRule
    pair: Pair
    level: float
    test: SignTest
    decision: str

    @property
    def regressed(self) -> bool:
        return self.decision in (REGRESSED, MISSING)

    @property
    def summary(self) -> str:
        """``5 of 5 seeds worse by > 0.05, error <= 0.031`` (the table's verdict cell)."""
        t, d = self.test, f"{self.rule.delta:g}"
        if self.decision == MISSING:
            return "missing from the new session"
        if self.decision == TOO_FEW:
            return f"{TOO_FEW} to decide ({t.n} paired, needs {_seeds_needed(self.level)} at level {self.level:.2g})"
        if self.decision == REGRESSED:
            return f"{t.k} of {t.n} seeds worse by > {d}, error <= {t.p_holds:.2g}"
        return f"{t.k} of {t.n} seeds worse by > {d}, p = {t.p_holds:.2g} > {self.level:.2g}"

    @property
    def explanation(self) -> str:
        """``test_x[standard] held_out_iou: 5 of 5 seeds worse by > 0.05 (median -0.21), error <= 0.031``."""
        t, d = self.test, f"{self.rule.delta:g}"
        if self.decision == MISSING:
            return f"{self.pair.name}: measured in the baseline, missing from the new session"
        head = f"{self.pair.name}: {t.k} of {t.n} seeds worse by > {d} (median {_fmt(self.pair.median)})"
        if self.decision == REGRESSED:
            return f"{head}, error <= {t.p_holds:.2g}"
        if self.decision == TOO_FEW:
            return f"{head}; {TOO_FEW} to decide at level {self.level:.2g}"
        return f"{head}, p = {t.p_holds:.2g} > {self.level:.2g}: not a regression"


def judge(
    comparison: Comparison, rules: Iterable[FailRule | str], alpha: float = ALPHA, *, strict: bool = True
) -> list[Judgement]:
    """Every rule on every (test, metric) pair of its metric.

    A pair regresses when the sign test says significantly more than half
    of its paired seeds got worse by more than ``delta`` (a diverged seed
    counts as worse), at level ``alpha`` (module docstring); a gated check of
    the base that the new save lacks regresses too. ``strict``: a rule whose metric neither save has is a
    one-line GenprobeError (a typo would otherwise pass silently).
    """
    out: list[Judgement] = []
    known = comparison.metrics
    for rule in (parse_fail_rule(r) for r in rules):
        pairs = [p for p in comparison.pairs if p.metric == rule.metric and p.seeds and p.gated]
        if strict and rule.metric not in known:
            names = ", ".join(repr(m) for m in sorted(known)) or "none"
            raise GenprobeError(f"fail rule {str(rule)!r}: no check measures {rule.metric!r}; the saves have {names}")
        # "worse by more than delta": change < -delta, strictly (no change is never worse)
        bound = math.nextafter(-rule.delta, -math.inf)
        for p in pairs:
            t = sign_test(p.changes, "<=", bound, alpha)
            if t.decision == HOLDS:
                decision = REGRESSED
            elif binom_tail(t.n, t.n) > alpha:
                decision = TOO_FEW
            else:
                decision = OK
            out.append(Judgement(rule, p, alpha, t, decision))
        for test, metric in comparison.missing:
            if metric == rule.metric:
                gone = Pair(test=test, metric=metric, op="", seeds=(), old=(), new=())
                out.append(Judgement(rule, gone, alpha, sign_test([], "<=", bound, alpha), MISSING))
    return out


def regressions(
    comparison: Comparison, rules: Iterable[FailRule | str], alpha: float = ALPHA, *, strict: bool = True
) -> list[Judgement]:
    """The (test, metric, rule) that regressed; each has a one-line ``explanation``. See :func:`judge`."""
    return [j for j in judge(comparison, rules, alpha, strict=strict) if j.regressed]


def _cell(j: Judgement, named: bool) -> str:
    text = ("REGRESSED: " if j.regressed else "") + j.summary
    return f"{j.rule} {text}" if named else text


def format_comparison(
    comparison: Comparison, rules: Iterable[FailRule | str] = (), alpha: float = ALPHA, *, strict: bool = True
) -> str:
    """A plain-text table for the terminal: test, metric, seeds, median change [min..max], each rule's verdict."""
    rules = [parse_fail_rule(r) for r in rules]
    judged: dict[tuple[str, str], list[Judgement]] = {}
    for j in judge(comparison, rules, alpha, strict=strict):
        judged.setdefault((j.pair.test, j.pair.metric), []).append(j)
    lines = [
        f"genprobe compare: {comparison.base} -> {comparison.new}; change per seed = how much better the new value is"
        " (new - old for >= checks, old - new for <= checks)"
    ]
    if rules:
        lines.append(
            "fail rules: "
            + ", ".join(map(str, rules))
            + f" (sign test over paired seeds, {alpha:g} error per test and metric; "
            "controls and expected refutations not gated)"
        )
    head = ["test", "metric", "seeds", "median change [min..max]", "verdict"]
    table = []
    for p in comparison.pairs:
        seeds = str(len(p.seeds))
        if p.only_old or p.only_new:
            seeds += f" (+{len(p.only_new)} new, -{len(p.only_old)} old)"
        spread = f"{_fmt(p.median)} [{_fmt(p.min)}..{_fmt(p.max)}]" if p.seeds else "-"
        js = judged.get((p.test, p.metric), [])
        if js:
            verdict = "; ".join(_cell(j, named=len(rules) > 1) for j in js)
        else:
            verdict = "no seeds in common" if not p.seeds else "-"
        table.append([_short(p.test), p.metric, seeds, spread, verdict])
    if table:
        widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head) - 1)]
        for r in [head, *table]:
            lines.append("  ".join([*(x.ljust(w) for x, w in zip(r, widths)), r[-1]]).rstrip())
    else:
        lines.append("no tests in common")
    for label, items in (
        ("only in the new save (added)", comparison.added),
        ("only in the base save (removed)", comparison.removed),
        ("checks only in the new save (added)", [f"{_short(t)} {m}" for t, m in comparison.added_checks]),
        ("checks only in the base save (removed)", [f"{_short(t)} {m}" for t, m in comparison.removed_checks]),
    ):
        if items:
            lines.append(f"{label}: " + ", ".join(_short(x) for x in items))
    lines.extend(f"note: {n}" for n in comparison.notes)
    return "\n".join(lines)
