"""Named scales of the claim suite, in one place.

``smoke`` runs the whole of ``pytest benchmarks`` on a 2-core CPU in minutes;
``paper`` is the post's scale (6000 epochs, the 20000-epoch follow-up, 5 seeds,
1024^2 evaluation) and is meant for a GPU. Thresholds live next to the numbers
they were set from (see ``THRESHOLD_EVIDENCE`` in each profile).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .errors import GenprobeError
from .runs import RunSpec

__all__ = ["Profile", "PROFILES", "get_profile", "POST_SIZES"]

POST_SIZES = (5000, 2500, 1250, 625, 312)


@dataclass(frozen=True)
class Profile:
    """One scale of the suite.

    Every net trains for ``long_epochs``; the post's budget ``epochs`` is read
    off the same runs (a run's first epochs do not depend on its total budget).
    """

    name: str
    description: str
    seeds: tuple[int, ...]
    epochs: int  # the post's budget: claims are judged on a window ending here
    long_epochs: int  # the follow-up: "longer training helps" compares with this
    sizes: tuple[int, ...] = POST_SIZES
    protocols: tuple[str, ...] = ("standard", "blog")
    eval_res: int = 256
    curve_res: int = 128
    checkpoints: int = 60
    fourier_steps: int = 2000  # protocol.md: 4 x 256 ReLU on Fourier features, 2000 Adam steps
    fourier_scale: float = 10.0  # draws one piece per black point at N = 312
    fourier_sizes: tuple[int, ...] = (625, 312)
    shuffled_sizes: tuple[int, ...] = (5000, 312)
    long_sizes: tuple[int, ...] = POST_SIZES  # sizes trained to long_epochs (the others to epochs)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    refuted: frozenset[tuple[str, Any, str]] = frozenset()  # (claim, n, protocol) our runs refute

    def expect(self, claim: str, n: Any, protocol: str = "standard") -> str:
        """``refuted`` where this profile's measurements refute the post, else ``holds``."""
        return "refuted" if (claim, n, protocol) in self.refuted else "holds"

    def budget(self, n: int) -> int:
        return self.long_epochs if n in self.long_sizes else self.epochs

    def net(self, n: int, seed: int, protocol: str = "standard", **overrides: Any) -> RunSpec:
        """The post's net at this profile's scale."""
        spec = RunSpec(
            n=n, seed=seed, protocol=protocol, epochs=self.budget(n),
            eval_res=self.eval_res, curve_res=self.curve_res, checkpoints=self.checkpoints,
        )
        return spec.replace(**overrides) if overrides else spec

    def shuffled(self, n: int, seed: int, protocol: str = "standard") -> RunSpec:
        """Control: the same net trained on grey values shuffled among its N points."""
        return self.net(n, seed, protocol, labels="shuffled", epochs=self.budget(n))

    def fourier(self, n: int, seed: int, scale: float | None = None) -> RunSpec:
        """Control: a ReLU net on random Fourier features, which fits its points exactly."""
        return RunSpec(
            n=n, seed=seed, depth=4, width=256, negative_slope=0.0, features="fourier",
            fourier_dim=128, fourier_scale=self.fourier_scale if scale is None else scale,
            steps=self.fourier_steps, eval_res=self.eval_res, curve_res=self.curve_res, checkpoints=20,
        )

    def baseline(self, model: str, n: int, seed: int, k: int = 1) -> RunSpec:
        """``knn`` or ``dot`` on the same points as ``net(n, seed)``."""
        return RunSpec(n=n, seed=seed, model=model, k=k, eval_res=self.eval_res, curve_res=self.curve_res)

    def sweep(self, seeds: tuple[int, ...] | None = None) -> list[RunSpec]:
        """Every run the profile's claims and controls use."""
        seeds = self.seeds if seeds is None else seeds
        specs: list[RunSpec] = []
        for s in seeds:
            for n in self.sizes:
                specs += [self.net(n, s, p) for p in self.protocols]
                specs += [self.baseline("knn", n, s), self.baseline("dot", n, s)]
            specs += [self.shuffled(n, s) for n in self.shuffled_sizes]
            specs += [self.fourier(n, s) for n in self.fourier_sizes]
        return specs


# Thresholds: every number below is set from measurements over several seeds,
# with margin, and the measurements are written next to it (see README,
# "How the thresholds were set"). Never move one to make a claim pass.
_SMOKE_THRESHOLDS: dict[str, Any] = {}
_PAPER_THRESHOLDS: dict[str, Any] = {}

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "smoke": Profile(
            name="smoke",
            description="CPU scale for CI: 3 seeds, short budgets, 256^2 evaluation",
            seeds=(0, 1, 2),
            epochs=1000,
            long_epochs=3000,
            thresholds=MappingProxyType(_SMOKE_THRESHOLDS),
        ),
        "paper": Profile(
            name="paper",
            description="the post's scale for a GPU: 6000 and 20000 epochs, 5 seeds, 1024^2 evaluation",
            seeds=(0, 1, 2, 3, 4),
            epochs=6000,
            long_epochs=20000,
            eval_res=1024,
            curve_res=256,
            checkpoints=100,
            thresholds=MappingProxyType(_PAPER_THRESHOLDS),
        ),
    }
)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise GenprobeError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}") from None
