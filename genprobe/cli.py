"""``genprobe``: train the post's nets or score a baseline, print a table, write JSON and a PNG.

    genprobe train --n 312 --seeds 0,1,2 --epochs 6000 --protocol blog --json out.json --png out.png
    genprobe baseline knn --n 312 --seeds 0,1,2 --json out.json
    genprobe sweep --profile paper --device cuda --jobs 8 --export paper.json.gz
    genprobe report --profile smoke
    genprobe compare main 0002 --fail held_out_iou:0.05  # saves in .genprobe/, exit 1 on a regression
    genprobe frontier contiguous --sizes 200-5000:8 --seeds 0-19 --json f.json --png f.png

Every :class:`~genprobe.runs.RunSpec` field has a flag. Bad arguments exit with
status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import images
from .errors import GenprobeError
from .jsonio import atomic_write, to_json_safe
from .text import number, table

__all__ = ["main"]

CONTROLS = ("shuffled", "fourier")  # the trained controls; the untrained rules are genprobe.rules.RULES
TABLE_METRICS = (
    "held_out_iou",
    "components",
    "holes",
    "angular_coverage",
    "contrast",
    "train_mse",
    "black_train_recall",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"genprobe: error: {message}\n")


#: what each run-spec flag sets (the field comments of :class:`~genprobe.runs.RunSpec`)
SPEC_HELP = {
    "truth": f"the true image: a registered name ({', '.join(images.names())}; genprobe.images), NAME@RES "
    "(rendered at RES^2), or a two-toned PNG's path",
    "n": "training points, drawn without replacement",
    "protocol": "standard: one Adam; blog: a fresh Adam every epoch, as the post's script",
    "labels": "true, or shuffled: the grey values permuted among the N points",
    "depth": "hidden layers",
    "width": "neurons per hidden layer",
    "negative_slope": "LeakyReLU slope; 0 is ReLU",
    "features": "none, or fourier: random Fourier features of (x, y)",
    "fourier_dim": "number of Fourier frequencies (inputs are twice as many)",
    "fourier_scale": "std of the Fourier frequencies",
    "epochs": "training budget in epochs (unless --steps)",
    "steps": "training budget in optimizer steps, whatever N (step-matched)",
    "lr": "Adam's learning rate",
    "batch": "minibatch size; the last partial batch is kept",
    "k": "neighbours of the k-NN rule (baseline knn)",
    "eval_res": "grid of the final prediction and its metrics",
    "curve_res": "grid of the metrics recorded along training",
    "checkpoints": "evenly spaced checkpoints of the training curves (plus epoch 0)",
    "wedge": "degrees of the image, around +x from its centre, left without training points",
}
#: what only a trained net reads: `genprobe baseline` lists these apart (knn, dot and other rules ignore them)
TRAINING_FIELDS = (
    "protocol",
    "depth",
    "width",
    "negative_slope",
    "fourier_dim",
    "fourier_scale",
    "epochs",
    "steps",
    "lr",
    "batch",
    "curve_res",
    "checkpoints",
)


def _spec_flags(
    parser: argparse.ArgumentParser,
    skip: tuple[str, ...] = ("seed", "model", "model_kwargs"),
    title: str = "run spec (defaults: the post's experiment)",
    only: tuple[str, ...] | None = None,
) -> None:
    """A flag per :class:`~genprobe.runs.RunSpec` field (of ``only``, less ``skip``): what it sets, its
    choices where the values are a fixed set, its default."""
    from .runs import FEATURES, LABELS, PROTOCOLS, RunSpec

    choices = {"protocol": PROTOCOLS, "labels": LABELS, "features": FEATURES}
    hints = typing.get_type_hints(RunSpec)
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(RunSpec):
        if f.name in skip or (only is not None and f.name not in only):
            continue
        hint = hints[f.name]
        kind = int if hint in (int, int | None) else float if hint is float else str
        what = SPEC_HELP.get(f.name, "")
        among = f"choices: {', '.join(choices[f.name])}; " if f.name in choices else ""
        group.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            type=kind,
            default=None,
            choices=choices.get(f.name),
            metavar=f.name.upper(),
            help=f"{what} ({among}default: {f.default})".strip(),
        )


# options several commands share, each declared once
_DEVICE_HELP = "auto, cpu, cuda (or cuda:INDEX) or mps (default: auto: cuda, then mps, then cpu)"
_PROFILE_HELP = "smoke or paper: the suite's scale, thresholds and seeds (default: smoke)"
_CACHE_HELP = "cache folder (default: $GENPROBE_CACHE or ~/.cache/genprobe)"


def _device(parser: argparse.ArgumentParser, default: str | None = "auto", help: str = _DEVICE_HELP) -> None:
    parser.add_argument("--device", default=default, help=help)


def _cache(parser: argparse.ArgumentParser, help: str = _CACHE_HELP) -> None:
    parser.add_argument("--cache", default=None, help=help)


def _scheduler(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scheduler",
        default=None,
        help='train on this Dask scheduler, e.g. tcp://host:8786 (pip install "genprobe[dask]"; default: this machine)',
    )


def _model_args(parser: argparse.ArgumentParser, whose: str) -> None:
    parser.add_argument(
        "--model-arg",
        dest="model_args",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"a keyword argument of {whose}; VALUE is a JSON literal, else a string (repeatable)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", default="0", help="comma-separated seeds or a range, e.g. 0,1,2 or 0-4 (default: 0)")
    _device(parser)
    _cache(parser)
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--json", type=Path, default=None, help="write spec, final metrics and history per run here")
    parser.add_argument("--png", type=Path, default=None, help="write the post-style panels (one row per seed) here")
    _scheduler(parser)


def _add_train(sub) -> None:
    train = sub.add_parser("train", help="train the post's net (model mlp), or your own model, for each seed")
    _common(train)
    _spec_flags(train, skip=("seed", "model", "model_kwargs", "k"))
    train.add_argument(
        "--model",
        default=None,
        metavar="PKG.MODULE:FACTORY",
        help="your own model: a callable returning a torch.nn.Module, imported from here if need be (default: mlp)",
    )
    _model_args(train, "--model's factory")


def _add_baseline(sub) -> None:
    base = sub.add_parser(
        "baseline", help="score a baseline or control on the same points: knn, dot, " + ", ".join(CONTROLS)
    )
    base.add_argument(
        "kind",
        help="knn (the k-nearest-neighbour rule), dot (the dot memoriser), shuffled (the net on shuffled grey "
        "values), fourier (a net on random Fourier features); or a rule registered with genprobe.rules.register "
        "in the process that calls genprobe.cli.main",
    )
    _common(base)
    # the kind sets the model, labels and features; what only a trained net reads is listed apart
    _spec_flags(base, skip=("seed", "model", "model_kwargs", "labels", "features", *TRAINING_FIELDS), title="run spec")
    _spec_flags(
        base,
        title="training (shuffled and fourier only: knn, dot and other rules ignore these)",
        only=TRAINING_FIELDS,
    )
    _model_args(base, "a registered rule")


def _add_sweep(sub) -> None:
    sw = sub.add_parser(
        "sweep", help="train every run of a profile into the cache (e.g. on a GPU box), optionally in parallel"
    )
    sw.add_argument("--profile", default="smoke", help=_PROFILE_HELP)
    sw.add_argument("--seeds", default=None, help="seeds (default: the profile's)")
    _device(sw)
    _cache(sw)
    sw.add_argument(
        "--jobs", type=int, default=1, help="worker processes, one batched group each at a time (default: 1)"
    )
    _scheduler(sw)
    sw.add_argument(
        "--export",
        type=Path,
        default=None,
        help="write spec, final metrics and history of every run here (.json or .json.gz)",
    )
    sw.add_argument(
        "--export-pictures",
        action="store_true",
        help="--export each run's final picture too (8-bit PNG, ~6 KB a run at 256^2): a metric registered later "
        "gets its final value from the export without training",
    )


def _add_judge(sub) -> None:
    jd = sub.add_parser(
        "judge", help="score any grey picture as if a net had drawn it, and print every shape claim's verdict"
    )
    jd.add_argument(
        "image", help="the picture (PNG, JPEG, ...; 0 = black), or a name from genprobe.gallery, e.g. arc-180"
    )
    jd.add_argument(
        "--n",
        type=int,
        required=True,
        help="training points: the N the claims are stated at (5000, 2500, 1250, 625, 312)",
    )
    jd.add_argument("--seeds", default="0-4", help="whose training points to judge it on, e.g. 0-4 (default: 0-4)")
    jd.add_argument("--profile", default="smoke", help=_PROFILE_HELP)
    _scheduler(jd)
    jd.add_argument(
        "--sequential", action="store_true", help="while a claim is undecided, judge on more seeds as the suite does"
    )
    _cache(jd, "cache folder of the dot, 1-NN and Fourier runs (default: $GENPROBE_CACHE or ~/.cache/genprobe)")
    _device(jd, help="to train missing Fourier-feature runs on: " + _DEVICE_HELP)
    jd.add_argument("--json", type=Path, default=None, help="write the verdicts here")


def _add_report(sub) -> None:
    rep = sub.add_parser("report", help="run the claim suite (pytest benchmarks) and write reports/<profile>/")
    rep.add_argument("--profile", default="smoke", help=_PROFILE_HELP)
    _device(rep, default=None)
    rep.add_argument("--seeds", default=None, help="seeds (default: the profile's)")
    _cache(rep)
    rep.add_argument("--out", default=None, help="report folder (default: reports/<profile>)")
    rep.add_argument("--benchmarks", default="benchmarks", help="folder of the claim tests (default: benchmarks)")


def _add_frontier(sub) -> None:
    fr = sub.add_parser(
        "frontier",
        help="where a claim stops holding: the share of seeds holding it against N, and the N* where it "
        "crosses 1/2 (trains what the cache lacks)",
    )
    fr.add_argument(
        "claim",
        help="a shape claim (no-overfitting, concept-learnt, ring-not-points, contiguous, "
        "as-good-as-1nn) or longer-helps",
    )
    fr.add_argument(
        "--sizes",
        default="200-5000:8",
        help="LOW-HIGH:COUNT sizes spaced in log N, or a list 312,625,1250 (default: 200-5000:8)",
    )
    fr.add_argument("--seeds", default="0-19", help="seeds, e.g. 0-19 (default: 0-19)")
    fr.add_argument(
        "--model",
        default="net,knn,dot",
        help="whom to ask the claim of, comma-separated: net, knn, dot, fourier (the Fourier-feature control), "
        "or a user model's factory module:function, trained like the post's net (default: net,knn,dot)",
    )
    _model_args(fr, "a user model's factory")
    fr.add_argument(
        "--protocol",
        default="standard",
        choices=("standard", "blog"),
        help="the net's training protocol (choices: standard, blog; default: standard)",
    )
    fr.add_argument("--profile", default="smoke", help=_PROFILE_HELP)
    fr.add_argument("--bootstrap", type=int, default=None, help="bootstrap replicates of N*'s interval")
    _device(fr)
    _cache(fr)
    fr.add_argument("--json", type=Path, default=None, help="write the shares and frontiers here")
    fr.add_argument("--png", type=Path, default=None, help="write the figure (share against N, with its band) here")
    fr.add_argument(
        "--export",
        type=Path,
        default=None,
        help="write every run the frontier read (spec, final metrics, history) here, as genprobe sweep --export does",
    )
    _scheduler(fr)


def _add_compare(sub) -> None:
    cmp = sub.add_parser(
        "compare", help="compare two saved sessions seed by seed; exit 1 when a --fail rule finds a regression"
    )
    cmp.add_argument("base", nargs="?", help="the baseline: a save's name (its latest), number (0003) or file")
    cmp.add_argument("new", nargs="?", help="the save to judge against it, likewise")
    cmp.add_argument(
        "--fail",
        action="append",
        default=[],
        metavar="METRIC:DELTA",
        help="fail when METRIC got worse by more than DELTA on significantly most paired seeds (repeatable)",
    )
    cmp.add_argument("--root", default=".genprobe", help="folder of the saves (default: .genprobe)")
    cmp.add_argument("--list", action="store_true", help="list the saves under --root and exit")
    cmp.add_argument(
        "--json",
        type=Path,
        default=None,
        help="write the comparison here: every test and metric's paired seeds and change, each rule's verdict "
        "(- for stdout, instead of the table)",
    )


def _verbosity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar or progress lines (warnings and errors only)",
    )
    group.add_argument("-v", "--verbose", action="store_true", help="also a line for each group as it starts training")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="genprobe",
        description="Train the ring-fitting nets of the post and measure them against the true image.",
        epilog="genprobe COMMAND --help shows a command's options. Progress goes to stderr: a bar on a terminal, "
        "else a line every 30 s with an ETA.",
    )
    parser.add_argument("--version", action="version", version=f"genprobe {__version__}")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", parser_class=_Parser)
    for _, add, _ in COMMANDS:
        add(sub)
    for command in sub.choices.values():
        _verbosity(command)
    return parser


class _ProgressHandler(logging.Handler):
    """The ``genprobe`` logger's lines on the current stderr, above a progress bar if one is drawn."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def _logging(args: argparse.Namespace) -> logging.Handler:
    """Send the ``genprobe`` logger to stderr for this command: INFO (progress lines), DEBUG with ``-v``,
    warnings only with ``-q``. Returns the handler, removed when the command ends."""
    logger = logging.getLogger("genprobe")
    handler = _ProgressHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler.setLevel(level)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def _parse_seeds(text: str) -> tuple[int, ...]:
    from .options import parse_seeds

    try:
        return parse_seeds(text)
    except ValueError as exc:
        raise GenprobeError(str(exc)) from None


