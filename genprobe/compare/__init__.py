"""Saved sessions and regressions between two of them, in the manner of pytest-benchmark.

A session's verdicts (the plugin's ``rows``: ``(nodeid, verdict dict,
expectation)``) are saved as ``.genprobe/0001_NAME.json``, numbered in
order, with every check's value **per seed** and where they came from
(versions, git commit, date, profile). Two saves are compared test by test
(nodeid), check by check (metric) and seed by seed: a seed fixes the points
and the initialisation, so the same seed in both is a paired measurement and
its change is the effect of whatever changed between the two, not of luck.

A fail rule ``METRIC:DELTA`` says the change matters when a metric got
worse by more than ``DELTA``: when significantly more than half of a (test,
metric)'s paired seeds got worse by more than ``DELTA``, by the sign test of
:mod:`genprobe.stats` at level ``alpha`` (one bad seed is no regression; the
rule, its error and its limits in :mod:`genprobe.compare.gate`).

The plugin needs :func:`save`, :func:`load`, :func:`compare`,
:func:`regressions` and :func:`format_comparison`; the command is
``genprobe compare A B --fail METRIC:DELTA``.

Modules, lower first (each imports only those before it):

* ``snapshot``: the snapshot format (``FORMAT``, :func:`snapshot`,
  :func:`default_meta`): a session's rows as a dict, each test under a
  stable key, each check's values per seed.
* ``store``: where sessions are saved and found (``DEFAULT_ROOT``,
  :func:`check_name`, :func:`save`, :func:`load`, :func:`saved`,
  :func:`format_saved`).
* ``pairing``: two snapshots paired by test, metric and seed
  (:func:`change`, :class:`Pair`, :class:`Comparison`, :func:`compare`).
* ``gate``: the fail rules and their sign test (:class:`FailRule`,
  :func:`parse_fail_rule`, :class:`Judgement`, :func:`judge`,
  :func:`regressions`).
* ``table``: the comparison as a plain-text table (:func:`format_comparison`) and as a dict for JSON
  (:func:`comparison_dict`).

Import from ``genprobe.compare``. Pure python and numpy: no torch, no pytest.
"""

from __future__ import annotations

# (``X as X``: names outside __all__, still here: a Judgement's decisions and the type of a session's rows)
from .gate import MISSING as MISSING
from .gate import OK as OK
from .gate import REGRESSED as REGRESSED
from .gate import TOO_FEW as TOO_FEW
from .gate import FailRule, Judgement, judge, parse_fail_rule, regressions
from .pairing import Comparison, Pair, change, compare
from .snapshot import FORMAT, default_meta, snapshot
from .snapshot import Row as Row
from .store import DEFAULT_ROOT, check_name, format_saved, load, save, saved
from .table import comparison_dict, format_comparison

__all__ = [
    "FORMAT",
    "DEFAULT_ROOT",
    "FailRule",
    "Pair",
    "Comparison",
    "Judgement",
    "check_name",
    "default_meta",
    "snapshot",
    "save",
    "load",
    "saved",
    "format_saved",
    "compare",
    "change",
    "parse_fail_rule",
    "judge",
    "regressions",
    "format_comparison",
    "comparison_dict",
]
