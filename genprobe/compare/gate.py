"""The fail-rule gate: ``METRIC:DELTA`` judged on each paired (test, metric) by a sign test over seeds.

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
noise of the margins tables (docs/evidence/smoke.md). Controls and claims expected refuted
are not gated (better and worse are the other way round for them). A
diverged seed (NaN) counts as worse. A gated check of the base that the new
session no longer measures fails the rule. With too few paired seeds (2 at
level 0.1) a pair can never decide; it is not a regression, and the table
says so.

No torch, no pytest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import GenprobeError
from ..stats import ALPHA, HOLDS, SignTest, binom_tail, sign_test
from ..text import number
from .pairing import Comparison, Pair

__all__ = ["FailRule", "parse_fail_rule", "Judgement", "judge", "regressions"]

REGRESSED, OK, TOO_FEW, MISSING = "regressed", "ok", "too few seeds", "missing"


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


def _seeds_needed(level: float) -> int:
    """The fewest seeds with which the sign test can decide at ``level``: ``2**-n <= level``."""
    n = 1
    while binom_tail(n, n) > level:
        n += 1
    return n


@dataclass(frozen=True)
class Judgement:
    """One fail rule on one :class:`~genprobe.compare.pairing.Pair`.

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
        head = f"{self.pair.name}: {t.k} of {t.n} seeds worse by > {d} (median {number(self.pair.median, signed=True)})"
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
