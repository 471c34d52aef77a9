"""Tests for genprobe.metrics: analytic ring cases, hand-made shapes,
hypothesis properties and independent flood-fill oracles."""

from __future__ import annotations

import doctest
import math
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from genprobe import metrics as m

INNER, OUTER = 0.21875, 0.25
FAST = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------
# helpers (independent of the module under test)
# --------------------------------------------------------------------------


def ring_image(res: int, inner: float = INNER, outer: float = OUTER) -> np.ndarray:
    """The analytic ring: 0.0 where inner <= r <= outer around (0.5, 0.5), else 1.0."""
    y, x = np.mgrid[0:res, 0:res]
    r2 = (x / res - 0.5) ** 2 + (y / res - 0.5) ** 2
    return np.where((r2 >= inner**2) & (r2 <= outer**2), 0.0, 1.0)


def disk(shape, centre, radius) -> np.ndarray:
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius**2


def grey_from(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 0.0, 1.0)


def angles(res: int) -> np.ndarray:
    y, x = np.mgrid[0:res, 0:res]
    return np.degrees(np.arctan2(y - res / 2, x - res / 2))


def flood_count(mask: np.ndarray, eight: bool, skip_border: bool = False) -> int:
    """Count connected True pieces by BFS; optionally drop those touching the border."""
    h, w = mask.shape
    seen = np.zeros_like(mask, dtype=bool)
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if eight:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    count = 0
    for i in range(h):
        for j in range(w):
            if not mask[i, j] or seen[i, j]:
                continue
            seen[i, j] = True
            queue = deque([(i, j)])
            border = False
            while queue:
                a, b = queue.popleft()
                if a in (0, h - 1) or b in (0, w - 1):
                    border = True
                for da, db in steps:
                    na, nb = a + da, b + db
                    if 0 <= na < h and 0 <= nb < w and mask[na, nb] and not seen[na, nb]:
                        seen[na, nb] = True
                        queue.append((na, nb))
            if not (skip_border and border):
                count += 1
    return count


def nan_equal_dicts(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == pytest.approx(b[k], abs=1e-12) for k in a
    )


masks = st.integers(1, 12).flatmap(lambda h: st.integers(1, 12).flatmap(lambda w: arrays(np.bool_, (h, w))))
mask_pairs = st.tuples(st.integers(1, 10), st.integers(1, 10)).flatmap(
    lambda s: st.tuples(arrays(np.bool_, s), arrays(np.bool_, s), arrays(np.bool_, s))
)

R = 256


@pytest.fixture(scope="module")
def ring():
    return ring_image(R)


# --------------------------------------------------------------------------
# the analytic ring
# --------------------------------------------------------------------------


def test_ring_topology(ring):
    tb = m.black(ring)
    assert m.components(tb) == 1
    assert m.holes(tb) == 1


def test_ring_perfect_prediction(ring):
    assert m.angular_coverage(ring, ring) == 1.0
    assert m.annulus_share(ring, ring) == 1.0
    assert m.mean_distance_to_truth(ring, ring) == 0.0
    assert m.held_out_iou(ring, ring, np.zeros(ring.shape, bool)) == 1.0
    assert m.circle_errors(ring, ring) == (0.0, 0.0)


def test_ring_centroid_and_circle_fit(ring):
    cr, cc = m.truth_centroid(ring)
    assert cr == pytest.approx(0.5 * R, abs=1e-9) and cc == pytest.approx(0.5 * R, abs=1e-9)
    row, col, rad = m.circle_fit(m.black(ring))
    assert row == pytest.approx(0.5 * R, abs=0.05)
    assert col == pytest.approx(0.5 * R, abs=0.05)
    # Kasa radius of a filled annulus = RMS radius = sqrt((a^2 + b^2) / 2) ~ 0.2349
    assert rad == pytest.approx(0.234 * R, abs=0.005 * R)


def test_ring_contrast_perfect(ring):
    c = m.ring_contrast(ring, ring)
    assert c.shape == (72,)
    assert not np.isnan(c).any()
    np.testing.assert_allclose(c, 1.0)
    assert m.contrast_summary(c) == (1.0, 1.0)


