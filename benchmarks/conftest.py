"""Shared helpers of the claim suite. The fixtures come from the genprobe plugin."""

from __future__ import annotations

import pytest


@pytest.fixture
def limits(genprobe):
    """``limits("claim")``: the profile's thresholds for a claim, as a fresh dict."""

    def get(claim: str) -> dict:
        return dict(genprobe.thresholds[claim])

    return get


def by_n(genprobe, sizes, protocol="standard", **overrides):
    """{N: runs over seeds} of the post's net."""
    return {n: genprobe.net(n, protocol, **overrides) for n in sizes}
