"""Adding an untrained rule through the registry (genprobe.rules.register): one place, and an unknown
name is an error, never another rule's picture."""

from __future__ import annotations

import numpy as np
import pytest

from genprobe import rules
from genprobe.baselines import picture, run_baseline
from genprobe.errors import GenprobeError
from genprobe.profiles import get_profile
from genprobe.runs import Cache, RunSpec
from genprobe.sampling import sample_training_set
from genprobe.sweep import run_sweep

TINY = dict(truth="ring@64", n=400, eval_res=32, curve_res=16)


def circle(ts, points, width=0.04):
    """The least-squares circle through the black training points (Kasa's fit), drawn ``width`` wide:
    a rule that knows the answer is a circle."""
    black = ts.coords[ts.targets < 0.5].astype(np.float64)
    a = np.c_[2 * black, np.ones(len(black))]
    (cx, cy, c), *_ = np.linalg.lstsq(a, (black**2).sum(axis=1), rcond=None)
    r = np.sqrt(c + cx**2 + cy**2)
    d = np.hypot(points[:, 0] - cx, points[:, 1] - cy)
    return np.where(np.abs(d - r) <= width / 2, 0.0, 1.0)


@pytest.fixture
def registered():
    rules.register("circle", circle, title="the fitted circle")
    try:
        yield
    finally:
        rules.unregister("circle")
    assert "circle" not in rules.RULES


def test_a_registered_rule_is_a_run_like_the_built_in_ones(registered, tmp_path):
    spec = RunSpec(**TINY, model="circle")
    assert not spec.trained and spec.what() == "circle"
    [r] = run_sweep([spec], cache=Cache(tmp_path), device="cpu", progress=False)
    assert r.prediction.shape == (32, 32) and r.history["epoch"].tolist() == [0]
    # it knows the answer is a circle: it beats the dot memoriser and the 1-NN rule at 400 points
    knn, dot = (run_baseline(spec.replace(model=m)) for m in ("knn", "dot"))
    assert r.final["held_out_iou"] > knn.final["held_out_iou"] > dot.final["held_out_iou"]
    # its parameters are the run's model_kwargs, named in its label and in its cache key
    wide = spec.replace(model_kwargs={"width": 0.2})
    assert wide.what() == "circle(width=0.2)" and wide.key != spec.key
    ts = sample_training_set(spec.load_truth(), spec.n, spec.seed)
    assert (picture(wide, ts, 32) < 0.5).sum() > (picture(spec, ts, 32) < 0.5).sum()
    # the fixture's view of a profile reads it like knn: the same points as the net
    assert get_profile("smoke").baseline("circle", 312, 0, width=0.1).model_kwargs == (("width", 0.1),)


def test_editing_a_rule_recomputes_its_runs_and_only_its_runs(registered):
    spec, knn = RunSpec(**TINY, model="circle"), RunSpec(**TINY, model="knn")
    before, knn_before = spec.key, knn.key

    def circle(ts, points, width=0.04):  # another body under the same name
        return np.ones(len(points))

    rules.register("circle", circle)
    assert RunSpec(**TINY, model="circle").key != before
    assert RunSpec(**TINY, model="knn").key == knn_before


def test_the_built_in_rules_keep_their_keys():
    """The registry moved the rules, not their runs: the committed evidence and every cache keep them."""
    assert RunSpec(model="knn", n=312, seed=3).key == "a6f76fbb0bda96713d8f"
    assert RunSpec(model="dot", n=312, seed=3).key == "371fb403c3c2f4830549"


def test_an_unknown_or_bad_rule_is_a_one_line_error(registered):
    with pytest.raises(GenprobeError, match=r"unknown model 'median'; choose from mlp, knn, dot, blur, disks, circle"):
        RunSpec(model="median")
    with pytest.raises(GenprobeError, match="no untrained rule 'median'"):
        rules.get("median")
    with pytest.raises(GenprobeError, match="'knn' is a built-in rule"):
        rules.register("knn", circle)
    with pytest.raises(GenprobeError, match="'dot' is a built-in rule and cannot be removed"):
        rules.unregister("dot")
    with pytest.raises(GenprobeError, match="names a trained model"):
        rules.register("fourier", circle)
    with pytest.raises(GenprobeError, match="model_kwargs are for a user model"):
        RunSpec(model="knn", model_kwargs={"k": 3})
    rules.register("short", lambda ts, points: np.ones(3))
    try:
        with pytest.raises(
            GenprobeError,
            match="rule 'short' returned 3 values for its prediction at the training points, expected 400",
        ):
            run_baseline(RunSpec(**TINY, model="short"))
    finally:
        rules.unregister("short")


def test_the_cli_scores_a_registered_rule_and_names_an_unknown_one(registered, tmp_path, capsys):
    from genprobe.cli import main

    args = ["--truth", "ring@64", "--n", "400", "--eval-res", "32", "--curve-res", "16", "--no-cache"]
    assert main(["baseline", "circle", *args, "--model-arg", "width=0.1"]) == 0
    assert "held_out_iou" in capsys.readouterr().out
    assert main(["baseline", "median", *args]) != 0
    err = capsys.readouterr().err
    assert "no untrained rule 'median'" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_docs_registry_example_runs():
    """The how-to's example of both registries (a metric and a baseline in a conftest.py;
    docs/how-to/add-a-metric-or-baseline.md) as written: it registers both, and the rule it adds is scored
    with the metric it adds."""
    from pathlib import Path

    from genprobe import metrics

    page = Path(__file__).resolve().parents[1] / "docs" / "how-to" / "add-a-metric-or-baseline.md"
    text = page.read_text()
    start = text.index("```python\n", text.index("Both registries in a `conftest.py`")) + len("```python\n")
    code = text[start : text.index("```", start)]
    namespace: dict = {}
    exec(compile(code, str(page), "exec"), namespace)
    try:
        assert (
            "ink" in metrics.METRICS
            and "circle" in rules.RULES
            and callable(namespace["test_the_net_is_as_good_as_a_circle_fit"])
        )
        r = run_baseline(RunSpec(**TINY, model="circle"))
        assert 0.0 < r.final["ink"] < 0.5 and r.final["held_out_iou"] > 0.5
    finally:
        metrics.unregister("ink")
        rules.unregister("circle")