def _specs(args: argparse.Namespace) -> list:
    from . import rules
    from .profiles import get_profile
    from .runs import RunSpec

    overrides = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(RunSpec) if getattr(args, f.name, None) is not None
    }
    kind = getattr(args, "kind", None)
    if kind == "fourier":
        f = get_profile("smoke").fourier(1, 0)
        base = {k: v for k, v in f.to_dict().items() if k not in ("n", "seed", "eval_res", "curve_res")}
    elif kind == "shuffled":
        base = {"labels": "shuffled"}
    elif kind is not None:
        rules.get(kind)  # an unknown name: one line naming the rules
        base = {"model": kind}
    else:
        base = {}
    if "epochs" in overrides and "steps" in base:
        base.pop("steps")  # --epochs on the fourier control: an epoch budget instead
    if getattr(args, "model_args", None):
        overrides["model_kwargs"] = _parse_model_args(args.model_args)
    fields = base | overrides
    return [RunSpec(seed=s, **fields) for s in _parse_seeds(args.seeds)]


def _parse_model_args(items: list[str]) -> dict:
    """``--model-arg KEY=VALUE`` flags as a dict: VALUE parsed as a JSON literal, else kept as a string."""
    out: dict = {}
    for item in items:
        key, eq, text = item.partition("=")
        if not eq or not key.strip():
            raise GenprobeError(f"--model-arg {item!r} must be KEY=VALUE, e.g. width=64")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        out[key.strip()] = value
    return out