def test_dark_grey_ring_contrast(ring):
    pred = np.where(ring < 0.5, 0.5, 1.0)
    c = m.ring_contrast(pred, ring)
    np.testing.assert_allclose(c, 0.5)
    mean, share = m.contrast_summary(c, level=0.25)
    assert mean == pytest.approx(0.5) and share == 1.0
    # threshold 0.5 is not crossed, so nothing is "black"
    assert m.angular_coverage(pred, ring) == 0.0


@pytest.mark.parametrize("value", [1.0, 0.5, 0.0])
def test_flat_prediction_contrast_zero(ring, value):
    c = m.ring_contrast(np.full(ring.shape, value), ring)
    assert not np.isnan(c).any()
    np.testing.assert_allclose(c, 0.0, atol=1e-12)


def test_all_white_prediction_is_nan_free_where_defined(ring):
    pred = np.ones(ring.shape)
    d = m.evaluate(pred, ring, np.zeros(ring.shape, bool))
    assert d["angular_coverage"] == 0.0
    assert d["contrast"] == 0.0 and d["contrast_coverage"] == 0.0
    assert d["components"] == 0.0 and d["holes"] == 0.0 and d["black_fraction"] == 0.0
    assert d["held_out_iou"] == 0.0 and d["dice"] == 0.0
    # undefined without any predicted black, documented as NaN
    for k in ("annulus_share", "mean_distance", "circle_centre_error", "circle_radius_error"):
        assert math.isnan(d[k])


def test_ring_with_gap(ring):
    pred = ring.copy()
    pred[np.abs(angles(R)) < 20] = 1.0  # cut a 40 degree wedge on the right
    pb = m.black(pred)
    assert m.components(pb) == 1
    assert m.holes(pb) == 0
    cov = m.angular_coverage(pred, ring)
    assert 0.85 < cov < 0.92  # ~ 1 - 40/360
    assert m.annulus_share(pred, ring) == 1.0


