"""The untrained rules shipped for the near-miss controls (genprobe.rules.SHIPPED): blurred dots and
disks inside the 1-NN rule's black. They are what the controls say they are, cannot be replaced, take
parameters, and leave the pinned keys of knn and dot alone."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from genprobe import rules
from genprobe.errors import GenprobeError
from genprobe.runs import RunSpec
from genprobe.sampling import grid_coords, sample_training_set
from genprobe.truth import resolve_truth


@pytest.fixture(scope="module")
def ts():
    return sample_training_set(resolve_truth("ring"), 312, 3)


def test_blur_is_black_within_its_radius_of_a_black_point(ts):
    pts = grid_coords(128)
    black = ts.coords[ts.targets < 0.5]
    dist = cKDTree(black).query(pts)[0]
    for radius in (0.01, 0.03):
        drawn = rules.predict_blur(ts, pts, radius=radius) < 0.5
        assert np.array_equal(drawn, dist <= radius)
    assert (rules.predict_blur(ts, black, radius=0.0) < 0.5).all()  # a radius of 0 is the dots


def test_disks_at_half_way_lie_inside_the_1nn_rules_black(ts):
    pts = grid_coords(256)
    knn = rules.predict_knn(ts, pts) < 0.5
    half = rules.predict_disks(ts, pts, reach=0.5) < 0.5
    assert half.any() and not (half & ~knn).any()  # never more than 1-NN
    assert half.sum() < knn.sum()  # and less: the cells' corners are left out
    wider = rules.predict_disks(ts, pts, reach=0.75) < 0.5
    assert (wider >= half).all() and (wider & ~knn).any()  # beyond half way it crosses into white cells
    # the same as every (point, disk) pair checked by brute force
    bl = ts.targets < 0.5
    black, white = ts.coords[bl].astype(float), ts.coords[~bl].astype(float)
    radius = cKDTree(white).query(black)[0] * 0.5
    d = np.hypot(pts[:, None, 0] - black[None, :, 0], pts[:, None, 1] - black[None, :, 1])
    assert np.array_equal(half, (d <= radius[None, :]).any(axis=1))


def test_the_shipped_rules_cannot_be_replaced_or_removed():
    assert rules.SHIPPED == {"blur", "disks"} and rules.SHIPPED <= set(rules.RULES)
    for name in rules.SHIPPED:
        with pytest.raises(GenprobeError, match="is a built-in rule"):
            rules.register(name, lambda ts, points: np.ones(len(points)))
        with pytest.raises(GenprobeError, match="cannot be removed"):
            rules.unregister(name)


def test_their_runs_take_parameters_and_are_keyed_by_their_source():
    spec = RunSpec(model="blur", n=312, seed=3, model_kwargs={"radius": 0.03})
    assert spec.what() == "blur(radius=0.03)" and spec.rule_params == {"radius": 0.03}
    assert spec.key != spec.replace(model_kwargs={"radius": 0.02}).key
    assert not rules.get("blur").builtin  # so the key holds its source: an edit recomputes its runs
    # knn's and dot's keys are pinned (tests/test_baseline_registry.py): the new rules leave them alone
    assert RunSpec(model="knn", n=312, seed=3).key == "a6f76fbb0bda96713d8f"
    assert RunSpec(model="dot", n=312, seed=3).key == "371fb403c3c2f4830549"
