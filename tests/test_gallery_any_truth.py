"""The gallery of any true image (genprobe.gallery.pictures_for): the same kinds of wrong picture as the
ring's, drawn from the registered images and PNGs; the ring's gallery is unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genprobe import gallery, images
from genprobe.errors import GenprobeError
from genprobe.sampling import sample_training_set
from genprobe.truth import load_png, resolve_truth

OTHERS = [n for n in images.names() if n != "ring"]
KINDS = {"dots", "blurred-dots", "1-nn", "piece-90", "piece-180", "half-line", "shifted", "small", "large"}


def test_the_rings_gallery_is_the_ring_pictures():
    for truth in ("ring", "ring@64", None):
        assert gallery.pictures_for(truth) is gallery.PICTURES
    ts = sample_training_set(resolve_truth("ring@128"), 500, 0)
    for name, pic in gallery.PICTURES.items():
        np.testing.assert_array_equal(gallery.draw(name, 64, ts), pic.draw(64, ts), err_msg=name)
    np.testing.assert_array_equal(gallery.draw("ring", 64, None), gallery.PICTURES["ring"].draw(64, None))


@pytest.mark.parametrize("name", OTHERS)
def test_each_images_gallery(name):
    truth = resolve_truth(f"{name}@256")
    pics = gallery.pictures_for(truth)
    assert gallery.pictures_for(truth) is pics  # drawn once per truth and process
    assert KINDS <= set(pics) and "ring" not in pics
    ts = sample_training_set(truth, 1250, 0)
    black = truth.black()
    assert [p for p in pics.values() if p.truth] == [pics["truth"], pics["soft-truth"]]
    np.testing.assert_array_equal(gallery.draw("truth", 256, ts) < 0.5, black)
    np.testing.assert_array_equal(gallery.draw("soft-truth", 256, ts) < 0.5, black)
    for p in pics.values():
        img = gallery.draw(p.name, 64, ts)
        assert img.shape == (64, 64) and img.dtype == np.float32 and 0 <= img.min() <= img.max() <= 1, p.name
        if not p.truth and p.name not in ("grey-0.51", "white"):
            assert not np.array_equal(gallery.draw(p.name, 256, ts) < 0.5, black), p.name
    for piece in ("piece-90", "piece-180", "piece-270", "half-line", "dots"):
        drawn = gallery.draw(piece, 256, ts) < 0.5
        assert drawn.any() or piece == "piece-90", piece
        assert (drawn <= black).all(), piece  # a piece of the shape, nothing else
    half = (gallery.draw("half-line", 256, ts) < 0.5).sum()
    assert 0.25 * black.sum() < half < 0.75 * black.sum()
    assert (gallery.draw("thick", 256, ts) < 0.5).sum() > black.sum()
    assert (gallery.draw("small", 256, ts) < 0.5).sum() < black.sum() < (gallery.draw("large", 256, ts) < 0.5).sum()


@pytest.mark.parametrize("name", OTHERS)
def test_transforms_are_exact_at_any_resolution(name):
    fine, coarse = resolve_truth(f"{name}@512"), resolve_truth(f"{name}@256")
    for p in ("small", "large", "shifted", "mirrored", "flipped", "piece-180"):
        if p in gallery.pictures_for(fine):
            a = gallery.pictures_for(fine)[p].draw(512, None)  # type: ignore[arg-type]
            b = gallery.pictures_for(coarse)[p].draw(256, None)  # type: ignore[arg-type]
            np.testing.assert_array_equal(a[::2, ::2], b, err_msg=p)


def test_symmetric_shapes_leave_out_what_gives_the_truth_again():
    disc = gallery.pictures_for("disc@256")
    assert "filled" not in disc and "mirrored" not in disc and "flipped" not in disc
    assert "filled" in gallery.pictures_for("square@256") and "mirrored" in gallery.pictures_for("letter-p@256")


def test_a_png_truth_has_a_gallery(tmp_path):
    a = np.full((60, 80), 255, np.uint8)
    a[10:40, 20:26] = 0
    a[10:16, 20:50] = 0
    p = tmp_path / "gamma.png"
    Image.fromarray(a).save(p)
    truth = load_png(p)
    pics = gallery.pictures_for(truth)
    assert {"truth", "mirrored", "half-line", "post-ring", "1-nn"} <= set(pics)
    ts = sample_training_set(truth, 400, 0)
    for name in pics:
        assert gallery.draw(name, 40, ts).shape == (40, 40)
    assert (gallery.draw("half-line", 80, ts) < 0.5).sum() > 0  # a PNG's line is unknown: a half by angle


def test_unknown_picture_names_the_gallery():
    ts = sample_training_set(resolve_truth("band@64"), 100, 0)
    with pytest.raises(GenprobeError, match="no picture 'arc-90' for this truth; its gallery has truth, soft-truth"):
        gallery.draw("arc-90", 32, ts)
