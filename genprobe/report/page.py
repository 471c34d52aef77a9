"""The report as a page: ``index.html`` beside ``summary.md``, its thumbnails in ``thumbs/``, and the thumbnails
the pytest-html rows carry.

The page is small. Its first screen is a picture: a grid of the claims against the post's sizes, each cell
a chip per verdict coloured by it and linking to the verdict's section (:func:`verdict_grid`), and one
seed's nets at those sizes as the post draws them (:func:`strip_runs`, ``overview.png``). Below, the verdict
table (filter by text or verdict, sort by a column), each claim's verdicts with the panels and curves of their
runs as thumbnails, and the gallery strip; a thumbnail links to its full picture, a file beside the page.
Thumbnails are JPEGs at most :data:`THUMB_WIDTH` px wide (panels: the
first seed's row, without its title); :func:`thumbnail_bytes` makes them, here and for pytest-html.
"""

from __future__ import annotations

import html
import io
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..jsonio import atomic_write as _atomic_write
from .names import group_label, slug

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from ..runs import RunResult
    from ..verdicts import Verdict

__all__ = [
    "THUMB_WIDTH",
    "THUMBS",
    "OVERVIEW",
    "thumbnail",
    "thumbnail_bytes",
    "thumb_name",
    "verdict_grid",
    "strip_runs",
    "write_index",
]

THUMB_WIDTH = 384  # px: the widest a thumbnail gets (in the page and in pytest-html's rows)
THUMB_QUALITY = 82  # JPEG quality of thumbnails
THUMBS = "thumbs"  # the thumbnails' folder beside index.html
OVERVIEW = "overview.png"  # one seed's nets at the post's sizes, the first screen's picture
OVERVIEW_WIDTH = 800  # px: its thumbnail's width on the page


def thumbnail(img: Image.Image, width: int = THUMB_WIDTH, height: int | None = None) -> Image.Image:
    """``img`` (RGB) shrunk smoothly to at most ``width`` (and ``height``) px; never enlarged."""
    from PIL import Image

    img = img.convert("RGB")
    scale = min(1.0, width / img.width, (height / img.height) if height else 1.0)
    if scale < 1.0:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS)
    return img


