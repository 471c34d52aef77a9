"""The genprobe pytest plugin (registered through the ``pytest11`` entry point).

Adds the ``--genprobe-*`` options, a header line, the ``claim`` marker, the
``genprobe`` fixture that hands out cached run results, a terminal summary
table of verdicts and, at the end of the session, the report in
``reports/<profile>/``.

Nothing heavy is imported at import time: torch and numpy load only when a
test asks for runs, so installing genprobe costs other projects' test runs
nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .profiles import Profile
    from .runs import Cache, RunResult, RunSpec
    from .verdicts import Verdict

VERDICT_PROPERTY = "genprobe_verdict"
EXPECTATIONS = ("holds", "refuted", "fails", "report")

_OPTIONS = {
    # option: (environment variable, help)
    "profile": ("GENPROBE_PROFILE", "scale of the claim suite: smoke or paper (default: smoke)"),
    "device": ("GENPROBE_DEVICE", "device to train on: auto, cpu, cuda, mps (default: auto)"),
    "seeds": ("GENPROBE_SEEDS", "comma-separated seeds, e.g. 0,1,2 (default: the profile's seeds)"),
    "cache": ("GENPROBE_CACHE", "folder of cached run results (default: ~/.cache/genprobe)"),
    "report": ("GENPROBE_REPORT", "folder of the report (default: reports/<profile> under the rootdir)"),
    "scheduler": (
        "GENPROBE_SCHEDULER",
        'train on this Dask scheduler, e.g. tcp://host:8786 (pip install "genprobe[dask]")',
    ),
}


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


@dataclass
class Settings:
    profile: str
    device: str
    seeds: tuple[int, ...] | None
    cache: Path | None
    report: Path
    write_report: bool
    claims: tuple[str, ...]
    scheduler: str | None = None


def _option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(f"genprobe_{name}")
    if value is None:
        value = os.environ.get(_OPTIONS[name][0]) or None
    return value


def _settings(config: pytest.Config) -> Settings:
    from .profiles import PROFILES

    profile = _option(config, "profile") or "smoke"
    if profile not in PROFILES:
        raise pytest.UsageError(f"genprobe: unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    device = _option(config, "device") or "auto"
    if device.split(":")[0] not in ("auto", "cpu", "cuda", "mps"):
        raise pytest.UsageError(f"genprobe: unknown device {device!r}; choose from auto, cpu, cuda, mps")
    if device != "auto" and device != "cpu":
        from .errors import GenprobeError
        from .train import resolve_device

        try:
            resolve_device(device)
        except GenprobeError as exc:
            raise pytest.UsageError(f"genprobe: {exc}") from None
    from .ckernel import mode as ckernel_mode
    from .errors import GenprobeError

    try:
        ckernel_mode()  # GENPROBE_CKERNEL, checked before anything trains
    except GenprobeError as exc:
        raise pytest.UsageError(f"genprobe: {exc}") from None
    from .options import parse_seeds

    seeds_text = _option(config, "seeds")
    try:
        seeds = parse_seeds(seeds_text) if seeds_text else None
    except ValueError as exc:
        raise pytest.UsageError(f"genprobe: {exc}") from None
    cache = _option(config, "cache")
    report = _option(config, "report")
    return Settings(
        profile=profile,
        device=device,
        seeds=seeds,
        cache=Path(cache) if cache else None,
        report=Path(report) if report else Path(config.rootpath) / "reports" / profile,
        write_report=not config.getoption("genprobe_no_report"),
        claims=tuple(config.getoption("genprobe_claim") or ()),
        scheduler=_option(config, "scheduler"),
    )


class GenprobeSession:
    """Per-session state, kept in ``config.stash``."""

    def __init__(self, config: pytest.Config, settings: Settings | None = None):
        self.config = config
        self._settings = settings
        self.rows: list[tuple[str, dict[str, Any], str]] = []  # (nodeid, verdict dict, expectation)
        self.device_used: str | None = None
        self.report_path: Path | None = None
        self._cache: Cache | None = None
        self._results: dict[RunSpec, RunResult] = {}
        self._profile_trained = False

    @property
    def settings(self) -> Settings:
        """The ``--genprobe-*`` options and ``GENPROBE_*`` variables, validated on first use: where
        genprobe's fixture or claims are collected, not in every pytest run of a project that has
        genprobe installed (a bad value is then a usage error of that session)."""
        if self._settings is None:
            self._settings = _settings(self.config)
        return self._settings

    # -- runs ----------------------------------------------------------------
    @property
    def profile(self) -> Profile:
        from .profiles import get_profile

        return get_profile(self.settings.profile)

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.settings.seeds or self.profile.seeds

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            from .runs import Cache

            self._cache = Cache(self.settings.cache)
        return self._cache

    def _log(self, msg: str) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None and not hasattr(self.config, "workerinput"):
            tr.write_line(msg)

    def results(self, specs: list[RunSpec]) -> list[RunResult]:
        """Results for ``specs``, from memory, the cache, or training.

        The first request that touches the profile's own runs trains the whole
        profile sweep at once, so its nets share few batched groups.
        """
        from .sweep import default_workers, run_sweep
        from .train import resolve_device

        if self.device_used is None:
            self.device_used = resolve_device(self.settings.device)
            _share_cores_with_xdist_workers()
        missing = [s for s in specs if s not in self._results]
        if missing:
            todo = list(missing)
            # --genprobe-claim: only what the selected claims ask for
            if not self._profile_trained and not self.settings.claims:
                profile_specs = self.profile.sweep(self.seeds)
                if any(s in set(profile_specs) for s in missing):
                    todo = profile_specs + [s for s in missing if s not in set(profile_specs)]
                    self._profile_trained = True
            workers = default_workers(self.device_used)
            for r in run_sweep(
                todo,
                cache=self.cache,
                device=self.device_used,
                progress=False,
                log_fn=self._log,
                workers=workers,
                scheduler=self.settings.scheduler,
            ):
                self._results[r.spec] = r
        return [self._results[s] for s in specs]

    # -- hooks (this object is registered as a plugin) -------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # user_properties travel with the report, so under xdist the
        # controller sees the workers' verdicts here too.
        for name, value in report.user_properties:
            if name == VERDICT_PROPERTY and report.when == "call":
                payload = json.loads(str(value))
                self.rows.append((report.nodeid, payload["verdict"], payload["expect"]))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput") or not self.rows or not self.settings.write_report:
            return
        try:
            self.report_path = _write_report(self)
        except Exception as exc:  # the report must never turn a green run red
            self._log(f"genprobe: could not write the report: {exc.__class__.__name__}: {exc}")

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        if not hasattr(config, "workerinput") and self.rows:
            _terminal_summary(self, terminalreporter)


def _share_cores_with_xdist_workers() -> None:
    """Under ``pytest -n W``, give each worker its share of the cores."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


