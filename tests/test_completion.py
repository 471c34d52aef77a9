"""Ring completion: points drawn outside a wedge, and what is drawn inside it."""

from __future__ import annotations

import numpy as np
import pytest

from genprobe import claims, gallery, metrics
from genprobe.errors import GenprobeError
from genprobe.profiles import get_profile
from genprobe.runs import RunSpec
from genprobe.sampling import sample_training_set, wedge_mask
from genprobe.truth import ring
from genprobe.verdicts import HOLDS, REFUTED


def test_no_training_point_falls_in_the_wedge_and_no_wedge_changes_nothing():
    truth = ring(256)
    inside = wedge_mask(truth.shape, 90).reshape(-1)
    assert inside.mean() == pytest.approx(0.25, abs=0.01)
    ts = sample_training_set(truth, 2000, seed=3, wedge=90)
    assert len(set(ts.indices.tolist())) == 2000 and not inside[ts.indices].any()
    plain = sample_training_set(truth, 2000, seed=3)
    assert inside[plain.indices].any()
    np.testing.assert_array_equal(plain.indices, sample_training_set(truth, 2000, seed=3, wedge=0.0).indices)


def test_wedge_is_part_of_the_spec_and_checked():
    a, b = RunSpec(n=625), RunSpec(n=625, wedge=90)
    assert a.key != b.key and b.what() == "mlp/standard/wedge90"
    for bad in (-1, 360, "90", True):
        with pytest.raises(GenprobeError, match="wedge must be in"):
            RunSpec(wedge=bad)
    spec = get_profile("smoke").completion("net", 625, 0)
    assert spec.wedge == 90 and spec.epochs == get_profile("smoke").epochs


@pytest.mark.parametrize(
    "picture, coverage, contrast",
    [("ring", 1.0, 1.0), ("arc-270", 0.5, 0.5), ("white", 0.0, 0.0), ("black", 1.0, 0.0)],
)
def test_wedge_metrics_see_only_the_wedge(picture, coverage, contrast):
    res = 128
    truth = gallery.PICTURES["ring"].draw(res, None)
    m = metrics.evaluate(gallery.PICTURES[picture].draw(res, None), truth, np.zeros((res, res), bool), wedge=90)
    assert m["wedge_coverage"] == pytest.approx(coverage, abs=0.03)
    assert m["wedge_contrast"] == pytest.approx(contrast, abs=0.03)
    assert "wedge_coverage" not in metrics.evaluate(truth, truth, np.zeros((res, res), bool))


def _fake(seed, coverage, contrast):
    from tests.test_claims import fake

    return fake(seed, [0.5] * 5, wedge_coverage=[coverage] * 5, wedge_contrast=[contrast] * 5)


def test_closes_the_ring_needs_coverage_contrast_and_more_than_1nn():
    t = get_profile("smoke").thresholds["closes-the-ring"]
    knn = [_fake(s, 0.3, 0.2) for s in range(5)]
    good = [_fake(s, 0.9, 0.6) for s in range(5)]
    assert claims.closes_the_ring(good, knn, **t).at_level(0.05).status == HOLDS
    painted_black = [_fake(s, 1.0, 0.0) for s in range(5)]
    assert claims.closes_the_ring(painted_black, knn, **t).at_level(0.05).status == REFUTED
    assert claims.closes_the_ring(knn, knn, **t).at_level(0.05).status == REFUTED  # 1-NN is no better than itself
