"""The registry of true images (genprobe.images) and how a run names one (genprobe.truth.resolve_truth,
``genprobe train --truth``): every image is exact at any resolution and is what it says it is; the ring's
pixels and digest are unchanged; bad input is a one-line error."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage
from scipy import ndimage

from genprobe import images
from genprobe.cli import main
from genprobe.errors import GenprobeError
from genprobe.metrics._core import _components, _holes
from genprobe.runs import RunSpec
from genprobe.truth import analytic, load_png, resolve_truth, ring

NAMES = images.names()
RING_DIGEST_1024 = "82da2f0dae012f45"  # ring(1024)'s digest since the ring was written: part of every ring run's key


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))


def test_at_least_seven_images_besides_the_ring():
    assert NAMES[0] == "ring" and len(NAMES) >= 8
    assert {"disc", "square", "ellipse", "two-rings", "spiral", "letter-p", "band"} <= set(NAMES)


def test_the_ring_is_unchanged():
    img = resolve_truth("ring")
    assert img.digest == ring(1024).digest == RING_DIGEST_1024
    np.testing.assert_array_equal(img.pixels, ring(1024).pixels)
    np.testing.assert_array_equal(images.get("ring").render(1024), ring(1024).black())
    np.testing.assert_array_equal(resolve_truth("ring@128").pixels, ring(128).pixels)
    assert RunSpec().truth == "ring" and RunSpec().key == RunSpec(truth="ring").key


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("res", [256, 1024])
def test_each_image_is_what_it_says(name, res):
    image = images.get(name)
    black = analytic(name, res).black()
    assert 0 < black.sum() < black.size
    assert _components(black) == image.components
    assert _holes(black) == image.holes
    assert image.euler == image.components - image.holes
    assert image.boundary and image.what and image.line_kind in ("centre line", "outline")


@pytest.mark.parametrize("name", NAMES)
def test_exact_at_any_resolution(name):
    """Rendered per pixel, not resampled: the 512^2 image is every other pixel of the 1024^2 one."""
    np.testing.assert_array_equal(analytic(name, 1024).pixels[::2, ::2], analytic(name, 512).pixels)
    assert resolve_truth(f"{name}@512").digest == analytic(name, 512).digest


@pytest.mark.parametrize("name", NAMES)
def test_line_runs_along_the_shape(name):
    """The line's points lie on the shape (its centre line) or its edge (an outline), in order, and a
    centre line reaches every black pixel within a stroke."""
    image = images.get(name)
    res = 512
    black = image.render(res)
    pts = image.line(400)
    assert pts.shape == (400, 2) and np.isfinite(pts).all()
    rows, cols = np.clip((pts[:, 1] * res).astype(int), 0, res - 1), np.clip((pts[:, 0] * res).astype(int), 0, res - 1)
    dist_to_black = ndimage.distance_transform_edt(~black)
    assert dist_to_black[rows, cols].max() <= 1.5  # on the shape (an outline: on its edge)
    steps = np.hypot(*np.diff(pts, axis=0).T)
    jumps = 1 if name == "two-rings" else 0  # from its inner ring to its outer one
    assert (steps >= 0.05).sum() == jumps  # in order along it
    if image.line_kind == "centre line":
        on_line = np.zeros_like(black)
        on_line[rows, cols] = True
        reach = ndimage.distance_transform_edt(~on_line)
        assert reach[black].max() <= 0.08 * res  # every black pixel near the line (a letter's stroke is wide)


def test_resolved_once_per_process():
    assert resolve_truth("disc") is resolve_truth("disc")
    assert resolve_truth("disc@256") is not resolve_truth("disc")
    assert not resolve_truth("disc").pixels.flags.writeable


def test_a_png_named_like_an_image_is_a_png(tmp_path, monkeypatch):
    a = np.full((16, 16), 255, np.uint8)
    a[4:8, 4:8] = 0
    monkeypatch.chdir(tmp_path)
    PILImage.fromarray(a).save("disc@2x.png")
    img = resolve_truth("disc@2x.png")
    assert img.name == "png:disc@2x.png" and int(img.black().sum()) == 16


def test_black_at_is_exact_for_analytic_and_pixel_lookup_for_png(tmp_path):
    img = resolve_truth("band@64")
    x, y = np.meshgrid(np.arange(64) / 64, np.arange(64) / 64)
    np.testing.assert_array_equal(img.black_at(x, y), img.black())
    p = tmp_path / "box.png"
    a = np.full((8, 8), 255, np.uint8)
    a[2:4, 2:6] = 0
    PILImage.fromarray(a).save(p)
    png = load_png(p)
    assert png.image is None
    x, y = np.meshgrid((np.arange(32) + 0.5) / 32, (np.arange(32) + 0.5) / 32)
    np.testing.assert_array_equal(png.black_at(x, y), np.kron(a < 128, np.ones((4, 4), bool)))
    assert not png.black_at(np.array([-0.1, 1.2]), np.array([0.3, 0.3])).any()


def test_a_registered_image_is_a_truth(tmp_path):
    try:
        images.register(
            "half",
            lambda x, y: x < 0.5,
            components=1,
            holes=0,
            line=lambda k: np.stack([np.full(k, 0.25), np.linspace(0, 1, k)], 1),
        )
        spec = RunSpec(truth="half@64", n=50)
        assert int(spec.load_truth().black().sum()) == 64 * 32
        half = images.get("half")
        assert images.register(half.name, half.black, components=1, holes=0, line=half.line) is half
        with pytest.raises(GenprobeError, match="already registered"):
            images.register("half", lambda x, y: x < 0.4, components=1, holes=0, line=half.line)
        with pytest.raises(GenprobeError, match="built-in"):
            images.register("ring", lambda x, y: x < 0.5, components=1, holes=0, line=lambda k: np.zeros((k, 2)))
    finally:
        images.unregister("half")
    with pytest.raises(GenprobeError, match="no registered image"):
        images.unregister("ring")


@pytest.mark.parametrize(
    "truth, words",
    [
        ("bogus", ["unknown true image 'bogus'", "ring", "disc", "letter-p"]),
        ("bogus@64", ["unknown true image 'bogus'"]),
        ("disc@abc", ["bad disc resolution"]),
        ("disc@4", ["disc resolution must be an integer >= 8"]),
        ("missing.png", ["not found"]),
    ],
)
def test_bad_names_are_one_line_errors(truth, words):
    with pytest.raises(GenprobeError) as info:
        resolve_truth(truth)
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_an_image_with_no_black_is_a_one_line_error(capsys):
    images.register(
        "speck", lambda x, y: (x == 0.3) & (y == 0.3), components=1, holes=0, line=lambda k: np.zeros((k, 2))
    )
    try:
        with pytest.raises(GenprobeError, match=r"^true image 'speck@8' has no black pixels at 8x8; use a larger"):
            resolve_truth("speck@8")
        assert main(["train", "--truth", "speck@64", "--epochs", "1", "--no-cache"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no black pixels" in err
    finally:
        images.unregister("speck")


def _png(tmp_path, name: str, pixels: np.ndarray):
    p = tmp_path / name
    PILImage.fromarray(pixels.astype(np.uint8)).save(p)
    return p


def test_png_must_be_two_toned(tmp_path):
    ramp = np.tile(np.linspace(0, 255, 32), (32, 1))
    with pytest.raises(GenprobeError, match=r"is not two-toned: .* mid-grey") as info:
        load_png(_png(tmp_path, "ramp.png", ramp))
    assert "ramp.png" in str(info.value) and "\n" not in str(info.value)
    # anti-aliased edges pass: a box with a grey rim on 1 % of the pixels
    box = np.full((100, 100), 255)
    box[40:60, 40:60] = 0
    box[39, 40:60] = 128
    box[60, 40:60] = 128
    box[40:60, 39] = 128
    box[40:60, 60] = 128
    assert int(load_png(_png(tmp_path, "box.png", box)).black().sum()) == 400


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: np.tile(np.linspace(0, 255, 32), (32, 1)), "not two-toned"),
        (lambda: np.full((16, 16), 255), "no black"),
        (lambda: np.full((16, 16), 200), "no black"),
    ],
)
def test_cli_bad_png_is_one_line(make, words, tmp_path, capsys):
    p = _png(tmp_path, "bad.png", make())
    assert main(["train", "--truth", str(p), "--n", "10", "--epochs", "1", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "bad.png" in err and "Traceback" not in err


def test_cli_unknown_image_is_one_line(capsys):
    assert main(["train", "--truth", "bogus", "--epochs", "1", "--no-cache"]) == 2
    out = capsys.readouterr()
    assert out.err.count("\n") == 1 and "unknown true image 'bogus'" in out.err and "letter-p" in out.err
    assert "Traceback" not in out.err and out.out == ""


TINY = ["--n", "120", "--epochs", "2", "--depth", "3", "--width", "8", "--eval-res", "32", "--curve-res", "16"]
TINY += ["--checkpoints", "1", "--no-cache", "-q"]


@pytest.mark.parametrize("name", NAMES)
def test_cli_trains_on_every_image(name, capsys, tmp_path):
    assert main(["train", "--truth", f"{name}@64", *TINY, "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "held_out_iou" in out


def test_cli_trains_on_a_png(capsys, tmp_path):
    img = np.full((48, 64), 255)
    img[10:30, 20:24] = 0
    p = _png(tmp_path, "stroke.png", img)
    assert main(["train", "--truth", str(p), *TINY]) == 0
    assert "held_out_iou" in capsys.readouterr().out
