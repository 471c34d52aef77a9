"""Profiles: what a test is expected to do where the committed evidence names it, and where it does not."""

from __future__ import annotations

from genprobe.profiles import PROFILES, get_profile


def test_a_test_the_evidence_does_not_name_gets_the_profiles_unmeasured_expectation():
    """Smoke: a user's own hypothesis must hold. Paper: a test the paper evidence does not name has no
    evidence over seeds at that scale, so it is reported with the reason, never gated on thresholds it was
    not measured at."""
    assert get_profile("smoke").expect("test_my_own_hypothesis") == ("holds", "")
    expect, why = get_profile("paper").expect("test_my_own_hypothesis")
    assert expect == "report" and "no evidence" in why
    # where smoke's evidence names a test, smoke's expectation comes from it
    smoke_expect, smoke_why = get_profile("smoke").expect("test_no_overfitting_at_5000_points[standard]")
    assert smoke_expect in ("holds", "refuted", "report") and smoke_why


def test_every_profile_states_what_an_unmeasured_test_expects():
    for profile in PROFILES.values():
        assert profile.unmeasured in ("holds", "report"), profile.name
