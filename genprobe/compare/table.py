"""The comparison as a plain-text table for the terminal (what the plugin and ``genprobe compare`` print),
and as a dict for JSON (``genprobe compare --json``).

No torch, no pytest.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..stats import ALPHA
from ..text import number, table
from .gate import MISSING, FailRule, Judgement, judge, parse_fail_rule
from .pairing import Comparison, _short

__all__ = ["format_comparison", "comparison_dict"]


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
    rows = []
    for p in comparison.pairs:
        seeds = str(len(p.seeds))
        if p.only_old or p.only_new:
            seeds += f" (+{len(p.only_new)} new, -{len(p.only_old)} old)"
        spread = (
            f"{number(p.median, signed=True)} [{number(p.min, signed=True)}..{number(p.max, signed=True)}]"
            if p.seeds
            else "-"
        )
        js = judged.get((p.test, p.metric), [])
        if js:
            verdict = "; ".join(_cell(j, named=len(rules) > 1) for j in js)
        else:
            verdict = "no seeds in common" if not p.seeds else "-"
        rows.append([_short(p.test), p.metric, seeds, spread, verdict])
    if rows:
        lines.append(table(head, rows))
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


def comparison_dict(
    comparison: Comparison, rules: Iterable[FailRule | str] = (), alpha: float = ALPHA, *, strict: bool = True
) -> dict:
    """The comparison for a program: per (test, metric) its paired seeds, old and new values, changes and each
    fail rule's judgement; what only one save has; and ``regressed``, whether a rule found a regression."""
    rules = [parse_fail_rule(r) for r in rules]
    judgements = judge(comparison, rules, alpha, strict=strict)
    judged: dict[tuple[str, str], list[Judgement]] = {}
    for j in judgements:
        judged.setdefault((j.pair.test, j.pair.metric), []).append(j)
    pairs = []
    for p in comparison.pairs:
        pairs.append(
            {
                "test": p.test,
                "metric": p.metric,
                "op": p.op,
                "expect": p.expect,
                "gated": p.gated,
                "seeds": list(p.seeds),
                "old": list(p.old),
                "new": list(p.new),
                "change": list(p.changes),
                "median_change": p.median,
                "only_old": list(p.only_old),
                "only_new": list(p.only_new),
                "judgements": [
                    {"rule": str(j.rule), "decision": j.decision, "regressed": j.regressed, "summary": j.summary}
                    for j in judged.get((p.test, p.metric), [])
                ],
            }
        )
    missing = [
        {"rule": str(j.rule), "test": j.pair.test, "metric": j.pair.metric, "summary": j.summary}
        for j in judgements
        if j.decision == MISSING
    ]
    return {
        "base": comparison.base,
        "new": comparison.new,
        "rules": [str(r) for r in rules],
        "alpha": alpha,
        "regressed": any(j.regressed for j in judgements),
        "pairs": pairs,
        "missing": missing,
        "added": list(comparison.added),
        "removed": list(comparison.removed),
        "added_checks": [list(x) for x in comparison.added_checks],
        "removed_checks": [list(x) for x in comparison.removed_checks],
        "notes": list(comparison.notes),
    }
