"""Pictures and written reports of runs and verdicts.

* :func:`panel_image` / :func:`save_panel` / :func:`save_panels_grid`: the
  post's three-panel picture per run (prediction with its linear regions as
  tinted cells, prediction alone, truth with the training points), pure
  PIL/numpy; :func:`region_cells` / :func:`regions_layer`: the regions a
  boundary mask shows, and their picture.
* :func:`save_curves`: metrics along training, median over seeds with a
  min..max band, one subplot per metric (matplotlib, Agg canvas only).
* :func:`write_report`: ``results.json`` and ``summary.md`` of a profile.
* :func:`write_run_pictures`: panels per run group and curves per model
  (and their thumbnails, ``thumbs/``).
* :func:`write_index`: ``index.html``, the report as a small page (verdict
  table to filter and sort, each claim's thumbnails, the gallery);
  :func:`thumbnail_bytes`: the JPEG thumbnails it and pytest-html's rows show.

Modules: ``names`` (group labels, file names), ``panels`` (PIL pictures),
``curves`` (matplotlib), ``summary`` (markdown and JSON; it uses the
other three) and ``stamps`` (which pictures a rerun can keep: drawn from the
same runs by the same code, so a warm rerun redraws none). Importing the package is cheap: PIL and matplotlib load on
first use, and matplotlib never touches pyplot's global state or the user's
backend, so no display is needed.

Every file is written atomically: to a temp file in the target folder, then
``os.replace``; a reader sees the old file, the new one, or none.
"""

from __future__ import annotations

from .curves import save_curves
from .names import group_label, slug
from .page import thumbnail_bytes, write_index
from .panels import (
    CELL_MIN_PX,
    GALLERY_THUMB,
    PANEL_GAP,
    PANEL_MIN_SIZE,
    panel_image,
    region_cells,
    regions_layer,
    save_gallery_strip,
    save_panel,
    save_panels_grid,
)
from .summary import expectation_note, gallery_section, write_report, write_run_pictures

__all__ = [
    "CELL_MIN_PX",
    "GALLERY_THUMB",
    "region_cells",
    "regions_layer",
    "group_label",
    "slug",
    "panel_image",
    "save_panel",
    "save_panels_grid",
    "PANEL_MIN_SIZE",
    "PANEL_GAP",
    "save_gallery_strip",
    "save_curves",
    "write_report",
    "expectation_note",
    "write_run_pictures",
    "gallery_section",
    "thumbnail_bytes",
    "write_index",
]
