"""Tests for genprobe.report on tiny hand-made results (no training)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from genprobe import report
from genprobe.runs import RunResult, RunSpec
from genprobe.sampling import sample_training_set
from genprobe.verdicts import Check, Verdict

R = 32  # eval grid
S = report.PANEL_MIN_SIZE // R  # upscale factor (8)
P = R * S  # panel size in px


def fake_result(
    n: int = 50, seed: int = 0, model: str = "mlp", diverged_at=None, checkpoints=(0, 10, 20, 30)
) -> RunResult:
    spec = RunSpec(n=n, seed=seed, model=model, eval_res=R, curve_res=R, truth="ring@64", epochs=30)
    truth = spec.load_truth()
    pred = truth.at_resolution(R).astype(np.float32).copy()
    pred[0, 0] = np.nan  # NaN reads as white
    pred[0, 1] = 7.0  # clipped to white
    pred[0, 2] = -3.0  # clipped to black
    boundaries = None
    if model == "mlp":
        boundaries = np.zeros((R, R), dtype=bool)
        boundaries[R // 2, :] = True  # one horizontal boundary line
    ep = np.asarray(checkpoints, dtype=float)
    c = len(ep)
    history = {
        "epoch": ep,
        "step": ep * spec.steps_per_epoch,
        "held_out_iou": np.linspace(0.1, 0.6, c) + 0.01 * seed,
        "components": np.array([0.0, 40.0, 12.0, 3.0][:c]) + seed,
        "angular_coverage": np.linspace(0.0, 0.9, c),
        "contrast": np.linspace(0.0, 0.5, c),
    }
    final = {"held_out_iou": 0.6 + 0.01 * seed, "components": 3.0, "contrast": math.nan, "mean_distance": math.inf}
    return RunResult(
        spec=spec,
        history=history,
        final=final,
        prediction=pred,
        boundaries=boundaries,
        train_indices=sample_training_set(truth, n, seed).indices,
        diverged_at=diverged_at,
        meta={"seconds": 0.1, "device": "cpu", "arr": np.arange(2), "np_float": np.float32(np.nan)},
    )


def panels(img: Image.Image) -> list[np.ndarray]:
    a = np.asarray(img.convert("RGB"))
    assert a.shape[0] >= P
    a = a[a.shape[0] - P :]  # drop any title strip
    step = P + report.PANEL_GAP
    return [a[:, i * step : i * step + P] for i in range(3)]


def is_red(px: np.ndarray) -> np.ndarray:
    return (px[..., 0] == 255) & (px[..., 1] == 0) & (px[..., 2] == 0)


def verdicts() -> list[Verdict]:
    holds = Verdict(
        "draws-ring",
        "the net draws the ring",
        "mlp/standard",
        50,
        [0, 1, 2, 3, 4],
        [Check("held_out_iou", [0.6, 0.61, 0.62, 0.6, 0.7], ">=", 0.5)],
    )
    refuted = Verdict(
        "no-memorising",
        "the net does not only colour its points",
        "mlp/standard",
        50,
        [0, 1, 2, 3, 4],
        [
            Check("components", [30, float("nan"), 40, 35, 50], "<=", 5, note="final"),
            Check("angular_coverage", [0.9, 0.8, 0.95, 0.9, 0.9], ">=", 0.7),
        ],
        notes=["seed 1 diverged"],
    )
    shaky = Verdict(
        "pipe|claim", "seeds disagree", "dot", "5000..312", [0, 1], [Check("held_out_iou", [0.9, 0.1], ">=", 0.3)]
    )
    return [holds, refuted, shaky]


# --------------------------------------------------------------------------


def test_import_is_cheap_and_leaves_pyplot_alone():
    code = "import sys, genprobe.report; print('matplotlib' in sys.modules, 'PIL' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def lightness(px: np.ndarray) -> np.ndarray:
    a = px.astype(np.float64) / 255.0
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def painted_as_boundary(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixels of the regions panel ``a`` that hide the prediction ``b`` under them: pure red (the old picture's
    boundaries) or darker than 3/4 of the prediction's lightness."""
    return is_red(a) | (lightness(a) < 0.75 * lightness(b) - 0.02)


