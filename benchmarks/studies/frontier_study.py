"""Claim frontiers from the committed evidence (no training): where each shape claim stops holding.

For the shape claims of ``genprobe/shapes.py``, asked of the net (standard protocol), of the 1-NN rule
and of the dot memoriser: per size, the share of seeds on which the claim holds (every check met,
read off the claim's own verdict by :func:`genprobe.frontier.claim_holds`) with a 95 % Jeffreys
interval, and the frontier N* where that share crosses 1/2 (:func:`genprobe.frontier.frontier`).

Seeds: every C-kernel sweep of the smoke profile in ``benchmarks/studies/evidence``, each seed once: at this
writing 0-29, the calibration set (the thresholds were set on 0-9), 110-139, the confirmation set (nothing
was tuned on them), and 100-109, the CPU-step comparison's (:func:`seed_label` says which are which, from
``threshold_evidence.SMOKE``; ``--seeds calibration|confirmation`` takes one set). The post's question
"how sparse before it stops" is answered on the confirmation seeds alone (:func:`sparse_answers`), at the
post's five sizes; the ten-size grid's answers come from calibration seeds and say so. The torch-ops copy of seeds
100-109 is the same experiment on another CPU step and is not mixed in (``--torch`` uses the torch-ops
sweeps instead). The smoke sweeps hold the post's 5 sizes only (5000, 2500, 1250, 625, 312;
the Fourier control, which ring-not-points needs, at 625 and 312 only).

**The 10-size grid** (:data:`GRID`, N = 5000 / sqrt(2)^k, 221 to 5000, which holds the post's five
sizes) on seeds 0-19, all from ``benchmarks/studies/evidence/frontier-smoke-c-seeds0-19.json.gz``: net, 1-NN
and dot at every size, the Fourier control at 625, 442, 312 and 221 for ring-not-points, trained cold
by ``genprobe frontier`` (see :data:`GRID_COMMAND`) with one version of the code. (Its post-size runs of
seeds 10-19 equal the committed smoke sweeps bitwise; seeds 0-9 of the smoke sweeps were trained by an
earlier kernel, and float rounding alone moves a run as much as a new seed does, so the grid does not
mix them in.) From the same runs' histories, no training, **the data-versus-training map**
(:func:`genprobe.frontier.training_map`): the median held-out IoU and the share of seeds holding
concept-learnt and ring-not-points with the claim's window ending at each epoch, per epoch and per
optimizer step.

    python benchmarks/studies/frontier_study.py               # prints the tables, writes reports/frontier/
    python benchmarks/studies/frontier_study.py --out DIR --bootstrap 2000
    python benchmarks/studies/frontier_study.py --seeds confirmation --grid-file F --grid-seeds 110-129
    python benchmarks/studies/frontier_study.py --write       # and docs/evidence/frontier.md and its figures
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the checkout: genprobe, benchmarks.*

from benchmarks.studies import pages  # noqa: E402
from benchmarks.studies.threshold_evidence import EVIDENCE, SMOKE, load_set  # noqa: E402
from genprobe.calibration import StandIn  # noqa: E402
from genprobe.frontier import BOOTSTRAP, claim_holds, frontier_of  # noqa: E402
from genprobe.frontier_report import (  # noqa: E402
    MAP_CLAIMS,
    Row,
    format_table,
    save_figure,
    save_json,
    save_map_figure,
    settle,
)
from genprobe.profiles import get_profile  # noqa: E402

# each seed once: every smoke sweep of one CPU step in benchmarks/studies/evidence (the C kernel's, or with --torch
# the torch ops'; the two copies of seeds 100-109 are two instruments and are never mixed)
C_PATTERNS = ("smoke-cpu-seeds*.json.gz", "smoke-cpu-c-seeds*.json.gz")
TORCH_PATTERNS = ("smoke-cpu-off-seeds*.json.gz",)


def evidence_files(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The evidence files of one CPU step, by first seed."""

    def first_seed(name: str) -> int:
        return int(re.search(r"seeds(\d+)-", name).group(1))  # type: ignore[union-attr]

    names = {p.name for pattern in patterns for p in EVIDENCE.glob(pattern)}
    return tuple(sorted(names, key=first_seed))


