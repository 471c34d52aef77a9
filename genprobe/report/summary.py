"""A profile's written report: ``results.json``, ``summary.md`` and the pictures of every run group."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..frontier_report import SessionFrontiers, markdown_table, save_figure, save_map_figure
from ..jsonio import atomic_write as _atomic_write
from ..jsonio import to_json_safe as _jsonable
from ..verdicts import HOLDS, INCONCLUSIVE, REFUTED

if TYPE_CHECKING:  # pragma: no cover
    from ..runs import RunResult, RunSpec
    from ..verdicts import Verdict
from ..text import number
from .curves import save_curves
from .names import _without, group_label, slug
from .page import save_thumbnail, thumb_name, write_index
from .panels import panel_image, save_panels_grid
from .stamps import PictureStamps

__all__ = ["write_report", "write_run_pictures", "gallery_section", "expectation_note"]

_VERDICT_MARK = {HOLDS: "passes", REFUTED: "refuted", INCONCLUSIVE: "?"}


def gallery_section(data: Mapping[str, Any], strip: str | None) -> list[str]:
    """Markdown lines: the strip and each shape claim's verdict on each picture (``data``: the
    committed ``genprobe/evidence/gallery-<profile>.json``)."""
    rows = data["rows"]
    cases = list(rows[0]["verdicts"]) if rows else []
    lines = [
        "What each shape claim says of pictures that are not the truth (and of the two that are), "
        f"judged as if a net had drawn them on the points of seeds {data['seeds']}, against the dot "
        f"memoriser, 1-NN and Fourier-feature runs of `{data['evidence']}` on the same points "
        "(`tests/test_gallery.py` says which claim must refute which picture, and why; docs/explanation/gallery.md, "
        "'What the claims reject').",
        "",
    ]
    if strip:
        lines += [f"![the gallery]({urllib.parse.quote(strip)})", ""]
    lines.append("| picture | " + " | ".join(c.replace("@", " @") for c in cases) + " |")
    lines.append("|---|" + "---|" * len(cases))
    for row in rows:
        name = f"**{row['picture']}** (true)" if row["truth"] else row["picture"]
        cells = [_VERDICT_MARK.get(row["verdicts"][c]["verdict"], row["verdicts"][c]["verdict"]) for c in cases]
        lines.append(f"| {_cell(name)}: {_cell(row['description'])} | " + " | ".join(cells) + " |")
    return lines


def _key(spec: RunSpec) -> str | None:
    """``spec.key``, or None when the true image cannot be read any more."""
    try:
        return spec.key
    except Exception:
        return None


def _cell(value: Any) -> str:
    """A markdown table cell: one line, pipes escaped."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _info_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_info_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_info_value(v) for v in value)
    return str(value)


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}\n{text}\n{ticks}"


def _headline(verdicts: Sequence[Verdict], results: Sequence[RunResult]) -> str:
    """The counts of verdicts, controls and runs (markdown bold)."""
    claims_ = [v for v in verdicts if v.role != "control"]
    controls = [v for v in verdicts if v.role == "control"]
    statuses = [v.status for v in claims_]
    by_role = {r: sum(v.role == r for v in claims_) for r in ("expected refuted", "reported")}
    return (
        f"**{len(claims_)} claim verdict{'s' if len(claims_) != 1 else ''}: {statuses.count(HOLDS)} holds, "
        f"{statuses.count(REFUTED)} refuted, {statuses.count(INCONCLUSIVE)} inconclusive** "
        f"({by_role['expected refuted']} refutations expected from our measurements, "
        f"{by_role['reported']} reported without gating); "
        f"**{sum(v.status == REFUTED for v in controls)} of {len(controls)} controls refuted**, as they must be "
        f"({len(results)} run{'s' if len(results) != 1 else ''})"
    )


