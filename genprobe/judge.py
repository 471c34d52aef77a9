"""Judge any picture as if a net had drawn it: which shape claims does it pass?

:func:`picture_runs` turns a grey picture (0 = black, 1 = white) into run
results on given seeds' training points: the same metrics at the profile's
curve and evaluation grids, a history that is the same picture at every
checkpoint, and the picture's values at the training points as its "fit".
:func:`judge` then runs every shape claim of the suite on them, against the
real dot memoriser, 1-NN and Fourier-feature runs on the same points, with
the profile's thresholds and the sequential sign test; claims that need
training curves are listed as skipped.

    from genprobe.judge import judge
    report = judge("my_picture.png", n=312, seeds=range(5))
    for row in report["claims"]:
        print(row["claim"], row["n"], row["verdict"])

Also ``genprobe judge IMAGE.png --n 312 --seeds 0-4``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import metrics
from .errors import GenprobeError
from .probe import ProfileRuns
from .profiles import Profile, get_profile
from .runs import RunResult, RunSpec
from .sampling import TrainingSet, check_n, sample_training_set

__all__ = ["picture_runs", "judge", "judge_gallery", "load_picture", "CURVE_CLAIMS"]

Picture = str | np.ndarray | Callable[[int, TrainingSet], np.ndarray]

# claims that need a training curve: a still picture cannot be judged on them
CURVE_CLAIMS = {
    "slower": "needs the time a net takes to learn (a training curve)",
    "less-stable": "needs how much a net's output moves late in training (a training curve)",
    "longer-helps": "needs a net at two training budgets (a training curve)",
    "catches-up": "needs a net's training curve past the post's budget, against a net with more data",
}


def load_picture(path: str | Path) -> np.ndarray:
    """A grey picture in [0, 1] from an image file (any mode; 0 = black); one clear error if it is not one."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise GenprobeError(f"picture {str(p)!r} not found")
    try:
        with Image.open(p) as im:
            grey = np.asarray(im.convert("F"), dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError) as exc:
        raise GenprobeError(f"picture {str(p)!r} is not an image ({exc.__class__.__name__})") from None
    if grey.ndim != 2 or min(grey.shape) < 2:
        raise GenprobeError(f"picture {str(p)!r} has shape {grey.shape}; need a 2-D image of at least 2x2 pixels")
    return grey


def _resized(img: np.ndarray, res: int) -> np.ndarray:
    """``img`` at res x res (bilinear), NaN white, values clipped to [0, 1]."""
    from PIL import Image

    img = np.nan_to_num(np.asarray(img, dtype=np.float32), nan=1.0, posinf=1.0, neginf=0.0)
    if img.shape != (res, res):
        img = np.asarray(Image.fromarray(img, mode="F").resize((res, res), Image.Resampling.BILINEAR), dtype=np.float32)
    return np.clip(img, 0.0, 1.0)


def _drawer(picture: Picture) -> tuple[str, Callable[[int, TrainingSet], np.ndarray]]:
    if callable(picture):
        return getattr(picture, "__name__", "picture"), picture
    if isinstance(picture, np.ndarray):
        arr = picture
        return "array", lambda res, ts: _resized(arr, res)
    if isinstance(picture, (str, Path)):
        from . import gallery

        if str(picture) in gallery.PICTURES:
            name = str(picture)
            return name, lambda res, ts: _resized(gallery.draw(name, res, ts), res)
        arr = load_picture(picture)
        return Path(picture).name, lambda res, ts: _resized(arr, res)
    raise GenprobeError(
        f"a picture is a gallery name, an image path, an array or a function, got {type(picture).__name__}"
    )


def _at_points(img: np.ndarray, ts: TrainingSet) -> np.ndarray:
    return img[ts.grid_pixels(img.shape[0])].astype(np.float64)