def _table(results) -> str:
    from . import metrics

    # the usual columns, then every metric of your own (genprobe.metrics.register)
    columns = [*TABLE_METRICS, *(m.name for m in metrics.METRICS.values() if m.fn is not None)]
    head = ["seed", *columns, "diverged"]
    rows = [
        [str(r.spec.seed), *(number(r.final.get(m, math.nan), decimals=3) for m in columns), str(r.diverged_at or "-")]
        for r in results
    ]
    return table(head, rows, right=True)


def _progress(args: argparse.Namespace) -> bool | None:
    """``run_sweep``'s progress: none with ``-q``, else a bar on a terminal (lines elsewhere)."""
    return False if getattr(args, "quiet", False) else None


def _check_output(path: Path | None, flag: str) -> None:
    """Fail before training, not after, when an output cannot be written."""
    if path is None:
        return
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise GenprobeError(f"{flag} {str(path)!r} is a folder, not a file")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise GenprobeError(f"{flag} {str(path)!r}: folder is not writable")


def _run(args: argparse.Namespace) -> int:
    from .runs import Cache
    from .sweep import default_workers, run_sweep
    from .train import resolve_device

    _check_output(args.json, "--json")
    _check_output(args.png, "--png")
    specs = _specs(args)
    for s in specs:
        s.load_truth()  # a bad --truth fails here, before any training
    if specs[0].user_model:  # so does a bad --model (import, factory, its output's shape)
        from .usermodel import check

        check(specs[0].model, dict(specs[0].model_kwargs), specs[0].seed)
    device = resolve_device(args.device)
    cache = None if args.no_cache else Cache(args.cache)
    results = run_sweep(
        specs,
        cache=cache,
        device=device,
        progress=_progress(args),
        workers=default_workers(device),
        scheduler=args.scheduler,
    )
    print(
        f"{specs[0].label().rsplit(' seed=', 1)[0]}  "
        f"({specs[0].total_epochs} epochs, {specs[0].total_steps} steps, device {device})"
    )
    print(_table(results))
    for r in results:
        if r.diverged:
            print(f"seed {r.spec.seed}: diverged (loss NaN/inf) at epoch {r.diverged_at}", file=sys.stderr)
    if args.json is not None:
        _export(args.json, results)
        print(f"wrote {args.json}")
    if args.png is not None:
        from .report import save_panels_grid

        save_panels_grid(results, args.png)
        print(f"wrote {args.png}")
    return 0