def thumbnail_bytes(img: Image.Image, width: int = THUMB_WIDTH, height: int | None = None) -> bytes:
    """:func:`thumbnail` as JPEG bytes."""
    buf = io.BytesIO()
    thumbnail(img, width, height).save(buf, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return buf.getvalue()


def thumb_name(picture: str) -> str:
    """The thumbnail of picture file ``picture`` (relative to the report folder): ``thumbs/<stem>.jpg``."""
    return f"{THUMBS}/{Path(picture).stem}.jpg"


def save_thumbnail(img: Image.Image, out_dir: Path, picture: str) -> Path:
    """Write the thumbnail of ``picture`` (its image ``img``) under ``out_dir/thumbs/``; returns its path."""
    return _atomic_write(out_dir / thumb_name(picture), thumbnail_bytes(img))


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1em 2em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3;cursor:pointer;user-select:none}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
.holds{color:#176617}.refuted{color:#a31515;font-weight:bold}.inconclusive{color:#8a6d00}
.claim{border-top:1px solid #ddd;margin-top:1.5em}
.pics{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}
.pics figure{margin:0}.pics figcaption{font-size:12px;max-width:384px}
#filters{margin:.5em 0}
#grid td,#grid th{text-align:center;cursor:default}#grid td.name{text-align:left}
#grid tbody.controls td.name{font-style:italic}
.chip{display:inline-block;min-width:1.6em;margin:1px;padding:1px 3px;border-radius:3px;color:#fff;
text-decoration:none;font-weight:bold}
.chip.holds{background:#2e7d32}.chip.refuted{background:#c62828}.chip.inconclusive{background:#f2b600;color:#222}
.legend .chip{cursor:default}
#overview img{max-width:100%}
"""

_SCRIPT = """
(function(){
  const table=document.getElementById('verdicts'), body=table.tBodies[0];
  const text=document.getElementById('filter-text'), status=document.getElementById('filter-status');
  const count=document.getElementById('shown');
  function filter(){
    const q=text.value.toLowerCase(), s=status.value; let n=0;
    for(const row of body.rows){
      const show=(!q||row.textContent.toLowerCase().includes(q))&&(!s||row.dataset.status===s);
      row.hidden=!show; if(show) n++;
    }
    count.textContent=n;
  }
  text.addEventListener('input',filter); status.addEventListener('change',filter);
  table.tHead.querySelectorAll('th').forEach((th,i)=>th.addEventListener('click',()=>{
    const asc=!th.classList.contains('sorted-asc');
    table.tHead.querySelectorAll('th').forEach(h=>h.classList.remove('sorted-asc','sorted-desc'));
    th.classList.add(asc?'sorted-asc':'sorted-desc');
    const key=r=>r.cells[i].dataset.sort??r.cells[i].textContent;
    const rows=[...body.rows].sort((a,b)=>{
      const x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y);
      const c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
      return asc?c:-c;
    });
    rows.forEach(r=>body.appendChild(r));
  }));
  filter();
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _href(fname: str) -> str:
    return urllib.parse.quote(str(fname))


def _figure(out: Path, name: str, fname: str) -> str:
    """A thumbnail linking to its full picture (the full picture itself where no thumbnail was written)."""
    thumb = thumb_name(fname)
    src = thumb if (out / thumb).exists() else fname
    return (
        f'<figure><a href="{_href(fname)}"><img src="{_href(src)}" alt="{_e(name)}"></a>'
        f"<figcaption>{_e(name)}</figcaption></figure>"
    )


def _pictures_of(v: Verdict, by_key: Mapping[str, RunResult], pictures: Mapping[str, str]) -> list[str]:
    """Names in ``pictures`` of the panels of the verdict's subject at its N (else of all its runs), then
    the curves of its trained runs."""
    runs = [by_key[k] for k in v.runs if k in by_key]
    at_n = [r for r in runs if r.spec.n == v.n] or runs
    subject = [r for r in at_n if r.spec.what() == v.subject] or at_n
    names: list[str] = []

    def add(prefix: str) -> None:
        for name in pictures:
            if (name == prefix or name.startswith(prefix + " #")) and name not in names:
                names.append(name)

    for r in subject:
        add(f"panels {group_label(r.spec)}")
    trained = [r for r in runs if r.spec.trained]
    for r in [r for r in trained if r.spec.what() == v.subject] or trained:
        add(f"curves {r.spec.what()}")
    return names


def _checks_cell(v: Verdict) -> str:
    if not v.checks:
        return "(no checks)"
    return "<br>".join(
        f'{_e(c.metric)}: {_e(c.decision)}; {_e(c.measured)} <span class="{_e(c.status)}">{_e(c.status)}</span>'
        for c in v.checks
    )


def _n_sort(n: Any) -> str:
    try:
        return str(float(n))
    except (TypeError, ValueError):
        return str(n)


_MARK = {"holds": "H", "refuted": "R", "inconclusive": "?"}


def _post_sizes() -> tuple[int, ...]:
    from ..profiles import POST_SIZES

    return tuple(POST_SIZES)


def verdict_grid(verdicts: Sequence[Verdict], ids: Sequence[str], sizes: Sequence[int] | None = None) -> str:
    """The claims (rows, controls below them) against ``sizes`` (default: the post's), as an HTML table: a cell
    holds a chip per verdict of that claim at that N (``H`` holds, ``R`` refuted, ``?`` inconclusive, coloured
    so), linking to ``#<id>`` of the verdict (``ids``, in the order of ``verdicts``); a verdict across sizes
    (N a label such as ``5000..312``) or at another N is in the last column."""
    sizes = tuple(sizes) if sizes is not None else _post_sizes()
    rows: dict[tuple[bool, str], dict[Any, list[str]]] = {}
    for v, vid in zip(verdicts, ids):
        col = v.n if v.n in sizes else "other"
        title = f"{v.claim}, {v.subject}, N={v.n}: {v.status} ({v.role})"
        chip = (
            f'<a class="chip {_e(v.status)}" href="#{_e(vid)}" title="{_e(title)}">'
            f"{_e(_MARK.get(v.status, v.status))}</a>"
        )
        rows.setdefault((v.role == "control", v.claim), {}).setdefault(col, []).append(chip)
    other = any("other" in cells for cells in rows.values())
    head = "".join(f"<th>N={n}</th>" for n in sizes) + ("<th>across sizes</th>" if other else "")
    parts = [
        '<table id="grid"><thead><tr><th>claim</th>' + head + "</tr></thead>",
    ]
    for controls in (False, True):
        body = [(claim, cells) for (c, claim), cells in rows.items() if c == controls]
        if not body:
            continue
        parts.append('<tbody class="controls">' if controls else "<tbody>")
        for claim, cells in body:
            name = f"{claim} (control)" if controls else claim
            tds = "".join(f"<td>{''.join(cells.get(n, []))}</td>" for n in (*sizes, *(("other",) if other else ())))
            parts.append(f'<tr><td class="name">{_e(name)}</td>{tds}</tr>')
        parts.append("</tbody>")
    parts.append("</table>")
    return "\n".join(parts)


def strip_runs(results: Sequence[RunResult], sizes: Sequence[int] | None = None) -> list[RunResult]:
    """One seed's post nets at ``sizes`` (default: the post's), largest N first: of the trained runs with the
    post's labels and no wedge, the family (spec but N and seed) that covers the most sizes, trained longest,
    and its smallest seed present at the most of them. Empty where no net was trained at any of the sizes."""
    sizes = tuple(sizes) if sizes is not None else _post_sizes()
    families: dict[tuple, dict[int, dict[int, RunResult]]] = {}
    for r in results:
        s = r.spec
        if not s.trained or s.labels != "true" or s.wedge or s.n not in sizes or r.prediction is None:
            continue
        fam = (s.what(), s.truth, s.total_epochs, s.eval_res, s.lr, s.batch)
        families.setdefault(fam, {}).setdefault(r.spec.seed, {})[s.n] = r
    if not families:
        return []

    def cover(fam):
        by_seed = families[fam]
        return (max(len(v) for v in by_seed.values()), fam[0] == "mlp/standard", fam[2])

    best = families[max(families, key=cover)]
    seed = min(best, key=lambda s: (-len(best[s]), s))
    return [best[seed][n] for n in sorted(best[seed], reverse=True)]


def _overview(out: Path, results: Sequence[RunResult]) -> str:
    """The first screen's picture: :func:`strip_runs` drawn (``overview.png`` and its thumbnail); "" if none."""
    runs = strip_runs(results)
    if not runs:
        return ""
    from .panels import seed_strip
    from .stamps import PictureStamps

    stamps = PictureStamps(out)  # kept where drawn from the same runs by the same code (a warm rerun)
    files = [OVERVIEW, thumb_name(OVERVIEW)]
    stamp = stamps.stamp("overview", OVERVIEW_WIDTH, runs)
    if not stamps.fresh(OVERVIEW, stamp, files):
        try:
            img = seed_strip(runs)
        except Exception:  # a picture that cannot be drawn must not cost the report
            return ""
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=True)
        _atomic_write(out / OVERVIEW, buf.getvalue())
        _atomic_write(out / thumb_name(OVERVIEW), thumbnail_bytes(img, OVERVIEW_WIDTH))
        stamps.drawn(OVERVIEW, stamp, files)
        stamps.save()
    r = runs[0]
    return (
        f'<figure id="overview"><a href="{_href(OVERVIEW)}"><img src="{_href(thumb_name(OVERVIEW))}" '
        f'alt="seed {r.spec.seed}: the net at each N"></a><figcaption>{_e(r.spec.what())}, seed {r.spec.seed}, '
        f"{r.spec.total_epochs} epochs: the prediction (top) and the truth with its "
        "training points (bottom) at each N</figcaption></figure>"
    )


def write_index(
    out_dir: str | Path,
    profile: str,
    verdicts: Sequence[Verdict],
    results: Sequence[RunResult],
    info: Mapping[str, Any],
    created: str,
    headline: str,
    pictures: Mapping[str, str],
    gallery: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``index.html`` into ``out_dir``; returns its path (module docstring: what it shows).

    The verdict table has one row (``tr.verdict``, ``data-status``) per verdict, controls included; each
    verdict's pictures are found by name in ``pictures`` (:func:`genprobe.report.write_run_pictures`).
    """
    out = Path(out_dir)
    by_key: dict[str, RunResult] = {}
    for r in results:
        try:
            by_key[r.spec.key] = r
        except Exception:  # the true image cannot be read any more: no key, no pictures by key
            continue
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>genprobe report: {_e(profile)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>genprobe report: {_e(profile)}</h1>",
        f"<p>created {_e(created)}; "
        + "; ".join(f"{_e(k)}: {_e(v)}" for k, v in info.items() if k in ("profile", "seeds", "device", "torch"))
        + ' (all of it in <a href="summary.md">summary.md</a> and <a href="results.json">results.json</a>)</p>',
        f"<p>{_e(headline)}</p>",
    ]
    ids = [f"verdict-{i}" for i in range(len(verdicts))]
    if verdicts:
        parts += [
            '<h2 id="at-a-glance">At a glance</h2>',
            '<p class="legend">Each claim at each of the post\'s sizes: <span class="chip holds">H</span> holds, '
            '<span class="chip refuted">R</span> refuted, <span class="chip inconclusive">?</span> inconclusive '
            "(one per subject; a chip links to its verdict; the table below has every check).</p>",
            verdict_grid(verdicts, ids),
        ]
    overview = _overview(out, results)
    if overview:
        parts.append(overview)
    parts += [
        "<h2>Verdicts</h2>",
        '<div id="filters"><input id="filter-text" type="search" placeholder="filter rows" aria-label="filter rows"> '
        '<select id="filter-status" aria-label="verdict"><option value="">every verdict</option>'
        '<option value="holds">holds</option><option value="refuted">refuted</option>'
        '<option value="inconclusive">inconclusive</option></select> '
        f'<span id="shown">{len(verdicts)}</span> of {len(verdicts)} verdicts shown; click a heading to sort</div>',
        '<table id="verdicts"><thead><tr><th>claim</th><th>role</th><th>subject</th><th>N</th><th>seeds</th>'
        "<th>checks (metric: seeds meeting the bound; measured median [min..max])</th><th>verdict</th></tr></thead>"
        "<tbody>",
    ]
    anchors: dict[str, str] = {}
    for v in verdicts:
        anchors.setdefault(v.claim, f"claim-{slug(v.claim)}-{len(anchors)}")
    for v in verdicts:
        parts.append(
            f'<tr class="verdict" data-status="{_e(v.status)}"><td><a href="#{anchors[v.claim]}">{_e(v.claim)}</a></td>'
            f'<td>{_e(v.role)}</td><td>{_e(v.subject)}</td><td data-sort="{_e(_n_sort(v.n))}">{_e(v.n)}</td>'
            f"<td>{len(v.seeds)}</td><td>{_checks_cell(v)}</td>"
            f'<td class="{_e(v.status)}">{_e(v.status)}</td></tr>'
        )
    parts.append("</tbody></table>")
    if verdicts:
        parts.append("<h2>Claims</h2>")
    index = {id(v): i for i, v in enumerate(verdicts)}
    by_claim: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim, []).append(v)
    for claim, vs in by_claim.items():
        parts += [f'<section class="claim" id="{anchors[claim]}"><h3>{_e(claim)}</h3>', f"<p>{_e(vs[0].statement)}</p>"]
        for v in vs:
            parts.append(
                f'<h4 id="{ids[index[id(v)]]}">{_e(v.subject)}, N={_e(v.n)}, {len(v.seeds)} seeds: '
                f'<span class="{_e(v.status)}">'
                f"{_e(v.status)}</span> ({_e(v.role)})</h4>"
            )
            names = _pictures_of(v, by_key, pictures)
            if names:
                parts.append('<div class="pics">' + "".join(_figure(out, n, pictures[n]) for n in names) + "</div>")
        parts.append("</section>")
    if gallery and gallery.get("strip"):
        strip = str(gallery["strip"])
        parts += [
            '<h2 id="gallery">What the claims reject</h2>',
            "<p>The gallery of pictures that are not the truth (and two that are); each shape claim's verdict on "
            'each is in <a href="summary.md">summary.md</a>.</p>',
            '<div class="pics">' + _figure(out, "the gallery", strip) + "</div>",
        ]
    if pictures:
        parts += ["<h2>Every picture</h2>", '<div class="pics">']
        parts += [_figure(out, name, fname) for name, fname in pictures.items()]
        parts.append("</div>")
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return _atomic_write(out / "index.html", ("\n".join(parts) + "\n").encode())
