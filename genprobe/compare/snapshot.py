"""The snapshot format: a session's verdicts as a dict, every check's value per seed.

A session's verdicts (the plugin's ``rows``: ``(nodeid, verdict dict,
expectation)``) become a snapshot (:func:`snapshot`): ``format``, ``meta``
(where they came from: versions, git commit, date, profile) and ``tests``,
each test under a key stable across versions (:func:`_test_key`), each of
its checks with its value **per seed**, so that two snapshots can be paired
seed by seed (:mod:`genprobe.compare.pairing`). :mod:`genprobe.compare.store`
writes and reads them.

No torch, no pytest.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..jsonio import from_json_safe, to_json_safe

__all__ = ["FORMAT", "Row", "default_meta", "snapshot"]

#: The ``format`` field of a saved file.
FORMAT = "genprobe-save/1"

Row = tuple[str, Mapping[str, Any], str]  # (nodeid, verdict dict, expectation), as the plugin collects them


def default_meta() -> dict[str, Any]:
    """Where a save came from, without importing torch: versions, python, platform, git commit, date (UTC)."""
    from ..provenance import versions

    return versions() | {"datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def _test_record(nodeid: str, verdict: Mapping[str, Any], expect: str) -> dict[str, Any]:
    seeds = [int(s) for s in verdict.get("seeds", [])]
    checks = []
    for c in verdict.get("checks", []):
        values = [float(v) for v in from_json_safe(list(c.get("values", [])))]
        record: dict[str, Any] = {
            "metric": str(c["metric"]),
            "op": str(c["op"]),
            "threshold": from_json_safe(c.get("threshold")),
            "status": c.get("status"),
            "median": from_json_safe(c.get("median")),
            "alpha": c.get("alpha"),
        }
        if len(values) == len(seeds):
            record["values"] = dict(zip(seeds, values))
        else:  # not one value per judged seed: kept, but cannot be paired by seed
            record["values"] = values
        checks.append(record)
    return {
        "nodeid": nodeid,
        "claim": verdict.get("claim"),
        "statement": verdict.get("statement"),
        "subject": verdict.get("subject"),
        "n": verdict.get("n"),
        "seeds": seeds,
        "expect": expect,
        "role": verdict.get("role"),
        "status": verdict.get("status"),
        "look": verdict.get("look"),
        "looks": verdict.get("looks"),
        "runs": list(verdict.get("runs", [])),
        "checks": checks,
    }


def _test_key(nodeid: str, d: Mapping[str, Any]) -> str:
    """``nodeid::claim[N=n]``: stable when a test gains another verdict (the claim marker names it) and when
    the model under test changes (its subject label names the model: a pull request that changes a
    keyword argument is compared with the run before it, and the comparison says what changed)."""
    return f"{nodeid}::{d.get('claim')}[N={d.get('n')}]"


def _test_keys(pairs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """One key per (nodeid, verdict) (:func:`_test_key`); ``#2``, ... for a second verdict of the same claim
    and N in one test, in order."""
    keys: list[str] = []
    for nodeid, d in pairs:
        key = base = _test_key(nodeid, d)
        i = 1
        while key in keys:
            i += 1
            key = f"{base}#{i}"
        keys.append(key)
    return keys


def _keyed(tests: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """A save's tests under today's keys, rebuilt from each record (a save from a version whose keys held
    the subject pairs with one from today)."""
    records = list(tests.values())
    return dict(zip(_test_keys((str(t["nodeid"]), t) for t in records), records))


def _distinct(rows: Iterable[Row]) -> list[Row]:
    """The rows with exact repeats dropped (a test reported twice, e.g. by a rerun plugin, counts once)."""
    seen: set[str] = set()
    out = []
    for row in rows:
        text = json.dumps(to_json_safe(row), sort_keys=True)
        if text not in seen:
            seen.add(text)
            out.append(row)
    return out


def snapshot(rows: Iterable[Row], meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What :func:`~.store.save` writes and :func:`~.store.load` returns, in memory: ``format``, ``meta``, ``tests``.

    ``tests`` maps each test's key (its nodeid) to its verdict: claim,
    subject, N, seeds, expectation, role, the runs' cache keys and its
    checks, each with metric, op, threshold and ``values`` as
    ``{seed: value}`` (NaN for a diverged seed).

    ``rows``: ``(nodeid, verdict dict, expectation)``, the dict from
    :meth:`genprobe.verdicts.Verdict.to_dict` (as is or through
    :func:`genprobe.jsonio.to_json_safe`). ``meta`` is added to (and
    overrides) :func:`default_meta`; the plugin passes the profile and device.
    """
    rows = list(rows)
    rows = _distinct(rows)
    keys = _test_keys((nodeid, d) for nodeid, d, _ in rows)
    tests = {key: _test_record(nodeid, d, expect) for key, (nodeid, d, expect) in zip(keys, rows)}
    return {"format": FORMAT, "meta": default_meta() | dict(meta or {}), "tests": tests}