def _summary_md(
    profile: str,
    verdicts: Sequence[Verdict],
    results: Sequence[RunResult],
    info: Mapping[str, Any],
    created: str,
    pictures: Mapping[str, str],
    out_dir: Path,
    gallery: Mapping[str, Any] | None = None,
    frontiers: SessionFrontiers | None = None,
) -> str:
    lines = [f"# genprobe report: {profile}", ""]

    def section(heading: str) -> None:
        if lines[-1] != "":
            lines.append("")
        lines.extend([heading, ""])

    lines.append(f"- **created**: {created}")
    for k, v in info.items():
        lines.append(f"- **{k}**: {_info_value(v)}")
    lines.append("")
    lines.append(_headline(verdicts, results))
    section("## Claims")
    if verdicts:
        lines.append(
            "Each check is a sign test on the seeds' values (docs/explanation/verdicts.md); "
            "a verdict holds when every check holds and is refuted when any is."
        )
        lines.append("")
        lines.append(
            "| claim | role | subject | N | seeds | metric | seeds meeting the bound: verdict "
            "| measured (median [min..max]) | verdict |"
        )
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for v in verdicts:
            if not v.checks:
                lines.append(
                    f"| {_cell(v.claim)} | {v.role} | {_cell(v.subject)} | {_cell(v.n)} | {len(v.seeds)} "
                    f"| (no checks) | - | - | {v.status} |"
                )
            for c in v.checks:
                status = f"**{c.status}**" if c.status == REFUTED else c.status
                lines.append(
                    f"| {_cell(v.claim)} | {v.role} | {_cell(v.subject)} | {_cell(v.n)} | {len(v.seeds)} "
                    f"| {_cell(c.metric)} "
                    f"| {_cell(c.decision)} | {_cell(c.measured)} | {status} |"
                )
        statements: dict[str, str] = {}
        for v in verdicts:
            statements.setdefault(v.claim, v.statement)
        lines += [""] + [f"- **{_cell(k)}**: {s}" for k, s in statements.items()]
    else:
        lines.append("_No claims were judged._")
    reported = [(v, why) for v in verdicts if v.expect == "report" for why in (expectation_note(v),) if why]
    if reported:
        section("## Reported, not gating")
        lines += [
            "Each: why the evidence does not let it gate, the share of the confirmation seeds meeting its "
            "limiting bound with a 95 % interval, and the seeds a gate would need.",
            "",
        ]
        lines += [f"- **{_cell(v.claim)}** ({_cell(v.subject)}, N={v.n}): {_cell(why)}" for v, why in reported]
    failing = [v for v in verdicts if v.role != "control" and v.status != HOLDS]
    if failing:
        section("## Not holding")
        for v in failing:
            lines += [f"### {v.claim} ({v.subject}, N={v.n}): {v.status}", "", _fence(v.explain()), ""]
    if results:
        section("## Runs")
        lines += ["| run | key | held-out IoU | components | diverged at |", "|---|---|---|---|---|"]
        for r in results:
            div = "-" if r.diverged_at is None else str(r.diverged_at)
            lines.append(
                f"| {_cell(r.spec.label())} | `{_key(r.spec)}` | {number(r.final.get('held_out_iou', math.nan))} | "
                f"{number(r.final.get('components', math.nan))} | {div} |"
            )
    if frontiers is not None:
        section("## Frontiers")
        lines += [
            "Where each shape claim stops holding as N shrinks, from this session's runs (no extra training): "
            "per size, the seeds on which every check of the claim holds; the frontier N* where the share "
            "crosses 1/2, with its 95 % interval (docs/explanation/frontiers.md). Each claim and model uses the "
            "seeds that have every run it reads at every size.",
            "",
            *markdown_table(frontiers.rows),
            "",
            "![share of seeds holding against N](frontier.png)",
            "",
        ]
        if frontiers.maps:
            lines += [
                "The data-versus-training map: each claim judged with its window ending at each epoch, per "
                "epoch and per optimizer step.",
                "",
                "![the data-versus-training map](frontier-map.png)",
                "",
            ]
    if gallery:
        section("## What the claims reject")
        lines += gallery_section(gallery, gallery.get("strip"))
    if pictures:
        section("## Pictures")
        for name, fname in pictures.items():
            alt = str(name).replace("[", "(").replace("]", ")")
            missing = "" if (out_dir / fname).exists() else " _(file missing)_"
            lines += [f"### {name}{missing}", "", f"![{alt}]({urllib.parse.quote(str(fname))})", ""]
    return "\n".join(lines).rstrip() + "\n"


def expectation_note(v: Verdict) -> str:
    """Why the profile expects what it does of a verdict's test (the fixture's note), or ''."""
    return next((n.split(": ", 1)[1] for n in v.notes if " profile expects '" in n and ": " in n), "")


