"""Tests for genprobe.truth (the analytic ring, PNG loading) and
genprobe.sampling (the N training pixels)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from genprobe.errors import GenprobeError
from genprobe.sampling import TrainingSet, check_n, sample_training_set
from genprobe.truth import RING_INNER, RING_OUTER, TrueImage, load_png, resolve_truth, ring

FAST = settings(max_examples=40, deadline=None)

# The analytic ring at 1024^2 (black where 0.21875 <= r <= 0.25 around
# (0.5, 0.5), pixel (i, j) at (j/1024, i/1024)) has 48,280 black pixels.
# protocol.md's "48,244" is the count of the author's PNG, which is not an
# analytic ring but PIL's rasterised outline
# ``ImageDraw.ellipse([256, 256, 768, 768], outline=0, width=32)`` (measured:
# bit-identical to centered_ring.png). The two differ only in a one-pixel
# band at the inner and outer edges: IoU 0.9676 (measured).
ANALYTIC_BLACK_1024 = 48_280
PNG_BLACK_1024 = 48_244


def _ring_png_path() -> Path | None:
    candidates = []
    if os.environ.get("GENPROBE_RING_PNG"):
        candidates.append(Path(os.environ["GENPROBE_RING_PNG"]))
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "centered_ring.png")
    for c in candidates:
        if c.is_file():
            return c
    return None


def _pil_ring() -> np.ndarray:
    """The author's ring as PIL draws it: (1024, 1024) bool, True = black."""
    im = Image.new("L", (1024, 1024), 255)
    ImageDraw.Draw(im).ellipse([256, 256, 768, 768], outline=0, width=32)
    return np.asarray(im) < 128


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# --------------------------------------------------------------------------
# the analytic ring
# --------------------------------------------------------------------------


def test_ring_1024_black_count_values_and_name():
    img = ring(1024)
    assert img.shape == (1024, 1024)
    assert img.pixels.dtype == np.float32
    assert set(np.unique(img.pixels).tolist()) == {0.0, 1.0}
    n_black = int(img.black().sum())
    assert n_black == ANALYTIC_BLACK_1024
    assert round(100 * n_black / img.n_pixels, 1) == 4.6
    assert img.name == "ring"
    assert resolve_truth("ring").digest == img.digest


def test_ring_matches_its_definition():
    """Independent rendering of 'black where inner <= r <= outer' with integer arithmetic."""
    res = 1024
    i, j = np.mgrid[0:res, 0:res].astype(np.int64)
    d2 = (j - 512) ** 2 + (i - 512) ** 2  # in pixels; inner = 224 px, outer = 256 px
    expected = (d2 >= 224**2) & (d2 <= 256**2)
    assert RING_INNER * res == 224 and RING_OUTER * res == 256
    np.testing.assert_array_equal(ring(res).black(), expected)


def test_ring_against_pil_rendering_of_the_post():
    """The analytic ring differs from the author's rasterised ring only at the edges."""
    analytic = ring(1024).black()
    pil = _pil_ring()
    # measured with Pillow 11/12: 48,244 black pixels, IoU 0.9676
    assert abs(int(pil.sum()) - PNG_BLACK_1024) <= 200
    assert _iou(analytic, pil) >= 0.96
    i, j = np.mgrid[0:1024, 0:1024]
    d = np.hypot(j - 512, i - 512)
    differ = analytic ^ pil
    near_edge = (np.abs(d - 224.5) <= 1.0) | (np.abs(d - 256.5) <= 1.0)
    assert not (differ & ~near_edge).any()


def test_ring_against_authors_png():
    path = _ring_png_path()
    if path is None:
        pytest.skip("the author's centered_ring.png is not available (set GENPROBE_RING_PNG or provide ../shared/data)")
    png = load_png(path)
    assert png.shape == (1024, 1024)
    assert set(np.unique(png.pixels).tolist()) == {0.0, 1.0}
    assert int(png.black().sum()) == PNG_BLACK_1024
    # protocol.md says the analytic ring matches the PNG at IoU 0.997; measured
    # here: 0.9676 (the analytic ring is 33 px wide on the axes, the PNG 32 px,
    # and the PNG's radii are half a pixel larger). See the module comment.
    assert _iou(ring(1024).black(), png.black()) >= 0.96
    # what the PNG really is: PIL's outline of the ring's bounding box
    assert _iou(_pil_ring(), png.black()) >= 0.99  # measured 1.0 (bit-identical)