def file_seeds(name: str) -> range:
    """The seeds an export's name says it holds (``...seeds110-114.json.gz``: 110-114)."""
    found = re.search(r"seeds(\d+)-(\d+)", name)
    if found is None:
        raise ValueError(f"no seed range in {name!r}")
    return range(int(found.group(1)), int(found.group(2)) + 1)


#: the smoke evidence's seed sets (``threshold_evidence.SMOKE``): calibration (thresholds set on 0-9; 0-29 in
#: all), confirmation (nothing tuned on them); the seeds of any other file are neither (the CPU-step pair)
SEED_SETS = ("all", "calibration", "confirmation")


def role_of(seed: int) -> str:
    """``calibration``, ``confirmation`` or ``other``: the role of the smoke evidence set that holds ``seed``."""
    for files, role, _ in SMOKE.sets.values():
        if any(seed in file_seeds(f) for f in files):
            return role
    return "other"


def _spans(seeds: Sequence[int]) -> str:
    """``0-29 and 100-139`` from the seeds."""
    out: list[list[int]] = []
    for s in sorted(seeds):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    spans = [f"{a}-{b}" if a != b else f"{a}" for a, b in out]
    return spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]


def seed_label(seeds: Sequence[int]) -> str:
    """Which seeds are which, in words: ``calibration seeds 0-29 and 100-139 (the thresholds were set on
    0-9)``, ``; confirmation seeds 4000-4029 (trained after registration, nothing tuned on them)``."""
    by: dict[str, list[int]] = {}
    for s in seeds:
        by.setdefault(role_of(s), []).append(s)
    parts = []
    if "calibration" in by:
        parts.append(f"calibration seeds {_spans(by['calibration'])} (the thresholds were set on 0-9)")
    if "confirmation" in by:
        parts.append(f"confirmation seeds {_spans(by['confirmation'])} (nothing was tuned on them)")
    if "other" in by:
        parts.append(f"seeds {_spans(by['other'])} of neither set")
    return "; ".join(parts)


def set_files(files: Sequence[str], which: str) -> tuple[str, ...]:
    """The files of ``files`` whose seeds are all in seed set ``which`` (:data:`SEED_SETS`; ``all``: every one)."""
    if which not in SEED_SETS:
        raise ValueError(f"unknown seed set {which!r}; choose from {', '.join(SEED_SETS)}")
    return tuple(f for f in files if which == "all" or all(role_of(s) == which for s in file_seeds(f)))


CLAIMS = ("no-overfitting", "concept-learnt", "ring-not-points", "contiguous", "as-good-as-1nn")
MODELS = ("net", "knn", "dot")
SIZES_NOTE = (
    "only the post's 5 sizes are in the committed evidence (5000, 2500, 1250, 625, 312), fewer than the "
    "8 sizes issue 21 asks for; the 8-size grid needs training (genprobe frontier)"
)


def study(files: tuple[str, ...], bootstrap: int = BOOTSTRAP, protocol: str = "standard") -> list[Row]:
    profile = get_profile("smoke")
    runs = load_set(files)  # each seed once: a file that repeats one is an error
    seeds = tuple(sorted({s.seed for s in runs}))
    probe = StandIn(runs, profile, seeds, first=len(seeds))
    with_fourier = [n for n in profile.sizes if n in profile.fourier_sizes]
    return rows_of(probe, profile.sizes, with_fourier, bootstrap, protocol)


def confirmation_rows(files: Sequence[str], bootstrap: int = BOOTSTRAP) -> list[Row] | None:
    """:func:`study` of the confirmation seeds among ``files`` alone (the page's answer to "how sparse before
    it stops"), or None where ``files`` hold none."""
    confirming = set_files(files, "confirmation")
    return study(confirming, bootstrap) if confirming else None


