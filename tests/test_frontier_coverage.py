"""The frontier's interval covers the true N* at its stated rate when a seed's outcomes are nested across sizes.

In the real design one seed is trained at every size, so its outcomes at different N hang together. Three
designs, each with a known N* (the size where the share of seeds holding crosses 1/2):

- ``threshold``: monotone nesting, each seed holds at every N from its own threshold up (log threshold
  normal around log N*): N* is the median per-seed threshold;
- ``latent``: a per-seed ability shifts a probit curve in log N, plus noise per size (correlated, not
  monotone per seed);
- ``independent``: every (seed, size) outcome drawn on its own (the design the old interval assumed).

Each setting (design, seeds, N*) is 2000 replicates, vectorised in numpy over the exact interval
(:func:`genprobe.frontier.exact_ends`, what :func:`genprobe.frontier.frontier` reports); the acceptance band
is exact: a correct 95 % interval passes every setting with chance >= 0.99, and one covering 0.90 passes a
setting with chance < 1e-5 (both computed with the binomial below).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from genprobe.frontier import LEVEL, critical_counts, exact_ends, frontier

GRID = (221, 312, 442, 625, 884, 1250, 1768, 2500, 3536, 5000)  # the study's 10-size grid
REPS = 2000
DESIGNS = ("threshold", "latent", "independent")
SEEDS = (6, 12, 20, 70)
# between two sizes, on a size, mid-grid, near the top, below the grid, above it
N_STARS = (260.0, 625.0, 1000.0, 4200.0, 150.0, 8000.0)
SETTINGS = len(DESIGNS) * len(SEEDS) * len(N_STARS)


def band(reps: int = REPS, level: float = LEVEL, settings: int = SETTINGS, family: float = 0.01) -> int:
    """The fewest covering replicates a setting may have: a correct ``level`` interval meets it in every
    one of ``settings`` settings with chance at least ``1 - family`` (Bonferroni)."""
    return int(binom.ppf(family / settings, reps, level))


def outcomes(design: str, seeds: int, n_star: float, rng: np.random.Generator, reps: int = REPS) -> np.ndarray:
    """``(reps, seeds, sizes)`` booleans: does seed s hold at each size of :data:`GRID`."""
    x = np.log(np.asarray(GRID, dtype=float)) - math.log(n_star)
    if design == "threshold":  # holds from its own threshold up: nested, monotone per seed
        t = rng.normal(0.0, 0.6, size=(reps, seeds, 1))
        return x[None, None, :] >= t
    if design == "latent":  # ability u_s ~ N(0, 1.5^2) plus noise per size: share Phi(2 x / sqrt(1 + 1.5^2))
        u = rng.normal(0.0, 1.5, size=(reps, seeds, 1))
        e = rng.normal(0.0, 1.0, size=(reps, seeds, len(GRID)))
        return 2.0 * x[None, None, :] + u + e > 0
    if design == "independent":
        p = 1.0 / (1.0 + np.exp(-3.0 * x))
        return rng.random((reps, seeds, len(GRID))) < p
    raise ValueError(design)


def coverage(design: str, seeds: int, n_star: float, rng: np.random.Generator) -> int:
    """How many of :data:`REPS` replicates' exact intervals (low, high] hold ``n_star``."""
    y = outcomes(design, seeds, n_star, rng)
    k = y.sum(axis=1)
    low, high = exact_ends(k, np.full(k.shape, seeds))
    grid = np.asarray(GRID, dtype=float)
    above_low = (low < 0) | (grid[np.clip(low, 0, len(GRID) - 1)] < n_star)
    below_high = (high >= len(GRID)) | (grid[np.clip(high, 0, len(GRID) - 1)] >= n_star)
    return int((above_low & below_high).sum())


def test_the_band_tells_090_from_095():
    """The acceptance band itself: a correct 95 % interval passes all settings with chance >= 0.99, one that
    covers 0.90 passes any one setting with chance < 1e-5 (exact binomial)."""
    c = band()
    assert binom.sf(c - 1, REPS, LEVEL) ** SETTINGS >= 0.99
    assert binom.sf(c - 1, REPS, 0.90) < 1e-5
    assert c / REPS > 0.93


@pytest.mark.parametrize("design", DESIGNS)
def test_nested_frontier_coverage(design):
    """Coverage of the true N* at the stated 95 %, with outcomes nested within seeds (``threshold``,
    ``latent``) and independent ones, for 6-70 seeds and N* between sizes, on a size, and beyond the grid."""
    rng = np.random.default_rng(2026 + DESIGNS.index(design))
    c = band()
    found = {(s, n): coverage(design, s, n, rng) for s in SEEDS for n in N_STARS}
    low = {key: hits for key, hits in found.items() if hits < c}
    assert not low, f"{design}: covered fewer than {c} of {REPS} (a 95 % interval's band): {low}"


def test_the_old_interval_undercovers_when_nested():
    """Why the exact interval replaced the curve's own (kept as ``fit_low`` / ``fit_high``): with 12 seeds whose
    outcomes are nested (``latent``), the curve's interval misses N* = 1000 more often than 5 % does. 150
    replicates: it covers no more than a 0.95 interval does with chance 0.01 (and the exact interval of the
    same data covers at least that)."""
    rng = np.random.default_rng(7)
    y = outcomes("latent", 12, 1000.0, rng, reps=150)
    fit = exact = 0
    for rep in y:
        f = frontier(GRID, [rep[:, j].tolist() for j in range(len(GRID))], bootstrap=200, rng=rng)
        lo = 0.0 if f.fit_low is None else f.fit_low
        hi = math.inf if f.fit_high is None else f.fit_high
        fit += lo <= 1000.0 <= hi
        exact += f.covers(1000.0)
    assert fit < binom.ppf(0.01, 150, LEVEL), f"the curve's interval covered {fit} of 150"
    assert exact >= binom.ppf(0.01, 150, LEVEL), f"the exact interval covered {exact} of 150"


def test_frontier_reports_the_exact_ends():
    """frontier() reports exact_ends' sizes, on random data of every kind."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        seeds = int(rng.integers(3, 25))
        y = outcomes(str(rng.choice(DESIGNS)), seeds, float(rng.choice(N_STARS)), rng, reps=1)[0]
        f = frontier(GRID, [y[:, j].tolist() for j in range(len(GRID))], bootstrap=20)
        low, high = exact_ends(y.sum(0), np.full(len(GRID), seeds))
        assert f.low == (None if low < 0 else float(GRID[low]))
        assert f.high == (None if high >= len(GRID) else float(GRID[high]))


@pytest.mark.parametrize("seeds", [6, 12, 20, 70])
def test_each_test_errs_at_most_its_share_of_the_level(seeds):
    """Each one-sided test's exact size at a share of 1/2 is at most (1 - level) / 2."""
    below, above, size = critical_counts(seeds)
    assert above is not None and below is not None and below == seeds - above
    assert size == pytest.approx(binom.sf(above - 1, seeds, 0.5)) and size <= (1 - LEVEL) / 2
    assert binom.sf(above - 2, seeds, 0.5) > (1 - LEVEL) / 2  # one fewer would not be significant
