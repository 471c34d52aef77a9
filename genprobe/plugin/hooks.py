"""The plugin's pytest hooks: options, the ``claim`` marker, the header line, ``--genprobe-claim``."""

from __future__ import annotations

import pytest

from . import fixture
from .html import register as register_html_extras
from .session import _SESSION, GenprobeSession, _session
from .settings import _OPTIONS

__all__ = ["pytest_addoption", "pytest_configure", "pytest_report_header", "pytest_collection_modifyitems"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("genprobe", "genprobe claim suite")
    for name, (env, help_text) in _OPTIONS.items():
        group.addoption(
            f"--genprobe-{name}",
            dest=f"genprobe_{name}",
            default=None,
            metavar=name.upper(),
            help=f"{help_text}; env {env}",
        )
    group.addoption(
        "--genprobe-no-report",
        dest="genprobe_no_report",
        action="store_true",
        default=False,
        help="do not write the report (default: write it when claims ran)",
    )
    group.addoption(
        "--genprobe-claim",
        dest="genprobe_claim",
        action="append",
        default=[],
        metavar="NAME",
        help="run only the claim(s) with this name (repeatable; default: all)",
    )
    group.addoption(
        "--genprobe-compare-fail",
        dest="genprobe_compare_fail",
        action="append",
        default=[],
        metavar="METRIC:DELTA",
        help="fail the session when METRIC got worse than in --genprobe-compare by more than DELTA on most "
        "seeds, by the sign test (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(name): a genprobe claim or control; select with --genprobe-claim NAME",
    )
    gs = GenprobeSession(config)  # settings are read when first needed (GenprobeSession.settings)
    config.stash[_SESSION] = gs
    config.pluginmanager.register(gs, "genprobe-session")
    register_html_extras(config)  # pictures and checks on the rows of pytest-html's report (--html)


def pytest_report_header(config: pytest.Config) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        s = _session(config).settings
    except pytest.UsageError as exc:  # reported as a usage error where genprobe's suite is collected
        return f"{exc} (checked where genprobe's fixture or claims are used)"
    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "not installed"
    from ..profiles import get_profile
    from ..runs import default_cache_dir

    profile = get_profile(s.profile)
    start = s.seeds or profile.seeds
    plan = profile.plan(start)
    longest = max((profile.max_seeds_for(t) for t in profile.gated_tests()), default=profile.max_seeds)
    more = f" (up to {len(plan[-1])} where undecided" if len(plan) > 1 else ""
    if more and longest > profile.max_seeds:
        more += f"; up to {longest} for the tests the evidence gates with a longer plan"
    more += ")" if more else ""
    seeds = ",".join(map(str, start))
    return (
        f"genprobe: profile={s.profile}, device={s.device}, torch {torch_version}, seeds={seeds}{more}, "
        f"cache={s.cache or default_cache_dir()}"
    )


def _uses_genprobe(item: pytest.Item) -> bool:
    """Whether ``item`` asks for genprobe's fixture (``probe``, or the deprecated ``genprobe``: not another
    project's own ``probe``) or is marked as a claim."""
    if item.get_closest_marker("claim") is not None:
        return True
    names = getattr(item, "fixturenames", ())
    if "genprobe" in names:
        return True
    if "probe" not in names:
        return False
    info = getattr(item, "_fixtureinfo", None)
    defs = getattr(info, "name2fixturedefs", {}).get("probe") if info is not None else None
    if not defs:  # pytest's internals moved: assume it is ours, as before the rename
        return True
    return getattr(defs[-1].func, "__module__", "") == fixture.__name__


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(_uses_genprobe(i) for i in items) and not config.getoption("genprobe_claim"):
        return  # not genprobe's suite: its options are not validated here
    wanted = _session(config).settings.claims
    if not wanted:
        return
    names = {m.args[0] for item in items for m in item.iter_markers("claim") if m.args}
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise pytest.UsageError(
            f"genprobe: unknown claim {unknown[0]!r} in --genprobe-claim; "
            f"collected claims: {', '.join(sorted(names)) or 'none'}"
        )
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marks = [m.args[0] for m in item.iter_markers("claim") if m.args]
        (keep if any(m in wanted for m in marks) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