def _report(args: argparse.Namespace) -> int:
    try:
        import pytest
    except ImportError:
        raise GenprobeError('genprobe report runs the claim suite with pytest: pip install "genprobe[test]"') from None

    from .profiles import get_profile

    get_profile(args.profile)
    bench = Path(args.benchmarks)
    if not bench.is_dir():
        raise GenprobeError(
            f"benchmarks folder not found: {str(bench)!r} (run from the genprobe checkout or pass --benchmarks)"
        )
    argv = [str(bench), f"--genprobe-profile={args.profile}", "-q"]
    for opt in ("device", "seeds", "cache"):
        if getattr(args, opt):
            argv.append(f"--genprobe-{opt}={getattr(args, opt)}")
    if args.out:
        argv.append(f"--genprobe-report={args.out}")
    return int(pytest.main(argv))


def export_record(r, picture: bool = False) -> dict:
    """One run as ``--export`` writes it: key, spec, final metrics, divergence, history, meta, and with
    ``picture`` its final prediction (:func:`genprobe.jsonio.picture_to_text`, for metrics added later)."""
    record = {
        "key": r.spec.key,
        "spec": r.spec.to_dict(),
        "final": r.final,
        "diverged_at": r.diverged_at,
        "history": r.history,
        "meta": r.meta,
    }
    if picture:
        from .jsonio import picture_to_text

        record["picture"] = picture_to_text(r.prediction)
    return record