_SESSION = pytest.StashKey[GenprobeSession]()


def _session(config: pytest.Config) -> GenprobeSession:
    return config.stash[_SESSION]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(name): a genprobe claim or control; select with --genprobe-claim NAME",
    )
    gs = GenprobeSession(config)  # settings are read when first needed (GenprobeSession.settings)
    config.stash[_SESSION] = gs
    config.pluginmanager.register(gs, "genprobe-session")


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
    from .profiles import get_profile
    from .runs import default_cache_dir

    profile = get_profile(s.profile)
    start = s.seeds or profile.seeds
    plan = profile.plan(start)
    more = f" (up to {len(plan[-1])} where undecided)" if len(plan) > 1 else ""
    seeds = ",".join(map(str, start))
    return (
        f"genprobe: profile={s.profile}, device={s.device}, torch {torch_version}, seeds={seeds}{more}, "
        f"cache={s.cache or default_cache_dir()}"
    )


def _uses_genprobe(item: pytest.Item) -> bool:
    return "genprobe" in getattr(item, "fixturenames", ()) or item.get_closest_marker("claim") is not None


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


class Probe:
    """What a claim test gets from the ``genprobe`` fixture.

    ``probe.net(312)`` is the post's net at N = 312 over the probe's seeds,
    at the profile's scale (cached, trained once per session at most);
    ``probe.baseline("knn", 312)``, ``probe.shuffled(312)`` and
    ``probe.fourier(312)`` are the controls on the same points; ``probe.runs``
    takes any specs. ``probe.check(build)`` decides a claim: ``build`` maps a
    probe to a :class:`~genprobe.verdicts.Verdict`, and is called on the
    session's first seeds and, while the verdict is inconclusive, on more
    seeds (:meth:`Profile.plan`); the verdict is asserted against its
    expectation and recorded for the summary table, the report and
    ``--junitxml``.
    """

    def __init__(self, session: GenprobeSession, node: pytest.Item, seeds: tuple[int, ...] | None = None):
        self._session = session
        self._node = node
        self._seeds = seeds

    @property
    def profile(self) -> Profile:
        return self._session.profile

    @property
    def seeds(self) -> tuple[int, ...]:
        return self._session.seeds if self._seeds is None else self._seeds

    def on(self, seeds: Sequence[int]) -> Probe:
        """The same probe over other seeds."""
        return Probe(self._session, self._node, tuple(seeds))

    @property
    def thresholds(self):
        return self.profile.thresholds

    def runs(self, specs: list[RunSpec]) -> list[RunResult]:
        return self._session.results(list(specs))

    def net(self, n: int, protocol: str = "standard", **overrides: Any) -> list[RunResult]:
        return self.runs([self.profile.net(n, s, protocol, **overrides) for s in self.seeds])

    def shuffled(self, n: int, protocol: str = "standard") -> list[RunResult]:
        return self.runs([self.profile.shuffled(n, s, protocol) for s in self.seeds])

    def fourier(self, n: int, scale: float | None = None) -> list[RunResult]:
        return self.runs([self.profile.fourier(n, s, scale) for s in self.seeds])

    def baseline(self, model: str, n: int, k: int = 1) -> list[RunResult]:
        return self.runs([self.profile.baseline(model, n, s, k) for s in self.seeds])

    def completion(self, model: str, n: int) -> list[RunResult]:
        """Ring completion: ``net``, ``knn``, ``dot``, ``fourier`` or ``shuffled``, points outside the wedge."""
        return self.runs([self.profile.completion(model, n, s) for s in self.seeds])

    def expect(self, test_id: str | None = None) -> str:
        """The profile's expectation for a test (default: this one), from the committed evidence."""
        return self.profile.expect(test_id or self._node.name)[0]

    def check(self, verdict: Verdict | Callable[[Probe], Verdict], expect: str | None = None) -> Verdict:
        """Decide a claim over seeds, assert it and record it.

        Args:
            verdict: a function ``probe -> Verdict`` (from :mod:`genprobe.claims`),
                judged on the first seeds and, while inconclusive, on more,
                up to the profile's ``max_seeds``; or a ready ``Verdict``,
                judged once, on its own seeds.
            expect: None: the profile's expectation for this test, set from
                the confirmation evidence (``holds`` where no evidence names
                it); or ``holds`` (the claim must hold), ``refuted`` (our
                measurements refute the post: the test xfails with the
                numbers, and fails if the claim holds), ``fails`` (a control:
                passes only when the claim is refuted) or ``report``
                (recorded, never fails). ``holds``, ``refuted`` and ``fails``
                also fail when the verdict is still inconclusive at the
                maximum seeds.
        """
        __tracebackhide__ = True
        from .jsonio import to_json_safe

        why = ""
        if expect is None:
            expect, why = self.profile.expect(self._node.name)
        if expect not in EXPECTATIONS:
            raise pytest.UsageError(f"genprobe: unknown expectation {expect!r}; choose from {', '.join(EXPECTATIONS)}")
        from .verdicts import decide_over_seeds

        plan = self.profile.plan(self.seeds)
        looks = len(plan)
        if expect == "report":
            plan = plan[: self.profile.report_looks]  # gates nothing: no extra seeds to train
        v = decide_over_seeds(verdict, self, plan, self.profile.alpha, looks=looks)
        if why:
            v.notes.append(f"{self.profile.name} profile expects '{expect}': {why}")
        d = v.to_dict()
        self._node.user_properties.append(
            (VERDICT_PROPERTY, json.dumps({"verdict": to_json_safe(d), "expect": expect}))
        )
        self._node.user_properties.append((f"genprobe:{v.claim}:N={v.n}:seeds", str(len(v.seeds))))
        for c in v.checks:
            self._node.user_properties.append((f"genprobe:{v.claim}:N={v.n}:{c.metric}", c.decision))
        status = v.status
        undecided = status == "inconclusive"
        more = f" at {len(v.seeds)} seeds, the most this profile trains for it" if undecided else ""
        if expect == "holds" and status != "holds":
            pytest.fail(f"expected holds, got {status}{more}:\n" + v.explain(), pytrace=False)
        if expect == "fails" and status != "refuted":
            pytest.fail(
                f"control not refuted ({status}{more}), so the claim cannot tell it apart:\n" + v.explain(),
                pytrace=False,
            )
        if expect == "refuted":
            if status != "refuted":
                tag = "[XPASS(strict)] " if status == "holds" else ""
                pytest.fail(f"{tag}expected refuted, got {status}{more}:\n" + v.explain(), pytrace=False)
            pytest.xfail(
                f"{status}: "
                + "; ".join(f"{c.metric}: {c.decision} ({c.measured})" for c in v.checks if c.status == "refuted")
            )
        return v