def write_report(
    out_dir: str | os.PathLike,
    profile: str,
    verdicts: Sequence[Verdict],
    results: Sequence[RunResult],
    info: Mapping[str, Any],
    pictures: Mapping[str, str] | None = None,
    gallery: Mapping[str, Any] | None = None,
    frontiers: SessionFrontiers | None = None,
) -> Path:
    """Write ``results.json`` and ``summary.md`` into ``out_dir`` (created with
    parents); returns the path of ``summary.md``.

    ``frontiers``: the shape claims' frontiers and maps from the same runs
    (:func:`genprobe.frontier_report.session_frontiers`): a "Frontiers"
    section, ``frontier.png`` and ``frontier-map.png``, and ``frontiers`` in
    ``results.json``.

    ``gallery``: the shape claims' verdicts on the gallery of wrong pictures
    (``genprobe/evidence/gallery-<profile>.json``, with ``"strip"``: the file
    name of :func:`save_gallery_strip` in ``out_dir``), shown as a section.

    ``results.json`` holds ``profile``, ``info``, ``created`` (ISO 8601, UTC),
    ``verdicts`` (``Verdict.to_dict()``) and ``runs`` (key, label, spec,
    final, diverged_at, meta per run; key is null when the true image can no
    longer be read). It is strict JSON: NaN becomes
    ``null`` and +/-infinity the strings ``"inf"`` / ``"-inf"`` (so
    ``float()`` reads them back); numpy values become plain numbers/lists.

    ``summary.md`` has the profile and info lines, counts of verdicts, the
    claims table (one row per check; refuted in bold), ``explain()`` of every
    verdict that does not hold, a runs table and the ``pictures``
    (name -> file name relative to ``out_dir``) as markdown images.
    ``index.html`` (:func:`genprobe.report.page.write_index`) shows the same verdicts as a page with a
    filterable, sortable table, each claim's pictures as thumbnails (``thumbs/``, written by
    :func:`write_run_pictures`) linking to the full pictures, and the gallery strip.
    All files are written atomically.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pictures = dict(pictures or {})
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    payload = {
        "profile": profile,
        "info": info,
        "created": created,
        "verdicts": [v.to_dict() for v in verdicts],
        "runs": [
            {
                "key": _key(r.spec),
                "label": r.spec.label(),
                "spec": r.spec.to_dict(),
                "final": r.final,
                "diverged_at": r.diverged_at,
                "meta": r.meta,
            }
            for r in results
        ],
    }
    if frontiers is not None:
        drawn = frontiers.to_dict()
        payload["frontiers"] = drawn
        stamps = PictureStamps(out)  # drawn again only where the frontiers changed (a warm rerun keeps them)
        title = f"{profile}: share of seeds holding, 95 % band"
        stamp = stamps.stamp("frontier", [title, drawn["rows"]], [])
        if not stamps.fresh("frontier.png", stamp, ["frontier.png"]):
            save_figure(out / "frontier.png", frontiers.rows, title=title)
            stamps.drawn("frontier.png", stamp, ["frontier.png"])
        if frontiers.maps:
            title = f"{profile}: data versus training"
            stamp = stamps.stamp("frontier-map", [title, drawn["maps"]], [])
            if not stamps.fresh("frontier-map.png", stamp, ["frontier-map.png"]):
                save_map_figure(out / "frontier-map.png", frontiers.maps, title=title)
                stamps.drawn("frontier-map.png", stamp, ["frontier-map.png"])
        stamps.save()
    text = json.dumps(_jsonable(payload), indent=2, allow_nan=False)
    _atomic_write(out / "results.json", (text + "\n").encode())
    summary = _summary_md(profile, verdicts, results, info, created, pictures, out, gallery, frontiers)
    path = _atomic_write(out / "summary.md", summary.encode())
    headline = _headline(verdicts, results).replace("**", "")
    write_index(out, profile, verdicts, results, info, created, headline, pictures, gallery)
    return path


def _unique_names(keys: Sequence[str], labels: dict[str, str]) -> dict[str, str]:
    """Label per identity key, suffixed with a short hash where labels collide."""
    count: dict[str, int] = {}
    for k in keys:
        count[labels[k]] = count.get(labels[k], 0) + 1
    return {
        k: labels[k] if count[labels[k]] == 1 else f"{labels[k]} #{hashlib.sha256(k.encode()).hexdigest()[:6]}"
        for k in keys
    }


def write_run_pictures(
    out_dir: str | os.PathLike,
    results: Sequence[RunResult],
    by: str = "n",
    *,
    mark_epochs: Sequence[int] = (),
) -> dict[str, str]:
    """Panels per run group and curves per model; returns {name: file name}.

    Runs are grouped by their spec without the seed (named by
    :func:`group_label`, e.g. ``mlp/standard N=312``); each group gets
    ``panel_<slug>.png`` with one row per seed (and ``thumbs/panel_<slug>.jpg``, the first seed's
    row). Trained runs
    (``spec.trained``: the post's nets and users' own models) are further grouped by their spec without seed and
    ``by`` (default ``"n"``); each such family gets ``curves_<slug>.png``
    (and its thumbnail) with one curve group per value of ``by`` (x is ``step`` when every run
    of the family has a step budget, else ``epoch``). Groups whose specs
    differ in fields the label does not show get a short hash suffix.

    A picture already in ``out_dir`` that was drawn from the same runs by the same code is kept, not drawn
    again (:mod:`genprobe.report.stamps`, ``thumbs/stamps.json``): a warm rerun of the suite redraws nothing.
    """
    from PIL import Image

    from ..runs import RunSpec

    fields = {f.name for f in dataclasses.fields(RunSpec)}
    if by not in fields or by == "seed":
        raise ValueError(f"by must be a RunSpec field other than seed, got {by!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pictures: dict[str, str] = {}
    used: set[str] = set()

    def fname(prefix: str, name: str) -> str:
        base = f"{prefix}_{slug(name)}"
        f, i = f"{base}.png", 2
        while f in used:
            f, i = f"{base}-{i}.png", i + 1
        used.add(f)
        return f

    def order(r: RunResult) -> tuple:
        s = r.spec
        return (s.what(), s.n, s.truth, s.seed)

    results = sorted(results, key=order)
    groups: dict[str, list[RunResult]] = {}
    labels: dict[str, str] = {}
    for r in results:
        k = _without(r.spec, "seed")
        groups.setdefault(k, []).append(r)
        labels[k] = group_label(r.spec)
    stamps = PictureStamps(out)  # a warm rerun keeps the pictures drawn from the same runs by the same code
    for k, name in _unique_names(list(groups), labels).items():
        f = fname("panel", name)
        files = [f, thumb_name(f)]
        stamp = stamps.stamp("panel", name, groups[k])
        if not stamps.fresh(f, stamp, files):
            save_panels_grid(groups[k], out / f)
            save_thumbnail(panel_image(groups[k][0], title=False), out, f)  # the first seed's row
            stamps.drawn(f, stamp, files)
        pictures[f"panels {name}"] = f

    families: dict[str, dict[Any, list[RunResult]]] = {}
    fam_labels: dict[str, str] = {}
    for r in results:
        if not r.spec.trained:  # the post's nets and users' own models; baselines have no curve
            continue
        k = _without(r.spec, "seed", by, "epochs", "steps")
        families.setdefault(k, {}).setdefault(getattr(r.spec, by), []).append(r)
        fam_labels[k] = r.spec.what() if by == "n" else f"{r.spec.what()} N={r.spec.n}"
    by_name = "N" if by == "n" else by
    for k, name in _unique_names(list(families), fam_labels).items():
        fam = families[k]
        curve_groups = {
            f"{by_name}={v}": fam[v] for v in sorted(fam, key=lambda v: (v is None, v if v is not None else 0))
        }
        runs = [r for rs in fam.values() for r in rs]
        x = "step" if all(r.spec.steps is not None for r in runs) else "epoch"
        f = fname("curves", name)
        files = [f, thumb_name(f)]
        params = [name, x, list(mark_epochs), list(curve_groups)]
        stamp = stamps.stamp("curves", params, [r for rs in curve_groups.values() for r in rs])
        if not stamps.fresh(f, stamp, files):
            path = save_curves(curve_groups, out / f, x=x, title=name, mark_epochs=mark_epochs)
            with Image.open(path) as img:
                save_thumbnail(img, out, f)
            stamps.drawn(f, stamp, files)
        pictures[f"curves {name}"] = f
    stamps.save()
    return pictures
