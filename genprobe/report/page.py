"""The report as a page: ``index.html`` beside ``summary.md``, its thumbnails in ``thumbs/``, and the thumbnails
the pytest-html rows carry.

The page is small: it holds the verdict table (filter by text or verdict, sort by a column), each claim's
verdicts with the panels and curves of their runs as thumbnails, and the gallery strip; a thumbnail links to
its full picture, a file beside the page. Thumbnails are JPEGs at most :data:`THUMB_WIDTH` px wide (panels: the
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

__all__ = ["THUMB_WIDTH", "THUMBS", "thumbnail", "thumbnail_bytes", "thumb_name", "write_index"]

THUMB_WIDTH = 384  # px: the widest a thumbnail gets (in the page and in pytest-html's rows)
THUMB_QUALITY = 82  # JPEG quality of thumbnails
THUMBS = "thumbs"  # the thumbnails' folder beside index.html


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
    by_claim: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_claim.setdefault(v.claim, []).append(v)
    for claim, vs in by_claim.items():
        parts += [f'<section class="claim" id="{anchors[claim]}"><h3>{_e(claim)}</h3>', f"<p>{_e(vs[0].statement)}</p>"]
        for v in vs:
            parts.append(
                f'<h4>{_e(v.subject)}, N={_e(v.n)}, {len(v.seeds)} seeds: <span class="{_e(v.status)}">'
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