def rows_of(
    probe: StandIn, sizes: Sequence[int], with_fourier: Sequence[int], bootstrap: int, protocol: str = "standard"
) -> list[Row]:
    """Every claim of :data:`CLAIMS` asked of every model of :data:`MODELS` over ``sizes``; a claim applies
    where every run it reads was trained (ring-not-points: the sizes ``with_fourier``, the Fourier control's)."""
    rows = []
    for claim in CLAIMS:
        asked = list(with_fourier) if claim == "ring-not-points" else list(sizes)
        note = "" if len(asked) == len(sizes) else f"sizes {asked} only: the Fourier control's"
        for model in MODELS:
            holds = claim_holds(claim, probe, asked, protocol=protocol, model=model)
            rows.append(Row(claim, model, frontier_of(holds, probe.seeds, bootstrap=bootstrap), probe.seeds, note))
    return settle(rows)


# -- the 10-size grid ------------------------------------------------------------------------------

#: N = 5000 / sqrt(2)^k: evenly spaced in log N, 221 to 5000, the post's five sizes among them
GRID = (221, 312, 442, 625, 884, 1250, 1768, 2500, 3536, 5000)
GRID_SEEDS = tuple(range(20))
#: every run of the grid (seeds 0-19, C kernel, trained cold with one version of the code)
GRID_FILE = "frontier-smoke-c-seeds0-19.json.gz"
#: where ring-not-points can be asked: the sizes with the Fourier control
GRID_RNP = (221, 312, 442, 625)
#: how GRID_FILE was made (two commands, one cache; the second adds the Fourier control at 442 and 221)
GRID_COMMAND = (
    "genprobe frontier contiguous --sizes 221,312,442,625,884,1250,1768,2500,3536,5000 --seeds 0-19 "
    "--export all.json.gz && genprobe frontier ring-not-points --sizes 221,312,442,625 --seeds 0-19 "
    "--export rnp.json.gz  # then python benchmarks/studies/frontier_study.py --keep all.json.gz rnp.json.gz"
)
#: window ends of the map (epochs): every 100 up to the longest budget (4000 at 625 and 312)
MAP_EPOCHS = tuple(range(100, 4001, 100))


def grid_probe(file: str = GRID_FILE, seeds: Sequence[int] = GRID_SEEDS) -> StandIn:
    """``seeds`` (default 0-19) at every size of :data:`GRID`, from ``file`` in the evidence folder (default
    :data:`GRID_FILE`; a grid trained on other seeds, e.g. confirmation seeds, by :data:`GRID_COMMAND`)."""
    from genprobe.calibration import load_export

    runs = load_export(EVIDENCE / file)
    return StandIn(runs, get_profile("smoke"), tuple(seeds), first=len(seeds))


def grid_study(bootstrap: int = BOOTSTRAP, probe: StandIn | None = None) -> list[Row]:
    """The frontier of every shape claim over :data:`GRID` (ring-not-points over :data:`GRID_RNP`)."""
    return rows_of(grid_probe() if probe is None else probe, GRID, GRID_RNP, bootstrap)


def grid_maps(probe: StandIn | None = None) -> list:
    """The data-versus-training maps of :data:`MAP_CLAIMS` over the grid."""
    from genprobe.frontier import training_map

    probe = grid_probe() if probe is None else probe
    return [training_map(c, probe, GRID_RNP if c == "ring-not-points" else GRID, MAP_EPOCHS) for c in MAP_CLAIMS]


