"""docs/how-to/use-another-image.md lists the registered images as genprobe.images.markdown() does."""

from __future__ import annotations

from pathlib import Path

from genprobe import images

PAGE = Path(__file__).resolve().parents[1] / "docs" / "how-to" / "use-another-image.md"


def test_the_pages_image_table_is_current():
    text = PAGE.read_text()
    start = text.index("<!-- images-table")
    start = text.index("\n", start) + 1
    end = text.index("<!-- end images-table -->")
    builtin = images.markdown()
    assert set(images.names()) == set(images.BUILTIN), "a test left an image registered"
    assert text[start:end] == builtin, "stale: paste genprobe.images.markdown() into the page"


def test_the_page_is_in_the_nav():
    nav = (PAGE.parents[2] / "mkdocs.yml").read_text()
    assert "how-to/use-another-image.md" in nav
