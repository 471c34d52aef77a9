"""The polytope memoriser (genprobe.metrics.regions): the picture that paints black every linear region of a
net holding a black training point (and, as a variant, their neighbours), and how much of the net's own
black picture lies outside it; on synthetic pattern ids and on small trained nets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genprobe.errors import GenprobeError
from genprobe.metrics import METRICS
from genprobe.metrics.regions import (
    POLYTOPE_METRICS,
    polytope_memoriser,
    polytope_metrics,
    polytope_overlap,
    region_neighbours,
)
from genprobe.model import BatchedMLP
from genprobe.runs import RunSpec
from genprobe.sampling import grid_coords, sample_training_set
from genprobe.train import train_group

# four vertical stripes of regions 10, 20, 30, 40, and a block 50 in the corner
IDS = np.repeat(np.array([[10, 20, 30, 40]]), 4, axis=0).repeat(2, axis=1)
IDS[:2, :2] = 50


def test_memoriser_paints_the_regions_of_black_points():
    poly = polytope_memoriser(IDS, np.array([30]))
    np.testing.assert_array_equal(poly, IDS == 30)
    assert not polytope_memoriser(IDS, np.array([], dtype=np.int64)).any()
    assert not polytope_memoriser(IDS, np.array([99])).any()  # a point whose region the grid does not show


def test_neighbours_share_a_grid_edge():
    assert region_neighbours(IDS, np.array([30])).tolist() == [20, 30, 40]
    assert region_neighbours(IDS, np.array([50])).tolist() == [10, 20, 50]
    poly = polytope_memoriser(IDS, np.array([50]), neighbours=True)
    np.testing.assert_array_equal(poly, np.isin(IDS, [10, 20, 50]))


def test_overlap():
    net = IDS == 30
    assert polytope_overlap(net, IDS == 30) == (0.0, 1.0)
    assert polytope_overlap(net, IDS == 40) == (1.0, 0.0)
    outside, iou = polytope_overlap(np.isin(IDS, [30, 40]), IDS == 30)
    assert (outside, iou) == (0.5, 0.5)
    nothing = np.zeros_like(net)
    assert math.isnan(polytope_overlap(nothing, net)[0]) and polytope_overlap(nothing, net)[1] == 0.0
    assert all(math.isnan(v) for v in polytope_overlap(nothing, nothing))
    with pytest.raises(GenprobeError, match="shape"):
        polytope_overlap(net, net[:2])


def test_metrics_keys_and_control():
    truth = IDS == 30
    m = polytope_metrics(IDS, IDS == 30, np.array([30]), truth, np.zeros_like(truth))
    assert set(m) == set(POLYTOPE_METRICS)
    assert m["polytope_outside"] == 0.0 and m["polytope_iou"] == 1.0 and m["polytope_held_out_iou"] == 1.0
    assert m["polytope_outside_nb"] == 0.0 and m["polytope_iou_nb"] == 1 / 3  # 20, 30, 40: 24 px, 8 of them the net's
    assert "polytope_held_out_iou" not in polytope_metrics(IDS, truth, np.array([30]))
    assert all(METRICS[k].fn is None for k in POLYTOPE_METRICS)  # titled built-ins, computed in training


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 6), st.booleans())
def test_properties_on_random_ids(seed, k, nb):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 8, (9, 7))
    black_ids = rng.choice(8, size=k)
    poly = polytope_memoriser(ids, black_ids, neighbours=nb)
    # a union of whole regions, holding every seeded one; the variant holds the plain picture
    for v in np.unique(ids):
        assert poly[ids == v].all() or not poly[ids == v].any()
    assert poly[np.isin(ids, black_ids)].all()
    assert (polytope_memoriser(ids, black_ids) <= poly).all()
    net = rng.random((9, 7)) < 0.3
    outside, iou = polytope_overlap(net, poly)
    if net.any():
        assert outside == pytest.approx((net & ~poly).sum() / net.sum())
    assert 0.0 <= iou <= 1.0


def test_on_a_small_net_every_black_point_on_the_grid_is_in_the_picture():
    """Pattern ids from a real (random) net: a black training point on the grid lies in a black region."""
    model = BatchedMLP([0], depth=4, width=8)
    res = 32
    truth = RunSpec(truth="ring@32").load_truth()
    ts = sample_training_set(truth, 300, seed=0)
    with torch.no_grad():
        _, grid_ids = model.predict_and_patterns(torch.from_numpy(grid_coords(res))[None])
        _, point_ids = model.predict_and_patterns(torch.from_numpy(ts.coords)[None])
    grid_ids = grid_ids[0].numpy().reshape(res, res)
    black = ts.targets < 0.5
    poly = polytope_memoriser(grid_ids, point_ids[0].numpy()[black])
    rows, cols = ts.grid_pixels(res, black)
    assert poly[rows, cols].all()  # at 32^2 of a 32^2 image every point is a grid pixel
    assert poly.sum() >= len(set(grid_ids[rows, cols].tolist()))


@pytest.mark.parametrize("step", ["c", "torch"])
def test_trained_runs_record_it(step):
    """A trained MLP's final metrics hold the polytope measures (same on the C kernel and torch ops)."""
    from genprobe.native import build

    if step == "c" and build.load() is None:
        pytest.skip("C kernel unavailable")
    spec = RunSpec(truth="ring@64", n=300, epochs=20, depth=4, width=12, eval_res=32, curve_res=16, checkpoints=1)
    (r,) = train_group([spec], device="cpu", progress=False, step=step)
    for k in POLYTOPE_METRICS:
        assert k in r.final
    assert 0.0 <= r.final["polytope_iou"] <= r.final["polytope_iou_nb"] + 1.0
    if r.final["black_fraction"] > 0:
        assert 0.0 <= r.final["polytope_outside_nb"] <= r.final["polytope_outside"] <= 1.0
    assert 0.0 <= r.final["polytope_held_out_iou"] <= 1.0


def test_c_kernel_ids_at_the_points_match_the_grids():
    """The final evaluation reads pattern ids on the grid and at the training points in two C-kernel
    passes of different sizes: a point on a grid pixel has that pixel's id (two nets, so each is its own)."""
    from genprobe.fastmlp import FastMLPStep
    from genprobe.native import build

    if build.load() is None:
        pytest.skip("C kernel unavailable")
    model = BatchedMLP([0, 1], depth=6, width=12)
    fast = FastMLPStep(model, backend="c")
    res = 32
    ts = sample_training_set(RunSpec(truth="ring@32").load_truth(), 300, seed=0)
    grid = torch.from_numpy(grid_coords(res))[None].expand(2, -1, -1).contiguous()
    points = torch.from_numpy(ts.coords)[None].expand(2, -1, -1).contiguous()
    with torch.no_grad():
        _, grid_ids = fast.predict_and_patterns(grid)
        _, point_ids = fast.predict_and_patterns(points)
    rows, cols = ts.grid_pixels(res)
    for b in range(2):
        np.testing.assert_array_equal(point_ids[b].numpy(), grid_ids[b].numpy().reshape(res, res)[rows, cols])