def keep_grid_runs(sources: list[Path], out: Path) -> int:
    """Write the runs of ``sources`` (``genprobe frontier --export`` files) at the grid's sizes, each once,
    to ``out``; returns how many. A run that both sources hold must agree."""
    import gzip
    import json

    keep: dict[str, dict] = {}
    for src in sources:
        for r in json.loads(gzip.decompress(src.read_bytes()))["runs"]:
            if r["spec"]["n"] in GRID:
                if r["key"] in keep and keep[r["key"]] != r:
                    raise ValueError(f"{src} disagrees with an earlier export on run {r['key']}")
                keep[r["key"]] = r
    rows = sorted(keep.values(), key=lambda r: (r["spec"]["seed"], r["spec"]["n"], r["key"]))
    out.write_bytes(gzip.compress(json.dumps({"runs": rows}, allow_nan=False).encode(), mtime=0))
    return len(rows)


def compare_with_sweeps(sources: list[Path]) -> tuple[int, int]:
    """How many runs of ``sources`` that the committed smoke sweeps also hold equal theirs (final metrics
    and history, exactly), and how many differ (by evidence file: :func:`compare_by_file`)."""
    counts = compare_by_file(sources)
    return sum(s for s, _ in counts.values()), sum(d for _, d in counts.values())


def compare_by_file(sources: list[Path]) -> dict[str, tuple[int, int]]:
    """Per committed smoke sweep: (runs of ``sources`` equal to its runs, runs that differ)."""
    import gzip
    import json

    from genprobe.runs import RunSpec

    # by spec, not by key: the older exports' specs lack fields added since (with their defaults)
    committed: dict[RunSpec, tuple[str, dict]] = {}
    for f in evidence_files(C_PATTERNS):
        for r in json.loads(gzip.decompress((EVIDENCE / f).read_bytes()))["runs"]:
            committed[RunSpec.from_dict(r["spec"])] = (f, r)
    out: dict[str, list[int]] = {}
    seen: set[str] = set()
    for src in sources:
        for r in json.loads(gzip.decompress(src.read_bytes()))["runs"]:
            found = committed.get(RunSpec.from_dict(r["spec"]))
            if found is None or r["key"] in seen:
                continue
            seen.add(r["key"])
            f, old = found
            counts = out.setdefault(f, [0, 0])
            counts[0 if (old["final"], old["history"]) == (r["final"], r["history"]) else 1] += 1
    return {f: (s, d) for f, (s, d) in sorted(out.items())}


README_BEGIN = "<!-- frontier:begin (generated by python benchmarks/studies/frontier_study.py --write) -->"
README_END = "<!-- frontier:end -->"
SIZE_ORDER = (312, 625, 1250, 2500, 5000)


def _short(f) -> str:
    """The frontier page's cell (:meth:`genprobe.frontier.Frontier.short`): ``N* = 2392 (1250 .. 5000)``,
    ``always (N* <= 312)``, ``below the grid, not established (N* <= 625)``, ``no frontier: ...``."""
    return f.short()


def count_table(rows: list[Row], sizes: tuple[int, ...]) -> list[str]:
    """Markdown lines: per claim and model, the seeds holding at each size (- where not asked), and N*."""
    lines = [
        "| claim | model | " + " | ".join(map(str, sizes)) + " | frontier (95 % interval) |",
        "|---|---|" + "---|" * len(sizes) + "---|",
    ]
    for r in rows:
        k = {s.n: str(s.k) for s in r.frontier.shares}
        label = {"net": "net", "knn": "1-NN", "dot": "dot"}.get(r.model, r.model)
        lines.append(f"| {r.claim} | {label} | {' | '.join(k.get(n, '-') for n in sizes)} | {_short(r.frontier)} |")
    return lines