@pytest.mark.parametrize("res", [8, 64, 128, 256])
def test_ring_at_other_resolutions(res):
    img = ring(res)
    assert img.shape == (res, res)
    assert img.name == f"ring@{res}"
    assert 0 < img.black().sum() < res * res
    assert resolve_truth(f"ring@{res}").shape == (res, res)


def test_ring_resolution_is_a_real_subsample():
    """ring(1024) sampled every 8th pixel is exactly ring(128): one continuous shape."""
    np.testing.assert_array_equal(ring(1024).pixels[::8, ::8], ring(128).pixels)


@pytest.mark.parametrize("bad", [4, 0, -8, 2.5, True, "64"])
def test_ring_bad_resolution(bad):
    with pytest.raises(GenprobeError, match=repr(bad).replace(".", r"\.")):
        ring(bad)


@pytest.mark.parametrize("bad", ["ring@", "ring@abc", "ring@4"])
def test_resolve_truth_bad_ring(bad):
    with pytest.raises(GenprobeError):
        resolve_truth(bad)


def test_digest_depends_on_pixels():
    assert ring(64).digest == ring(64).digest
    assert ring(64).digest != ring(128).digest


# --------------------------------------------------------------------------
# load_png
# --------------------------------------------------------------------------

H, W = 12, 16  # a non-square image catches row/column mix-ups


def _shape_rgb() -> np.ndarray:
    rgb = np.full((H, W, 3), 255, dtype=np.uint8)
    rgb[3:7, 2:9] = 0  # black box
    rgb[9, 10] = (128, 128, 128)  # one mid-grey pixel
    return rgb


def test_load_png_rgb(tmp_path):
    p = tmp_path / "shape.png"
    Image.fromarray(_shape_rgb(), "RGB").save(p)
    img = load_png(p)
    assert img.shape == (H, W)
    assert img.name == "png:shape.png"
    assert img.pixels.dtype == np.float32
    expected = np.ones((H, W), dtype=np.float32)
    expected[3:7, 2:9] = 0.0
    expected[9, 10] = 128 / 255
    np.testing.assert_allclose(img.pixels, expected, atol=1e-6)
    assert int(img.black().sum()) == 4 * 7
    assert resolve_truth(str(p)).digest == img.digest


def test_load_png_grey(tmp_path):
    grey = _shape_rgb()[..., 0]
    p = tmp_path / "grey.png"
    Image.fromarray(grey, "L").save(p)
    img = load_png(str(p))
    np.testing.assert_allclose(img.pixels, grey / 255.0, atol=1e-6)


def test_load_png_rgb_colour_uses_luminance(tmp_path):
    rgb = _shape_rgb()
    rgb[0, 0] = (255, 0, 0)  # pure red: luminance 0.299 -> black
    p = tmp_path / "red.png"
    Image.fromarray(rgb, "RGB").save(p)
    img = load_png(p)
    assert img.pixels[0, 0] == pytest.approx(76 / 255, abs=2 / 255)


def test_load_png_rgba_transparent_is_white(tmp_path):
    rgba = np.zeros((H, W, 4), dtype=np.uint8)  # transparent black everywhere
    rgba[3:7, 2:9] = (0, 0, 0, 255)  # opaque black box
    rgba[0, 0] = (0, 0, 0, 128)  # half-transparent black: mid-grey on white
    p = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(p)
    img = load_png(p)
    assert (img.pixels[3:7, 2:9] == 0.0).all()
    outside = np.ones((H, W), dtype=bool)
    outside[3:7, 2:9] = False
    outside[0, 0] = False
    assert (img.pixels[outside] == 1.0).all()
    assert img.pixels[0, 0] == pytest.approx(127 / 255, abs=2 / 255)  # 50 % black over white
    assert int(img.black()[outside].sum()) == 0


