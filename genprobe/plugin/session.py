"""Per-session state: the settings, the cache, the runs trained so far and the verdicts recorded."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile
    from ..runs import Cache, RunResult, RunSpec
from .settings import VERDICT_PROPERTY, Settings, _settings
from .summary import _save_and_compare, _terminal_summary, _write_report

__all__ = ["GenprobeSession"]


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
        self._cached_profile: list[RunResult] | None = None  # the profile's runs read back from the cache
        self.compare_lines: list[str] = []  # --genprobe-save / --genprobe-compare, for the terminal

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
        from ..profiles import get_profile

        return get_profile(self.settings.profile)

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.settings.seeds or self.profile.seeds

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            from ..runs import Cache

            self._cache = Cache(self.settings.cache)
        return self._cache

    def _log(self, msg: str) -> None:
        """A line for the person at the terminal: the sweep's progress and each group it trains.

        On a pytest-xdist worker, whose terminal reporter writes nowhere, on its stderr (the controller's,
        inherited), past pytest's capture and marked with the worker's id."""
        worker = getattr(self.config, "workerinput", None)
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        # inside a test pytest captures the file descriptors: what is written there is shown only on failure
        with capman.global_and_fixture_disabled() if capman is not None else contextlib.nullcontext():
            if worker is None:
                tr = self.config.pluginmanager.get_plugin("terminalreporter")
                if tr is not None:
                    tr.write_line(msg)
                return
            sys.stderr.write(f"[{worker.get('workerid', 'worker')}] {msg}\n")
            sys.stderr.flush()

    def results(self, specs: list[RunSpec]) -> list[RunResult]:
        """Results for ``specs``, from memory, the cache, or training.

        The first request that touches the profile's own runs trains the whole
        profile sweep at once, so its nets share few batched groups.
        """
        from ..sweep import default_workers, run_sweep
        from ..train import resolve_device

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

    def results_for(self, keys: Iterable[str], *, read_cache: bool = True) -> list[RunResult]:
        """The runs of this session whose cache keys are in ``keys`` (a verdict's ``runs``).

        ``read_cache``: where this process holds none of them (the controller of ``pytest -n``
        trained nothing), the profile's runs over every look's seeds, read back once from the cache.
        """
        wanted = set(keys)
        found = [r for r in self._results.values() if _key(r.spec) in wanted]
        if found or not read_cache:
            return found
        if self._cached_profile is None:
            specs = self.profile.sweep(self.profile.plan(self.seeds)[-1])
            self._cached_profile = [r for r in (self.cache.get(s) for s in specs) if r is not None]
        return [r for r in self._cached_profile if r.spec.key in wanted]

    # -- hooks (this object is registered as a plugin) -------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # user_properties travel with the report, so under xdist the
        # controller sees the workers' verdicts here too.
        for name, value in report.user_properties:
            if name == VERDICT_PROPERTY and report.when == "call":
                payload = json.loads(str(value))
                self.rows.append((report.nodeid, payload["verdict"], payload["expect"]))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput") or not self.rows:
            return
        if self.settings.save is not None or self.settings.compare is not None:
            try:
                self.compare_lines, regressed = _save_and_compare(self)
            except Exception as exc:  # say it in one line and go on to the report; a gate that cannot judge fails
                self.compare_lines = [f"genprobe: cannot compare: {exc.__class__.__name__}: {exc}"]
                regressed = bool(self.settings.compare_fail)
            if regressed and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if not self.settings.write_report:
            return
        try:
            self.report_path = _write_report(self)
        except Exception as exc:  # the report must never turn a green run red
            self._log(f"genprobe: could not write the report: {exc.__class__.__name__}: {exc}")

    def pytest_terminal_summary(self, terminalreporter, exitstatus: int, config: pytest.Config) -> None:
        if not hasattr(config, "workerinput") and self.rows:
            _terminal_summary(self, terminalreporter)


def _key(spec: RunSpec) -> str | None:
    """``spec.key``, or None where it cannot be computed any more (a PNG truth since removed)."""
    try:
        return spec.key
    except Exception:
        return None


def _share_cores_with_xdist_workers() -> None:
    """Under ``pytest -n W``, give each worker its share of the cores."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


_SESSION = pytest.StashKey[GenprobeSession]()


def _session(config: pytest.Config) -> GenprobeSession:
    return config.stash[_SESSION]