def readme_section(rows: list[Row], files: Sequence[str], confirmed: list[Row] | None = None) -> str:
    """The frontier page's table (between its markers): seeds holding per size, and the frontier; then, where
    ``confirmed`` is given, the same on the confirmation seeds alone, with the answer to "how sparse before
    it stops" that they give (:func:`sparse_answers`)."""
    seeds = rows[0].seeds
    lines = [
        README_BEGIN,
        "",
        f"{len(seeds)} seeds, each once ({', '.join(files)}; {seed_label(seeds)}). Seeds holding, of {len(seeds)}:",
        "",
        *count_table(rows, SIZE_ORDER),
    ]
    if confirmed:
        c = confirmed[0].seeds
        lines += [
            "",
            f"The confirmation seeds alone, {seed_label(c)}: {len(c)} seeds. Seeds holding, of {len(c)}:",
            "",
            *count_table(confirmed, SIZE_ORDER),
            "",
            f"How sparse before it stops, on the confirmation seeds ({_spans(c)}, the post's five sizes):",
            "",
            *sparse_answers(confirmed),
        ]
    else:
        lines += [
            "",
            "The committed evidence holds no confirmation seeds of this profile yet (nothing here has been "
            "confirmed on seeds that nothing was tuned on or looked at): the answers with the grid below come "
            "from calibration seeds.",
        ]
    lines += ["", README_END]
    return "\n".join(lines)


GRID_BEGIN = "<!-- frontier-grid:begin (generated by python benchmarks/studies/frontier_study.py --write) -->"
GRID_END = "<!-- frontier-grid:end -->"
FIGURES = pages.DOCS_EVIDENCE / "figures"


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"


def sparse_answer(net, knn) -> str:
    """Does the net hold a claim on half the seeds down to sparser data than 1-NN? Established only where the
    two exact intervals do not overlap (each covers its N* with chance >= 0.95, so both do with chance >= 0.90:
    the comparison is at 90 % at least); the point estimates' ratio otherwise, said to be unestablished."""
    if "none" in (net.kind, knn.kind):
        return "no comparison: " + "; ".join(
            f"{who} has no frontier here" for who, f in (("the net", net), ("1-NN", knn)) if f.kind == "none"
        )
    if net.high is not None and knn.low is not None and net.high <= knn.low:
        return (
            f"the net's N* is at most {net.high:.0f} and 1-NN's above {knn.low:.0f}: the net holds it on half the "
            "seeds down to sparser data than 1-NN (the intervals do not overlap; both hold with chance >= 0.90)"
        )
    if knn.high is not None and net.low is not None and knn.high <= net.low:
        return (
            f"1-NN's N* is at most {knn.high:.0f} and the net's above {net.low:.0f}: 1-NN holds it on half the "
            "seeds down to sparser data than the net (the intervals do not overlap; both hold with chance >= 0.90)"
        )
    ratio = ""
    if net.kind == knn.kind == "crosses" and net.n_star and knn.n_star:
        r = knn.n_star / net.n_star
        ratio = f"the fitted crossings differ {max(r, 1 / r):.1f}x ({'net' if r > 1 else '1-NN'} lower), but "
    return f"{ratio}the intervals overlap: which holds it down to sparser data is not established"


def sparse_answers(rows: list[Row]) -> list[str]:
    """Bullets: per shape claim, the net's and 1-NN's frontiers and :func:`sparse_answer`."""
    front = {(r.claim, r.model): r.frontier for r in rows}
    out = []
    for claim in ("concept-learnt", "no-overfitting", "contiguous", "ring-not-points"):
        net, knn = front[(claim, "net")], front[(claim, "knn")]
        out.append(
            f"- **How sparse before it stops**, {claim}: the net's frontier {_short(net)}, 1-NN's "
            f"{_short(knn)}: {sparse_answer(net, knn)}."
        )
    return out


