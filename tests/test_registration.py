"""Pre-registration, enforced: the committed registration is the suite's definitions, and a test's
expectation comes only from confirmation seeds trained, from a committed tree, under its current
definition (``genprobe.registration``, ``benchmarks/studies/registration.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from genprobe import registration

ROOT = Path(__file__).resolve().parents[1]


def _git_history() -> bool:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD~1"], cwd=ROOT, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0


@pytest.fixture(scope="module")
def current():
    from benchmarks.studies import registration as script

    return script.current()


def test_the_committed_registration_is_the_suites_definitions(current):
    """A test whose checks, bounds, windows, claim code, decision rule or gate policy changed must be
    registered anew (and so confirmed on fresh seeds): the committed file says what the suite is."""
    committed = registration.load()
    moved = {p: registration.changed(committed, current, p) for p in current["profiles"]}
    stale = [f"{p}: {t} ({', '.join(parts)})" for p, tests in moved.items() for t, parts in tests.items()]
    assert not stale, (
        "the registration is stale, run python benchmarks/studies/registration.py --write (and confirm the "
        "changed tests on fresh seeds):\n" + "\n".join(stale[:20])
    )


def test_every_claim_and_control_test_is_registered_at_every_profile(current):
    from benchmarks.studies.threshold_evidence import LAYOUTS, cases

    ids = {test_id for test_id, _, _ in cases()}
    for profile in LAYOUTS:
        assert set(current["profiles"][profile]) == ids


def test_a_digest_sees_code_thresholds_and_design_but_not_docstrings(monkeypatch):
    """Each part moves the digest of exactly the tests it decides."""
    from benchmarks.studies.threshold_evidence import LAYOUTS, cases
    from genprobe import profiles

    suite = cases()
    pick = {t: (fn, params) for t, fn, params in suite}
    tops = LAYOUTS["smoke"].plan_tops
    smoke = profiles.get_profile("smoke")

    def digests(profile):
        return {t: registration.digest(registration.definition(t, fn, p, profile, tops)) for t, (fn, p) in pick.items()}

    before = digests(smoke)
    thresholds = dict(smoke.thresholds)
    thresholds["contiguous"] = {**thresholds["contiguous"], "max_pieces_per_point": 0.34}
    moved = {
        t for t, d in digests(smoke.__class__(**{**vars(smoke), "thresholds": thresholds})).items() if d != before[t]
    }
    # every contiguous test moves; so may every test reaching the shape claims' table of builders (the
    # digest follows the table whole: conservative, it never misses a change), but no other claim's test
    assert {t for t in before if t.startswith("test_contiguous_regions[")} <= moved
    others = ("slower", "less_stable", "longer_training", "catches_up", "closes_the_ring")
    assert not [t for t in moved if any(o in t for o in others)], moved

    wider = smoke.__class__(**{**vars(smoke), "max_seeds": 20})
    assert all(d != before[t] for t, d in digests(wider).items()), "the design decides every test"


def test_code_digest_follows_the_claim_code_a_test_reaches():
    from benchmarks import test_claims

    code, strings = registration.reachable(test_claims.test_contiguous_regions)
    assert "genprobe.shapes.shape_claim" in code and "genprobe.claims.contiguous" in code
    assert "contiguous" in strings
    assert not any(name.startswith("genprobe.report") for name in code)


def _stamps():
    from benchmarks.studies import registration as script
    from benchmarks.studies.threshold_evidence import LAYOUTS

    for profile, layout in LAYOUTS.items():
        for name, (files, role, _) in layout.sets.items():
            if role != "confirmation":
                continue
            for f in files:
                yield profile, name, f, script.stamp_of(script.EVIDENCE / f, profile)


def test_every_confirmation_export_was_trained_under_a_registration_from_a_committed_tree():
    """A confirmation export's runs record one clean commit (trained from a committed tree), and the
    registration committed there is its stamp; exports trained before registrations existed carry a
    reviewed stamp in ``benchmarks/studies/evidence/stamps.json`` with the reason."""
    from benchmarks.studies import registration as script

    found = list(_stamps())
    assert found, "no confirmation set"
    for profile, name, f, stamp in found:
        assert stamp is not None, f"{profile}/{name}: {f} carries no registration (several or dirty commits?)"
        commits = script.export_commits(script.EVIDENCE / f)
        assert commits == {stamp["commit"]}, f"{f}: trained from {commits}, stamped {stamp['commit']}"
        assert not stamp["commit"].endswith("-dirty")
        if "why" not in stamp and _git_history():
            committed = subprocess.run(
                ["git", "show", f"{stamp['commit']}:genprobe/evidence/registration.json"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            assert committed.returncode == 0, f"{f}: no registration committed where it was trained"


def test_an_expectation_comes_only_from_sets_stamped_with_the_tests_current_digest():
    """Change what decides a test and its old confirmation seeds stop confirming it: it is reported
    until fresh seeds are trained under the new registration."""
    from benchmarks.studies.threshold_evidence import LAYOUTS

    reg = registration.load()
    stamps: dict[tuple[str, str], list] = {}
    for p, n, _, s in _stamps():  # each export read once
        stamps.setdefault((p, n), []).append(s)
    for profile, layout in LAYOUTS.items():
        data = json.loads((ROOT / "genprobe" / "evidence" / f"{profile}.json").read_text())
        for test, entry in data["expectations"].items():
            digest = reg["profiles"][profile][test]["digest"]
            confirming = [
                n
                for n in layout.confirmation
                if all(s and s["digests"].get(test) == digest for s in stamps[(profile, n)])
            ]
            assert entry.get("confirmed_by", []) == confirming, test
            if entry["expect"] != "report":
                assert confirming, f"{profile}: {test} gates without a set confirming its current definition"


@pytest.mark.slow
def test_a_reviewed_stamp_is_the_definitions_at_its_commit():
    """A stamp in ``stamps.json`` says its runs were trained under the definitions of a commit: recomputed
    there by today's registration, every digest it holds must come out the same."""
    if not _git_history():
        pytest.skip("no git history in this checkout")
    from benchmarks.studies import registration as script

    entries = json.loads(script.STAMPS.read_text())["retro"]
    for commit in sorted({e["registration_commit"] for e in entries}):
        known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
        if known.returncode != 0:
            pytest.skip(f"commit {commit} is not in this checkout's history (a shallow clone)")
        then = script.at_commit(commit)
        for e in (e for e in entries if e["registration_commit"] == commit):
            digests = {t: v["digest"] for t, v in then["profiles"][e["profile"]].items()}
            assert e["digests"] == digests, f"{e['files']}: the stamp is not the definitions at {commit}"
