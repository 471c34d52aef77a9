"""What a claim is written against: a profile's runs over some seeds, from any source of results.

The ``probe`` fixture (:class:`genprobe.plugin.Probe`, runs from the
session's cache or training) and the evidence replay of
``benchmarks/studies/threshold_evidence.py`` (runs from a committed export) are both a
:class:`ProfileRuns`; they differ only in where :meth:`ProfileRuns.runs` finds
a result and in what ``check`` does with the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .profiles import Profile
    from .runs import RunResult, RunSpec

__all__ = ["ProfileRuns", "RunsFrom"]


class ProfileRuns:
    """The runs of ``profile`` over ``seeds``, one result per seed in seed order.

    ``net(312)`` is the post's net at N = 312; ``baseline("knn", 312)``,
    ``shuffled(312)`` and ``fourier(312)`` are the controls on the same points;
    ``completion(model, n)`` the ring-completion runs; ``runs`` takes any specs.
    Subclasses say where results come from (:meth:`runs`) and how the same
    view over other seeds is made (:meth:`on`).
    """

    profile: Profile

    @property
    def seeds(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def thresholds(self) -> Mapping[str, Any]:
        return self.profile.thresholds

    def on(self, seeds: Sequence[int]) -> ProfileRuns:
        """The same view over other seeds."""
        raise NotImplementedError

    def runs(self, specs: list[RunSpec]) -> list[RunResult]:
        """One result per spec, in order."""
        raise NotImplementedError

    def net(self, n: int, protocol: str = "standard", **overrides: Any) -> list[RunResult]:
        return self.runs([self.profile.net(n, s, protocol, **overrides) for s in self.seeds])

    def shuffled(self, n: int, protocol: str = "standard") -> list[RunResult]:
        return self.runs([self.profile.shuffled(n, s, protocol) for s in self.seeds])

    def fourier(self, n: int, scale: float | None = None) -> list[RunResult]:
        return self.runs([self.profile.fourier(n, s, scale) for s in self.seeds])

    def baseline(self, model: str, n: int, k: int = 1, **params: Any) -> list[RunResult]:
        """An untrained rule (``knn``, ``dot`` or one registered with ``genprobe.rules.register``, its
        parameters as keywords) on the same points as ``net(n)``."""
        return self.runs([self.profile.baseline(model, n, s, k, **params) for s in self.seeds])

    def completion(self, model: str, n: int) -> list[RunResult]:
        """Ring completion: ``net``, ``knn``, ``dot``, ``fourier`` or ``shuffled``, points outside the wedge."""
        return self.runs([self.profile.completion(model, n, s) for s in self.seeds])


class RunsFrom(ProfileRuns):
    """The runs of ``profile`` over ``seeds`` from a mapping of spec to result (runs already trained or
    loaded); a spec the mapping lacks is a ``KeyError``."""

    def __init__(self, profile: Profile, seeds: Sequence[int], found: Mapping[RunSpec, RunResult]):
        self.profile, self._seeds, self._found = profile, tuple(seeds), found

    @property
    def seeds(self) -> tuple[int, ...]:
        return self._seeds

    def on(self, seeds: Sequence[int]) -> RunsFrom:
        return RunsFrom(self.profile, seeds, self._found)

    def runs(self, specs: list[RunSpec]) -> list[RunResult]:
        return [self._found[s] for s in specs]
