"""The report's first screen (issue 32, item 7): a grid of the claims against the post's sizes, coloured by
verdict and linking to each verdict, and one seed's nets at those sizes; the verdict table stays below."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

from genprobe import report
from genprobe.profiles import POST_SIZES
from genprobe.report.page import OVERVIEW, OVERVIEW_WIDTH, strip_runs, thumb_name, verdict_grid
from genprobe.runs import RunSpec
from genprobe.sampling import sample_training_set
from genprobe.verdicts import Check, Verdict

sys.path.insert(0, str(Path(__file__).parent))
from test_report import fake_result  # noqa: E402


def _v(claim: str, n, values, subject: str = "mlp/standard", role: str = "claim") -> Verdict:
    v = Verdict(claim, f"{claim} in words", subject, n, list(range(len(values))), [Check("iou", values, ">=", 0.5)])
    v.role = role
    return v


def verdicts() -> list[Verdict]:
    return [
        _v("contiguous", 5000, [0.9] * 5),
        _v("contiguous", 312, [0.1] * 5),
        _v("concept-learnt", 2500, [0.9] * 5, subject="mlp/standard"),
        _v("concept-learnt", 2500, [0.9, 0.1, 0.9, 0.1, 0.9], subject="mlp/blog"),
        _v("slower", "5000..312", [0.9] * 5),
        _v("contiguous", 312, [0.1] * 5, subject="dot", role="control"),
    ]


def test_the_grid_has_a_row_per_claim_a_column_per_post_size_and_a_chip_per_verdict():
    vs = verdicts()
    ids = [f"v{i}" for i in range(len(vs))]
    grid = verdict_grid(vs, ids)
    head = re.findall(r"<th>([^<]*)</th>", grid)
    assert head == ["claim", *(f"N={n}" for n in POST_SIZES), "across sizes"]
    rows = re.findall(r'<tr><td class="name">([^<]*)</td>(.*?)</tr>', grid)
    assert [name for name, _ in rows] == ["contiguous", "concept-learnt", "slower", "contiguous (control)"]
    cells = {name: re.findall(r"<td>(.*?)</td>", tds) for name, tds in rows}
    assert 'class="chip holds" href="#v0"' in cells["contiguous"][0] and cells["contiguous"][1] == ""
    assert 'class="chip refuted" href="#v1"' in cells["contiguous"][4]
    assert cells["concept-learnt"][1].count('class="chip') == 2  # both protocols, each its own chip
    assert 'class="chip inconclusive" href="#v3"' in cells["concept-learnt"][1]
    assert 'href="#v4"' in cells["slower"][5]  # a claim across sizes: the last column
    assert '<tbody class="controls">' in grid and 'href="#v5"' in cells["contiguous (control)"][4]


def _run(n: int, seed: int, model: str = "mlp"):
    """test_report's hand-made run on a truth large enough for the post's sizes (5000 points)."""
    r = fake_result(seed=seed, model=model)
    spec = RunSpec(**(r.spec.to_dict() | {"n": n, "truth": "ring@128"}))
    truth = spec.load_truth()
    return dataclasses.replace(r, spec=spec, train_indices=sample_training_set(truth, n, seed).indices)


def _post_runs():
    return [_run(n, s) for n in POST_SIZES for s in (3, 1)] + [_run(312, 0, model="knn")]


def test_the_strip_is_one_seed_of_the_post_nets_largest_n_first():
    runs = strip_runs(_post_runs())
    assert [r.spec.n for r in runs] == list(POST_SIZES)
    assert {r.spec.seed for r in runs} == {1} and all(r.spec.model == "mlp" for r in runs)
    assert strip_runs([fake_result(n=50)]) == []  # no net at the post's sizes: no strip


def test_the_page_opens_on_the_grid_and_the_strip_above_the_table(tmp_path):
    results = _post_runs()
    vs = verdicts()
    report.write_report(tmp_path, "smoke", vs, results, {"profile": "smoke"}, {})
    page = (tmp_path / "index.html").read_text()
    grid, strip, table = page.index('<table id="grid">'), page.index('id="overview"'), page.index('id="verdicts"')
    assert grid < strip < table
    for i in range(len(vs)):  # every chip's target exists
        assert page.count(f'href="#verdict-{i}"') == 1 and page.count(f'id="verdict-{i}"') == 1
    with Image.open(tmp_path / OVERVIEW) as full, Image.open(tmp_path / thumb_name(OVERVIEW)) as thumb:
        assert full.format == "PNG" and thumb.format == "JPEG"
        assert full.width > 5 * 64 and thumb.width <= OVERVIEW_WIDTH
        assert full.width > full.height  # a strip: five columns side by side
    assert f'<a href="{OVERVIEW}"><img src="{thumb_name(OVERVIEW)}"' in page


def test_without_verdicts_or_post_runs_the_page_has_neither(tmp_path):
    report.write_report(tmp_path, "smoke", [], [fake_result(n=50)], {}, {})
    page = (tmp_path / "index.html").read_text()
    assert 'id="grid"' not in page and 'id="overview"' not in page and not (tmp_path / OVERVIEW).exists()


def test_browser_shows_the_first_screen(tmp_path, monkeypatch):
    """In headless Chromium (skips without one, fails in CI): the grid and the strip load within the first
    screen, above the table, and a chip jumps to its verdict."""
    import test_html

    results = _post_runs()
    vs = verdicts()
    report.write_report(tmp_path, "smoke", vs, results, {"profile": "smoke"}, {})
    sync_api = test_html._sync_api()
    for k, v in test_html._HOME.items():
        monkeypatch.setenv(k, v)
    with sync_api.sync_playwright() as p:
        browser = test_html._browser(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((tmp_path / "index.html").as_uri())
            assert test_html._broken_images(page) == []
            grid = page.locator("#grid").bounding_box()
            strip = page.locator("#overview img").bounding_box()
            table = page.locator("#verdicts").bounding_box()
            assert grid is not None and strip is not None and table is not None
            assert grid["y"] < strip["y"] < table["y"] and grid["y"] + grid["height"] < 900
            assert page.locator("#grid a.chip").count() == len(vs)
            test_html.SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(test_html.SHOTS / "index-first-screen.png"))
            page.click('#grid a.chip[href="#verdict-1"]')
            assert page.evaluate("location.hash") == "#verdict-1"
        finally:
            browser.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
