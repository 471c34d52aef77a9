"""The suite's shape claims in one place: which sizes each is stated at, and how it is built.

A shape claim judges the pictures a net draws (not its training curve), so it
can be asked of any picture too (:func:`genprobe.judge.judge`, the gallery
in ``tests/test_gallery.py``). ``benchmarks/test_claims.py`` builds its shape
claims from here, so the suite, ``genprobe judge`` and the gallery judge the
same thing.

Each builder takes a probe ``g`` (the ``probe`` fixture, or its stand-ins),
the number of points and the profile, and returns a verdict on ``g.net(n, protocol)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import claims
from .profiles import POST_SIZES, Profile
from .verdicts import Verdict

__all__ = ["SHAPE_CLAIMS", "shape_claim"]


def _limits(profile: Profile, claim: str) -> dict[str, Any]:
    t = dict(profile.thresholds[claim])
    t.pop("n", None)
    return t


def _no_overfitting(g: Any, n: int, p: Profile, protocol: str = "standard") -> Verdict:
    return claims.no_overfitting(
        g.net(n, protocol),
        g.baseline("dot", n),
        g.baseline("knn", n),
        end_epoch=p.epochs,
        **_limits(p, "no-overfitting"),
    )


def _concept_learnt(g: Any, n: int, p: Profile, protocol: str = "standard") -> Verdict:
    return claims.concept_learnt(g.net(n, protocol), end_epoch=p.epochs, **_limits(p, "concept-learnt"))


def _ring_not_points(g: Any, n: int, p: Profile, protocol: str = "standard") -> Verdict:
    memorisers = {"dot": g.baseline("dot", n), "fourier": g.fourier(n)}
    return claims.ring_not_points(g.net(n, protocol), memorisers, p.thresholds["ring-not-points"], end_epoch=p.epochs)


def _contiguous(g: Any, n: int, p: Profile, protocol: str = "standard") -> Verdict:
    return claims.contiguous(g.net(n, protocol), end_epoch=p.epochs, **_limits(p, "contiguous"))


def _as_good_as_1nn(g: Any, n: int, p: Profile, protocol: str = "standard") -> Verdict:
    return claims.as_good_as_1nn(
        g.net(n, protocol), g.baseline("knn", n), end_epoch=p.epochs, **_limits(p, "as-good-as-1nn")
    )


#: claim -> (the sizes it is stated at, builder)
SHAPE_CLAIMS: dict[str, tuple[tuple[int, ...], Callable[..., Verdict]]] = {
    "no-overfitting": ((5000,), _no_overfitting),
    "concept-learnt": ((2500,), _concept_learnt),
    "ring-not-points": ((625, 312), _ring_not_points),
    "contiguous": (POST_SIZES, _contiguous),
    "as-good-as-1nn": (POST_SIZES, _as_good_as_1nn),
}


#: every N some shape claim is stated at
SHAPE_SIZES: tuple[int, ...] = tuple(sorted({n for sizes, _ in SHAPE_CLAIMS.values() for n in sizes}, reverse=True))


def shape_claim(claim: str, n: int, protocol: str = "standard") -> Callable[[Any], Verdict]:
    """``g -> Verdict`` for ``probe.check``: shape claim ``claim`` on the net at ``n`` points, ``g``'s profile."""
    sizes, build = SHAPE_CLAIMS[claim]
    if n not in sizes:
        raise ValueError(f"{claim} is stated at N in {sizes}, got {n}")
    return lambda g: build(g, n, g.profile, protocol)
