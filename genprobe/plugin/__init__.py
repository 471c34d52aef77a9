"""The genprobe pytest plugin (registered through the ``pytest11`` entry point).

Adds the ``--genprobe-*`` options, a header line, the ``claim`` marker, the
``probe`` fixture (formerly ``genprobe``, still there for one version, with a warning) that hands out
cached run results, a terminal summary
table of verdicts and, at the end of the session, the report in
``reports/<profile>/``.

Modules, lower first: ``settings`` (options and variables), ``summary``
(the terminal table and the report), ``session`` (per-session state and
runs), ``fixture`` (:class:`Probe`, ``check``), ``html`` (each claim's
pictures and checks in pytest-html's report, where it is active) and ``hooks``.

Nothing heavy is imported at import time: torch and numpy load only when a
test asks for runs, so installing genprobe costs other projects' test runs
nothing.
"""

from __future__ import annotations

from .fixture import Probe, genprobe, probe
from .hooks import pytest_addoption, pytest_collection_modifyitems, pytest_configure, pytest_report_header
from .session import GenprobeSession
from .settings import EXPECTATIONS, VERDICT_PROPERTY, Settings

__all__ = [
    "EXPECTATIONS",
    "VERDICT_PROPERTY",
    "GenprobeSession",
    "Probe",
    "Settings",
    "genprobe",
    "probe",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
]