def _export(path: Path, results, pictures: bool = False, profile: str | None = None) -> None:
    """Spec, final metrics and history of each run (and its final picture), as JSON (gzipped for .gz); for
    a profile's sweep, the registration its runs were trained under (``genprobe.registration.stamp``)."""
    import gzip

    payload: dict = {"runs": [export_record(r, pictures) for r in results]}
    if profile is not None:
        from .registration import stamp

        payload["registration"] = stamp((r.meta.get("git_commit") for r in results), profile)
    if path.suffix == ".gz":
        atomic_write(path, gzip.compress(json.dumps(to_json_safe(payload), allow_nan=False).encode()))
    else:
        atomic_write(path, json.dumps(to_json_safe(payload), indent=1, allow_nan=False).encode())


def _sweep_worker(specs, cache_root, device, threads):
    import torch

    from .runs import Cache
    from .sweep import run_sweep

    torch.set_num_threads(threads)  # the workers share the cores, not oversubscribe them

    run_sweep(specs, cache=Cache(cache_root), device=device, progress=False)
    return len(specs)


def _sweep(args: argparse.Namespace) -> int:
    import multiprocessing
    import time
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from .profiles import get_profile
    from .runs import Cache
    from .sweep import Progress, batch_work, default_workers, plan_groups, run_sweep, show_bar
    from .train import resolve_device

    profile = get_profile(args.profile)
    seeds = _parse_seeds(args.seeds) if args.seeds else profile.seeds
    if args.jobs < 1:
        raise GenprobeError(f"--jobs must be >= 1, got {args.jobs}")
    if args.jobs > 1 and args.scheduler:
        raise GenprobeError("--jobs and --scheduler exclude each other: the cluster's workers are the jobs")
    device = resolve_device(args.device)
    cache = Cache(args.cache)
    specs = profile.sweep(seeds)
    t0 = time.perf_counter()
    if args.jobs == 1:
        workers = default_workers(device)
        results = run_sweep(
            specs, cache=cache, device=device, progress=_progress(args), workers=workers, scheduler=args.scheduler
        )
    else:
        todo = [s for s in specs if cache.get(s) is None]
        batches = [[s] for s in todo if not s.trained] + plan_groups([s for s in todo if s.trained])
        batches.sort(key=batch_work, reverse=True)  # longest first
        ctx = multiprocessing.get_context("spawn")
        # the workers train quietly; this process shows the sweep's one bar (or its lines), a group at a time
        meter = Progress(
            [b for b in batches if b[0].trained],
            logging.getLogger("genprobe").info,
            bar=show_bar(_progress(args)),
            cached=len(specs) - len(todo),
        )
        try:
            with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
                threads = max(1, (os.cpu_count() or 1) // args.jobs)
                futures = {pool.submit(_sweep_worker, b, str(cache.root), device, threads): b for b in batches}
                pending = set(futures)
                meter.tick()
                while pending:  # the workers say nothing: a line at least every few seconds' check
                    finished, pending = wait(pending, timeout=5.0, return_when=FIRST_COMPLETED)
                    for f in finished:
                        f.result()
                        if futures[f][0].trained:
                            meter.done(futures[f])
                    meter.tick()
        finally:
            meter.close()
        results = run_sweep(specs, cache=cache, device=device, progress=False)
    print(
        f"{len(results)} runs of profile {profile.name} (seeds {','.join(map(str, seeds))}) "
        f"in {time.perf_counter() - t0:.1f} s on {device}; cache {cache.root}"
    )
    if args.export is not None:
        _export(args.export, results, pictures=args.export_pictures, profile=profile.name)
        print(f"wrote {args.export}")
    return 0


def _judge(args: argparse.Namespace) -> int:
    from .judge import judge, load_picture
    from .profiles import get_profile
    from .runs import Cache
    from .sweep import default_workers, run_sweep
    from .train import resolve_device

    profile = get_profile(args.profile)
    if args.n not in profile.sizes:
        raise GenprobeError(f"N={args.n}: the claims are stated at N in {', '.join(map(str, profile.sizes))}")
    seeds = _parse_seeds(args.seeds)
    from . import gallery

    picture = args.image if args.image in gallery.PICTURES else load_picture(args.image)
    name = args.image
    device = resolve_device(args.device)
    cache = Cache(args.cache)
    workers = default_workers(device)
    result = judge(
        picture,
        args.n,
        seeds,
        profile,
        sequential=args.sequential,
        runs=lambda specs: run_sweep(
            specs, cache=cache, device=device, progress=_progress(args), workers=workers, scheduler=args.scheduler
        ),
    )
    result["picture"] = name
    print(f"{name} as the post's net at N={args.n}, seeds {','.join(map(str, seeds))} ({profile.name} profile):")
    for row in result["claims"]:
        print(f"  {row['claim']:16s} {row['verdict'].upper()}")
        for c in row["checks"]:
            print(f"      {c['metric']}: {c['decision']}; {c['measured']}")
    for row in result["skipped"]:
        print(f"  {row['claim']:16s} skipped: {row['reason']}")
    if args.json is not None:
        atomic_write(args.json, json.dumps(to_json_safe(result), indent=1).encode())
        print(f"wrote {args.json}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from . import compare as cmp

    if args.list:
        print(cmp.format_saved(args.root))
        return 0
    if not args.base or not args.new:
        raise GenprobeError("compare needs two saves, BASE and NEW (genprobe compare --list shows them)")
    rules = [cmp.parse_fail_rule(r) for r in args.fail]
    comparison = cmp.compare(cmp.load(args.base, args.root), cmp.load(args.new, args.root))
    found = cmp.regressions(comparison, rules)
    if args.json is not None:
        text = json.dumps(to_json_safe(cmp.comparison_dict(comparison, rules)), indent=1, allow_nan=False)
        if str(args.json) == "-":
            print(text)
            return 1 if found else 0
        atomic_write(args.json, text.encode())
    print(cmp.format_comparison(comparison, rules))
    for j in found:
        print(f"REGRESSION {j.rule}: {j.explanation}")
    if args.json is not None:
        print(f"wrote {args.json}")
    return 1 if found else 0


def _frontier(args: argparse.Namespace) -> int:
    from .frontier import (
        BOOTSTRAP,
        FRONTIER_CLAIMS,
        MODELS,
        claim_holds,
        claim_reads,
        frontier_of,
        is_user_model,
        parse_sizes,
    )
    from .frontier_report import Row, format_table, save_figure, save_json
    from .probe import RunsFrom
    from .profiles import get_profile

    if args.claim not in FRONTIER_CLAIMS:
        raise GenprobeError(f"unknown claim {args.claim!r}; choose from {', '.join(FRONTIER_CLAIMS)}")
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        raise GenprobeError(f"--sizes: {exc}") from None
    seeds = _parse_seeds(args.seeds)
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    bad = [m for m in models if m not in MODELS and not is_user_model(m)]
    if bad or not models:
        raise GenprobeError(
            f"--model {args.model!r}: choose from {', '.join(MODELS)} or a factory module:function, comma-separated"
        )
    kwargs = _parse_model_args(args.model_args)
    users = [m for m in models if is_user_model(m)]
    if kwargs and not users:
        raise GenprobeError("--model-arg is for a user model's factory: give one in --model, e.g. mymodel:make")
    for m in users:  # a bad factory fails here, before any training
        from .usermodel import check

        check(m, kwargs, 0)
    if args.claim == "longer-helps" and models != ["net"]:
        raise GenprobeError("longer-helps compares two training budgets of a net: use --model net")
    bootstrap = BOOTSTRAP if args.bootstrap is None else args.bootstrap
    if bootstrap < 1:
        raise GenprobeError(f"--bootstrap must be >= 1, got {bootstrap}")
    profile = get_profile(args.profile)
    _check_output(args.json, "--json")
    _check_output(args.png, "--png")
    _check_output(args.export, "--export")

    from .runs import Cache
    from .sweep import default_workers, run_sweep
    from .train import resolve_device

    # every run the claim reads at every size and seed, trained (or read from the cache) in one batched sweep
    specs = []
    for n in sizes:
        for s in seeds:
            specs += [profile.net(n, s, args.protocol), profile.baseline("knn", n, s), profile.baseline("dot", n, s)]
            for m in models:
                specs += claim_reads(args.claim, m, profile, n, s, args.protocol, kwargs)
    specs = list(dict.fromkeys(specs))  # a run two models read is trained once
    device = resolve_device(args.device)
    results = run_sweep(
        specs,
        cache=Cache(args.cache),
        device=device,
        progress=_progress(args),
        workers=default_workers(device),
        scheduler=args.scheduler,
    )
    probe = RunsFrom(profile, seeds, dict(zip(specs, results)))
    rows = []
    for model in models:
        holds = claim_holds(args.claim, probe, sizes, protocol=args.protocol, model=model, model_kwargs=kwargs)
        rows.append(Row(args.claim, model, frontier_of(holds, seeds, bootstrap=bootstrap), seeds))
    head = (
        f"{args.claim}: share of seeds holding [95 % Jeffreys interval] and N*, {profile.name} profile, "
        f"net {args.protocol} protocol, {len(sizes)} sizes, seeds {args.seeds} ({len(seeds)})"
    )
    print(head)
    print(format_table(rows))
    if args.json is not None:
        save_json(args.json, rows, profile=profile.name, protocol=args.protocol, sizes=list(sizes))
        print(f"wrote {args.json}")
    if args.png is not None:
        save_figure(args.png, rows, title=head)
        print(f"wrote {args.png}")
    if args.export is not None:
        _export(args.export, results)
        print(f"wrote {args.export}")
    return 0


#: every command: its name, what declares its arguments, what runs it (a new command is one row here)
COMMANDS: tuple[tuple[str, Callable[[Any], None], Callable[[argparse.Namespace], int]], ...] = (
    ("train", _add_train, _run),
    ("baseline", _add_baseline, _run),
    ("sweep", _add_sweep, _sweep),
    ("judge", _add_judge, _judge),
    ("report", _add_report, _report),
    ("frontier", _add_frontier, _frontier),
    ("compare", _add_compare, _compare),
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `genprobe` alone: what it can do
        parser.print_help()
        return 0
    commands = {name: run for name, _, run in COMMANDS}
    logger = logging.getLogger("genprobe")
    level = logger.level
    handler = _logging(args)
    try:
        if args.command not in commands:  # a command the parser knows but nothing runs: never train instead
            raise GenprobeError(f"command {args.command!r} is not implemented")
        return commands[args.command](args)
    except GenprobeError as exc:
        print(f"genprobe: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "genprobe: interrupted; finished runs are in the cache, rerun to train only what is missing",
            file=sys.stderr,
        )
        return 130
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
