"""The documentation site (docs/, mkdocs.yml) and the README that leads into it.

The site is built with ``mkdocs build --strict`` into a temporary folder, served over HTTP (the search
runs in a web worker that fetches its index, which a file:// page may not) and opened page by page in
headless Chromium: every page loads, every image loads, every link inside the site leads to a page that
exists, and the search finds pages. It skips without mkdocs (``pip install -e ".[docs]"``), playwright or
a Chromium, except where ``CI=true``, where a missing one fails it (as tests/test_html.py does).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

sys.path.insert(0, str(Path(__file__).parent))
from test_html import SHOTS, _browser, _no_browser, _sync_api  # noqa: E402


def _hooks():
    spec = importlib.util.spec_from_file_location("genprobe_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------- the README


def test_the_readme_is_the_front_door():
    """At most 200 lines; its four jobs (the claim suite, the tests, a hypothesis, gating a model) start
    within the first 120; every file it links to exists."""
    text = (ROOT / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines"
    heads = {i + 1: line for i, line in enumerate(lines) if line.startswith("## ")}
    jobs = [n for n, h in heads.items() if re.match(r"## [1-4]\. ", h)]
    assert len(jobs) == 4 and max(jobs) <= 120, heads
    assert "download.pytorch.org/whl/cpu" in text and "mkdocs build --strict" in text
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


# ------------------------------------------------------------------------------------ the generated references


def test_the_cli_reference_names_every_command_and_option():
    """docs/reference/cli.md's generated part comes from genprobe.cli.build_parser: every command and every
    option of each is on it."""
    import argparse

    from genprobe.cli import build_parser

    page = _hooks().cli_reference()
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        assert f"## `genprobe {name}`" in page, name
        for action in command._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}`" in page, (name, flag)


def test_the_pytest_options_reference_names_every_option():
    page = _hooks().pytest_options_reference()
    from genprobe.plugin.settings import _OPTIONS

    for name, (env, _) in _OPTIONS.items():
        assert f"`--genprobe-{name}`" in page and f"`{env}`" in page, name
    for flag in ("--genprobe-no-report", "--genprobe-claim", "--genprobe-compare-fail"):
        assert f"`{flag}`" in page
    assert "20-24" in page  # the seeds option says ranges work


def test_the_docs_pages_hold_the_generated_markers():
    assert "<!-- generated: cli -->" in (DOCS / "reference" / "cli.md").read_text()
    assert "<!-- generated: pytest-options -->" in (DOCS / "reference" / "pytest-options.md").read_text()


# ----------------------------------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    """``mkdocs build --strict`` into a temporary folder (skip without mkdocs; fail in CI)."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        _no_browser('mkdocs is not installed (pip install -e ".[docs]")')
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def served(built_site):
    """The built site over HTTP on a free local port: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if p.name != "404.html")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_site_has_every_section(built_site):
    pages = set(_pages(built_site))
    for page in (
        "index.html",
        "tutorial/first-run.html",
        "tutorial/reading-the-report.html",
        "how-to/add-a-hypothesis.html",
        "how-to/gate-your-model.html",
        "how-to/add-a-metric-or-baseline.html",
        "how-to/dask.html",
        "how-to/reproduce.html",
        "explanation/verdicts.html",
        "explanation/registration.html",
        "explanation/frontiers.html",
        "explanation/gallery.html",
        "explanation/guarantees.html",
        "explanation/speed.html",
        "reference/pytest-options.html",
        "reference/cli.html",
        "reference/api.html",
        "evidence/smoke.html",
        "changelog.html",
    ):
        assert page in pages, page
    api = (built_site / "reference" / "api.html").read_text()
    assert 'id="genprobe.claims.threshold"' in api and 'id="genprobe.runs.RunSpec"' in api
    assert "genprobe sweep" in (built_site / "reference" / "cli.html").read_text()


@pytest.mark.slow
def test_every_page_loads_with_its_images_and_links_in_a_browser(built_site, served, monkeypatch):
    """Every page of the built site in headless Chromium: it loads (HTTP 200), every image loads, every link
    inside the site leads to a page that exists; then the search finds pages."""
    sync_api = _sync_api()
    pages = _pages(built_site)
    checked: dict[str, int] = {}
    broken: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for rel in pages:
                response = page.goto(served + rel, wait_until="load")
                assert response is not None and response.status == 200, rel
                images = "[...document.images].filter(img => img.getAttribute('src'))"
                page.wait_for_function(f"{images}.every(img => img.complete)")
                bad = page.evaluate(f"{images}.filter(img => !(img.naturalWidth > 0)).map(img => img.src)")
                broken += [f"{rel}: image {src}" for src in bad]
                hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
                for href in hrefs:
                    target = urllib.parse.urldefrag(href)[0]
                    if not target.startswith(served):
                        continue  # another site (pytorch.org, dask.org): not fetched from a test
                    if target not in checked:
                        checked[target] = _status(target)
                    if checked[target] != 200:
                        broken.append(f"{rel}: link {href} ({checked[target]})")
            assert broken == [], "\n".join(broken)
            assert len(checked) >= len(pages) // 2  # the links were read

            # the search: Material opens it with ?q= and lists the pages that match
            page.goto(served + "index.html?q=verdict", wait_until="load")
            results = page.locator(".md-search-result__item")
            results.first.wait_for(state="visible", timeout=20_000)
            assert results.count() > 0
            assert "verdict" in page.locator(".md-search-result").inner_text().lower()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "docs-search.png"))
            page.goto(served + "index.html", wait_until="load")
            page.screenshot(path=str(SHOTS / "docs-home.png"), full_page=True)
        finally:
            browser.close()