@pytest.fixture
def genprobe(request: pytest.FixtureRequest) -> Probe:
    """Runs of the post's experiment at the session's profile, and ``check``."""
    return Probe(_session(request.config), request.node)


def _verdicts(gs: GenprobeSession) -> list[tuple[Verdict, str]]:
    from .jsonio import from_json_safe
    from .verdicts import Verdict

    out = []
    for _, d, expect in gs.rows:
        d = dict(d)
        d["checks"] = [
            dict(c, values=[from_json_safe(v) for v in c["values"]], threshold=from_json_safe(c["threshold"]))
            for c in d["checks"]
        ]
        out.append((Verdict.from_dict(d), expect))
    return out


def _role(expect: str, check_status: str, verdict_status: str) -> str:
    """What a check row means for its test (controls and refutations read differently)."""
    if expect == "report":
        return f"reported: {check_status}"
    if expect == "fails":
        if verdict_status != "refuted":
            return f"CONTROL NOT REFUTED: {check_status}"
        return f"control: {check_status}"
    if expect == "refuted":
        return (
            f"{check_status} (claim expected refuted)"
            if verdict_status == "refuted"
            else f"{check_status.upper()} (expected refuted)"
        )
    return check_status if verdict_status == "holds" else check_status.upper()


def _write_report(gs: GenprobeSession) -> Path:
    from .provenance import provenance
    from .report import write_report, write_run_pictures

    verdicts = _verdicts(gs)
    keys = {k for v, _ in verdicts for k in v.runs}
    results = [r for r in gs._results.values() if r.spec.key in keys] if gs._results else []
    if not results:  # xdist: the controller trained nothing; read what the workers cached
        specs = gs.profile.sweep(gs.profile.plan(gs.seeds)[-1])  # the extra seeds of later looks too
        results = [r for r in (gs.cache.get(s) for s in specs) if r is not None and r.spec.key in keys]
    out = gs.settings.report
    out.mkdir(parents=True, exist_ok=True)
    pictures = (
        write_run_pictures(out, results, mark_epochs=(gs.profile.epochs, gs.profile.long_epochs)) if results else {}
    )
    info = provenance(gs.device_used or gs.settings.device) | {
        "profile": gs.settings.profile,
        "seeds": list(gs.seeds),
        "seeds_at_most": list(gs.profile.plan(gs.seeds)[-1]),
        "cache": str(gs.cache.root),
        "epochs": gs.profile.epochs,
        "long_epochs": gs.profile.long_epochs,
    }
    labelled = []
    roles = {"fails": "control", "refuted": "expected refuted", "report": "reported", "holds": "claim"}
    for v, expect in verdicts:
        v.role = roles[expect]
        labelled.append(v)
    return write_report(out, gs.settings.profile, labelled, results, info, pictures, _gallery(gs, out))


