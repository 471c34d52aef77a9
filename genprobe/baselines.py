"""Untrained baselines, scored with the same metrics on the same points.

The rules themselves live in the registry :mod:`genprobe.rules` (add yours with
``genprobe.rules.register``); this module runs one as a :class:`RunSpec`.

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
from collections.abc import Mapping

import numpy as np

from . import metrics, rules
from .provenance import provenance
from .rules import predict_dot, predict_knn
from .runs import RunResult, RunSpec
from .sampling import TrainingSet, sample_training_set

__all__ = ["run_baseline", "predict_knn", "predict_dot", "picture", "with_untrained"]


def picture(spec: RunSpec, ts: TrainingSet, res: int) -> np.ndarray:
    """The (res, res) picture of the untrained rule ``spec.model`` drawn from ``ts``."""
    return rules.get(spec.model).draw(ts, res, spec.rule_params)


def run_baseline(spec: RunSpec) -> RunResult:
    """Score the untrained rule of ``spec`` (``knn``, ``dot`` or a registered one; no training)."""
    if spec.trained:
        raise ValueError(f"run_baseline takes an untrained rule ({', '.join(rules.RULES)}), got {spec.model!r}")
    rule = rules.get(spec.model)
    t0 = time.perf_counter()
    truth = spec.load_truth()
    ts = sample_training_set(truth, spec.n, spec.seed, shuffle_labels=spec.labels == "shuffled", wedge=spec.wedge)
    pred_train = rule.at_training(ts, spec.rule_params)

    def score(res: int) -> tuple[np.ndarray, dict[str, float]]:
        pred = rule.draw(ts, res, spec.rule_params)
        return pred, metrics.evaluate(
            pred,
            truth.at_resolution(res),
            ts.mask_at(res),
            pred_train=pred_train,
            train_targets=ts.targets,
            wedge=spec.wedge,
        )

    if rule.exact_grid:
        _, curve = score(truth.shape[0])  # e.g. the dots exactly at their pixels: the same numbers at every grid
        final = dict(curve)
        pred = rule.draw(ts, spec.eval_res, spec.rule_params)  # the picture, for the report
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


class _WithUntrained(dict):
    """Run results by spec; an untrained rule's spec that is missing is scored on first use and kept."""

    def __missing__(self, spec: RunSpec) -> RunResult:
        if spec.trained:
            raise KeyError(spec)
        result = self[spec] = run_baseline(spec)
        return result


def with_untrained(found: Mapping[RunSpec, RunResult]) -> dict[RunSpec, RunResult]:
    """``found`` as a dict that scores any untrained rule's run it lacks when first asked for it.

    An untrained rule is a pure function of its spec (no training), so a set of exported runs (the
    committed evidence) can be replayed on rules or parameters it was not exported with, e.g. a new
    control's rule (:class:`genprobe.probe.RunsFrom` over it). A trained run it lacks is still a ``KeyError``.
    """
    return _WithUntrained(found)
