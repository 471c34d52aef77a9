"""Controls: the claim functions of ``test_claims.py`` run on models that do not generalise.

Each test passes when the claim correctly *fails* for the control: a claim
that no control can fail tests nothing. Controls:

- the dot memoriser (black only at the black training points);
- the post's net trained on grey values shuffled among its N points;
- a ReLU net on random Fourier features (scale 10), which fits its training
  points exactly and draws about one piece per black point at N = 312.

The 1-NN rule is a baseline, not a memoriser: ``test_knn_baseline`` records
which claims it passes (it never fails the suite).
"""

from __future__ import annotations

import pytest

from genprobe import claims
from genprobe.profiles import POST_SIZES



def _same_seeds_by_n(runs_fn, sizes):
    return {n: runs_fn(n) for n in sizes}


@pytest.mark.claim("no-overfitting")
@pytest.mark.parametrize("control", ["dot", "shuffled"])
def test_no_overfitting_fails_on(genprobe, limits, control):
    t = limits("no-overfitting")
    n = t.pop("n")
    subject = genprobe.baseline("dot", n) if control == "dot" else genprobe.shuffled(n)
    verdict = claims.no_overfitting(subject, genprobe.baseline("dot", n), genprobe.baseline("knn", n), end_epoch=genprobe.profile.epochs, **t)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("concept-learnt")
@pytest.mark.parametrize("control", ["dot", "shuffled"])
def test_concept_learnt_fails_on(genprobe, limits, control):
    t = limits("concept-learnt")
    n = t.pop("n")
    subject = genprobe.baseline("dot", n) if control == "dot" else genprobe.shuffled(max(genprobe.profile.shuffled_sizes))
    verdict = claims.concept_learnt(subject, end_epoch=genprobe.profile.epochs, **t)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("slower")
@pytest.mark.parametrize("control", ["dot", "shuffled"])
def test_slower_fails_on(genprobe, limits, control):
    if control == "dot":
        runs = _same_seeds_by_n(lambda n: genprobe.baseline("dot", n), POST_SIZES)
    else:
        runs = _same_seeds_by_n(genprobe.shuffled, genprobe.profile.shuffled_sizes)
    verdict = claims.slower_with_less_data(runs, end_epoch=genprobe.profile.epochs, **limits("slower"))
    genprobe.check(verdict, "fails")


@pytest.mark.claim("less-stable")
@pytest.mark.parametrize("n", [2500, 312])
def test_less_stable_fails_on_dot(genprobe, limits, n):
    runs = _same_seeds_by_n(lambda m: genprobe.baseline("dot", m), (5000, n))
    verdict = claims.less_stable_with_less_data(runs, small=(n,), end_epoch=genprobe.profile.epochs, **limits("less-stable"))
    genprobe.check(verdict, "fails")


@pytest.mark.claim("ring-not-points")
@pytest.mark.parametrize("control", ["dot", "fourier", "shuffled"])
@pytest.mark.parametrize("n", [625, 312])
def test_ring_not_points_fails_on(genprobe, limits, n, control):
    if control == "shuffled" and n not in genprobe.profile.shuffled_sizes:
        pytest.skip(f"no shuffled-label control at N={n} in this profile")
    memorisers = {"dot": genprobe.baseline("dot", n), "fourier": genprobe.fourier(n)}
    subject = {"dot": lambda: genprobe.baseline("dot", n), "fourier": lambda: genprobe.fourier(n), "shuffled": lambda: genprobe.shuffled(n)}[control]()
    verdict = claims.ring_not_points(subject, memorisers, limits("ring-not-points"), end_epoch=genprobe.profile.epochs)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("contiguous")
@pytest.mark.parametrize("control", ["dot", "fourier"])
def test_contiguous_fails_on(genprobe, limits, control):
    """Point-fitting models fail "contiguous". Not the shuffled-label net: it
    has the same architecture, so the same bias to contiguous blobs (it draws
    a few blobs away from the ring), which is what this claim is about."""
    t = limits("contiguous")
    n = 312
    subject = {"dot": lambda: genprobe.baseline("dot", n), "fourier": lambda: genprobe.fourier(n)}[control]()
    verdict = claims.contiguous_regions(subject, end_epoch=genprobe.profile.epochs, **t)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("longer-helps")
def test_longer_helps_fails_on_dot(genprobe, limits):
    """A model that does not train cannot gain from training longer. (The
    shuffled-label net is no control here: its blobs drift over training and
    its IoU moved by >= 0.01 in 7 % of our seed subsets.)"""
    t = limits("longer-helps")
    p = genprobe.profile
    n = 312
    subject = genprobe.baseline("dot", n)
    verdict = claims.longer_training_helps(subject, short_epoch=p.epochs, long_epoch=p.long_epochs, **t)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("as-good-as-1nn")
@pytest.mark.parametrize("control", ["dot", "shuffled"])
def test_as_good_as_1nn_fails_on(genprobe, limits, control):
    t = limits("as-good-as-1nn")
    n = 312
    subject = genprobe.baseline("dot", n) if control == "dot" else genprobe.shuffled(n)
    verdict = claims.matches_local_interpolator(subject, genprobe.baseline("knn", n), end_epoch=genprobe.profile.epochs, **t)
    genprobe.check(verdict, "fails")


@pytest.mark.claim("knn-baseline")
@pytest.mark.parametrize("n", [5000, 2500, 625, 312])
def test_knn_baseline(genprobe, limits, n):
    """Which claims the 1-NN rule passes (recorded, never fails the suite)."""
    knn = genprobe.baseline("knn", n)
    if n == 5000:
        t = limits("no-overfitting")
        t.pop("n")
        verdict = claims.no_overfitting(knn, genprobe.baseline("dot", n), knn, **t)
    elif n == 2500:
        t = limits("concept-learnt")
        t.pop("n")
        verdict = claims.concept_learnt(knn, **t)
    else:
        memorisers = {"dot": genprobe.baseline("dot", n), "fourier": genprobe.fourier(n)}
        verdict = claims.ring_not_points(knn, memorisers, limits("ring-not-points"))
    genprobe.check(verdict, "any")
