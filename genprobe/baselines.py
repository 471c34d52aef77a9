"""Untrained baselines, scored with the same metrics on the same points.

- ``knn``: the k-nearest-neighbour rule, a *local interpolator*. On this
  geometry its Voronoi cells around ring points tile the ring, so it is a
  strong baseline, not a memoriser.
- ``dot``: the dot memoriser, black only at each black training point: the
  extreme of "fitting individual points". Its metrics are computed on the
  true image's own grid, where each dot is exactly its training pixel, so
  they are the same whatever the evaluation grid (on a coarser grid a dot
  would fill a whole grid pixel and score a held-out IoU that depends on the
  grid: 0.18 at 128^2, 0.05 at 256^2, 0 at 1024^2 for N = 5000). Its
  held-out IoU is 0: every black pixel it draws is a training pixel.

The trained controls (shuffled labels, random Fourier features) are ordinary
``mlp`` specs; see :func:`genprobe.runs.RunSpec`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from . import metrics
from .provenance import provenance
from .runs import RunResult, RunSpec
from .sampling import TrainingSet, grid_coords, sample_training_set

__all__ = ["run_baseline", "predict_knn", "predict_dot"]


def predict_knn(ts: TrainingSet, points: np.ndarray, k: int = 1) -> np.ndarray:
    """Mean grey of the k nearest training points, for each (M, 2) point."""
    k = min(k, len(ts))
    _, nn = cKDTree(ts.coords).query(points, k=k)
    nn = nn.reshape(len(points), k)
    return ts.targets[nn].mean(axis=1)


def predict_dot(ts: TrainingSet, res: int) -> np.ndarray:
    """(res, res) white image, black at the grid pixel of each black training point."""
    h, w = ts.truth.shape
    img = np.ones((res, res), dtype=np.float32)
    black = ts.targets < 0.5
    img[(ts.rows[black] * res) // h, (ts.cols[black] * res) // w] = 0.0
    return img


#: each untrained rule by model name: its picture on a res x res grid from the training set (k: 1-NN's k)
PICTURES: dict[str, Callable[[TrainingSet, int, int], np.ndarray]] = {
    "knn": lambda ts, res, k: predict_knn(ts, grid_coords(res), k).reshape(res, res),
    "dot": lambda ts, res, k: predict_dot(ts, res),
}


def _predict(spec: RunSpec, ts: TrainingSet, res: int) -> np.ndarray:
    try:
        picture = PICTURES[spec.model]
    except KeyError:  # never another rule's picture under this name
        raise ValueError(f"no untrained rule {spec.model!r}; have {', '.join(PICTURES)}") from None
    return picture(ts, res, spec.k)


def run_baseline(spec: RunSpec) -> RunResult:
    """Score the ``knn`` or ``dot`` baseline of ``spec`` (no training)."""
    if spec.trained:
        raise ValueError(f"run_baseline takes model='knn' or 'dot', got {spec.model!r}")
    t0 = time.perf_counter()
    truth = spec.load_truth()
    ts = sample_training_set(truth, spec.n, spec.seed, shuffle_labels=spec.labels == "shuffled", wedge=spec.wedge)
    if spec.model == "knn":
        pred_train = predict_knn(ts, ts.coords, spec.k)
    else:
        pred_train = np.where(ts.targets < 0.5, 0.0, 1.0).astype(np.float32)

    def score(res: int) -> tuple[np.ndarray, dict[str, float]]:
        pred = _predict(spec, ts, res)
        return pred, metrics.evaluate(
            pred,
            truth.at_resolution(res),
            ts.mask_at(res),
            pred_train=pred_train,
            train_targets=ts.targets,
            wedge=spec.wedge,
        )

    if spec.model == "dot":
        exact = truth.shape[0]
        _, curve = score(exact)  # the dots exactly at their pixels: the same numbers at every grid
        final = dict(curve)
        pred = _predict(spec, ts, spec.eval_res)  # the picture, for the report
    else:
        _, curve = score(spec.curve_res)
        pred, final = score(spec.eval_res)
    history = {"epoch": np.array([0]), "step": np.array([0])} | {
        k: np.array([v], dtype=np.float64) for k, v in curve.items()
    }
    return RunResult(
        spec=spec,
        history=history,
        final=final,
        prediction=pred.astype(np.float32),
        boundaries=None,
        train_indices=ts.indices,
        meta=provenance("cpu") | {"seconds": time.perf_counter() - t0, "group_size": 1},
    )