def test_half_ring(ring):
    pred = ring.copy()
    pred[:, : R // 2] = 1.0
    assert m.angular_coverage(pred, ring) == pytest.approx(0.5, abs=0.02)
    _, share = m.contrast_summary(m.ring_contrast(pred, ring))
    assert share == pytest.approx(0.5, abs=0.04)
    assert m.components(m.black(pred)) == 1


def test_memoriser_scores_low_held_out(ring):
    rng = np.random.default_rng(0)
    train = rng.random(ring.shape) < 0.05
    pred = np.where(train, ring, 1.0)  # colours only the training points
    assert m.held_out_iou(pred, ring, train) == 0.0
    assert m.components(m.black(pred)) > 20
    assert m.held_out_iou(ring, ring, train) == 1.0


def test_shifted_ring_distance_and_circle_error():
    truth = ring_image(R)
    pred = np.roll(truth, 5, axis=1)  # 5 px to the right
    d = m.mean_distance_to_truth(pred, truth)
    assert 0.0 < d <= 5.0 / R
    centre, radius = m.circle_errors(pred, truth)
    assert centre == pytest.approx(5.0 / R, abs=1e-9)
    assert radius == pytest.approx(0.0, abs=1e-9)


def test_mean_distance_exact():
    truth = np.ones((10, 20))
    truth[2, 3] = 0.0
    pred = np.ones((10, 20))
    pred[2, 3] = 0.0
    pred[6, 6] = 0.0  # 5 px away (3-4-5)
    assert m.mean_distance_to_truth(pred, truth) == pytest.approx(2.5 / 20)


def test_coverage_works_for_non_ring_truth():
    truth = grey_from(disk((64, 64), (30, 34), 10))
    assert m.angular_coverage(truth, truth) == 1.0
    pred = truth.copy()
    pred[:, 34:] = 1.0
    assert m.angular_coverage(pred, truth) == pytest.approx(0.5, abs=0.05)
    assert m.holes(m.black(truth)) == 0


def test_truth_without_black():
    truth = np.ones((16, 16))
    pred = np.zeros((16, 16))
    assert math.isnan(m.angular_coverage(pred, truth))
    assert math.isnan(m.mean_distance_to_truth(pred, truth))
    assert np.isnan(m.ring_contrast(pred, truth)).all()
    assert all(math.isnan(v) for v in m.truth_centroid(truth))
    d = m.evaluate(pred, truth, np.zeros((16, 16), bool))
    assert d["true_components"] == 0.0 and math.isnan(d["contrast"])


@FAST
@given(arrays(np.float64, (32, 32), elements=st.floats(0, 1) | st.just(float("nan"))))
def test_random_prediction_ranges(pred):
    truth = ring_image(32)
    d = m.evaluate(pred, truth, np.zeros((32, 32), bool))
    for k in ("held_out_iou", "dice", "angular_coverage", "black_fraction", "contrast_coverage"):
        assert 0.0 <= d[k] <= 1.0, k
    assert math.isnan(d["annulus_share"]) or 0.0 <= d["annulus_share"] <= 1.0
    assert math.isnan(d["mean_distance"]) or d["mean_distance"] >= 0.0
    c = m.ring_contrast(pred, truth)
    ok = c[~np.isnan(c)]  # at 32 px the ring is ~1 px thin: some of the 72 bins hold no ring pixel
    assert ok.size > 0 and np.all((ok >= -1.0) & (ok <= 1.0))
    if d["black_fraction"] == 0.0:
        assert d["angular_coverage"] == 0.0 and math.isnan(d["annulus_share"])


# --------------------------------------------------------------------------
# components / holes
# --------------------------------------------------------------------------


def test_disk_one_component_no_hole():
    d = disk((40, 40), (20, 20), 8)
    assert m.components(d) == 1 and m.holes(d) == 0


def test_two_disks():
    d = disk((40, 60), (20, 15), 8) | disk((40, 60), (20, 45), 8)
    assert m.components(d) == 2 and m.holes(d) == 0


def test_diagonal_pixels_one_component():
    d = np.eye(6, dtype=bool)
    assert m.components(d) == 1
    assert m.components(np.fliplr(d)) == 1


def test_diagonal_loop_encloses_hole():
    # a diamond drawn with 8-connected diagonal steps encloses its centre
    d = np.zeros((7, 7), bool)
    d[[1, 2, 3, 4, 5, 4, 3, 2], [3, 4, 5, 4, 3, 2, 1, 2]] = True
    assert m.components(d) == 1
    assert m.holes(d) == 1


def test_scattered_dots():
    d = np.zeros((64, 64), bool)
    d[::4, ::4] = True
    assert m.components(d) == 16 * 16
    assert m.holes(d) == 0


def test_hole_touching_border_is_not_a_hole():
    d = np.ones((5, 5), bool)
    d[0, 2] = d[1, 2] = False  # notch opening onto the border
    assert m.holes(d) == 0
    d[0, 2] = True
    assert m.holes(d) == 1


@FAST
@given(masks)
def test_components_match_flood_fill(mask):
    assert m.components(mask) == flood_count(mask, eight=True)


@FAST
@given(masks)
def test_holes_match_flood_fill(mask):
    assert m.holes(mask) == flood_count(~mask, eight=False, skip_border=True)


# --------------------------------------------------------------------------
# iou / dice
# --------------------------------------------------------------------------


@FAST
@given(mask_pairs)
def test_iou_properties(abx):
    a, b, ex = abx
    for exclude in (None, ex):
        v = m.iou(a, b, exclude)
        assert isinstance(v, float)
        assert 0.0 <= v <= 1.0
        assert v == m.iou(b, a, exclude)
        d = m.dice(a, b, exclude)
        assert d == pytest.approx(2 * v / (1 + v))


@FAST
@given(masks)
def test_iou_equal_and_disjoint(a):
    if a.any():
        assert m.iou(a, a.copy()) == 1.0
        if not a.all():
            assert m.iou(a, ~a) == 0.0
            assert m.dice(a, ~a) == 0.0
    else:
        assert m.iou(a, a) == 1.0 and m.dice(a, a) == 1.0


def test_iou_exclude_ignores_pixels():
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])
    assert m.iou(a, b) == pytest.approx(1 / 3)
    assert m.iou(a, b, exclude=np.array([[False, True, True, False]])) == 1.0
    assert m.iou(a, b, exclude=np.ones((1, 4), bool)) == 1.0  # nothing left: both empty


# --------------------------------------------------------------------------
# circle fit
# --------------------------------------------------------------------------


