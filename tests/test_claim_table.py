"""The claims-versus-gallery page (``docs/evidence/claims.md``) is what its generator makes of the
committed gallery judgement, and it names every shape claim."""

from __future__ import annotations


def test_the_claim_table_page_is_current():
    from benchmarks.studies import claim_table, pages

    assert pages.path("claims").read_text() == claim_table.page(), (
        "docs/evidence/claims.md is stale: run python benchmarks/studies/claim_table.py --write"
    )


def test_every_shape_claim_is_in_the_table_and_the_true_ring_passes_it():
    import json

    from benchmarks.studies import claim_table
    from genprobe.shapes import SHAPE_CLAIMS

    assert set(claim_table.CLAIMS) == set(SHAPE_CLAIMS)
    gallery = json.loads(claim_table.GALLERY.read_text())
    for row in gallery["rows"]:
        if row.get("truth"):
            assert all(v["verdict"] == "holds" for v in row["verdicts"].values()), row["picture"]


def test_a_claim_that_accepts_what_its_name_excludes_says_what_it_tests():
    import json

    from benchmarks.studies import claim_table

    text = claim_table.table(json.loads(claim_table.GALLERY.read_text()))
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    for claim, (_, _, excluded, tests, action) in claim_table.CLAIMS.items():
        bad = rows[claim].split(" | ")[5]
        if bad != "none":
            assert "renamed" in action or "kept" in action, claim
            assert tests in rows[claim]
