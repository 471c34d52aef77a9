"""Two snapshots paired test by test (nodeid), check by check (metric) and seed by seed.

A seed fixes the points and the initialisation, so the same seed in both
snapshots is a paired measurement and its change (:func:`change`) is the
effect of whatever changed between the two, not of luck. Only seeds in both
are compared; what only one snapshot has (tests, checks, seeds) is listed,
and a gated check of the base that the new snapshot no longer measures is
``missing`` (a fail rule on its metric fails on it,
:mod:`genprobe.compare.gate`).

No torch, no pytest.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GenprobeError
from .snapshot import FORMAT, Row, _keyed, snapshot

__all__ = ["change", "Pair", "Comparison", "compare"]


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
    """Pair two saves (from :func:`~genprobe.compare.store.load`, or a session's rows) by test, metric and seed.

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