def picture_runs(
    picture: Picture,
    n: int,
    seeds: Sequence[int],
    profile: Profile | str = "smoke",
    protocol: str = "standard",
    final: bool = True,
) -> list[RunResult]:
    """Run results of ``picture`` as the post's net at ``n`` points, one per seed.

    ``final=False`` skips the evaluation grid (the claims read the curve grid
    only) and repeats the curve metrics as the final ones.
    """
    profile = get_profile(profile) if isinstance(profile, str) else profile
    name, draw = _drawer(picture)
    out = []
    for seed in seeds:
        spec: RunSpec = profile.net(n, seed, protocol)
        truth = spec.load_truth()
        n = check_n(n, truth.n_pixels)
        ts = sample_training_set(truth, n, seed)

        def score(res: int) -> tuple[np.ndarray, dict[str, float]]:
            img = np.clip(np.nan_to_num(draw(res, ts).astype(np.float32), nan=1.0, posinf=1.0, neginf=0.0), 0, 1)
            m = metrics.evaluate(
                img, truth.at_resolution(res), ts.mask_at(res), pred_train=_at_points(img, ts), train_targets=ts.targets
            )
            return img, m

        img, curve = score(spec.curve_res)
        if final:
            img, fin = score(spec.eval_res)
        else:
            fin = dict(curve)
        from .train import checkpoint_epochs

        epochs = np.array(checkpoint_epochs(spec))
        history = {"epoch": epochs, "step": epochs * spec.steps_per_epoch} | {
            k: np.full(len(epochs), v, dtype=np.float64) for k, v in curve.items()
        }
        out.append(
            RunResult(
                spec=spec,
                history=history,
                final=fin,
                prediction=img,
                boundaries=None,
                train_indices=ts.indices,
                meta={"picture": name},
            )
        )
    return out


class _Pictures(ProfileRuns):
    """The parts of the ``probe`` fixture the shape claims use, with the picture as the net."""

    def __init__(
        self, picture: Picture, profile: Profile, seeds: Sequence[int], runs: Callable[[list[RunSpec]], list[RunResult]]
    ):
        self.picture, self.profile, self._seeds, self._runs = picture, profile, tuple(seeds), runs
        self._memo: dict[tuple, list[RunResult]] = {}

    @property
    def seeds(self) -> tuple[int, ...]:
        return self._seeds

    def on(self, seeds: Sequence[int]) -> _Pictures:
        other = _Pictures(self.picture, self.profile, seeds, self._runs)
        other._memo = self._memo
        return other

    def runs(self, specs: list[RunSpec]) -> list[RunResult]:
        return self._runs(specs)

    def net(self, n: int, protocol: str = "standard", **overrides: Any) -> list[RunResult]:
        if overrides:
            raise GenprobeError(f"a picture has no net options, got {', '.join(sorted(overrides))}")
        key = (n, protocol, self.seeds)
        if key not in self._memo:  # several claims read the same picture at one N
            self._memo[key] = picture_runs(self.picture, n, self.seeds, self.profile, protocol, final=False)
        return self._memo[key]


