"""Verdicts: what a claim measured, against which thresholds, and the outcome.

Kept free of pytest and torch so claims, reports and the CLI share it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import GenprobeError
from .jsonio import from_json_safe, to_json_safe
from .stats import ALPHA, HOLDS, INCONCLUSIVE, REFUTED, SignTest, design, sign_test
from .text import number

__all__ = ["Check", "Verdict", "decide_over_seeds", "HOLDS", "REFUTED", "INCONCLUSIVE"]


@dataclass
class Check:
    """One measured quantity judged over seeds by the sign test of :mod:`genprobe.stats`.

    The claim is that a typical seed meets ``op threshold``: the check holds
    when significantly more than half of the seeds meet it, is refuted when
    significantly fewer do, and is inconclusive otherwise, at this look's
    nominal levels ``alpha`` and ``alpha_refuted`` (set by the sequential
    design, :class:`genprobe.stats.Design`; see :func:`genprobe.stats.sign_test`).

    Attributes:
        metric: what was measured, e.g. ``held_out_iou``.
        values: one value per seed (NaN for a diverged seed: it misses the bound).
        op: ``>=`` or ``<=``.
        threshold: the bound each seed is held to.
        note: how a value was formed (window, comparison), for the report.
        alpha: the sign test's nominal level for "holds" at this look.
        alpha_refuted: its nominal level for "refuted" (None: ``alpha``).
        missing: what a NaN value means, for the report (a diverged run; for a frontier, a seed on
            which neither model holds the claim).
    """

    metric: str
    values: list[float]
    op: str
    threshold: float
    note: str = ""
    alpha: float = 0.05  # a single look's level, until a design judges it (Verdict.judged)
    alpha_refuted: float | None = None
    missing: str = "diverged"

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"op must be '>=' or '<=', got {self.op!r}")
        self.values = [float(v) for v in self.values]
        self.threshold = float(self.threshold)

    @property
    def test(self) -> SignTest:
        return sign_test(self.values, self.op, self.threshold, self.alpha, self.alpha_refuted)

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
        return self.test.decision

    @property
    def rule(self) -> str:
        refuted = "" if self.alpha_refuted in (None, self.alpha) else f", refuted at {self.alpha_refuted:.3g}"
        return f"{self.op} {number(self.threshold)} on most seeds (sign test, level {self.alpha:.3g}{refuted})"

    @property
    def decision(self) -> str:
        """``9 of 10 seeds >= 0.65: holds, p = 0.011``."""
        t = self.test
        side = "p" if t.decision == INCONCLUSIVE else "error <="
        return f"{t.k} of {t.n} seeds {self.op} {number(self.threshold)}: {t.decision}, {side} {t.p:.2g}"

    @property
    def measured(self) -> str:
        vals = [v for v in self.values if not math.isnan(v)]
        spread = f" [{number(min(vals))}..{number(max(vals))}]" if len(vals) > 1 else ""
        nan = f" ({len(self.values) - len(vals)} {self.missing})" if len(vals) < len(self.values) else ""
        return f"median {number(self.median)}{spread}{nan}"


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
        protocol: the training protocol of the subject's runs (``standard``
            or ``blog``; None for an untrained subject such as 1-NN).
        expect: what the test that decided it expected (``holds``,
            ``refuted``, ``fails`` or ``report``; None before a check).
        named: False when the builder named it after its check only (e.g.
            ``claims.threshold`` without ``claim=``): the test's ``claim``
            marker then gives its name.
        refuted_by: the metrics of the checks that may refute the claim,
            declared by the test before any seed is seen (a control names the
            check its model is made to break); empty: every check. The
            refuting error is split among these checks only (alpha / their
            number), so a control that breaks one check by design is refuted
            from the first 5 seeds instead of 10; the other checks are still
            measured and shown, and still decide "holds".
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
    look: int = 1  # which of the planned looks decided (1 = the first seeds)
    looks: int = 1  # looks planned (each at the levels of the exact design, genprobe.stats.Design)
    protocol: str | None = None
    expect: str | None = None
    named: bool = True
    refuted_by: list[str] = field(default_factory=list)

    def at_level(self, alpha: float, look: int = 1, looks: int = 1, alpha_refuted: float | None = None) -> Verdict:
        """This verdict with every check judged at nominal level ``alpha`` (and ``alpha_refuted`` for
        "refuted"; default ``alpha``): one look's levels."""
        for c in self.checks:
            c.alpha, c.alpha_refuted = alpha, alpha_refuted
        self.look, self.looks = look, looks
        return self

    def judged(self, counts: Sequence[int], look: int, alpha: float = ALPHA) -> Verdict:
        """This verdict at look ``look`` (1-based) of the exact design over ``counts`` seeds: each check
        holds at error ``alpha`` and refutes at ``alpha`` / the number of checks that may refute it
        (all, or those named in :attr:`refuted_by`; the others never refute), :func:`genprobe.stats.design`."""
        deciding = self.refuting_checks()
        d = design(counts, alpha, checks=max(1, len(deciding)))
        self.at_level(d.holds_level[look - 1], look, len(d.counts), d.refuted_level[look - 1])
        for c in self.checks:
            if not any(c is r for r in deciding):
                c.alpha_refuted = 0.0
        return self

    def refuting_checks(self) -> list[Check]:
        """The checks that may refute this claim: those :attr:`refuted_by` names (every one if empty).

        Raises:
            GenprobeError: a name in ``refuted_by`` that is no check's metric (one line, naming it and the checks).
        """
        if not self.refuted_by:
            return list(self.checks)
        metrics = [c.metric for c in self.checks]
        unknown = [m for m in self.refuted_by if m not in metrics]
        if unknown:
            raise GenprobeError(
                f"refuted_by={unknown[0]!r} is not a check of {self.claim}; its checks: "
                + ", ".join(repr(m) for m in metrics)
            )
        return [c for c in self.checks if c.metric in self.refuted_by]

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
        lines = [
            f"{self.claim} [{self.subject}, N={self.n}, {len(self.seeds)} seeds {_seed_text(self.seeds)}, "
            f"look {self.look} of {self.looks}]:"
            f" {self.status.upper()} - {self.statement}"
        ]
        for c in self.checks:
            per_seed = ", ".join(number(v) for v in c.values)
            lines.append(
                f"  {c.status:>12}  {c.metric}: {c.decision}; {c.measured} (per seed: {per_seed})"
                + (f"; {c.note}" if c.note else "")
            )
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status
        for c, cd in zip(self.checks, d["checks"]):
            t = c.test
            cd.update(
                status=c.status, median=c.median, rule=c.rule, measured=c.measured, decision=c.decision, k=t.k, p=t.p
            )
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        checks = [
            Check(
                **{
                    k: v
                    for k, v in c.items()
                    if k in ("metric", "values", "op", "threshold", "note", "alpha", "alpha_refuted", "missing")
                }
            )
            for c in d["checks"]
        ]
        return cls(
            claim=d["claim"],
            statement=d["statement"],
            subject=d["subject"],
            n=d["n"],
            seeds=list(d["seeds"]),
            checks=checks,
            notes=list(d.get("notes", [])),
            runs=list(d.get("runs", [])),
            role=d.get("role", "claim"),
            look=int(d.get("look", 1)),
            looks=int(d.get("looks", 1)),
            protocol=d.get("protocol"),
            expect=d.get("expect"),
            named=bool(d.get("named", True)),
            refuted_by=list(d.get("refuted_by", [])),
        )

    def to_json(self) -> str:
        """The verdict as JSON text (NaN as null, infinities as strings; :func:`genprobe.jsonio.to_json_safe`)."""
        return json.dumps(to_json_safe(self.to_dict()))

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> Verdict:
        """The verdict back from :meth:`to_json` (text, or the parsed dict), every per-seed value restored.

        >>> v = Verdict("c", "s", "mlp/standard", 312, [0, 1], [Check("m", [0.5, math.nan], ">=", 0.2)])
        >>> w = Verdict.from_json(v.to_json())
        >>> w.checks[0].values, w.status == v.status
        ([0.5, nan], True)
        """
        d = json.loads(text) if isinstance(text, str) else dict(text)
        d["checks"] = [
            dict(c, values=[from_json_safe(v) for v in c["values"]], threshold=from_json_safe(c["threshold"]))
            for c in d["checks"]
        ]
        return cls.from_dict(d)