def test_circle_fit_exact_points():
    # integer points exactly on a circle of radius 5 around (10, 12)
    pts = [(10 + 5, 12), (10 - 5, 12), (10, 12 + 5), (10, 12 - 5), (13, 16), (7, 8), (13, 8), (7, 16)]
    mask = np.zeros((25, 25), bool)
    for r, c in pts:
        mask[r, c] = True
    row, col, rad = m.circle_fit(mask)
    assert (row, col, rad) == pytest.approx((10.0, 12.0, 5.0), abs=1e-9)


@FAST
@given(st.floats(20, 44), st.floats(20, 44), st.floats(6, 18))
def test_circle_fit_recovers_rasterised_circle(cr, cc, rad):
    y, x = np.mgrid[0:64, 0:64]
    mask = np.abs(np.hypot(y - cr, x - cc) - rad) < 0.5
    row, col, r = m.circle_fit(mask)
    assert row == pytest.approx(cr, abs=0.3)
    assert col == pytest.approx(cc, abs=0.3)
    assert r == pytest.approx(rad, abs=0.3)


def test_circle_fit_degenerate():
    mask = np.zeros((10, 10), bool)
    assert all(math.isnan(v) for v in m.circle_fit(mask))
    mask[3, 3] = mask[4, 4] = True
    assert all(math.isnan(v) for v in m.circle_fit(mask))
    mask[5, 5] = mask[6, 6] = True  # collinear
    assert all(math.isnan(v) for v in m.circle_fit(mask))
    mask[:, 2] = True  # a full column plus diagonal: not degenerate
    assert not any(math.isnan(v) for v in m.circle_fit(mask))


# --------------------------------------------------------------------------
# NaN handling
# --------------------------------------------------------------------------


def test_black_nan_is_white():
    g = np.array([[np.nan, 0.2], [0.7, 0.5]])
    assert m.black(g).tolist() == [[False, True], [False, False]]
    assert m.black(g, threshold=0.8).tolist() == [[False, True], [True, True]]


def test_nan_prediction_same_as_white(ring):
    rng = np.random.default_rng(1)
    pred = np.where(rng.random(ring.shape) < 0.5, ring, rng.random(ring.shape))
    holes_at = rng.random(ring.shape) < 0.2
    with_nan = np.where(holes_at, np.nan, pred)
    with_white = np.where(holes_at, 1.0, pred)
    train = rng.random(ring.shape) < 0.1
    targets = ring[train]
    a = m.evaluate(with_nan, ring, train, with_nan[train], targets)
    b = m.evaluate(with_white, ring, train, with_white[train], targets)
    assert nan_equal_dicts(a, b)
    np.testing.assert_array_equal(m.ring_contrast(with_nan, ring), m.ring_contrast(with_white, ring))


def test_all_nan_prediction(ring):
    pred = np.full(ring.shape, np.nan)
    d = m.evaluate(pred, ring, np.zeros(ring.shape, bool))
    assert d["contrast"] == 0.0 and d["angular_coverage"] == 0.0 and d["black_fraction"] == 0.0


# --------------------------------------------------------------------------
# training-point metrics
# --------------------------------------------------------------------------


def test_train_mse_and_recall():
    preds = np.array([0.0, 0.2, 0.9, np.nan, 1.0])
    targets = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    assert m.train_mse(preds, targets) == pytest.approx((0 + 0.04 + 0.81 + 1.0 + 0) / 5)
    assert m.black_train_recall(preds, targets) == 0.5
    assert math.isnan(m.black_train_recall(preds, np.ones(5)))
    assert math.isnan(m.train_mse(np.array([]), np.array([])))


@FAST
@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(0, 1)))
def test_train_mse_zero_on_exact(targets):
    assert m.train_mse(targets.copy(), targets) == 0.0
    r = m.black_train_recall(targets.copy(), targets)
    assert math.isnan(r) or r == 1.0


# --------------------------------------------------------------------------
# contrast summary, linear regions
# --------------------------------------------------------------------------


def test_contrast_summary():
    assert m.contrast_summary(np.array([1.0, 0.0, np.nan, 0.5])) == pytest.approx((0.5, 2 / 3))
    assert m.contrast_summary(np.array([0.1, 0.2]), level=0.15) == pytest.approx((0.15, 0.5))
    mean, share = m.contrast_summary(np.full(4, np.nan))
    assert math.isnan(mean) and math.isnan(share)