def answers(rows: list[Row], cl, iou: dict, share: dict) -> list[str]:
    """The post's two questions, answered from the grid's frontiers and the map (the page's bullets)."""
    out = sparse_answers(rows)
    small, big = (312, 4000), (2500, 2000)
    steps = {n: cl.steps_per_epoch[i] for i, n in enumerate(cl.sizes)}
    # the map's window end nearest to 2500 points having taken as many optimizer steps as 312 points in 4000 epochs
    same_steps = min(cl.epochs, key=lambda e: abs(e * steps[2500] - small[1] * steps[312]))
    caught = iou[small] >= iou[big]
    caught_steps = iou[small] >= iou[2500, same_steps]
    out.append(
        f"- **Does less data just need longer training?** At 312 points, twice the post's budget moves the median "
        f"held-out IoU from {_fmt(iou[312, 2000])} to {_fmt(iou[small])} (concept-learnt on "
        f"{_fmt(share[small])} of the seeds); 2500 points reach {_fmt(iou[big])} in the post's budget, and "
        f"{_fmt(iou[2500, same_steps])} after as many optimizer steps as 312 points took in 4000 epochs "
        f"(epoch {same_steps}). "
        + ("312 catches up per epoch" if caught else "Per epoch, 312 does not catch up within 4000 epochs")
        + ("; per optimizer step it does." if caught_steps else "; nor per optimizer step.")
    )
    return out


def grid_section(rows: list[Row], maps: list, confirmed: bool = False) -> str:
    """The frontier page's 10-size frontier table, the map's iso-line table and the follow-up's answer."""
    from genprobe.frontier_report import first_half

    seeds = rows[0].seeds
    lines = [
        GRID_BEGIN,
        "",
        f"{len(seeds)} seeds, {seed_label(seeds)}, C kernel, smoke profile (2000 epochs; 4000 "
        f"at 625 and 312, judged at 2000), net standard protocol; every run from "
        f"`benchmarks/studies/evidence/{GRID_FILE}` (trained cold by one version of the code). Seeds holding, of "
        f"{len(seeds)}:",
        "",
        *count_table(rows, GRID),
    ]
    lines += [
        "",
        "![share of seeds holding each claim against N](figures/frontier-grid.png)",
        "",
        "The data-versus-training map (`genprobe.frontier.training_map`, from the same runs' histories): the "
        "claim judged with its window ending at each epoch. First window end (epochs) from which at least half "
        "of the seeds hold at every later one trained (- : never within the budget):",
        "",
        "| claim | " + " | ".join(map(str, GRID)) + " |",
        "|---|" + "---|" * len(GRID),
    ]
    for m in maps:
        first = dict(zip(m.sizes, first_half(m)))
        lines.append(
            f"| {m.claim} | " + " | ".join(_fmt(first.get(n), 0) if n in first else "n/a" for n in GRID) + " |"
        )
    cl = next(m for m in maps if m.claim == "concept-learnt")
    iou = {(n, e): cl.median_iou[i, j] for i, n in enumerate(cl.sizes) for j, e in enumerate(cl.epochs)}
    share = {(n, e): cl.share[i, j] for i, n in enumerate(cl.sizes) for j, e in enumerate(cl.epochs)}
    short, long_ = 2000, 4000
    lines += [
        "",
        "**Does 312 catch up with more epochs?** Median held-out IoU (and the share of seeds holding "
        "concept-learnt), at the post's budget and at twice it:",
        "",
        "| N | " + " | ".join(f"{e} epochs" for e in (1000, short, long_)) + " | steps per epoch |",
        "|---|---|---|---|---|",
    ]
    for i, n in enumerate(cl.sizes):
        cells = [
            f"{_fmt(iou[n, e])} ({_fmt(share[n, e])})" if iou[n, e] == iou[n, e] else "-" for e in (1000, short, long_)
        ]
        lines.append(f"| {n} | " + " | ".join(cells) + f" | {cl.steps_per_epoch[i]:.0f} |")
    fresh = all(role_of(s) == "confirmation" for s in seeds)
    caveat = (
        ""
        if fresh
        else ", so these answers are not confirmed on fresh seeds"
        + (": the confirmation seeds' answer at the post's five sizes is above" if confirmed else "")
    )
    lines += [
        "",
        f"What this answers of the post's two questions (generated from the tables above; {seed_label(seeds)}"
        f"{caveat}):",
        "",
    ]
    lines += answers(rows, cl, iou, share)
    lines += [
        "",
        "![the data-versus-training map](figures/frontier-map.png)",
        "",
        GRID_END,
    ]
    return "\n".join(lines)


