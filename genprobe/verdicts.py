"""Verdicts: what a claim measured, against which thresholds, and the outcome.

Kept free of pytest and torch so claims, reports and the CLI share it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Check", "Verdict", "HOLDS", "REFUTED", "INCONCLUSIVE"]

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.3g}"


@dataclass
class Check:
    """One measured quantity judged over seeds.

    The rule: the median over seeds must satisfy ``op threshold`` and, when
    ``worst`` is given, every seed must satisfy ``op worst``. A median that
    passes with a seed below ``worst`` is *inconclusive* (the seeds disagree).

    Attributes:
        metric: what was measured, e.g. ``held_out_iou``.
        values: one value per seed (NaN for a diverged seed).
        op: ``>=`` or ``<=``.
        threshold: bound on the median over seeds.
        worst: bound on every single seed, or None.
        note: how a value was formed (window, comparison), for the report.
    """

    metric: str
    values: list[float]
    op: str
    threshold: float
    worst: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"op must be '>=' or '<=', got {self.op!r}")
        self.values = [float(v) for v in self.values]

    def _ok(self, x: float, bound: float) -> bool:
        if math.isnan(x):
            return False
        return x >= bound if self.op == ">=" else x <= bound

    @property
    def median(self) -> float:
        vals = np.asarray(self.values, dtype=float)
        if len(vals) == 0 or np.isnan(vals).all():
            return math.nan
        # a NaN seed (diverged) counts as the worst possible value
        fill = -math.inf if self.op == ">=" else math.inf
        return float(np.median(np.where(np.isnan(vals), fill, vals)))

    @property
    def status(self) -> str:
        if not self._ok(self.median, self.threshold):
            return REFUTED
        if self.worst is not None and not all(self._ok(v, self.worst) for v in self.values):
            return INCONCLUSIVE
        return HOLDS

    @property
    def rule(self) -> str:
        text = f"median {self.op} {_fmt(self.threshold)}"
        if self.worst is not None:
            text += f", every seed {self.op} {_fmt(self.worst)}"
        return text

    @property
    def measured(self) -> str:
        vals = [v for v in self.values if not math.isnan(v)]
        spread = f" [{_fmt(min(vals))}..{_fmt(max(vals))}]" if len(vals) > 1 else ""
        nan = f" ({len(self.values) - len(vals)} diverged)" if len(vals) < len(self.values) else ""
        return f"{_fmt(self.median)}{spread}{nan}"


@dataclass
class Verdict:
    """A claim's outcome: all its checks, over seeds, at one N.

    Attributes:
        claim: short id, e.g. ``no-overfitting``.
        statement: the claim in words.
        subject: what was tested (``mlp/standard``, ``dot``, ...).
        n: training points (or a label such as ``5000..312``).
        seeds: the seeds judged.
        checks: the measured checks; the verdict holds when all hold.
        notes: anything the report should say (diverged seeds, ...).
        runs: cache keys of the runs behind the numbers.
        role: ``claim`` (must hold), ``expected refuted``, ``reported`` (not
            gating at this scale) or ``control`` (must fail the claim).
    """

    claim: str
    statement: str
    subject: str
    n: int | str
    seeds: list[int]
    checks: list[Check]
    notes: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    role: str = "claim"

    @property
    def status(self) -> str:
        statuses = [c.status for c in self.checks]
        if not statuses:
            return INCONCLUSIVE
        if REFUTED in statuses:
            return REFUTED
        if INCONCLUSIVE in statuses:
            return INCONCLUSIVE
        return HOLDS

    @property
    def passed(self) -> bool:
        return self.status == HOLDS

    def failing(self) -> list[Check]:
        return [c for c in self.checks if c.status != HOLDS]

    def explain(self) -> str:
        """Multi-line text: every check with rule, measured values and outcome."""
        lines = [f"{self.claim} [{self.subject}, N={self.n}, seeds={self.seeds}]: {self.status.upper()} - {self.statement}"]
        for c in self.checks:
            per_seed = ", ".join(_fmt(v) for v in c.values)
            lines.append(f"  {c.status:>12}  {c.metric}: {c.measured} (per seed: {per_seed}); rule: {c.rule}" + (f"; {c.note}" if c.note else ""))
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status
        for c, cd in zip(self.checks, d["checks"]):
            cd.update(status=c.status, median=c.median, rule=c.rule, measured=c.measured)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        checks = [
            Check(**{k: v for k, v in c.items() if k in ("metric", "values", "op", "threshold", "worst", "note")})
            for c in d["checks"]
        ]
        return cls(
            claim=d["claim"], statement=d["statement"], subject=d["subject"], n=d["n"], seeds=list(d["seeds"]),
            checks=checks, notes=list(d.get("notes", [])), runs=list(d.get("runs", [])), role=d.get("role", "claim"),
        )