def _gallery(gs: GenprobeSession, out: Path) -> dict | None:
    """The committed gallery verdicts of this profile (if any) and their strip, written into ``out``."""
    from .profiles import EVIDENCE_DIR
    from .report import save_gallery_strip

    path = EVIDENCE_DIR / f"gallery-{gs.settings.profile}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    save_gallery_strip([r["picture"] for r in data["rows"]], out / "gallery.png")
    return data | {"strip": "gallery.png"}


def _terminal_summary(gs: GenprobeSession, tr) -> None:
    tr.section(f"genprobe claims ({gs.settings.profile} profile, seeds from {','.join(map(str, gs.seeds))})")
    tr.write_line(
        "rule: a sign test per check on the seeds' values; "
        f"at most {gs.profile.alpha:.0%} error per check over all looks "
        "(README, 'How verdicts are decided')"
    )
    header = ("claim", "subject", "N", "metric", "seeds meeting the bound: verdict", "measured", "outcome")
    rows = []
    for v, expect in _verdicts(gs):
        for c in v.checks:
            rows.append(
                (v.claim, v.subject, str(v.n), c.metric, c.decision, c.measured, _role(expect, c.status, v.status))
            )
    widths = [min(max(len(r[i]) for r in rows + [header]), 48) for i in range(len(header))]

    def fmt(r):
        return "  ".join(str(x)[:w].ljust(w) for x, w in zip(r, widths))

    tr.write_line(fmt(header), bold=True)
    for r in rows:
        bad = any(ch.isupper() for ch in r[-1].split(":")[0].split(" (")[0])  # upper case: a failing test
        tr.write_line(fmt(r), red=bad)
    if gs.report_path is not None:
        tr.write_line(f"genprobe report: {gs.report_path}")