PAGE = "frontier"
INTRO = """\
From the committed evidence, no training: the smoke profile, net on the standard protocol. Per claim and
model, the seeds on which the claim holds at each size, and the frontier N* where that share crosses one half
with its 95 % interval (how it is fitted: [Frontiers](../explanation/frontiers.md)). Read with the claims'
wording: no-overfitting asks for level with 1-NN, so asked of 1-NN that check is met trivially; the dot
memoriser holds no shape claim at any size.

## The post's five sizes, every seed the smoke sweeps hold

Every C-kernel sweep in `benchmarks/studies/evidence`, each seed once (the torch-ops copy of seeds 100-109 is
not mixed in; `--torch` runs the torch-ops sweeps instead)."""
GRID_INTRO = """\
## Ten sizes, and the data-versus-training map

The grid N = 5000 / sqrt(2)^k, 221 to 5000 (evenly spaced in log N; the post's five sizes among them), on
seeds 0-19, every run trained cold by `genprobe frontier` (the commands are `GRID_COMMAND` in
`benchmarks/studies/frontier_study.py`) and committed as
`benchmarks/studies/evidence/frontier-smoke-c-seeds0-19.json.gz` (histories and final metrics, no
pictures)."""


def page(
    rows: list[Row], files: Sequence[str], grid_rows: list[Row], maps: list, confirmed: list[Row] | None = None
) -> str:
    """The frontier page (``docs/evidence/frontier.md``): the five-size table (and the confirmation seeds'
    alone, with their answer) and the ten-size grid."""
    return pages.page(
        "Claim frontiers",
        "python benchmarks/studies/frontier_study.py --write",
        INTRO,
        readme_section(rows, files, confirmed),
        GRID_INTRO,
        grid_section(grid_rows, maps, bool(confirmed)),
    )


