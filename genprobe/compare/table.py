"""The comparison as a plain-text table for the terminal (what the plugin and ``genprobe compare`` print).

No torch, no pytest.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..stats import ALPHA
from ..text import number
from .gate import FailRule, Judgement, judge, parse_fail_rule
from .pairing import Comparison, _short

__all__ = ["format_comparison"]


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
