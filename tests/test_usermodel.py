"""Bring your own model (issue 12): RunSpec(model="pkg.module:factory") trained as B stacked copies.

The model modules are written to tmp_path, outside the repository, under a
fresh module name per test (sys.modules caches a name for the whole session).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from genprobe import sweep
from genprobe.cli import main
from genprobe.errors import GenprobeError
from genprobe.runs import Cache, RunResult, RunSpec
from genprobe.sweep import batch_work, plan_groups, run_sweep
from genprobe.train import group_key, train_group
from genprobe.usermodel import BatchedUserModel, load_factory
from genprobe.usermodel import check as check_model

TINY = dict(truth="ring@64", n=64, epochs=4, batch=32, eval_res=32, curve_res=32, checkpoints=2)

MODELS = '''
import time

import torch
from torch import nn

OFFSET = 0.0


def mlp(width=8, depth=2):
    layers = [nn.Linear(2, width), nn.Tanh()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(width, 1))


class Offset(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        return self.net(x).squeeze(-1) + OFFSET  # (points,) is allowed too


def slow(width=8):
    first = nn.Linear(2, width)
    time.sleep(0.005)  # lets another thread run between this copy's random draws
    return nn.Sequential(first, nn.Tanh(), nn.Linear(width, 1))


def batchnorm(width=8):
    return nn.Sequential(nn.Linear(2, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 1))


class Branchy(nn.Module):
    """Python control flow on a tensor's value: vmap cannot run it."""

    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        y = self.net(x)
        if float(y.detach().abs().max()) > 1e6:
            return y * 0.0
        return y


def wide():
    return nn.Linear(2, 3)  # (points, 3): not a grey value per point


def integer():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 1)

        def forward(self, x):
            return (self.l(x) > 0).long()

    return M()


def broken():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(3, 1)  # expects 3 inputs

        def forward(self, x):
            return self.l(x)

    return M()


def frozen():
    m = nn.Linear(2, 1)
    m.requires_grad_(False)
    return m


def not_a_module():
    return 42


def raises(**kw):
    raise RuntimeError("no such option\\nsecond line")


class EvalBranchy(nn.Module):
    """vmap runs its training forward, not its eval forward (which checkpoints use)."""

    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        y = self.net(x)
        if not self.training and float(y.detach().abs().max()) > 1e9:
            return y * 0.0
        return y


