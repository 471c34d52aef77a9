"""The ``probe`` fixture: runs at the session's profile, and :meth:`Probe.check`, which decides a claim.

``genprobe``, its name before 0.2, still works for one version and warns (a :class:`DeprecationWarning`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile
    from ..runs import RunResult, RunSpec
    from ..verdicts import Verdict
from ..errors import GenprobeError
from ..probe import ProfileRuns
from .session import GenprobeSession, _session
from .settings import EXPECTATIONS, VERDICT_PROPERTY

__all__ = ["Probe", "probe", "genprobe"]


class Probe(ProfileRuns):
    """What a claim test gets from the ``probe`` fixture.

    The runs of the session's profile over the probe's seeds
    (:class:`~genprobe.probe.ProfileRuns`: ``probe.net(312)``,
    ``probe.baseline("knn", 312)``, ...), cached, each trained once per
    session at most. ``probe.check(build)`` decides a claim: ``build`` maps a
    probe to a :class:`~genprobe.verdicts.Verdict`, and is called on the
    session's first seeds and, while the verdict is inconclusive, on more
    seeds (:meth:`Profile.plan`); the verdict is asserted against its
    expectation and recorded for the summary table, the report and
    ``--junitxml``.
    """

    def __init__(self, session: GenprobeSession, node: pytest.Item, seeds: tuple[int, ...] | None = None):
        self._session = session
        self._node = node
        self._seeds = seeds

    @property
    def profile(self) -> Profile:  # type: ignore[override]
        return self._session.profile

    @property
    def seeds(self) -> tuple[int, ...]:
        return self._session.seeds if self._seeds is None else self._seeds

    def on(self, seeds: Sequence[int]) -> Probe:
        """The same probe over other seeds."""
        return Probe(self._session, self._node, tuple(seeds))

    def runs(self, specs: list[RunSpec]) -> list[RunResult]:
        return self._session.results(list(specs))

    def expect(self, test_id: str | None = None) -> str:
        """The profile's expectation for a test (default: this one), from the committed evidence."""
        return self.profile.expect(test_id or self._node.name)[0]

    def check(
        self,
        verdict: Verdict | Callable[[Probe], Verdict],
        expect: str | None = None,
        refuted_by: str | Sequence[str] = (),
    ) -> Verdict:
        """Decide a claim over seeds, assert it and record it.

        Args:
            verdict: a function ``probe -> Verdict`` (from :mod:`genprobe.claims`),
                judged on the first seeds and, while inconclusive, on more,
                up to the profile's ``max_seeds``; or a ready ``Verdict``,
                judged once, on its own seeds.
            expect: None: the profile's expectation for this test, set from
                the confirmation evidence (``holds`` where no evidence names
                it); or ``holds`` (the claim must hold), ``refuted`` (our
                measurements refute the post: the test xfails with the
                numbers, and fails if the claim holds), ``fails`` (a control:
                passes only when the claim is refuted) or ``report``
                (recorded, never fails). ``holds``, ``refuted`` and ``fails``
                also fail when the verdict is still inconclusive at the
                maximum seeds.
            refuted_by: the metric (or metrics) of the only checks that may
                refute the claim, declared here before any seed is seen: a
                control names the check its model is made to break, and the
                refuting error is split among those checks only
                (:attr:`~genprobe.verdicts.Verdict.refuted_by`). Default: every
                check refutes, at alpha / their number.
        """
        __tracebackhide__ = True
        from ..jsonio import to_json_safe

        why = ""
        if expect is None:
            expect, why = self.profile.expect(self._node.name)
        if expect not in EXPECTATIONS:
            raise pytest.UsageError(f"genprobe: unknown expectation {expect!r}; choose from {', '.join(EXPECTATIONS)}")
        marked = [m.args[0] for m in self._node.iter_markers("claim") if m.args]
        if len(marked) > 1:  # before training anything
            pytest.fail(f"one claim marker per test, got {', '.join(map(repr, marked))}", pytrace=False)
        from ..verdicts import decide_over_seeds

        plan = self.profile.plan(self.seeds, self.profile.max_seeds_for(self._node.name))
        counts = [len(s) for s in plan]
        if expect == "report":
            plan = plan[: self.profile.report_looks]  # gates nothing: no extra seeds to train
        try:
            v = decide_over_seeds(verdict, self, plan, self.profile.alpha, counts=counts, refuted_by=refuted_by)
        except GenprobeError as exc:
            pytest.fail(str(exc), pytrace=False)
        v.expect = expect
        if marked and not v.named:  # a verdict its builder did not name takes the marker's claim
            v.claim, v.named = marked[0], True
        if why:
            v.notes.append(f"{self.profile.name} profile expects '{expect}': {why}")
        self._node.user_properties.append(
            (VERDICT_PROPERTY, json.dumps({"verdict": to_json_safe(v.to_dict()), "expect": expect}))
        )
        self._node.user_properties.append((f"genprobe:{v.claim}:N={v.n}:seeds", str(len(v.seeds))))
        for c in v.checks:
            self._node.user_properties.append((f"genprobe:{v.claim}:N={v.n}:{c.metric}", c.decision))
        status = v.status
        undecided = status == "inconclusive"
        more = f" at {len(v.seeds)} seeds, the most this profile trains for it" if undecided else ""
        if expect == "holds" and status != "holds":
            pytest.fail(f"expected holds, got {status}{more}:\n" + v.explain(), pytrace=False)
        if expect == "fails" and status != "refuted":
            pytest.fail(
                f"control not refuted ({status}{more}), so the claim cannot tell it apart:\n" + v.explain(),
                pytrace=False,
            )
        if expect == "refuted":
            if status != "refuted":
                tag = "[XPASS(strict)] " if status == "holds" else ""
                pytest.fail(f"{tag}expected refuted, got {status}{more}:\n" + v.explain(), pytrace=False)
            pytest.xfail(
                f"{status}: "
                + "; ".join(f"{c.metric}: {c.decision} ({c.measured})" for c in v.checks if c.status == "refuted")
            )
        return v


@pytest.fixture
def probe(request: pytest.FixtureRequest) -> Probe:
    """Runs of the post's experiment at the session's profile, and ``check``."""
    return Probe(_session(request.config), request.node)


@pytest.fixture
def genprobe(request: pytest.FixtureRequest) -> Probe:
    """Deprecated: the ``probe`` fixture's old name (it read as the package), kept for one version."""
    warnings.warn(
        "the genprobe fixture is now called probe (the class is Probe); genprobe goes in the next version",
        DeprecationWarning,
        stacklevel=2,
    )
    return Probe(_session(request.config), request.node)
