"""Claim pictures and checks on the rows of pytest-html's report (genprobe/plugin/html.py; tiny runs only)."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Inner sessions run in subprocesses, as in test_plugin.py: torch cannot be imported twice into one process.

CLAIM = """
import pytest
from genprobe import claims
from genprobe.runs import RunSpec


def tiny(seed):
    return RunSpec(
        truth="ring@64", n=300, seed=seed, depth=4, width=16, epochs=40, eval_res=32, curve_res=32, checkpoints=4
    )


@pytest.mark.claim("nets")
def test_nets(probe):
    nets = probe.runs([tiny(s) for s in (0, 1)])
    probe.check(claims.threshold(nets, "held_out_iou", ">=", 0.0, claim="nets"), expect="report")


def test_plain():
    assert 1 + 1 == 2
"""

# the user's home, read before pytester points HOME at a temporary folder: Playwright finds its browsers there
_HOME = {k: os.environ[k] for k in ("HOME", "USERPROFILE") if k in os.environ}

CLAIM_ID = "test_claim.py::test_nets"
PLAIN_ID = "test_claim.py::test_plain"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One run cache for the module: only the first inner session trains its two tiny nets."""
    return tmp_path_factory.mktemp("genprobe-cache")


@pytest.fixture
def suite(pytester, cache_dir, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(cache_dir))
    monkeypatch.delenv("GENPROBE_PROFILE", raising=False)
    pytester.makepyfile(test_claim=CLAIM)
    return pytester


def _run_html(suite, *args: str):
    pytest.importorskip("pytest_html")
    result = suite.runpytest_subprocess(
        "--genprobe-no-report", "-p", "no:randomly", "-p", "no:cacheprovider", "--html=out/report.html", *args
    )
    result.assert_outcomes(passed=2)
    return suite.path / "out" / "report.html"


def _rows(report) -> dict[str, list[dict]]:
    """Test id -> its extras, from the JSON that pytest-html's page renders its rows from."""
    blob = re.search(r'id="data-container" data-jsonblob="([^"]*)"', report.read_text(encoding="utf-8"))
    assert blob is not None, "no data in the pytest-html report"
    tests = json.loads(html.unescape(blob.group(1)))["tests"]
    return {tid: [e for r in reports for e in r.get("extras", [])] for tid, reports in tests.items()}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
        return img.size


def _check_row(extras: list[dict]) -> list[dict]:
    tables = [e["content"] for e in extras if e["format_type"] == "html" and "genprobe-checks" in e["content"]]
    assert len(tables) == 1
    table = tables[0]
    for header in ("metric", "decision", "measured", "outcome"):
        assert f">{header}</th>" in table
    assert ">held_out_iou</td>" in table and "2 of 2 seeds &gt;= 0" in table and "reported: " in table
    images = [e for e in extras if e["format_type"] == "image"]
    # the label names the tiny net (depth 4, width 16), not the post's
    assert [e["name"].split(":")[0] for e in images] == ["mlp(depth=4,width=16)/standard N=300 seed=0", "curves nets"]
    return images


def _images(report, extras: list[dict], self_contained: bool) -> list[tuple[int, int]]:
    """The PNG sizes of a claim row's pictures: inlined as base64 (self-contained) or files beside the report."""
    sizes = []
    for img in _check_row(extras):
        if self_contained:
            prefix = "data:image/jpeg;base64,"
            assert img["content"].startswith(prefix)
            data = base64.b64decode(img["content"][len(prefix) :], validate=True)
        else:  # pytest-html writes the pictures to assets/ next to the report and links them
            assert not img["content"].startswith("data:")
            data = (report.parent / img["content"]).read_bytes()
        sizes.append(_jpeg_size(data))
    (pw, ph), (cw, _) = sizes
    assert pw <= 384 and pw > 2 * ph  # a thumbnail of the three panels side by side
    assert cw <= 384
    return sizes


def test_claim_row_carries_pictures_and_checks(suite):
    report = _run_html(suite, "--self-contained-html")
    rows = _rows(report)
    assert rows[PLAIN_ID] == []  # no verdict, nothing added
    _images(report, rows[CLAIM_ID], self_contained=True)
    assert not (report.parent / "assets").exists()


def test_without_pytest_html_nothing_changes(suite):
    """pytest-html blocked (as if not installed): the run passes, nothing imports it, no extras are made."""
    suite.makeconftest(
        "import sys\n"
        "def pytest_runtest_logreport(report):\n"
        "    if report.when == 'call':\n"
        "        made = hasattr(report, 'extras') or hasattr(report, 'extra')\n"
        "        print(f'EXTRAS {report.nodeid} {made}')\n"
        "def pytest_unconfigure(config):\n"
        "    print('GENPROBE-HTML', config.pluginmanager.get_plugin('genprobe-html'))\n"
        "    print('PYTEST_HTML', 'pytest_html' in sys.modules)\n"
    )
    result = suite.runpytest_subprocess(
        "--genprobe-no-report", "-p", "no:randomly", "-p", "no:html", "-p", "no:html_fixtures", "-s"
    )
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert f"EXTRAS {CLAIM_ID} False" in out and f"EXTRAS {PLAIN_ID} False" in out
    assert "GENPROBE-HTML None" in out and "PYTEST_HTML False" in out


