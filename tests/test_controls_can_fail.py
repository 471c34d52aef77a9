"""Controls that can fail (issue 31, item 5): every control of ``benchmarks/test_controls.py``, replayed on
the committed calibration evidence, decides on a check that varies across seeds and comes near its bound.

A control passes when its claim is refuted; that says something about the claim's checks only if the
control could have passed them. A control that decides on a constant cannot: the dot memoriser's held-out
IoU is 0 on every seed, a model compared with itself differs by exactly 0, and such a control is refuted
by construction whatever the bound. So, for every control (each ``check`` a test of the module makes with
``expect="fails"``), replayed on the calibration seeds 0-29 (:func:`genprobe.calibration.judge`, the suite's
own sequential check), its *deciding* checks (those its ``refuted_by`` names, else every check refuted on
the 30 seeds) must:

- vary: at least two distinct finite values over the seeds (NaN and inf alone count as constant);
- come near the bound: at least one seed meets it, or the best seed misses it by at most one standard
  deviation of the check's finite values over seeds (:data:`NEAR_SD`).

Why one standard deviation. Over 30 seeds the best seed of a roughly normal spread lies about 2 standard
deviations above its mean, so a bound within one more standard deviation lies inside about 3 of them: a
new seed meets it with a chance of the order of 1 in 500 and not 1 in a million, and a shift of the
control's values by its own seed-to-seed noise makes some seeds meet. A bound further than that could be
moved a long way without the control ever meeting it: the control then tells nothing about where it is.
The rule reads only the values, so it holds alike for a difference, a ratio, a count or a frontier.

The calibration seeds lack the runs of a rule no export holds (a new control's ``blur`` or ``disks``, a
3-NN rule): untrained runs are pure functions of their spec, so they are scored from the same seeds'
points on first use (:func:`genprobe.baselines.with_untrained`).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from genprobe import calibration
from genprobe.baselines import with_untrained
from genprobe.stats import meets
from genprobe.verdicts import Check, Verdict

ROOT = Path(__file__).resolve().parents[1]
MODULE = "benchmarks.test_controls"
#: the best seed may miss the bound by at most this many standard deviations of the check's values
NEAR_SD = 1.0


def deciding(verdict: Verdict) -> list[Check]:
    """The checks that decide a control: those its ``refuted_by`` names, else every refuted one."""
    if verdict.refuted_by:
        return [c for c in verdict.checks if c.metric in verdict.refuted_by]
    return [c for c in verdict.checks if c.status == "refuted"]


def why_not_near_miss(check: Check) -> str | None:
    """Why ``check`` could not have passed (constant, or never near its bound), or None where it could."""
    vals = np.asarray(check.values, dtype=float)
    finite = vals[np.isfinite(vals)]
    if len(np.unique(finite)) < 2:
        shown = "NaN/inf only" if len(finite) == 0 else f"{finite[0]:.4g} on every finite seed"
        return f"constant across seeds ({shown})"
    if any(meets(v, check.op, check.threshold) for v in vals):
        return None
    best = finite.max() if check.op == ">=" else finite.min()
    gap, sd = abs(best - check.threshold), float(np.std(finite, ddof=1))
    if gap <= NEAR_SD * sd:
        return None
    return (
        f"never near its bound: best seed {best:.4g} against {check.op} {check.threshold:g}, "
        f"a miss of {gap:.3g} = {gap / sd:.1f} standard deviations ({sd:.3g}) of its values"
    )


def summary(check: Check) -> str:
    vals = np.asarray(check.values, dtype=float)
    finite = vals[np.isfinite(vals)]
    spread = f"{finite.min():.3g}/{np.median(finite):.3g}/{finite.max():.3g}" if len(finite) else "no finite value"
    met = f"met {check.test.k}/{check.test.n}"
    return f"{check.metric!r} {check.op} {check.threshold:g}: min/median/max {spread}, {met}"


@pytest.fixture(scope="module")
def replayed() -> list[tuple[str, Verdict]]:
    """(test id, verdict on all the calibration seeds) of every control check of the module."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.studies import threshold_evidence as te
    finally:
        sys.path.remove(str(ROOT))
    sets = {name: with_untrained(runs) for name, runs in te.load_sets(["calibration"]).items()}
    rows = calibration.judge(sets, te.LAYOUTS["smoke"], calibration.cases((MODULE,), ROOT))
    out = []
    for row in rows:
        for outcome in row.outcomes.get("calibration", []):
            if outcome.expect == "fails" and outcome.full is not None:
                out.append((row.test, outcome.full))
    return out


def test_every_control_decides_on_a_check_that_could_have_passed(replayed):
    assert replayed, f"no control replayed from {MODULE}"
    problems = []
    for test, verdict in replayed:
        checks = deciding(verdict)
        if not checks:
            problems.append(f"{test}: not refuted on the calibration seeds ({verdict.status})")
        for check in checks:
            why = why_not_near_miss(check)
            if why is not None:
                problems.append(f"{test}: {summary(check)}: {why}")
    assert not problems, "controls refuted by construction:\n" + "\n".join(problems)


def _check(values: list[float], op: str = ">=", bound: float = 0.5) -> Check:
    return Check("m", values, op, bound)


@pytest.mark.parametrize(
    "values, op, near",
    [
        ([0.0] * 10, ">=", False),  # the dot memoriser's held-out IoU
        ([math.nan] * 5 + [math.inf] * 5, ">=", False),  # no finite value
        ([0.0] * 9 + [math.inf], ">=", False),  # one finite value and a censored seed
        ([0.1, 0.2, 0.15, 0.12], ">=", False),  # varies, but 6 standard deviations short
        ([0.40, 0.30, 0.35, 0.45], ">=", True),  # best seed 0.05 short, sd 0.065
        ([0.2, 0.6, 0.3, 0.25], ">=", True),  # one seed meets it
        ([0.9, 1.0, 0.95, 0.92], "<=", False),  # <=: its smallest value is the best
        ([0.52, 0.7, 0.9, 0.8], "<=", True),
    ],
)
def test_the_near_miss_rule(values, op, near):
    assert (why_not_near_miss(_check(values, op)) is None) is near


def test_the_deciding_checks_are_the_named_ones_else_the_refuted_ones():
    a, b = Check("a", [0.0] * 10, ">=", 0.5), Check("b", [0.9] * 10, ">=", 0.5)
    named = Verdict("c", "", "s", 1, list(range(10)), [a, b], refuted_by=["b"])
    assert deciding(named) == [b]
    assert deciding(Verdict("c", "", "s", 1, list(range(10)), [a, b])) == [a]