def _seed_text(seeds: list[int]) -> str:
    """``1000-1009`` for a run of seeds, else the list."""
    if len(seeds) > 2 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


def decide_over_seeds(
    verdict: Verdict | Callable[[Any], Verdict],
    probe: Any,
    plan: Sequence[Sequence[int]],
    alpha: float,
    counts: Sequence[int] | None = None,
    refuted_by: str | Sequence[str] = (),
) -> Verdict:
    """The sequential rule: judge on each look's seeds until decided.

    Args:
        verdict: ``probe -> Verdict`` (called with ``probe.on(seeds)`` for
            each look of ``plan`` while the verdict is inconclusive), or a
            ready ``Verdict`` (judged once, on its own seeds).
        probe: anything with ``on(seeds)`` (the ``probe`` fixture).
        plan: the seeds of each look (:meth:`genprobe.profiles.Profile.plan`).
        alpha: the error of a claim over all looks, per direction
            (:func:`genprobe.stats.design`).
        counts: the seed counts of every planned look (default: ``plan``'s);
            more than ``plan`` has when only its first looks are taken (a
            ``report`` test, evidence with fewer seeds): each look keeps the
            full design's levels.
        refuted_by: the metric (or metrics) of the only checks that may refute
            the claim (:attr:`Verdict.refuted_by`); empty: every check.
    """
    declared = [refuted_by] if isinstance(refuted_by, str) else list(refuted_by)
    if isinstance(verdict, Verdict):
        n = max((len(c.values) for c in verdict.checks), default=0) or len(verdict.seeds) or 1
        if declared:
            verdict.refuted_by = declared
        return verdict.judged([n], 1, alpha)
    counts = [len(s) for s in plan] if counts is None else list(counts)
    if [len(s) for s in plan] != counts[: len(plan)]:
        raise ValueError(f"the plan's looks {[len(s) for s in plan]} are not the first of {counts}")
    v = None
    for i, seeds in enumerate(plan, 1):
        v = verdict(probe.on(tuple(seeds)))
        if declared:
            v.refuted_by = declared
        v = v.judged(counts, i, alpha)
        if v.status != INCONCLUSIVE:
            break
    if v is None:
        raise ValueError("a plan needs at least one look")
    return v