def test_linear_regions_and_boundaries():
    ids = np.array(
        [
            [1, 1, 2, 2],
            [1, 1, 2, 2],
            [3, 3, 3, 3],
        ]
    )
    assert m.linear_regions(ids) == 3
    expected = np.array(
        [
            [0, 1, 0, 0],
            [1, 1, 1, 1],
            [0, 0, 0, 0],
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(m.region_boundaries(ids), expected)
    assert not m.region_boundaries(np.zeros((3, 3), np.int64)).any()
    assert m.linear_regions(np.zeros((3, 3), np.int64)) == 1


@FAST
@given(arrays(np.int64, st.tuples(st.integers(1, 8), st.integers(1, 8)), elements=st.integers(0, 3)))
def test_boundaries_separate_regions(ids):
    b = m.region_boundaries(ids)
    # removing boundary pixels never leaves two different ids 4-adjacent
    keep = ~b
    horiz = keep[:, :-1] & keep[:, 1:] & (ids[:, :-1] != ids[:, 1:])
    vert = keep[:-1, :] & keep[1:, :] & (ids[:-1, :] != ids[1:, :])
    assert not horiz.any() and not vert.any()
    assert m.linear_regions(ids) == len(set(ids.ravel().tolist()))


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------

KEYS = {
    "held_out_iou", "dice", "components", "holes", "true_components", "true_holes",
    "angular_coverage", "annulus_share", "mean_distance", "circle_centre_error",
    "circle_radius_error", "contrast", "contrast_coverage", "black_fraction",
}  # fmt: skip


def test_evaluate_keys_and_types(ring):
    train = np.zeros(ring.shape, bool)
    train[::7, ::7] = True
    d = m.evaluate(ring, ring, train)
    assert set(d) == KEYS
    assert all(type(v) is float for v in d.values())
    d2 = m.evaluate(ring, ring, train, ring[train], ring[train])
    assert set(d2) == KEYS | {"train_mse", "black_train_recall"}
    assert all(type(v) is float for v in d2.values())
    assert d2["train_mse"] == 0.0 and d2["black_train_recall"] == 1.0
    assert d2["holes"] == d2["true_holes"] == 1.0


def test_evaluate_matches_single_metrics(ring):
    rng = np.random.default_rng(2)
    pred = np.clip(ring + rng.normal(0, 0.3, ring.shape), 0, 1)
    train = rng.random(ring.shape) < 0.1
    d = m.evaluate(pred, ring, train)
    pb, tb = m.black(pred), m.black(ring)
    assert d["held_out_iou"] == m.held_out_iou(pred, ring, train)
    assert d["dice"] == m.dice(pb, tb)
    assert d["components"] == m.components(pb) and d["holes"] == m.holes(pb)
    assert d["angular_coverage"] == m.angular_coverage(pred, ring)
    assert d["annulus_share"] == m.annulus_share(pred, ring)
    assert d["mean_distance"] == m.mean_distance_to_truth(pred, ring)
    assert (d["circle_centre_error"], d["circle_radius_error"]) == pytest.approx(m.circle_errors(pred, ring))
    assert (d["contrast"], d["contrast_coverage"]) == m.contrast_summary(m.ring_contrast(pred, ring))
    assert d["black_fraction"] == pytest.approx(pb.mean())


def test_evaluate_with_geometry_same(ring):
    # Speed is measured in benchmarks/test_speed.py, not asserted here.
    rng = np.random.default_rng(3)
    pred = rng.random(ring.shape)
    train = rng.random(ring.shape) < 0.1
    geom = m.TruthGeometry.from_truth(ring)
    assert nan_equal_dicts(m.evaluate(pred, ring, train), m.evaluate(pred, ring, train, geometry=geom))


def test_geometry_is_read_only_and_checked(ring):
    geom = m.TruthGeometry.from_truth(ring)
    with pytest.raises(ValueError):
        geom.widened[0, 0] = True
    train = np.zeros(ring.shape, bool)
    with pytest.raises(ValueError, match="widen"):
        m.evaluate(ring, ring, train, geometry=geom, widen=0.05)
    with pytest.raises(ValueError, match="threshold"):
        m.evaluate(ring, ring, train, threshold=0.3, geometry=geom)
    with pytest.raises(ValueError, match="different truth"):
        m.evaluate(ring, np.roll(ring, 3, axis=0), train, geometry=geom)
    small = ring_image(64)
    with pytest.raises(ValueError, match=r"\(64, 64\)"):
        m.evaluate(small, small, np.zeros((64, 64), bool), geometry=geom)


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


def test_shape_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(4, 4\)"):
        m.held_out_iou(np.ones((4, 4)), np.ones((4, 5)), np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        m.iou(np.zeros((4, 4), bool), np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        m.evaluate(np.ones((4, 4)), np.ones((4, 4)), np.zeros((2, 2), bool))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: m.components(x.astype(bool)),
        lambda x: m.holes(x.astype(bool)),
        lambda x: m.circle_fit(x.astype(bool)),
        lambda x: m.truth_centroid(x),
        lambda x: m.angular_coverage(x, x),
        lambda x: m.ring_contrast(x, x),
        lambda x: m.mean_distance_to_truth(x, x),
        lambda x: m.region_boundaries(x.astype(np.int64)),
        lambda x: m.linear_regions(x.astype(np.int64)),
    ],
)
def test_non_2d_rejected_with_shape(call):
    with pytest.raises(ValueError, match=r"\(16,\)"):
        call(np.ones(16))
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        call(np.ones((2, 2, 2)))


def test_other_validation():
    with pytest.raises(ValueError, match="dtype"):
        m.components(np.ones((3, 3), dtype=int))
    with pytest.raises(ValueError, match="truth"):
        m.truth_centroid(np.full((3, 3), 2.0))
    with pytest.raises(ValueError, match="truth"):
        m.truth_centroid(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="threshold"):
        m.black(np.ones((2, 2)), threshold=float("nan"))
    with pytest.raises(ValueError, match="bins"):
        m.angular_coverage(np.ones((4, 4)), np.ones((4, 4)), bins=0)
    with pytest.raises(ValueError, match="widen"):
        m.annulus_share(np.ones((4, 4)), np.ones((4, 4)), widen=-1.0)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        m.train_mse(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="together"):
        m.evaluate(np.ones((4, 4)), np.ones((4, 4)), np.zeros((4, 4), bool), pred_train=np.ones(3))
    with pytest.raises(ValueError, match=r"\(0, 4\)"):
        m.components(np.zeros((0, 4), bool))
    with pytest.raises(ValueError, match="dtype"):
        m.linear_regions(np.ones((2, 2)))


def test_public_api():
    """Every function says what it returns; the types (and the registry's table) say what they hold."""
    for name in m.__all__:
        obj = getattr(m, name)
        if name == "METRICS":
            assert isinstance(obj, dict) and all(isinstance(v, m.Metric) for v in obj.values())
            continue
        assert obj.__doc__ and ("Returns" in obj.__doc__ or isinstance(obj, type)), name


def test_doctests():
    import importlib
    import pkgutil

    attempted = 0
    for info in pkgutil.iter_modules(m.__path__):
        result = doctest.testmod(
            importlib.import_module(f"{m.__name__}.{info.name}"), optionflags=doctest.NORMALIZE_WHITESPACE
        )
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted > 10


def test_non_finite_predictions_are_white_or_black_and_no_metric_is_infinite():
    """NaN and +inf are white, -inf black; one infinite pixel cannot make the contrast infinite."""
    from genprobe import gallery
    from genprobe.metrics import evaluate

    res = 64
    truth = gallery.PICTURES["ring"].draw(res, None)
    ring = truth.astype(np.float64)
    on_ring = np.argwhere(ring < 0.5)[0]
    base = evaluate(ring, truth, np.zeros((res, res), bool))
    for bad, like in ((np.inf, 1.0), (-np.inf, 0.0), (np.nan, 1.0)):
        pred = ring.copy()
        pred[tuple(on_ring)] = bad
        same = ring.copy()
        same[tuple(on_ring)] = like
        got, want = evaluate(pred, truth, np.zeros((res, res), bool)), evaluate(same, truth, np.zeros((res, res), bool))
        assert got == want, bad
        assert all(np.isfinite(v) or np.isnan(v) for v in got.values())
    assert np.isfinite(base["contrast"])
