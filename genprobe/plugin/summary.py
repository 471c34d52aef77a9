"""What a session shows at its end: the terminal table of verdicts and the report in ``reports/<profile>/``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..text import table

if TYPE_CHECKING:  # pragma: no cover
    from ..profiles import Profile
    from ..runs import Cache, RunResult
    from ..verdicts import Verdict
    from .settings import Settings


class GenprobeSession(Protocol):
    """What the summary reads of the session (:class:`genprobe.plugin.session.GenprobeSession`, which
    calls these functions: this module does not import it)."""

    rows: list[tuple[str, dict[str, Any], str]]
    device_used: str | None
    report_path: Path | None
    compare_lines: list[str]

    @property
    def settings(self) -> Settings: ...

    @property
    def profile(self) -> Profile: ...

    @property
    def seeds(self) -> tuple[int, ...]: ...

    @property
    def cache(self) -> Cache: ...

    def results_for(self, keys: Iterable[str], *, read_cache: bool = True) -> list[RunResult]: ...


def _verdicts(gs: GenprobeSession) -> list[tuple[Verdict, str]]:
    from ..verdicts import Verdict

    return [(Verdict.from_json(d), expect) for _, d, expect in gs.rows]


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
    from ..provenance import provenance
    from ..report import write_report, write_run_pictures

    verdicts = _verdicts(gs)
    results = gs.results_for(k for v, _ in verdicts for k in v.runs)
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
    return write_report(
        out, gs.settings.profile, labelled, results, info, pictures, _gallery(gs, out), _frontiers(gs, results)
    )


def _frontiers(gs: GenprobeSession, results: list[RunResult]):
    """The shape claims' frontiers from the session's runs; a failure is a line on stderr, not a lost report."""
    import sys

    from ..frontier_report import session_frontiers

    try:
        return session_frontiers(gs.profile, results)
    except Exception as exc:  # the report must still be written
        print(f"genprobe: no frontiers in the report: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return None


def _gallery(gs: GenprobeSession, out: Path) -> dict | None:
    """The committed gallery verdicts of this profile (if any) and their strip, written into ``out``."""
    from ..profiles import EVIDENCE_DIR
    from ..report import save_gallery_strip

    path = EVIDENCE_DIR / f"gallery-{gs.settings.profile}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    save_gallery_strip([r["picture"] for r in data["rows"]], out / "gallery.png")
    return data | {"strip": "gallery.png"}


def _terminal_summary(gs: GenprobeSession, tr) -> None:
    tr.section(f"genprobe claims ({gs.settings.profile} profile, seeds from {','.join(map(str, gs.seeds))})")
    tr.write_line(
        "rule: an exact sequential sign test per check on the seeds' values; "
        f"at most {gs.profile.alpha:.0%} error per claim over all looks, either way "
        "(docs/explanation/verdicts.md)"
    )
    header = ("claim", "subject", "N", "metric", "seeds meeting the bound: verdict", "measured", "outcome")
    rows = []
    verdicts = _verdicts(gs)
    for v, expect in verdicts:
        for c in v.checks:
            rows.append(
                (v.claim, v.subject, str(v.n), c.metric, c.decision, c.measured, _role(expect, c.status, v.status))
            )
    head, *lines = table(header, rows, max_width=48).split("\n")
    tr.write_line(head, bold=True)
    for r, line in zip(rows, lines):
        bad = any(ch.isupper() for ch in r[-1].split(":")[0].split(" (")[0])  # upper case: a failing test
        tr.write_line(line, red=bad)
    from ..report import expectation_note

    # a report test's limiting bound, how often the confirmation seeds meet it and what a gate would need
    limits = [(v, expectation_note(v).partition("limiting bound ")[2]) for v, expect in verdicts if expect == "report"]
    if any(why for _, why in limits):
        tr.write_line("reported, not gating (limiting bound, share of confirmation seeds, seeds a gate would need):")
        for v, why in limits:
            if why:
                tr.write_line(f"  {v.claim} N={v.n}: {why}")
    if gs.report_path is not None:
        tr.write_line(f"genprobe report: {gs.report_path}")
    if gs.compare_lines:
        tr.section("genprobe compare" + (f" with {gs.settings.compare}" if gs.settings.compare else ""))
        for line in gs.compare_lines:
            tr.write_line(line, red=line.startswith(("REGRESSION", "genprobe: cannot")))


def _save_and_compare(gs: GenprobeSession) -> tuple[list[str], bool]:
    """``--genprobe-save`` and ``--genprobe-compare``: lines for the terminal, and whether the gate fails.

    The baseline is read before this session is saved (so ``--genprobe-save X --genprobe-compare X``
    compares with the previous X, not with itself). The saved file holds every verdict's per-seed
    values, the specs of the runs behind them, and the versions and commit
    (:func:`genprobe.compare.save`). A failed save does not stop the comparison, nor the report. A
    comparison that cannot be made (no such save) fails the session when a fail rule asks for one:
    a gate that cannot look must not pass.
    """
    from .. import compare

    s = gs.settings
    root = s.storage or compare.DEFAULT_ROOT
    lines: list[str] = []
    failed = False
    base = None
    if s.compare is not None:
        try:
            base = compare.load(s.compare, root)
        except Exception as exc:  # GenprobeError: no such save, or not a save
            lines.append(f"genprobe: cannot compare: {exc}")
            failed = bool(s.compare_fail)
    if s.save is not None:
        try:
            path = compare.save(gs.rows, s.save, root, meta=_save_meta(gs))
            lines.append(f"genprobe: saved {len(gs.rows)} verdicts to {path}")
        except Exception as exc:  # a full disk, a lock another process holds: say so, go on
            lines.append(f"genprobe: cannot save: {exc.__class__.__name__}: {exc}")
    if base is not None:
        comparison = compare.compare(base, gs.rows)
        lines += compare.format_comparison(comparison, s.compare_fail, strict=False).splitlines()
        found = compare.regressions(comparison, s.compare_fail, strict=False)
        lines += [f"REGRESSION {j.explanation}" for j in found]
        failed = failed or bool(found)
    return lines, failed


def _save_meta(gs: GenprobeSession) -> dict[str, Any]:
    """Profile, device, seeds, and the spec of every run behind a saved verdict (from the cache under xdist,
    where the controller trained nothing)."""
    s = gs.settings
    results = gs.results_for(k for _, d, _ in gs.rows for k in d.get("runs", []))
    specs = {r.spec.key: r.spec.to_dict() for r in results}
    return {"profile": s.profile, "device": gs.device_used or s.device, "seeds": list(gs.seeds), "specs": specs}