def parse_seed_list(text: str) -> tuple[int, ...]:
    """``0-19`` or ``110,111,112``: the seeds, in order."""
    out: list[int] = []
    for part in text.split(","):
        a, dash, b = part.strip().partition("-")
        try:
            out += list(range(int(a), int(b) + 1)) if dash else [int(a)]
        except ValueError:
            raise SystemExit(f"--grid-seeds: bad seeds {text!r}: use 0-19 or 110,111") from None
    return tuple(dict.fromkeys(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "frontier")
    parser.add_argument("--bootstrap", type=int, default=BOOTSTRAP)
    parser.add_argument("--torch", action="store_true", help="the torch-ops sweeps instead of the C kernel's")
    parser.add_argument("--write", action="store_true", help="write docs/evidence/frontier.md (C kernel)")
    parser.add_argument(
        "--keep",
        nargs="+",
        type=Path,
        default=None,
        help="genprobe frontier --export files: write their runs at the grid's sizes to "
        f"benchmarks/studies/evidence/{GRID_FILE} (and compare the runs the smoke sweeps also hold with theirs), "
        "then stop",
    )
    parser.add_argument(
        "--seeds",
        choices=SEED_SETS,
        default="all",
        help="the five-size table's seed set: every C-kernel sweep (default), the calibration set or the "
        "confirmation set (threshold_evidence.SMOKE)",
    )
    parser.add_argument(
        "--grid-file",
        default=GRID_FILE,
        help=f"the ten-size grid's runs, in benchmarks/studies/evidence (default {GRID_FILE}); e.g. a grid trained "
        "on confirmation seeds by GRID_COMMAND with their --seeds",
    )
    parser.add_argument("--grid-seeds", default=None, help="the grid's seeds (default 0-19), e.g. 110-129")
    args = parser.parse_args(argv)
    grid_seeds = GRID_SEEDS if args.grid_seeds is None else parse_seed_list(args.grid_seeds)
    if args.write and (args.seeds != "all" or args.torch or (args.grid_file, grid_seeds) != (GRID_FILE, GRID_SEEDS)):
        raise SystemExit(
            "--write writes the page from the defaults (every C-kernel sweep, the grid in GRID_FILE on GRID_SEEDS); "
            "to make another seed set the page's, change GRID_FILE and GRID_SEEDS"
        )
    if args.keep:
        count = keep_grid_runs(args.keep, EVIDENCE / GRID_FILE)
        print(f"wrote {count} runs to {EVIDENCE / GRID_FILE}; runs the smoke sweeps also hold (equal, differ):")
        for f, (same, differ) in compare_by_file(args.keep).items():
            print(f"  {f}: {same} equal, {differ} differ")
        return 0
    files = set_files(evidence_files(TORCH_PATTERNS if args.torch else C_PATTERNS), args.seeds)
    if not files:
        raise SystemExit(f"no {'torch-ops' if args.torch else 'C-kernel'} sweep holds only {args.seeds} seeds")
    rows = study(files, args.bootstrap)
    seeds = rows[0].seeds
    step = "torch ops" if args.torch else "C kernel"
    head = (
        f"Claim frontiers, smoke profile, net standard protocol, {len(seeds)} seeds ({step}: "
        f"{', '.join(files)}; {seed_label(seeds)}); share of seeds holding [95 % Jeffreys interval]"
    )
    print(head)
    print(f"NOTE: {SIZES_NOTE}")
    print(format_table(rows))
    stem = "frontier-torch" if args.torch else "frontier"
    save_json(
        args.out / f"{stem}.json",
        rows,
        profile="smoke",
        protocol="standard",
        evidence=[f"benchmarks/studies/evidence/{f}" for f in files],
        note=SIZES_NOTE,
    )
    title = (
        f"share of seeds on which each claim holds, 95 % Jeffreys band; fitted logistic in log N, N* with its "
        f"interval\nsmoke profile, net standard protocol, {len(seeds)} seeds ({step}); only the post's 5 sizes: "
        "the 8-size grid of issue 21 needs training"
    )
    save_figure(args.out / f"{stem}.png", rows, title=title)
    print(f"wrote {args.out / (stem + '.json')} and {args.out / (stem + '.png')}")
    if args.torch:
        return 0
    # the confirmation seeds alone too: the page's answer comes from them
    confirmed = confirmation_rows(files, args.bootstrap) if args.seeds == "all" else None
    if confirmed:
        print(f"\nThe confirmation seeds alone ({seed_label(confirmed[0].seeds)}):")
        print(format_table(confirmed))
        print("\n".join(sparse_answers(confirmed)))
    probe = grid_probe(args.grid_file, grid_seeds)
    grid_rows, maps = grid_study(args.bootstrap, probe), grid_maps(probe)
    spans = _spans(grid_seeds)
    print(f"\nThe {len(GRID)}-size grid, {seed_label(grid_seeds)}:")
    print(format_table(grid_rows))
    grid_title = (
        f"share of seeds on which each claim holds, 95 % Jeffreys band; fitted logistic in log N\nsmoke profile, "
        f"net standard protocol, seeds {spans} (C kernel), {len(GRID)} sizes"
    )
    map_title = f"data versus training, smoke profile, net standard protocol, seeds {spans} (C kernel)"
    figures = [args.out] + ([FIGURES] if args.write else [])
    for folder in figures:
        save_figure(folder / "frontier-grid.png", grid_rows, title=grid_title)
        save_map_figure(folder / "frontier-map.png", maps, title=map_title)
    save_json(
        args.out / "frontier-grid.json",
        grid_rows,
        profile="smoke",
        protocol="standard",
        evidence=[f"benchmarks/studies/evidence/{f}" for f in (*files, args.grid_file)],
        maps=[m.to_dict() for m in maps],
    )
    print(f"wrote {args.out}/frontier-grid.json, frontier-grid.png, frontier-map.png")
    if args.write:
        written = pages.write_page(PAGE, page(rows, files, grid_rows, maps, confirmed))
        print(f"wrote {written} and {FIGURES}/frontier-grid.png, frontier-map.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