def test_load_png_palette_with_transparency(tmp_path):
    pal = np.zeros((H, W), dtype=np.uint8)  # index 0 (black) everywhere ...
    pal[3:7, 2:9] = 1  # ... index 1 (also black) in the box
    im = Image.fromarray(pal, "P")
    im.putpalette([0, 0, 0, 0, 0, 0] + [255] * (254 * 3))
    p = tmp_path / "pal.png"
    im.save(p, transparency=0)  # index 0 transparent -> white
    img = load_png(p)
    assert int(img.black().sum()) == 28
    assert (img.pixels[0] == 1.0).all()


def _error_message(path) -> str:
    with pytest.raises(GenprobeError) as info:
        load_png(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def test_load_png_missing(tmp_path):
    msg = _error_message(tmp_path / "missing.png")
    assert "not found" in msg


def test_load_png_directory(tmp_path):
    d = tmp_path / "folder.png"
    d.mkdir()
    _error_message(d)


def test_load_png_text_file(tmp_path):
    p = tmp_path / "notanimage.png"
    p.write_text("this is not a PNG\n")
    assert "not a readable image" in _error_message(p)


def test_load_png_truncated_png(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(_shape_rgb(), "RGB").save(good)
    p = tmp_path / "truncated.png"
    p.write_bytes(good.read_bytes()[:60])
    _error_message(p)


def test_load_png_all_white(tmp_path):
    p = tmp_path / "white.png"
    Image.new("RGB", (W, H), (255, 255, 255)).save(p)
    assert "no black" in _error_message(p)


def test_load_png_all_black(tmp_path):
    p = tmp_path / "black.png"
    Image.new("L", (W, H), 0).save(p)
    assert "no white" in _error_message(p)


def test_load_png_fully_transparent_is_all_white(tmp_path):
    p = tmp_path / "clear.png"
    Image.new("RGBA", (W, H), (0, 0, 0, 0)).save(p)
    assert "no black" in _error_message(p)


# --------------------------------------------------------------------------
# at_resolution
# --------------------------------------------------------------------------


@FAST
@given(
    res=st.integers(1, 12),
    a=st.integers(1, 5),
    b=st.integers(1, 5),
    seed=st.integers(0, 2**31),
)
def test_at_resolution_is_a_subsample_when_res_divides(res, a, b, seed):
    h, w = a * res, b * res
    pixels = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    img = TrueImage("random", pixels, "x")
    np.testing.assert_array_equal(img.at_resolution(res), pixels[::a, ::b])


@pytest.mark.parametrize("res", [1, 2, 8, 32, 64, 128, 1024])
def test_ring_at_resolution_subsample(res):
    img = ring(1024) if res in (1, 1024) else ring(128)
    s = img.shape[0] // res
    out = img.at_resolution(res)
    assert out.shape == (res, res)
    np.testing.assert_array_equal(out, img.pixels[::s, ::s])


def test_at_resolution_finer_than_image_repeats_pixels():
    img = ring(64)
    np.testing.assert_array_equal(img.at_resolution(128), np.repeat(np.repeat(img.pixels, 2, 0), 2, 1))


@pytest.mark.parametrize("bad", [0, -1])
def test_at_resolution_bad(bad):
    with pytest.raises(GenprobeError, match=str(bad)):
        ring(64).at_resolution(bad)


# --------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------


@st.composite
def truth_n_seed(draw):
    res = draw(st.integers(8, 40))
    n = draw(st.integers(1, res * res))
    seed = draw(st.integers(0, 2**32 - 1))
    return ring(res), n, seed


@FAST
@given(truth_n_seed())
def test_sample_indices_distinct_in_range_reproducible(args):
    truth, n, seed = args
    ts = sample_training_set(truth, n, seed)
    assert len(ts) == n
    assert ts.indices.dtype == np.int64
    assert len(np.unique(ts.indices)) == n
    assert ts.indices.min() >= 0 and ts.indices.max() < truth.n_pixels
    again = sample_training_set(truth, n, seed)
    np.testing.assert_array_equal(ts.indices, again.indices)
    np.testing.assert_array_equal(ts.targets, again.targets)


@FAST
@given(truth_n_seed())
def test_sample_coords_and_targets(args):
    truth, n, seed = args
    h, w = truth.shape
    ts = sample_training_set(truth, n, seed)
    rows, cols = ts.indices // w, ts.indices % w
    assert ts.coords.dtype == np.float32 and ts.coords.shape == (n, 2)
    np.testing.assert_array_equal(ts.coords[:, 0], (cols / w).astype(np.float32))  # x = j / W
    np.testing.assert_array_equal(ts.coords[:, 1], (rows / h).astype(np.float32))  # y = i / H
    np.testing.assert_array_equal(ts.targets, truth.pixels[rows, cols])
    np.testing.assert_array_equal(ts.true_targets, ts.targets)
    assert ts.targets.dtype == np.float32


@FAST
@given(n=st.integers(10, 64 * 64), a=st.integers(0, 2**32 - 1), b=st.integers(0, 2**32 - 1))
def test_sample_different_seeds_differ(n, a, b):
    assume(a != b)
    truth = ring(64)
    ia = sample_training_set(truth, n, a).indices
    ib = sample_training_set(truth, n, b).indices
    assert not np.array_equal(ia, ib)


@FAST
@given(truth_n_seed())
def test_shuffled_labels_are_a_permutation_on_the_same_points(args):
    truth, n, seed = args
    plain = sample_training_set(truth, n, seed)
    shuf = sample_training_set(truth, n, seed, shuffle_labels=True)
    np.testing.assert_array_equal(shuf.indices, plain.indices)  # the control uses the same points
    np.testing.assert_array_equal(shuf.true_targets, plain.targets)
    np.testing.assert_array_equal(np.sort(shuf.targets), np.sort(plain.targets))
    again = sample_training_set(truth, n, seed, shuffle_labels=True)
    np.testing.assert_array_equal(shuf.targets, again.targets)


def test_shuffled_labels_really_move_labels():
    truth = ring(64)
    plain = sample_training_set(truth, 500, 0)
    shuf = sample_training_set(truth, 500, 0, shuffle_labels=True)
    assert 5 <= (plain.targets < 0.5).sum() < 500  # both colours present
    assert not np.array_equal(shuf.targets, plain.targets)


def test_sample_all_pixels():
    truth = ring(16)
    ts = sample_training_set(truth, 256, 3)
    np.testing.assert_array_equal(np.sort(ts.indices), np.arange(256))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None, 64 * 64 + 1])