NUMBER = 3
'''

_names = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "default-cache"))


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    """A fresh module of MODELS in tmp_path, importable (sys.path restored and the module forgotten after)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    name = f"gp_user_models_{os.getpid()}_{next(_names)}"
    path = tmp_path / "models" / f"{name}.py"
    path.parent.mkdir()
    path.write_text(MODELS)
    sys.path.insert(0, str(path.parent))
    yield name, path
    sys.modules.pop(name, None)


def spec(module: str, factory: str = "mlp", **changes) -> RunSpec:
    return RunSpec(**(TINY | {"model": f"{module}:{factory}"} | changes))


def train(specs, **kw) -> list[RunResult]:
    return train_group(list(specs), device="cpu", progress=False, **kw)


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    return msg


def assert_close_runs(a: RunResult, b: RunResult) -> None:
    assert a.spec == b.spec
    np.testing.assert_array_equal(a.train_indices, b.train_indices)
    np.testing.assert_allclose(a.prediction, b.prediction, atol=1e-5, rtol=1e-5)
    np.testing.assert_array_equal(a.history["step"], b.history["step"])
    np.testing.assert_allclose(a.history["train_mse"], b.history["train_mse"], rtol=1e-5, atol=1e-6)
    assert a.final["train_mse"] == pytest.approx(b.final["train_mse"], rel=1e-5, abs=1e-6)


# --------------------------------------------------------------------------
# the spec
# --------------------------------------------------------------------------

# Keys computed before model_kwargs existed: committed evidence replays bitwise.
KEYS_BEFORE = [
    (RunSpec(), "56adf22fdb65b487d3b8"),
    (RunSpec(n=312, seed=3, protocol="blog"), "ce9d90b169f312177224"),
    (RunSpec(model="knn", k=3, n=625), "18f4ca0ff9c5f0badbc8"),
    (RunSpec(model="dot", n=1250), "d4617469deef61005b63"),
    (RunSpec(features="fourier", labels="shuffled", steps=1000), "ea151a92c9fe35c7da4f"),
    (RunSpec(wedge=90.0, n=64, epochs=5, eval_res=32, curve_res=32, checkpoints=2), "b5341d38de53d0398da4"),
]


@pytest.mark.parametrize("s, key", KEYS_BEFORE, ids=[k for _, k in KEYS_BEFORE])
def test_existing_keys_unchanged(s, key):
    assert s.key == key
    assert RunSpec.from_dict(json.loads(json.dumps(s.to_dict()))).key == key


def test_model_kwargs_normalised_hashable_and_round_trip(model_file):
    name, _ = model_file
    s = spec(name, model_kwargs={"width": 6, "depth": 1})
    assert s.model_kwargs == (("depth", 1), ("width", 6))
    assert s == spec(name, model_kwargs=[("width", 6), ("depth", 1)])
    assert len({s, spec(name, model_kwargs={"depth": 1, "width": 6})}) == 1  # hashable
    back = RunSpec.from_dict(json.loads(json.dumps(s.to_dict())))  # what the cache header holds: lists
    assert back == s and back.key == s.key
    assert s.trained and s.user_model and s.total_steps == 4 * 2
    assert s.label() == f"{name}:mlp(depth=1,width=6)/standard N=64 seed=0"
    assert spec(name, labels="shuffled").what() == f"{name}:mlp-shuffled/standard"
    assert len({s.key, spec(name).key, spec(name, model_kwargs={"width": 7, "depth": 1}).key}) == 3
    assert spec(name).key == spec(name, model_kwargs={}).key
    # groups: same path and kwargs only
    assert group_key(s) == group_key(s.replace(seed=4, n=50))
    assert len({group_key(spec(name)), group_key(s), group_key(spec(name, "Offset")), group_key(RunSpec(**TINY))}) == 4
    plan = plan_groups([s, s.replace(seed=1), spec(name), spec(name, seed=1)])
    assert sorted(len(g) for g in plan) == [2, 2]
    assert batch_work([s]) > 0


@pytest.mark.parametrize(
    "changes, says",
    [
        ({"model": "nodots"}, "unknown model 'nodots'"),
        ({"model": "mod:"}, "'mod:'"),
        ({"model": "1mod:make"}, "'1mod:make'"),
        ({"model": "a:b:c"}, "'a:b:c'"),
        ({"model": "pkg.mod:make", "model_kwargs": {"w": [1, 2]}}, "w=[1, 2]"),
        ({"model": "pkg.mod:make", "model_kwargs": {"w": {"a": 1}}}, "w={'a': 1}"),
        ({"model": "pkg.mod:make", "model_kwargs": {"w": float("nan")}}, "w=nan"),
        ({"model": "pkg.mod:make", "model_kwargs": {"not a name": 1}}, "'not a name'"),
        ({"model": "pkg.mod:make", "model_kwargs": 5}, "model_kwargs must be a dict"),
        ({"model_kwargs": {"width": 3}}, "not model 'mlp'"),
    ],
)
def test_bad_spec_is_one_line(changes, says):
    with pytest.raises(GenprobeError) as exc:
        RunSpec(**(TINY | changes))
    assert says in one_line(exc)


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory, says",
    [
        ("nope", "has no attribute 'nope'"),
        ("NUMBER", "is a int, not a callable"),
        ("not_a_module", "returned a int, not a torch.nn.Module"),
        ("raises", "failed when called: RuntimeError: no such option"),
        ("wide", "returned shape (8, 3) for (8, 2) points"),
        ("integer", "returned dtype torch.int64"),
        ("broken", "failed on (8, 2) points: RuntimeError"),
        ("frozen", "has no trainable parameters"),
    ],
)
def test_bad_model_is_one_line_before_training(model_file, factory, says, monkeypatch):
    name, _ = model_file
    s = spec(name, factory)
    monkeypatch.setattr("genprobe.train.ExactAdam", None)  # training would fail on this, not with a GenprobeError
    with pytest.raises(GenprobeError) as exc:
        _ = s.key  # importing and resolving the factory happen here already
        train([s])
    msg = one_line(exc)
    assert says in msg and f"{name}:{factory}" in msg


def test_missing_module_is_one_line(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the retry from the working directory adds to it
    s = RunSpec(**(TINY | {"model": "gp_no_such_module_xyz:make"}))
    with pytest.raises(GenprobeError) as exc:
        _ = s.key
    assert "cannot import module 'gp_no_such_module_xyz'" in one_line(exc)


def test_module_that_fails_on_import_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    (tmp_path / "gp_bad_import_mod.py").write_text("import gp_dependency_that_is_missing\n")
    with pytest.raises(GenprobeError) as exc:
        load_factory("gp_bad_import_mod:make")
    assert "No module named 'gp_dependency_that_is_missing'" in one_line(exc)
    sys.modules.pop("gp_bad_import_mod", None)


def test_imports_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd(), str(tmp_path))])
    name = f"gp_cwd_models_{os.getpid()}"
    (tmp_path / f"{name}.py").write_text(MODELS)
    monkeypatch.chdir(tmp_path)
    try:
        assert callable(load_factory(f"{name}:mlp"))
    finally:
        sys.modules.pop(name, None)


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------


def test_trains_batched_and_each_copy_as_alone(model_file):
    name, _ = model_file
    specs = [spec(name, seed=s, model_kwargs={"width": 6}) for s in (0, 1, 2)]
    specs[2] = specs[2].replace(n=50, protocol="blog", labels="shuffled")  # padded, mixed protocols
    together = train(specs)
    for b in (1, 2):
        assert_close_runs(together[b], train([specs[b]])[0])
    r = together[0]
    assert r.meta["batching"] == "vmap" and r.meta["step"] == "autograd"
    assert r.boundaries is None and "linear_regions" not in r.final
    assert r.prediction.shape == (32, 32) and np.isfinite(r.prediction).all()
    assert list(r.history["epoch"]) == [0, 2, 4] and "held_out_iou" in r.final
    # the copies differ (each its own seed), and training moved them
    assert not np.allclose(together[0].prediction, together[1].prediction)
    assert r.history["train_mse"][-1] != r.history["train_mse"][0]
    back = RunResult.from_bytes(r.to_bytes())
    assert back.spec == r.spec and back.boundaries is None


def test_init_depends_on_own_seed_only(model_file):
    from genprobe.model import init_generator
    from genprobe.usermodel import seed_of

    assert all(seed_of(s) == init_generator(s, 0).initial_seed() for s in (0, 1, 12345))
    name, _ = model_file
    a = BatchedUserModel(f"{name}:mlp", {}, [5, 7, 9])
    b = BatchedUserModel(f"{name}:mlp", {}, [7])
    torch.manual_seed(0)
    c = BatchedUserModel(f"{name}:mlp", {}, [7])
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert pa.shape[0] == 3 and pb.shape[0] == 1
        torch.testing.assert_close(pa[1], pb[0], rtol=0, atol=0)
        torch.testing.assert_close(pc[0], pb[0], rtol=0, atol=0)


def test_init_is_the_same_when_groups_are_built_on_threads(model_file):
    """run_sweep(workers > 1) builds groups on threads: each copy's init still comes from its own seed."""
    from concurrent.futures import ThreadPoolExecutor

    name, _ = model_file
    seeds = [[s, s + 10] for s in range(6)]
    alone = [[p.detach().clone() for p in BatchedUserModel(f"{name}:slow", {}, ss).parameters()] for ss in seeds]
    with ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda ss: BatchedUserModel(f"{name}:slow", {}, ss), seeds))
    for want, got in zip(alone, built):
        for a, b in zip(want, got.parameters()):
            torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)


def test_batchnorm_runs_under_vmap_like_the_loop(model_file):
    """BatchNorm in training mode: stacked running statistics, the same numbers as one net at a time."""
    name, _ = model_file
    x = torch.rand(3, 40, 2, generator=torch.Generator().manual_seed(1))
    v = BatchedUserModel(f"{name}:batchnorm", {}, [0, 1, 2])
    loop = BatchedUserModel(f"{name}:batchnorm", {}, [0, 1, 2], vmap=False)
    assert v.batching == "vmap" and loop.batching == "loop"
    torch.testing.assert_close(v(x), loop(x))
    for a, b in zip(v.buffers(), loop.buffers()):
        torch.testing.assert_close(a, b)
    assert float(next(iter(v.buffers())).abs().sum()) > 0  # running means moved, per net
    v.eval()
    loop.eval()
    torch.testing.assert_close(v(x), loop(x))
    rs = train([spec(name, "batchnorm", seed=s) for s in (0, 1)])
    assert all(r.meta["batching"] == "vmap" and np.isfinite(r.prediction).all() for r in rs)


def test_vmap_fallback_warns_and_trains(model_file):
    name, _ = model_file
    specs = [spec(name, "Branchy", seed=s) for s in (0, 1)]
    with pytest.warns(UserWarning, match="cannot run under torch.func.vmap .*in a loop"):
        together = train(specs)
    assert together[0].meta["batching"] == "loop"
    with pytest.warns(UserWarning, match="vmap"):
        alone = train(specs[1:])
    assert_close_runs(together[1], alone[0])


def test_an_eval_forward_vmap_cannot_run_falls_back_before_training(model_file):
    name, _ = model_file
    with pytest.warns(UserWarning, match="cannot run under torch.func.vmap"):
        (r,) = train([spec(name, "EvalBranchy")])
    assert r.meta["batching"] == "loop"


def test_sweep_caches_and_retrains_after_an_edit(model_file, tmp_path, monkeypatch):
    name, path = model_file
    cache = Cache(tmp_path / "cache")
    specs = [spec(name, "Offset", seed=s) for s in (0, 1)]
    calls = []
    real = sweep.train_group
    monkeypatch.setattr(sweep, "train_group", lambda batch, **kw: calls.append(len(batch)) or real(batch, **kw))
    first = run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert calls == [2] and all(cache.path(s).exists() for s in specs)
    again = run_sweep([spec(name, "Offset", seed=s) for s in (0, 1)], cache=cache, device="cpu", progress=False)
    assert calls == [2]  # unchanged file: from the cache
    np.testing.assert_array_equal(again[1].prediction, first[1].prediction)
    path.write_text(MODELS.replace("OFFSET = 0.0", "OFFSET = 100.0"))  # same module, new code
    edited = [spec(name, "Offset", seed=s) for s in (0, 1)]
    assert edited[0].key != specs[0].key
    after = run_sweep(edited, cache=cache, device="cpu", progress=False)
    assert calls == [2, 2]
    assert after[0].prediction.mean() > 50 > first[0].prediction.mean()  # the edited code trained


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

CLI_TINY = ["--truth", "ring@64", "--n", "64", "--epochs", "3", "--batch", "32"]
CLI_TINY += ["--eval-res", "32", "--curve-res", "32", "--checkpoints", "2", "--quiet"]


def test_cli_trains_a_user_model_from_its_folder(tmp_path):
    """The console script, run in the model's folder (not on sys.path otherwise)."""
    exe = shutil.which("genprobe") or str(Path(sys.executable).parent / "genprobe")
    if not Path(exe).exists():
        pytest.skip("the genprobe console script is not installed")
    name = f"gp_cli_models_{os.getpid()}"
    (tmp_path / f"{name}.py").write_text(MODELS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        argv = [exe, "train", *CLI_TINY, "--cache", str(tmp_path / "c"), *args]
        return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)

    p = cli(
        "--model",
        f"{name}:mlp",
        "--model-arg",
        "width=6",
        "--model-arg",
        "depth=1",
        "--seeds",
        "0,1",
        "--json",
        "o.json",
    )
    assert p.returncode == 0, p.stderr
    assert f"{name}:mlp(depth=1,width=6)/standard N=64" in p.stdout and "held_out_iou" in p.stdout
    runs = json.loads((tmp_path / "o.json").read_text())["runs"]
    assert [r["spec"]["model_kwargs"] for r in runs] == [[["depth", 1], ["width", 6]]] * 2
    assert "linear_regions" not in runs[0]["final"]
    p = cli("--model", f"{name}:wide")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "returned shape (8, 3)" in lines[0], p.stderr


@pytest.mark.parametrize(
    "args, says",
    [
        (["--model", "nodots"], "unknown model 'nodots'"),
        (["--model", "gp_no_such_module_xyz:make"], "cannot import module 'gp_no_such_module_xyz'"),
        (["--model", "{mod}:nope"], "has no attribute 'nope'"),
        (["--model", "{mod}:not_a_module"], "not a torch.nn.Module"),
        (["--model", "{mod}:mlp", "--model-arg", "width"], "--model-arg 'width' must be KEY=VALUE"),
        (["--model", "{mod}:mlp", "--model-arg", "=3"], "must be KEY=VALUE"),
        (["--model", "{mod}:mlp", "--model-arg", "width=[1,2]"], "width=[1, 2]"),
        (["--model", "{mod}:mlp", "--model-arg", "size=big"], "failed when called with {'size': 'big'}"),
        (["--model-arg", "width=3"], "not model 'mlp'"),
    ],
)
def test_cli_bad_model_is_one_line(model_file, tmp_path, args, says, capsys):
    name, _ = model_file
    argv = ["train", *CLI_TINY, "--cache", str(tmp_path / "c"), *(a.replace("{mod}", name) for a in args)]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and says in err, err
    assert "held_out_iou" not in out  # nothing trained


def test_cli_model_arg_values(model_file, tmp_path, capsys):
    from genprobe.cli import _parse_model_args

    assert _parse_model_args(["a=3", "b=0.5", "c=true", "d=null", "e=relu", 'f="7"', "g=x=y"]) == {
        "a": 3,
        "b": 0.5,
        "c": True,
        "d": None,
        "e": "relu",
        "f": "7",
        "g": "x=y",
    }
    name, _ = model_file
    argv = ["train", *CLI_TINY, "--cache", str(tmp_path / "c"), "--model", f"{name}:mlp", "--model-arg", "width=5"]
    assert main([*argv, "--png", str(tmp_path / "p.png")]) == 0  # panels without region boundaries
    assert f"{name}:mlp(width=5)/standard N=64" in capsys.readouterr().out
    assert (tmp_path / "p.png").stat().st_size > 0


def test_check_accepts_a_good_model(model_file):
    name, _ = model_file
    check_model(f"{name}:Offset", {})


# --------------------------------------------------------------------------
# what trains is what the key hashed (review findings)
# --------------------------------------------------------------------------


def test_kwargs_of_equal_value_but_another_type_are_other_runs(model_file):
    name, _ = model_file
    one, true, real = (spec(name, model_kwargs={"width": v}) for v in (1, True, 1.0))
    assert len({one, true, real}) == 3 and len({one.key, true.key, real.key}) == 3
    assert one == spec(name, model_kwargs={"width": 1})
    assert len({group_key(s) for s in (one, true.replace(seed=1))}) == 2  # never batched together


def _first_layer_width(path: str) -> int:
    return load_factory(path)().weight.shape[0]


def test_an_edited_module_that_re_exports_its_factory_builds_the_new_code(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    pkg = tmp_path / f"gp_reexport_{os.getpid()}"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import make\n")
    (pkg / "b.py").write_text("import torch\nWIDTH = 4\n\ndef make():\n    return torch.nn.Linear(2, WIDTH)\n")
    path = f"{pkg.name}.a:make"
    try:
        before = RunSpec(model=path).key
        assert _first_layer_width(path) == 4
        (pkg / "b.py").write_text("import torch\nWIDTH = 16\n\ndef make():\n    return torch.nn.Linear(2, WIDTH)\n")
        after = RunSpec(model=path).key
        assert after != before and _first_layer_width(path) == 16
    finally:
        for m in [m for m in sys.modules if m.startswith(pkg.name)]:
            sys.modules.pop(m)


def test_a_module_imported_and_edited_before_genprobe_saw_it_runs_its_file(tmp_path, monkeypatch):
    import importlib

    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    name = f"gp_preimported_{os.getpid()}"
    f = tmp_path / f"{name}.py"
    f.write_text("import torch\n\ndef make():\n    return torch.nn.Linear(2, 4)\n")
    try:
        importlib.import_module(name)  # the user's own code imported it first
        f.write_text("import torch\n\ndef make():\n    return torch.nn.Linear(2, 16)\n")
        assert _first_layer_width(f"{name}:make") == 16
    finally:
        sys.modules.pop(name, None)