def test_importing_the_plugin_does_not_import_pytest_html():
    code = "import sys, genprobe.plugin, genprobe.plugin.html; print('pytest_html' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# where the browser checks keep their screenshots (CI's artifacts)
SHOTS = Path(__file__).resolve().parents[1] / "reports" / "browser"


def _no_browser(reason: str):
    """Skip on a machine without a browser; in CI (CI=true, as .ci/run sets it up) a missing browser fails."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason} (.ci/run installs chromium-headless-shell and playwright)")
    pytest.skip(reason)


def _sync_api():
    try:
        import playwright.sync_api as sync_api
    except ImportError:
        _no_browser("playwright is not installed")
    return sync_api


def _browser(playwright):
    """Playwright's Chromium, else a system Chromium (e.g. Debian's chromium-headless-shell); skip without one
    (fail in CI)."""
    errors = []
    try:
        return playwright.chromium.launch()
    except Exception as exc:  # no browser downloaded (`python -m playwright install chromium`)
        errors.append(str(exc).splitlines()[0])
    for name in ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            try:
                return playwright.chromium.launch(executable_path=path)
            except Exception as exc:
                errors.append(f"{path}: {str(exc).splitlines()[0]}")
    _no_browser(f"no Chromium for playwright: {'; '.join(errors)}")


def test_browser_shows_the_claim_row_images(suite, monkeypatch):
    """The report without --self-contained-html (pictures in assets/ files): checked as files, then opened in
    headless Chromium, where the claim row's table shows and both pictures load (skipped without playwright
    or a Chromium)."""
    report = _run_html(suite)
    _images(report, _rows(report)[CLAIM_ID], self_contained=False)
    sync_api = _sync_api()
    for k, v in _HOME.items():
        monkeypatch.setenv(k, v)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.goto(report.as_uri() + "?collapsed=")  # no row collapsed
            row = page.locator("tbody.results-table-row").filter(
                has=page.locator("td.col-testId", has_text=re.compile(f"^{re.escape(CLAIM_ID)}$"))
            )
            table = row.locator(".extraHTML table.genprobe-checks")
            table.wait_for(state="visible")
            assert "held_out_iou" in table.inner_text()
            img = row.locator(".media-container__viewport img")
            seen = {}
            for _ in range(2):  # the row's media viewer shows one picture at a time; ">" shows the next
                img.wait_for(state="visible")
                page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
                seen[img.get_attribute("src") or ""] = img.evaluate("img => [img.naturalWidth, img.naturalHeight]")
                row.locator(".media-container__nav--right").click()
            assert len(seen) == 2 and all(src.startswith("assets/") for src in seen)
            assert all(w > 0 and h > 0 for w, h in seen.values())
            assert _broken_images(page) == []
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "pytest-html.png"), full_page=True)
        finally:
            browser.close()


def _broken_images(page) -> list[str]:
    """The sources of the page's images that did not load (after waiting for each to finish); images without a
    ``src`` (pytest-html's empty templates) are not pictures."""
    pictures = "[...document.images].filter(img => img.getAttribute('src'))"
    page.wait_for_function(f"{pictures}.every(img => img.complete)")
    return page.evaluate(f"{pictures}.filter(img => !(img.naturalWidth > 0)).map(img => img.src)")


def test_browser_opens_the_report_page(tmp_path, monkeypatch):
    """reports/<profile>/index.html (written by write_report from hand-made runs, as in test_report.py) in
    headless Chromium: every image loads, the table has a row per verdict, filtering and sorting work."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_report import fake_result, verdicts

    from genprobe import report

    results = [fake_result(seed=s) for s in (0, 1)] + [fake_result(model="knn")]
    vs = verdicts()
    for v in vs:
        v.runs = [r.spec.key for r in results]
    pics = report.write_run_pictures(tmp_path, results)
    report.write_report(tmp_path, "smoke", vs, results, {"profile": "smoke"}, pics)
    index = tmp_path / "index.html"
    sync_api = _sync_api()
    for k, v in _HOME.items():
        monkeypatch.setenv(k, v)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(index.as_uri())
            assert page.locator("#verdicts tbody tr.verdict").count() == len(vs)
            assert page.locator("img[src]").count() >= len(pics)
            assert _broken_images(page) == []
            assert page.evaluate("[...document.images].every(img => img.naturalWidth <= 384)")  # thumbnails
            # filter: by verdict, then by text
            page.select_option("#filter-status", "refuted")
            assert page.locator("#verdicts tbody tr.verdict:visible").count() == 1
            page.select_option("#filter-status", "")
            page.fill("#filter-text", "pipe|claim")
            assert page.locator("#verdicts tbody tr.verdict:visible").count() == 1
            page.fill("#filter-text", "")
            # sort by verdict, both ways
            page.click("#verdicts thead th:has-text('verdict') >> nth=-1")
            first = page.locator("#verdicts tbody tr.verdict").first.get_attribute("data-status")
            page.click("#verdicts thead th:has-text('verdict') >> nth=-1")
            last = page.locator("#verdicts tbody tr.verdict").first.get_attribute("data-status")
            assert (first, last) == ("holds", "refuted")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "index.png"), full_page=True)
        finally:
            browser.close()


def test_a_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _no_browser("no Chromium")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _no_browser("no Chromium")