def test_sample_bad_n(bad):
    with pytest.raises(GenprobeError) as info:
        sample_training_set(ring(64), bad, 0)
    assert str(bad) in str(info.value)


def test_check_n_accepts_numpy_integers():
    assert check_n(np.int64(5), 100) == 5
    assert type(check_n(np.int32(5), 100)) is int


def _mask_oracle(ts: TrainingSet, res: int) -> np.ndarray:
    """Grid pixel (i, j) is the point (j/res, i/res): marked iff it is exactly a training pixel."""
    h, w = ts.truth.shape
    train = set(zip(ts.rows.tolist(), ts.cols.tolist()))
    mask = np.zeros((res, res), dtype=bool)
    for i in range(res):
        if (i * h) % res:
            continue
        for j in range(res):
            if (j * w) % res == 0 and ((i * h) // res, (j * w) // res) in train:
                mask[i, j] = True
    return mask


@FAST
@given(res=st.integers(1, 130), n=st.integers(1, 800), seed=st.integers(0, 1000))
def test_mask_at_marks_exactly_on_grid_training_points(res, n, seed):
    ts = sample_training_set(ring(64), n, seed)
    np.testing.assert_array_equal(ts.mask_at(res), _mask_oracle(ts, res))


def test_mask_at_full_resolution_and_subsample():
    truth = ring(64)
    ts = sample_training_set(truth, 300, 1)
    full = ts.mask_at(64)
    assert full.sum() == 300
    assert full.reshape(-1)[ts.indices].all()
    # at res 32 exactly the training pixels with even row and column are on the grid
    on_grid = (ts.rows % 2 == 0) & (ts.cols % 2 == 0)
    half = ts.mask_at(32)
    assert half.sum() == on_grid.sum()
    assert half[ts.rows[on_grid] // 2, ts.cols[on_grid] // 2].all()
    # and the grid's truth there is the training target
    np.testing.assert_array_equal(
        truth.at_resolution(32)[ts.rows[on_grid] // 2, ts.cols[on_grid] // 2], ts.targets[on_grid]
    )
