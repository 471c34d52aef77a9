"""Each claim's pictures and checks in pytest-html's report, through its extras API.

Where pytest-html is active and writes a report (``--html=PATH``), every test
that recorded a verdict (:meth:`Probe.check`) gets, on its row: a thumbnail
of the run panel at the verdict's N (first seed of its subject, the thumbnail
``reports/<profile>/index.html`` shows of that run group: a JPEG at most
:data:`THUMB` px wide), the training curves of its trained runs (a JPEG
thumbnail of the same width) and its checks as a table (metric, decision,
measured, outcome). The pictures are rendered here, from the runs the
session holds, as base64 JPEGs (about 10-25 kB each, so the smoke suite's
self-contained report stays under 3 MB): pytest-html inlines them with
``--self-contained-html`` and writes them to its ``assets/`` folder without.
The session's own report (``reports/<profile>/``) is written later, at the
end of the session, and is not used.

Nothing here imports pytest-html unless it is active: without it, or with
``-p no:html``, :func:`register` registers nothing. Rendering never fails a
test: an error becomes a line in the row instead of the pictures.
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .session import _session
from .settings import VERDICT_PROPERTY
from .summary import _role

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunResult

__all__ = ["CURVES_WIDTH", "THUMB", "HtmlExtras", "register"]

THUMB = 384  # px: the widest a panel thumbnail gets (genprobe.report.page.THUMB_WIDTH, not imported here)
CURVES_WIDTH = 384  # px: the widest the curves thumbnail gets

_PLUGIN_NAME = "genprobe-html"


def register(config: pytest.Config) -> None:
    """Register :class:`HtmlExtras` where pytest-html is active and asked for a report (``--html``)."""
    if not config.pluginmanager.hasplugin("html"):
        return  # not installed, or -p no:html
    try:
        html_path = config.getoption("htmlpath")
    except ValueError:  # another plugin named "html" without pytest-html's options
        return
    if html_path and config.pluginmanager.get_plugin(_PLUGIN_NAME) is None:
        config.pluginmanager.register(HtmlExtras(config), _PLUGIN_NAME)


def _extras_attribute() -> str:
    """``report.extras`` since pytest-html 4, ``report.extra`` before."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("pytest-html").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return "extras"
    return "extras" if major >= 4 else "extra"


