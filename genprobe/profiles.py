"""Named scales of the claim suite, in one place.

``smoke`` runs the whole of ``pytest benchmarks`` on a 2-core CPU in minutes;
``paper`` is the post's scale (6000 epochs, the 20000-epoch follow-up, 5 seeds,
1024^2 evaluation): a GPU, or the CPU with the C kernel (about 6 minutes a seed
measured alone on a 2-core AMD EPYC; docs/explanation/speed.md). Each profile's thresholds are
below, with what they were calibrated on; what each test is expected to do
comes from that profile's committed confirmation evidence
(``genprobe/evidence/<profile>.json``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import GenprobeError
from .runs import BUILTIN_NETS, RunSpec, normalise_model_kwargs
from .stats import ALPHA, looks

EVIDENCE_DIR = Path(__file__).resolve().parent / "evidence"


@functools.cache
def _evidence(profile: str) -> dict[str, Any]:
    """The generated summary of a profile's committed evidence ({} if there is none)."""
    path = EVIDENCE_DIR / f"{profile}.json"
    return json.loads(path.read_text()) if path.exists() else {}


__all__ = ["Profile", "PROFILES", "get_profile", "POST_SIZES"]

POST_SIZES = (5000, 2500, 1250, 625, 312)


@dataclass(frozen=True)
class Profile:
    """One scale of the suite.

    Nets at ``long_sizes`` train for ``long_epochs``, the others for
    ``epochs``; the post's budget ``epochs`` is read off the same runs (a run's
    first epochs do not depend on its total budget), so the longer runs give
    both views of the sparse-data claims.

    Seeds: a claim is judged on ``seeds`` first and, while its verdict is
    inconclusive, on ``seed_step`` more at a time up to ``max_seeds`` in all
    (:meth:`plan`); every look is a sign test at ``alpha`` / looks
    (:mod:`genprobe.stats`). The default seeds are neither the calibration
    seeds the thresholds were set on nor the confirmation seeds that set the
    expectations (docs/explanation/registration.md).
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
    completion_sizes: tuple[int, ...] = (1250, 625)  # ring completion: points drawn outside a wedge
    wedge: float = 90.0  # degrees of the image (around +x, from the centre) left without points
    max_seeds: int = 15  # seeds a claim may use in all
    seed_step: int = 5  # seeds added per look while a verdict is inconclusive
    alpha: float = ALPHA  # error of a check over all its looks (genprobe.stats)
    # looks a "report" test takes (the evidence cannot decide it, so more seeds
    # would cost the CI budget and gate nothing); its level stays alpha / looks
    report_looks: int = 1
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    # expectation of a test the evidence does not name: "holds" (a user's own
    # hypothesis), or "report" where this scale has no evidence over seeds yet
    unmeasured: str = "holds"

    def plan(self, start: Sequence[int], max_seeds: int | None = None) -> list[tuple[int, ...]]:
        """The seeds of each look: ``start``, then ``seed_step`` more at a time up to ``max_seeds``
        (default: the profile's; a test the evidence gates with a longer plan passes its own,
        :meth:`max_seeds_for`).

        More seeds continue after the largest start seed (``max(start) + 1``,
        ...), so a plan is fixed by its start. Starting with ``max_seeds`` or
        more seeds gives one look on all of them.

        >>> [len(s) for s in PROFILES["smoke"].plan(range(20, 25))], PROFILES["smoke"].plan(range(20, 25))[-1][-1]
        ([5, 10, 15], 34)
        """
        start = tuple(start)
        if not start:
            raise GenprobeError("a claim needs at least one seed")
        top = self.max_seeds if max_seeds is None else max_seeds
        counts = looks(len(start), self.seed_step, max(top, len(start)))
        extra = [s for s in range(max(start) + 1, max(start) + 1 + counts[-1]) if s not in start]
        seeds = start + tuple(extra)
        return [seeds[:c] for c in counts]

    def expect(self, test_id: str) -> tuple[str, str]:
        """(``holds`` | ``refuted`` | ``report``, why) for a test id such as ``test_contiguous_regions[312]``.

        Set from the committed confirmation evidence
        (``genprobe/evidence/<profile>.json``, made by
        ``python benchmarks/studies/threshold_evidence.py --write``); a test the
        evidence does not name gets the profile's ``unmeasured`` expectation
        (``holds`` for a user's own hypothesis at the smoke scale; ``report``
        at a scale with no evidence over seeds).

        >>> PROFILES["paper"].expect("test_my_own_hypothesis")[0]
        'report'
        """
        entry = _evidence(self.name).get("expectations", {}).get(test_id)
        if entry is None:
            if self.unmeasured == "holds":
                return "holds", ""
            return self.unmeasured, f"the {self.name} profile has no evidence for this test"
        return entry["expect"], entry["why"]

    def max_seeds_for(self, test_id: str) -> int:
        """The most seeds a test may take: the profile's ``max_seeds``, or more where the committed evidence
        found that only a longer plan decides it reliably (``genprobe/evidence/<profile>.json``).

        >>> PROFILES["smoke"].max_seeds_for("test_my_own_hypothesis")
        15
        """
        entry = _evidence(self.name).get("expectations", {}).get(test_id) or {}
        return int(entry.get("max_seeds", self.max_seeds))

    def gated_tests(self) -> list[str]:
        """The tests the committed evidence expects to hold or be refuted (they gate CI)."""
        return [t for t, e in _evidence(self.name).get("expectations", {}).items() if e["expect"] != "report"]

    def budget(self, n: int) -> int:
        return self.long_epochs if n in self.long_sizes else self.epochs

    def net(self, n: int, seed: int, protocol: str = "standard", **overrides: Any) -> RunSpec:
        """The post's net at this profile's scale."""
        spec = RunSpec(
            n=n,
            seed=seed,
            protocol=protocol,
            epochs=self.budget(n),
            eval_res=self.eval_res,
            curve_res=self.curve_res,
            checkpoints=self.checkpoints,
        )
        return spec.replace(**overrides) if overrides else spec

    def shuffled(self, n: int, seed: int, protocol: str = "standard") -> RunSpec:
        """Control: the same net trained on grey values shuffled among its N points."""
        return self.net(n, seed, protocol, labels="shuffled", epochs=self.budget(n))

    def fourier(self, n: int, seed: int, scale: float | None = None) -> RunSpec:
        """Control: a ReLU net on random Fourier features, which fits its points exactly."""
        arch = {k: v for k, v in BUILTIN_NETS["fourier"].items() if k not in ("lr", "batch")}
        return RunSpec(
            n=n,
            seed=seed,
            **arch | {"fourier_scale": self.fourier_scale if scale is None else scale},
            features="fourier",
            steps=self.fourier_steps,
            eval_res=self.eval_res,
            curve_res=self.curve_res,
            checkpoints=20,
        )

    def baseline(self, model: str, n: int, seed: int, k: int = 1, **params: Any) -> RunSpec:
        """An untrained rule (``knn``, ``dot`` or a registered one, with its ``params``) on the same points
        as ``net(n, seed)``."""
        return RunSpec(
            n=n,
            seed=seed,
            model=model,
            k=k,
            model_kwargs=normalise_model_kwargs(params),
            eval_res=self.eval_res,
            curve_res=self.curve_res,
        )

    def completion(self, model: str, n: int, seed: int, wedge: float | None = None) -> RunSpec:
        """Ring completion: ``model`` (``net``, ``knn``, ``dot``, ``fourier``, ``shuffled``) on points drawn
        outside the profile's wedge (or ``wedge`` degrees); nets train for the post's budget (``epochs``)."""
        w = self.wedge if wedge is None else wedge
        if model == "net":
            return self.net(n, seed, wedge=w, epochs=self.epochs)
        if model == "shuffled":
            return self.net(n, seed, wedge=w, epochs=self.epochs, labels="shuffled")
        if model == "fourier":
            return self.fourier(n, seed).replace(wedge=w)
        return self.baseline(model, n, seed).replace(wedge=w)

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
            specs += [self.completion(m, n, s) for n in self.completion_sizes for m in ("net", "knn", "dot")]
        return specs


# Thresholds. Each bound states what the claim means (a high IoU, the ring's
# topology, well above the dot memoriser, level with 1-NN, ...) at a value
# the calibration seeds (0-9) clear with margin; the sign test then needs
# nearly every seed to clear it (5 of 5, or 9 of 10). They were set looking
# at the calibration seeds only. What each claim test is expected to do is
# not set here: it comes from the confirmation seeds (100-109, C kernel and
# torch ops) through genprobe/evidence/smoke.json, generated by
# `python benchmarks/studies/threshold_evidence.py --write`, which also holds every
# per-check count these bounds give on each set (docs/evidence/smoke.md quotes it).
# Never move a threshold to make a claim pass.
# What "on the true shape" means for every shape claim: most of the black on
# the ring widened by 2 % of the image (a disk, a square frame or a ring of the
# wrong size or place has far less), and not much more black than the truth
# (so a thick annulus fails); the gallery's values for each are in the
# margins table of docs/evidence/smoke.md, generated from genprobe/evidence/gallery-smoke.json.
_ON_SHAPE = {"annulus_min": 0.75, "area_max": 1.5}

_SMOKE_THRESHOLDS: dict[str, Any] = {
    # held-out IoU of the ring, its topology (1 piece, 1 hole), far above the
    # dot memoriser (whose held-out IoU is 0 on every grid, so "far" is 0.5),
    # and no worse than 1-NN on the same points (paired by seed)
    "no-overfitting": {"n": 5000, "iou_min": 0.65, "above_dot": 0.5, "knn_tolerance": 0.05, **_ON_SHAPE},
    # the whole ring: IoU, a closed ring (1 piece, 1 hole), black at 90 % of
    # the angles around it (a 270-degree arc covers 75 %), the threshold-free
    # contrast (a dark-grey ring that a 0.5 threshold misses still counts)
    "concept-learnt": {"n": 2500, "iou_min": 0.45, "coverage_min": 0.9, "contrast_min": 0.4, **_ON_SHAPE},
    # epochs (or steps) until held-out IoU stays >= 0.3: every neighbouring
    # pair of sizes (5000/2500, ..., 625/312), paired by seed, the smaller N
    # at least one epoch (step) later; a seed that reaches 0.3 at neither
    # size has no order and counts as a miss (claims.slower). No other bound:
    # the sign test on the paired differences is the whole rule.
    "slower": {"level": 0.3},
    # late IoU jumps relative to the window's level (claims.relative_instability),
    # per seed over the same seed's at 5000 points, strictly above 1: the
    # bound of "less stable" itself, not a margin read off any seeds (a
    # model that never changes, like a memoriser, has 0 and never passes)
    "less-stable": {"factor": 1.0},
    # paired by seed against the dot memoriser and the Fourier-feature net:
    # at most half their pieces, more angular coverage and contrast than the
    # dot memoriser, more black on the widened ring and nearer to it than
    # the Fourier net (distances in image widths)
    "ring-not-points": {
        **_ON_SHAPE,
        "dot": [
            ("components", "ratio", "<=", 0.5),
            ("angular_coverage", "diff", ">=", 0.2),
            ("contrast", "diff", ">=", 0.08),
        ],
        "fourier": [
            ("components", "ratio", "<=", 0.5),
            ("annulus_share", "diff", ">=", 0.2),
            ("mean_distance", "diff", "<=", -0.03),
        ],
    },
    # about one piece per 3 black training points at most (a memoriser draws
    # a piece per point: the dot memoriser one, the Fourier net more), and a
    # real area (not all white)
    "contiguous": {"max_pieces_per_point": 0.35, "min_area_ratio": 0.3, **_ON_SHAPE},
    # IoU gain from the post's budget to the longer one, per seed
    "longer-helps": {"min_gain": 0.01},
    # the sparse net after the longer budget against the 5000-point net at the post's budget, paired by
    # seed: level with it (the 1-NN tolerance) counts as caught up
    "catches-up": {"dense": 5000, "tolerance": 0.05},
    # net - 1-NN held-out IoU, paired by seed
    "as-good-as-1nn": {"tolerance": 0.05},
    # ring completion: inside the empty wedge, black on at least half of the
    # ring's angles, a clear grey contrast (so painting it black does not
    # count), and more of it than 1-NN draws from the same points
    "closes-the-ring": {"coverage_min": 0.5, "contrast_min": 0.2, "above_knn": 0.1},
}

# The paper scale's bounds, calibrated on the paper calibration seeds 0-9 (6000 and 20000 epochs, 1024^2
# evaluation, C kernel; benchmarks/studies/evidence/paper-cpu-c-seeds0-4 and 5-9), looking at those seeds only:
# every bound above states what its claim means in terms that do not depend on the budget or the grid (a
# share of the image, of the angles, of the black points; a difference from 1-NN, the dot memoriser or
# the Fourier net on the same points; the 5000-point net's own instability and learning time), and on
# seeds 0-9 each one still separates the nets that draw the ring from the controls that do not, with
# margin on both sides (the paper margins table of docs/evidence/paper.md, generated from paper.json,
# holds the numbers). None is moved: where a paper net misses a bound on some seeds (312 points drawing
# too little black, the blog protocol at 5000 points short of 1-NN), that is the claim measured at the
# post's scale, which the confirmation seeds then decide; moving the bound to pass it would be tuning.
_PAPER_THRESHOLDS: dict[str, Any] = {claim: dict(bounds) for claim, bounds in _SMOKE_THRESHOLDS.items()}

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "smoke": Profile(
            name="smoke",
            description="CPU scale for CI: 5 seeds (up to 15 where undecided), 2000 epochs (4000 at N <= 625), "
            "256^2 evaluation",
            seeds=(1000, 1001, 1002, 1003, 1004),
            epochs=2000,
            long_epochs=4000,
            long_sizes=(625, 312),
            thresholds=MappingProxyType(_SMOKE_THRESHOLDS),
        ),
        "paper": Profile(
            name="paper",
            description="the post's scale: 6000 epochs (20000 at N <= 625), 5 seeds, 1024^2 evaluation",
            seeds=(1000, 1001, 1002, 1003, 1004),
            epochs=6000,
            long_epochs=20000,
            long_sizes=(625, 312),
            eval_res=1024,
            curve_res=256,
            checkpoints=100,
            thresholds=MappingProxyType(_PAPER_THRESHOLDS),
            unmeasured="report",
        ),
    }
)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise GenprobeError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}") from None