def judge(
    picture: Picture,
    n: int,
    seeds: Sequence[int],
    profile: Profile | str = "smoke",
    runs: Callable[[list[RunSpec]], list[RunResult]] | None = None,
    sequential: bool = False,
    claims: Sequence[str] | None = None,
    max_seeds: int | None = None,
    plan_seeds: int | None = None,
) -> dict[str, Any]:
    """Every shape claim's verdict on ``picture`` at ``n`` points over ``seeds``.

    Args:
        picture: a gallery name (:data:`genprobe.gallery.PICTURES`), an image
            path, a 2-D array (0 = black; resized to each grid) or a function
            ``(res, training set) -> array``.
        n: training points (one of the post's sizes: the claims are set there).
        seeds: whose points the picture is judged on.
        profile: thresholds and grids.
        runs: where the dot, 1-NN and Fourier runs come from (default: the
            cache, training what is missing, via :func:`genprobe.sweep.run_sweep`).
        sequential: judge on ``seeds`` and, while undecided, on more (as the
            suite does); default: once, on ``seeds``.
        claims: judge only these shape claims (default: every one stated at ``n``).
        max_seeds: with ``sequential``, stop at the last look with at most this
            many seeds (each look keeps the full plan's level), e.g. where the
            comparison runs exist for a few seeds only.
        plan_seeds: with ``sequential``, the plan's most seeds (default: the
            profile's ``max_seeds``; a longer plan, as a test the evidence gates
            with up to 30 seeds takes, :meth:`Profile.plan`).

    Returns:
        ``{"picture": ..., "n": n, "seeds": [...], "claims": [{"claim", "n", "verdict",
        "checks": [...]}], "skipped": [{"claim", "reason"}]}``.
    """
    from .shapes import SHAPE_CLAIMS, SHAPE_SIZES
    from .verdicts import decide_over_seeds

    profile = get_profile(profile) if isinstance(profile, str) else profile
    if n not in SHAPE_SIZES:
        raise GenprobeError(f"N={n!r}: the shape claims are stated at N in {', '.join(map(str, profile.sizes))}")
    seeds = tuple(seeds)
    if not seeds:
        raise GenprobeError("judge needs at least one seed")
    if runs is None:
        from .runs import Cache
        from .sweep import run_sweep

        cache = Cache()

        def runs(specs: list[RunSpec]) -> list[RunResult]:
            return run_sweep(specs, cache=cache, progress=False)

    name, _ = _drawer(picture)
    probe = _Pictures(picture, profile, seeds, runs)
    rows = []
    unknown = set(claims or ()) - set(SHAPE_CLAIMS)
    if unknown:
        raise GenprobeError(f"unknown shape claim {sorted(unknown)[0]!r}; choose from {', '.join(SHAPE_CLAIMS)}")
    for claim, (sizes, build) in SHAPE_CLAIMS.items():
        if n not in sizes or (claims is not None and claim not in claims):
            continue
        plan = profile.plan(seeds, plan_seeds) if sequential else [seeds]
        counts = [len(p) for p in plan]
        if max_seeds is not None:
            plan = [p for p in plan if len(p) <= max_seeds] or plan[:1]
        v = decide_over_seeds(lambda g: build(g, n, profile), probe, plan, profile.alpha, counts=counts)
        rows.append(
            {
                "claim": claim,
                "n": n,
                "verdict": v.status,
                "seeds": list(v.seeds),
                "checks": [
                    {"metric": c.metric, "decision": c.decision, "measured": c.measured, "values": c.values}
                    for c in v.checks
                ],
            }
        )
    skipped = [{"claim": c, "reason": why} for c, why in CURVE_CLAIMS.items()]
    return {"picture": name, "n": n, "seeds": list(seeds), "profile": profile.name, "claims": rows, "skipped": skipped}


def judge_gallery(
    profile: Profile | str,
    seeds: Sequence[int],
    runs: Callable[[list[RunSpec]], list[RunResult]],
    sequential: bool = False,
    max_seeds: int | None = None,
    plan_seeds: int | None = None,
) -> list[dict[str, Any]]:
    """Every shape claim's verdict on every picture of :mod:`genprobe.gallery` (see :func:`judge`).

    Returns one row per picture, in gallery order: ``{"picture", "description",
    "truth", "verdicts": {"claim@N": {"verdict": ..., "seeds": k}}}``.
    """
    from . import gallery
    from .shapes import SHAPE_SIZES

    profile = get_profile(profile) if isinstance(profile, str) else profile
    out = []
    for name, pic in gallery.PICTURES.items():
        verdicts: dict[str, dict[str, Any]] = {}
        for n in SHAPE_SIZES:
            judged = judge(
                name, n, seeds, profile, runs=runs, sequential=sequential, max_seeds=max_seeds, plan_seeds=plan_seeds
            )
            for row in judged["claims"]:
                verdicts[f"{row['claim']}@{n}"] = {"verdict": row["verdict"], "seeds": len(row["seeds"])}
        out.append({"picture": name, "description": pic.what, "truth": pic.truth, "verdicts": verdicts})
    return out