def ring_visible(a: np.ndarray, b: np.ndarray) -> bool:
    """Where the prediction draws black (< 0.25) the regions panel is dark, where white (> 0.75) it is light."""
    dark, light = lightness(b) < 0.25, lightness(b) > 0.75
    assert dark.any() and light.any()
    return bool(lightness(a)[dark].max() < 0.25 and lightness(a)[light].min() > 0.55)


def test_panel_size_and_regions_over_the_prediction():
    r = fake_result()
    img = report.panel_image(r, title=False)
    assert img.size == (3 * P + 2 * report.PANEL_GAP, P)
    a, b, c = panels(img)
    # (b) is the prediction alone: grey, no red; NaN and >1 white, <0 black
    assert not is_red(b).any()
    assert (b[:S, :S] == 255).all() and (b[:S, S : 2 * S] == 255).all() and (b[:S, 2 * S : 3 * S] == 0).all()
    assert (b[..., 0] == b[..., 1]).all() and (b[..., 1] == b[..., 2]).all()
    # (a): the one boundary row (the last row of its pattern) splits the grid into two cells, the row in the
    # upper one; each cell is one tint over the prediction
    assert not painted_as_boundary(a, b).any() and ring_visible(a, b)
    white = b[..., 0] == 255
    cut = (R // 2 + 1) * S
    top, bottom = a[:cut][white[:cut]], a[cut:][white[cut:]]
    assert len(np.unique(top, axis=0)) == 1 and len(np.unique(bottom, axis=0)) == 1
    assert not np.array_equal(top[0], bottom[0]) and not (top[0] == top[0][0]).all()  # two tints, not grey
    assert (a[~white] <= b[~white]).all()  # a tint only darkens: the black ring stays black


def hyperplane_ids(res: int, lines: int, seed: int = 0) -> np.ndarray:
    """Activation-pattern ids of a one-layer ReLU net with ``lines`` units on a res x res grid: the regions of an
    arrangement of random lines, most through a ring (where the post's nets put theirs)."""
    rng = np.random.default_rng(seed)
    y, x = (np.mgrid[0:res, 0:res] + 0.5) / res - 0.5
    angle = rng.uniform(0, np.pi, lines)
    offset = np.where(rng.random(lines) < 0.8, rng.normal(0.25, 0.02, lines), rng.uniform(0, 0.7, lines))
    side = (np.cos(angle)[:, None, None] * x + np.sin(angle)[:, None, None] * y) > offset[:, None, None]
    _, ids = np.unique(side.reshape(lines, -1).T, axis=0, return_inverse=True)
    return ids.reshape(res, res)


@pytest.mark.parametrize("lines", [40, 400])
def test_regions_panel_keeps_the_ring_visible_however_many_regions(lines):
    """The pixel test of issue 23 on a grid as crowded as a deep net's (about 80% of the pixels on a
    boundary with 400 lines): at most a quarter of the regions panel hides the prediction, and the ring reads."""
    from genprobe.metrics import linear_regions, region_boundaries

    r = fake_result()
    res = 128
    truth = r.spec.load_truth().at_resolution(res).astype(np.float32)
    r.prediction, ids = truth, hyperplane_ids(res, lines)
    r.boundaries = region_boundaries(ids)
    r.final["linear_regions"] = float(linear_regions(ids))
    if lines == 400:
        assert r.boundaries.mean() > 0.6  # most pixels are boundary pixels, as in the smoke nets
    img = report.panel_image(r, title=False)
    step = 2 * res + report.PANEL_GAP
    a, b = np.asarray(img)[:, : 2 * res], np.asarray(img)[:, step : step + 2 * res]
    assert painted_as_boundary(a, b).mean() <= 0.25
    assert ring_visible(a, b)
    # the cells are there: areas of one pattern of 4 px and more each show one tint
    labels, count = report.region_cells(r.boundaries)
    assert count >= r.final["linear_regions"] / 4
    _, share = report.regions_layer(r.prediction, r.boundaries)
    assert 0.0 < share < 1.0


def test_region_cells_never_join_two_patterns():
    ids = hyperplane_ids(64, 60, seed=3)
    from genprobe.metrics import region_boundaries

    labels, count = report.region_cells(region_boundaries(ids))
    for lab in np.unique(labels):
        assert len(np.unique(ids[labels == lab])) == 1
    assert count >= len(np.unique(ids))
    with pytest.raises(ValueError):
        report.region_cells(np.zeros(3, dtype=bool))


def test_old_red_boundaries_fail_the_pixel_test():
    """The measure is not vacuous: painting every boundary pixel red (the picture issue 23 replaced) fails it."""
    from genprobe.metrics import region_boundaries

    b = region_boundaries(hyperplane_ids(128, 400))
    pred = np.ones((128, 128))
    grey = np.full((128, 128, 3), 255, dtype=np.uint8)
    old = grey.copy()
    old[b] = (255, 0, 0)
    assert painted_as_boundary(old, grey).mean() > 0.25
    new, _ = report.regions_layer(pred, b)
    assert painted_as_boundary(new, grey).mean() <= 0.25


def test_truth_panel_has_red_training_points():
    r = fake_result()
    a, b, c = panels(report.panel_image(r, title=False))
    h, w = r.spec.load_truth().shape
    rows = (r.train_indices // w) * R // h
    cols = (r.train_indices % w) * R // w
    red = is_red(c)
    for i, j in zip(rows, cols):
        assert red[i * S : (i + 1) * S, j * S : (j + 1) * S].any(), (i, j)
    # red only near training points: every red pixel's grid cell (or its
    # neighbour up/left, for the 2px dot spilling over) holds a point
    cells = np.zeros((R + 1, R + 1), dtype=bool)
    cells[rows, cols] = True
    cells[rows + 1, cols] = cells[rows, cols + 1] = cells[rows + 1, cols + 1] = True
    ri, ci = np.nonzero(red)
    assert cells[ri // S, ci // S].all()
    # truth is shown: the ring's black pixels appear in the truth panel
    assert ((c == 0).all(axis=-1)).any()


def test_panel_without_boundaries_and_title_strip():
    r = fake_result(model="knn")
    assert r.boundaries is None
    img = report.panel_image(r, title=True)
    assert img.width == 3 * P + 2 * report.PANEL_GAP and img.height >= P
    a, b, _ = panels(img)
    assert not is_red(a).any()


def test_large_grid_is_not_upscaled():
    r = fake_result()
    r.prediction = np.ones((300, 300), dtype=np.float32)
    r.boundaries = None
    img = report.panel_image(r, title=False)
    assert img.size == (3 * 300 + 2 * report.PANEL_GAP, 300)


def test_save_panel_and_grid(tmp_path):
    r0, r1 = fake_result(seed=0), fake_result(seed=1)
    p = report.save_panel(r0, tmp_path / "sub" / "one.png")
    with Image.open(p) as im:
        assert im.format == "PNG" and im.width == 3 * P + 2 * report.PANEL_GAP
    g = report.save_panels_grid([r0, r1], tmp_path / "grid.png", title=False)
    with Image.open(g) as im:
        assert im.size == (3 * P + 2 * report.PANEL_GAP, 2 * P + report.PANEL_GAP)
    with pytest.raises(ValueError):
        report.save_panels_grid([], tmp_path / "none.png")
    assert not list(tmp_path.rglob("*.tmp"))


def test_save_curves_png(tmp_path):
    groups = {
        "N=50": [fake_result(seed=0), fake_result(seed=1)],
        # a run that stopped early (diverged): interpolated onto the first run's x
        "N=60": [fake_result(n=60, seed=0), fake_result(n=60, seed=1, diverged_at=20, checkpoints=(0, 10, 20))],
    }
    p = report.save_curves(groups, tmp_path / "curves.png", title="test", mark_epochs=[20])
    with Image.open(p) as im:
        im.verify()
    with Image.open(p) as im:
        assert im.format == "PNG" and im.width > 300 and im.height > 200
    p2 = report.save_curves(
        groups, tmp_path / "steps.png", metrics=("components", "no_such_metric"), x="step", mark_epochs=[10]
    )
    with Image.open(p2) as im:
        assert im.format == "PNG"
    with pytest.raises(ValueError):
        report.save_curves(groups, tmp_path / "bad.png", x="time")
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_series_interpolates_onto_first_run():
    a = fake_result(seed=0)
    b = fake_result(seed=1, checkpoints=(0, 15))
    xs, ys = report.curves._series([a, b], "epoch", "held_out_iou")
    assert xs.tolist() == [0, 10, 20, 30]
    assert ys.shape == (2, 4)
    assert np.isnan(ys[1, 2:]).all() and np.isfinite(ys[1, :2]).all()


def test_write_report(tmp_path):
    results = [fake_result(seed=0), fake_result(seed=1, diverged_at=20)]
    vs = verdicts()
    out = tmp_path / "deep" / "profile"
    pics = {"panels mlp/standard N=50": "panel_x.png"}
    summary = report.write_report(out, "smoke", vs, results, {"torch": "2.x", "seeds": [0, 1], "cache": tmp_path}, pics)
    assert summary == out / "summary.md"

    text = (out / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["profile"] == "smoke" and data["info"]["seeds"] == [0, 1]
    assert data["created"]
    assert [v["claim"] for v in data["verdicts"]] == [v.claim for v in vs]
    assert [v["status"] for v in data["verdicts"]] == ["holds", "refuted", "inconclusive"]
    assert data["verdicts"][1]["checks"][0]["values"][1] is None  # NaN -> null
    run = data["runs"][0]
    assert run["key"] == results[0].spec.key and run["spec"]["n"] == 50
    assert run["final"]["contrast"] is None and run["final"]["mean_distance"] == "inf"
    assert run["meta"]["arr"] == [0, 1] and run["meta"]["np_float"] is None
    assert data["runs"][1]["diverged_at"] == 20

    md = summary.read_text()
    assert "smoke" in md and "torch" in md
    assert "1 holds, 1 refuted, 1 inconclusive" in md
    assert (
        "| claim | role | subject | N | seeds | metric | seeds meeting the bound: verdict "
        "| measured (median [min..max]) | verdict |" in md
    )
    for v in vs:
        for c in v.checks:
            assert c.decision in md
            assert c.measured in md
    assert "draws-ring" in md and "no-memorising" in md and "pipe\\|claim" in md
    assert "**refuted**" in md and "| holds |" in md and "| inconclusive |" in md
    # explain() for non-holding verdicts only
    assert vs[1].explain() in md and vs[2].explain() in md and vs[0].explain() not in md
    assert "## Pictures" in md and "![panels mlp/standard N=50](panel_x.png)" in md
    page = (out / "index.html").read_text()
    assert page.count('<tr class="verdict"') == len(vs)
    assert 'data-status="refuted"' in page and "pipe|claim" in page and "1 holds, 1 refuted, 1 inconclusive" in page
    assert '<a href="panel_x.png"><img src="panel_x.png"' in page  # no thumbnail written: the picture itself
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_a_report_test_says_how_often_its_limiting_bound_is_met(tmp_path):
    """summary.md lists every verdict the profile only reports, with the evidence's reason: the limiting
    bound, the share of confirmation seeds meeting it with its interval, the seeds a gate would need."""
    v = verdicts()[0]
    v.expect = "report"
    why = (
        "the confirmation sets do not both decide it (...); limiting bound held_out_iou >= 0.5 met on 40 of 60 "
        "confirmation seeds (67%, 95 % interval 54%-78%); a gate on 'holds' would need about 45 seeds"
    )
    v.notes.append(f"smoke profile expects 'report': {why}")
    assert report.expectation_note(v) == why
    md = report.write_report(tmp_path, "smoke", [v, verdicts()[1]], [], {}).read_text()
    assert "## Reported, not gating" in md and why in md and md.count("profile expects") == 0


def test_write_run_pictures(tmp_path):
    results = (
        [fake_result(seed=s) for s in (0, 1)] + [fake_result(n=60, seed=s) for s in (0, 1)] + [fake_result(model="knn")]
    )
    pics = report.write_run_pictures(tmp_path, results)
    files = sorted(pics.values())
    assert len([f for f in files if f.startswith("panel_")]) == 3
    assert [f for f in files if f.startswith("curves_")] == ["curves_mlp-standard.png"]
    for f in files:
        assert all(ch.isalnum() or ch in "-_." for ch in f)
        with Image.open(tmp_path / f) as im:
            assert im.format == "PNG"
    with Image.open(tmp_path / "panel_mlp-standard_N50.png") as im:
        assert im.height >= 2 * P  # two seeds stacked
    summary = report.write_report(tmp_path, "p", [], results, {}, pics)
    md = summary.read_text()
    assert all(f in md for f in files) and "missing" not in md
    # the page: a thumbnail per picture, linking to the picture
    page = (tmp_path / "index.html").read_text()
    for f in files:
        thumb = tmp_path / report.page.thumb_name(f)
        with Image.open(thumb) as im:
            assert im.format == "JPEG" and im.width <= report.page.THUMB_WIDTH
        assert f'<a href="{f}"><img src="{report.page.thumb_name(f)}"' in page
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_a_rerun_keeps_the_pictures_of_the_same_runs_and_redraws_what_changed(tmp_path):
    """A warm rerun of the suite redraws no picture whose runs and drawing code are unchanged; a picture whose
    runs changed, or whose file another session touched, is drawn again."""
    results = [fake_result(seed=s) for s in (0, 1)] + [fake_result(n=60, seed=0)]
    pics = report.write_run_pictures(tmp_path, results)
    files = sorted({f for f in pics.values()} | {report.page.thumb_name(f) for f in pics.values()})
    before = {f: (tmp_path / f).stat().st_mtime_ns for f in files}
    assert report.write_run_pictures(tmp_path, results) == pics
    assert {f: (tmp_path / f).stat().st_mtime_ns for f in files} == before  # nothing drawn again
    changed = fake_result(n=60, seed=0)
    changed.prediction[5, 5] = 0.5  # the same spec, another picture
    (tmp_path / "panel_mlp-standard_N50.png").write_bytes(b"not a picture")  # overwritten meanwhile
    assert report.write_run_pictures(tmp_path, results[:2] + [changed]) == pics
    after = {f: (tmp_path / f).stat().st_mtime_ns for f in files}
    redrawn = sorted(f for f in files if after[f] != before[f])
    assert redrawn == sorted(
        [
            "panel_mlp-standard_N50.png",  # touched by hand: drawn again, with its thumbnail
            "thumbs/panel_mlp-standard_N50.jpg",
            "panel_mlp-standard_N60.png",
            "thumbs/panel_mlp-standard_N60.jpg",
            "curves_mlp-standard.png",
            "thumbs/curves_mlp-standard.jpg",
        ]
    )
    with Image.open(tmp_path / "panel_mlp-standard_N50.png") as im:
        assert im.format == "PNG"


def test_slug_and_group_label():
    assert report.slug("fourier-shuffled/blog N=5000") == "fourier-shuffled-blog_N5000"
    assert report.group_label(RunSpec(n=312, seed=3)) == "mlp/standard N=312"
    assert report.group_label(RunSpec(n=312, model="knn", k=3)) == "3-nn N=312"


def test_gallery_strip_and_section(tmp_path):
    from PIL import Image

    from genprobe import gallery
    from genprobe.report import GALLERY_THUMB, gallery_section, save_gallery_strip

    names = ["ring", "disk", "dots"]
    path = save_gallery_strip(names, tmp_path / "gallery.png")
    with Image.open(path) as im:
        assert im.width == 3 * GALLERY_THUMB + 2 * 4 and im.height >= GALLERY_THUMB
    data = {
        "seeds": "0-4",
        "evidence": "benchmarks/studies/evidence/x.json.gz",
        "rows": [
            {
                "picture": n,
                "description": gallery.PICTURES[n].what,
                "truth": gallery.PICTURES[n].truth,
                "verdicts": {"contiguous@312": {"verdict": v, "seeds": 5}},
            }
            for n, v in zip(names, ["holds", "refuted", "inconclusive"])
        ],
    }
    text = "\n".join(gallery_section(data, "gallery.png"))
    assert "![the gallery](gallery.png)" in text and "| picture | contiguous @312 |" in text
    assert "| **ring** (true): the true ring | passes |" in text
    assert "| disk: the ring's disk, filled | refuted |" in text and "| ? |" in text
    with pytest.raises(ValueError, match="at least one picture"):
        save_gallery_strip([], tmp_path / "none.png")