class HtmlExtras:
    """The ``pytest_runtest_makereport`` wrapper that adds a claim's pictures and checks to its report."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self._attribute = _extras_attribute()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        outcome = yield
        report = outcome.get_result()
        if report.when != "call":
            return
        payloads = [json.loads(str(value)) for name, value in item.user_properties if name == VERDICT_PROPERTY]
        if not payloads:
            return
        added: list[dict[str, Any]] = []
        for payload in payloads:
            added += self.extras(payload["verdict"], payload["expect"])
        setattr(report, self._attribute, list(getattr(report, self._attribute, None) or []) + added)

    def extras(self, verdict: dict[str, Any], expect: str) -> list[dict[str, Any]]:
        """pytest-html extras of one recorded verdict: its checks table, panel thumbnail and curves."""
        from pytest_html import extras

        out = [extras.html(checks_table(verdict, expect))]
        try:
            gs = _session(self.config)
            # this process's runs only (an xdist worker trained them): no cache reads per test
            results = gs.results_for(verdict.get("runs", ()), read_cache=False)
            if results:
                name, png = panel_thumbnail(verdict, results)
                out.append(extras.jpg(_b64(png), name=name))
                marks = (gs.profile.epochs, gs.profile.long_epochs)
                curves = curves_png(verdict, results, mark_epochs=marks)
                if curves is not None:
                    out.append(extras.jpg(_b64(curves[1]), name=curves[0]))
                from ..frontier import FRONTIER_SUFFIX

                claim = str(verdict.get("claim", ""))
                if claim.endswith(FRONTIER_SUFFIX):  # a frontier test: the share of seeds holding against N
                    from ..frontier_report import frontier_thumbnail

                    jpg = frontier_thumbnail(gs.profile, claim[: -len(FRONTIER_SUFFIX)], results, CURVES_WIDTH)
                    if jpg is not None:
                        out.append(extras.jpg(_b64(jpg), name=f"{claim}: share of seeds holding against N"))
        except Exception as exc:  # pictures must never turn a test red
            note = f"genprobe: no pictures for this claim ({exc.__class__.__name__}: {exc})"
            out.append(extras.html(f"<p>{html.escape(note)}</p>"))
        return out


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def checks_table(verdict: dict[str, Any], expect: str) -> str:
    """An HTML table of the verdict's checks: metric, decision, measured, outcome (as in the terminal table)."""
    e = html.escape
    status = str(verdict.get("status", ""))
    seeds = verdict.get("seeds", [])
    caption = (
        f"{verdict['claim']} [{verdict['subject']}, N={verdict['n']}, {len(seeds)} seeds]: "
        f"{status} (expected: {expect})"
    )
    cell = 'style="border:1px solid #ccc;padding:2px 6px;text-align:left"'
    head = "".join(f"<th {cell}>{h}</th>" for h in ("metric", "decision", "measured", "outcome"))
    rows = []
    for c in verdict.get("checks", []):
        values = (c["metric"], c["decision"], c["measured"], _role(expect, c["status"], status))
        rows.append("<tr>" + "".join(f"<td {cell}>{e(str(v))}</td>" for v in values) + "</tr>")
    if not rows:
        rows.append(f'<tr><td {cell} colspan="4">(no checks)</td></tr>')
    return (
        '<table class="genprobe-checks" style="border-collapse:collapse;margin:4px 0">'
        f'<caption style="text-align:left;font-weight:bold">{e(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _subject_runs(verdict: dict[str, Any], results: Sequence[RunResult]) -> list[RunResult]:
    """The runs of the verdict's subject at its N, else the trained ones, else all (at its N where any are)."""
    at_n = [r for r in results if r.spec.n == verdict.get("n")] or list(results)
    return [r for r in at_n if r.spec.what() == verdict.get("subject")] or [r for r in at_n if r.spec.trained] or at_n


def panel_thumbnail(verdict: dict[str, Any], results: Sequence[RunResult]) -> tuple[str, bytes]:
    """(name, JPEG) of the run panel of the verdict's subject at its N, first seed: the report page's thumbnail
    of that run group (:func:`genprobe.report.page.thumbnail_bytes`, at most THUMB px wide)."""
    from ..report import panel_image
    from ..report.page import thumbnail_bytes

    run = min(_subject_runs(verdict, results), key=lambda r: (r.spec.seed, r.spec.what()))
    png = thumbnail_bytes(panel_image(run, title=False), THUMB)
    iou = run.final.get("held_out_iou", float("nan"))
    name = f"{run.spec.label()}: prediction + regions | prediction | truth + points (held-out IoU {iou:.3f})"
    return name, png


def curves_png(
    verdict: dict[str, Any], results: Sequence[RunResult], *, mark_epochs: Sequence[int] = ()
) -> tuple[str, bytes] | None:
    """(name, JPEG) of the training curves of the verdict's trained runs, one curve group per model and N
    (median over seeds, min..max band), at most CURVES_WIDTH px wide; None when it has no trained run."""
    from PIL import Image

    from ..report import group_label, save_curves
    from ..report.page import thumbnail_bytes

    trained = [r for r in results if r.spec.trained]
    if not trained:
        return None
    subject = [r for r in trained if r.spec.what() == verdict.get("subject")] or trained
    groups: dict[str, list[RunResult]] = {}
    for r in sorted(subject, key=lambda r: (r.spec.what(), r.spec.n, r.spec.seed)):
        groups.setdefault(group_label(r.spec), []).append(r)
    x = "step" if all(r.spec.steps is not None for r in subject) else "epoch"
    if x == "epoch":  # the profile's budgets that these runs reach (a tiny run's axis is not stretched)
        mark_epochs = [e for e in mark_epochs if e <= max(r.spec.epochs for r in subject)]
    title = f"{verdict['claim']}: {verdict['subject']}, N={verdict['n']}"
    with tempfile.TemporaryDirectory(prefix="genprobe-html-") as tmp:
        path = save_curves(groups, Path(tmp) / "curves.png", x=x, title=title, mark_epochs=mark_epochs)
        with Image.open(path) as img:
            small = thumbnail_bytes(img, CURVES_WIDTH)
    return f"curves {title}", small
