"""Tests for genprobe.runs (RunSpec, RunResult, Cache) and genprobe.sweep
(run_sweep, plan_groups, padding_waste)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import genprobe.sweep as sweep_mod
from genprobe.errors import GenprobeError
from genprobe.runs import Cache, RunResult, RunSpec, default_cache_dir
from genprobe.sweep import MAX_PADDING_WASTE, padding_waste, plan_groups, run_sweep
from genprobe.train import group_key

FAST = settings(max_examples=40, deadline=None)

TINY = dict(truth="ring@64", n=200, epochs=3, depth=3, width=8, eval_res=16, curve_res=16, checkpoints=1)


def tiny(**changes) -> RunSpec:
    return RunSpec(**(TINY | changes))


@pytest.fixture
def cache(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


def counting_train_group(monkeypatch, fail_on_call: int | None = None) -> list[list[RunSpec]]:
    """Wrap genprobe.sweep.train_group; returns the list of groups it was asked to train."""
    real = sweep_mod.train_group
    calls: list[list[RunSpec]] = []

    def wrapper(specs, *args, **kwargs):
        calls.append(list(specs))
        if fail_on_call is not None and len(calls) == fail_on_call:
            raise KeyboardInterrupt
        return real(specs, *args, **kwargs)

    monkeypatch.setattr(sweep_mod, "train_group", wrapper)
    return calls


def forbid_training(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("train_group was called although every result is cached")

    monkeypatch.setattr(sweep_mod, "train_group", boom)


def stray_files(cache: Cache) -> list[str]:
    return sorted(p.name for p in (cache.root / "runs").iterdir() if not p.name.endswith(".npz"))


def assert_results_equal(a: RunResult, b: RunResult) -> None:
    assert a.spec == b.spec
    np.testing.assert_array_equal(a.prediction, b.prediction)
    np.testing.assert_array_equal(a.train_indices, b.train_indices)
    assert a.history.keys() == b.history.keys()
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])
    assert a.final.keys() == b.final.keys()
    for k in a.final:
        assert a.final[k] == b.final[k] or (math.isnan(a.final[k]) and math.isnan(b.final[k])), k
    if a.boundaries is None:
        assert b.boundaries is None
    else:
        np.testing.assert_array_equal(a.boundaries, b.boundaries)
    assert a.diverged_at == b.diverged_at


# --------------------------------------------------------------------------
# RunSpec validation
# --------------------------------------------------------------------------

BAD_FIELDS = [
    ("n", 0),
    ("n", -3),
    ("n", 2.5),
    ("n", True),
    ("seed", -1),
    ("epochs", 0),
    ("depth", 0),
    ("width", -1),
    ("batch", 0),
    ("eval_res", 0),
    ("curve_res", 0),
    ("checkpoints", 0),
    ("k", 0),
    ("fourier_dim", 0),
    ("steps", 0),
    ("steps", 1.5),
    ("lr", 0),
    ("lr", -1),
    ("lr", float("nan")),
    ("lr", float("inf")),
    ("lr", "fast"),
    ("fourier_scale", 0.0),
    ("negative_slope", 1.5),
    ("negative_slope", -0.1),
    ("protocol", "x"),
    ("model", "x"),
    ("labels", "x"),
    ("features", "x"),
    ("truth", ""),
    ("truth", 5),
]


@pytest.mark.parametrize("name,value", BAD_FIELDS, ids=[f"{n}={v!r}" for n, v in BAD_FIELDS])
def test_runspec_rejects_bad_field(name, value):
    with pytest.raises(GenprobeError) as info:
        RunSpec(**{name: value})
    msg = str(info.value)
    assert "\n" not in msg
    shown = repr(value) if isinstance(value, str) else str(value)
    assert shown in msg, msg


def test_runspec_from_dict_unknown_field():
    d = RunSpec().to_dict() | {"bogus_field": 1}
    with pytest.raises(GenprobeError, match="bogus_field"):
        RunSpec.from_dict(d)


def test_runspec_dict_round_trip():
    spec = tiny(steps=7, labels="shuffled", negative_slope=0.0)
    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_runspec_budget_properties():
    s = RunSpec(n=5000, batch=1024, epochs=10)
    assert (s.steps_per_epoch, s.total_epochs, s.total_steps) == (5, 10, 50)
    s = RunSpec(n=312, steps=2000)
    assert (s.steps_per_epoch, s.total_epochs, s.total_steps) == (1, 2000, 2000)
    s = RunSpec(n=2500, steps=7)
    assert (s.steps_per_epoch, s.total_epochs, s.total_steps) == (3, 3, 7)
    assert RunSpec(model="knn").total_steps == 0


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------

CHANGES = {
    "truth": "ring@128",
    "n": 201,
    "seed": 1,
    "model": "knn",
    "protocol": "blog",
    "labels": "shuffled",
    "depth": 4,
    "width": 9,
    "negative_slope": 0.0,
    "features": "fourier",
    "fourier_dim": 64,
    "fourier_scale": 5.0,
    "epochs": 4,
    "steps": 10,
    "lr": 2e-3,
    "batch": 512,
    "k": 3,
    "eval_res": 32,
    "curve_res": 32,
    "checkpoints": 2,
    "wedge": 90.0,
}


def test_changes_cover_every_field():
    # model_kwargs needs a user model (tests/test_usermodel.py checks that it moves the key)
    assert set(CHANGES) | {"model_kwargs"} == {f.name for f in dataclasses.fields(RunSpec)}


def test_key_stable_and_sensitive_to_every_field():
    base = tiny()
    assert base.key == tiny().key == RunSpec.from_dict(base.to_dict()).key
    keys = {base.key}
    for name, value in CHANGES.items():
        changed = base.replace(**{name: value})
        assert changed.key != base.key, name
        keys.add(changed.key)
    assert len(keys) == len(CHANGES) + 1


def test_key_stable_across_processes():
    code = "from genprobe.runs import RunSpec; print(RunSpec(truth='ring@64', n=200).key)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONHASHSEED": "123"},
    )
    assert out.stdout.strip() == RunSpec(truth="ring@64", n=200).key


def test_key_follows_png_content(tmp_path):
    p = tmp_path / "shape.png"
    img = np.full((32, 32), 255, dtype=np.uint8)
    img[8:16, 8:16] = 0
    Image.fromarray(img).save(p)
    k1 = RunSpec(truth=str(p), n=50).key
    assert RunSpec(truth=str(p), n=50).key == k1
    img[20:24, 20:24] = 0  # same size, new pixels
    Image.fromarray(img).save(p)
    k2 = RunSpec(truth=str(p), n=50).key
    assert k2 != k1
    assert RunSpec(truth=str(p), n=50).load_truth().black().sum() == 64 + 16


# --------------------------------------------------------------------------
# RunResult serialisation
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> RunResult:
    from genprobe.train import train_group

    return train_group([tiny()], device="cpu", progress=False)[0]


def test_result_round_trip(trained):
    back = RunResult.from_bytes(trained.to_bytes())
    assert_results_equal(trained, back)
    assert back.meta == json.loads(json.dumps(trained.meta))
    assert back.prediction.dtype == np.float32


def test_result_round_trip_diverged_and_nan(trained):
    r = dataclasses.replace(trained, diverged_at=3, final=trained.final | {"held_out_iou": math.nan})
    back = RunResult.from_bytes(r.to_bytes())
    assert back.diverged_at == 3 and back.diverged
    assert math.isnan(back.final["held_out_iou"])


def test_result_round_trip_baseline():
    from genprobe.baselines import run_baseline

    r = run_baseline(tiny(model="knn"))
    back = RunResult.from_bytes(r.to_bytes())
    assert back.boundaries is None
    assert_results_equal(r, back)


# --------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------


def test_cache_put_get(cache, trained):
    assert cache.get(trained.spec) is None
    path = cache.put(trained)
    assert path == cache.path(trained.spec) and path.exists()
    assert_results_equal(cache.get(trained.spec), trained)
    assert stray_files(cache) == []
    assert cache.get(tiny(seed=99)) is None


def test_cache_default_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    assert Cache().root == tmp_path / "envcache"
    assert (tmp_path / "envcache" / "runs").is_dir()


def test_cache_unusable_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(GenprobeError, match=str(f)):
        Cache(f)


def test_cache_put_crash_leaves_nothing(cache, trained, monkeypatch):
    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr("genprobe.runs.os.replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        cache.put(trained)
    assert not cache.path(trained.spec).exists()
    assert list((cache.root / "runs").iterdir()) == []


def test_cache_put_interrupted_keeps_old_entry(cache, trained, monkeypatch):
    cache.put(trained)
    before = cache.path(trained.spec).read_bytes()

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("genprobe.runs.os.replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cache.put(dataclasses.replace(trained, diverged_at=1))
    assert cache.path(trained.spec).read_bytes() == before
    assert stray_files(cache) == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "other_spec"])
def test_cache_corrupt_entry_detected_removed_and_recomputed(cache, trained, damage, monkeypatch):
    spec = trained.spec
    path = cache.put(trained)
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a valid entry of another run under this key
        other = dataclasses.replace(trained, spec=spec.replace(seed=5))
        path.write_bytes(other.to_bytes())
    with pytest.warns(UserWarning, match="corrupt"):
        assert cache.get(spec) is None
    assert not path.exists()
    assert cache.corrupt_seen == [path.name]
    # run_sweep retrains it and writes a good entry
    path.write_bytes(data[: len(data) // 3])
    calls = counting_train_group(monkeypatch)
    with pytest.warns(UserWarning, match="corrupt"):
        [r] = run_sweep([spec], cache=cache, device="cpu", progress=False)
    assert calls == [[spec]]
    assert_results_equal(r, trained)  # deterministic, so the same numbers
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_results_equal(cache.get(spec), trained)


# --------------------------------------------------------------------------
# run_sweep
# --------------------------------------------------------------------------


def test_sweep_without_cache_order_and_duplicates():
    a, b, c = tiny(seed=0), tiny(seed=1), tiny(model="dot")
    results = run_sweep([b, a, c, b], cache=None, device="cpu", progress=False)
    assert [r.spec for r in results] == [b, a, c, b]
    assert results[0] is results[3]


def test_sweep_second_call_trains_nothing(cache, monkeypatch):
    specs = [tiny(seed=s) for s in (2, 0, 1)] + [tiny(model="knn"), tiny(seed=0)]
    calls = counting_train_group(monkeypatch)
    first = run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert [r.spec for r in first] == specs
    assert len(calls) == 1 and sorted(s.seed for s in calls[0]) == [0, 1, 2]  # one batched group, no duplicate
    forbid_training(monkeypatch)
    monkeypatch.setattr(sweep_mod, "run_baseline", lambda s: pytest.fail("baseline recomputed"))
    second = run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert [r.spec for r in second] == specs
    for x, y in zip(first, second):
        assert_results_equal(x, y)
    assert stray_files(cache) == []


def test_sweep_interrupted_keeps_finished_groups(cache, monkeypatch):
    group_a = [tiny(depth=2, seed=s) for s in (0, 1)]
    group_b = [tiny(depth=3, seed=s) for s in (0, 1)]
    specs = group_a + group_b
    assert group_key(group_a[0]) != group_key(group_b[0])
    calls = counting_train_group(monkeypatch, fail_on_call=2)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert len(calls) == 2
    done, lost = calls[0], calls[1]
    assert sorted(map(repr, done + lost)) == sorted(map(repr, specs))
    for s in done:
        assert cache.path(s).exists()
    for s in lost:
        assert not cache.path(s).exists()
    assert stray_files(cache) == []
    # no lock is left held
    for s in specs:
        lock = cache.lock(s)
        lock.acquire(timeout=0)
        lock.release()
    # the rerun trains only the lost group
    calls = counting_train_group(monkeypatch)
    results = run_sweep(specs, cache=cache, device="cpu", progress=False)
    assert [sorted(s.seed for s in g) for g in calls] == [[0, 1]]
    assert set(calls[0]) == set(lost)
    assert [r.spec for r in results] == specs


def test_sweep_workers_give_the_same_bits_as_one_group_at_a_time(cache):
    """Groups trained at once, one thread each, and cut into parts: the same results (C kernel)."""
    from genprobe.native import build

    if build.load() is None:
        pytest.skip(f"C kernel unavailable: {build.unavailable_reason()}")
    specs = [tiny(seed=s, protocol=p) for s in range(3) for p in ("standard", "blog")] + [tiny(depth=2, seed=5)]
    one = run_sweep(specs, cache=None, device="cpu", progress=False, workers=1)
    two = run_sweep(specs, cache=cache, device="cpu", progress=False, workers=2)
    for x, y in zip(one, two):
        assert x.meta["step"] == y.meta["step"] == "c"
        assert_results_equal(x, y)
    assert all(cache.path(s).exists() for s in specs) and stray_files(cache) == []


def test_split_for_workers_keeps_every_spec_once():
    groups = plan_groups([tiny(seed=s) for s in range(5)] + [tiny(depth=2, seed=s) for s in range(2)])
    parts = sweep_mod.split_for_workers(groups, 2)
    assert sorted(len(p) for p in parts) == [1, 1, 2, 3]
    assert sorted(map(repr, sum(parts, []))) == sorted(map(repr, sum(groups, [])))
    assert all(group_key(p[0]) == group_key(s) for p in parts for s in p)


def test_sweep_workers_interrupted_stop_and_keep_finished_groups(cache, monkeypatch):
    specs = [tiny(depth=d, seed=s) for d in (2, 3, 4) for s in (0, 1)]
    calls = counting_train_group(monkeypatch, fail_on_call=6)  # 6 parts of one net: the last one fails
    with pytest.raises(KeyboardInterrupt):
        run_sweep(specs, cache=cache, device="cpu", progress=False, workers=2)
    assert len(calls) == 6 and stray_files(cache) == []
    for s in specs:  # no lock is left held
        lock = cache.lock(s)
        lock.acquire(timeout=0)
        lock.release()
    kept = {s for s in specs if cache.path(s).exists()}
    assert len(kept) >= 4  # parts that had finished when the last one failed are cached
    calls = counting_train_group(monkeypatch)
    results = run_sweep(specs, cache=cache, device="cpu", progress=False, workers=2)
    assert [r.spec for r in results] == specs
    assert {s for g in calls for s in g} == set(specs) - kept  # only what was lost is retrained


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_sweep_bad_workers_is_one_clear_error(workers):
    with pytest.raises(GenprobeError, match=f"workers must be a whole number >= 1, got {workers!r}"):
        run_sweep([tiny()], device="cpu", workers=workers)


def test_sweep_log_fn(cache):
    said = []
    run_sweep([tiny()], cache=cache, device="cpu", progress=False, log_fn=said.append)
    assert "training" in said[0]
    assert said[1:] == ["sweep: 1 group, 1 run to train", said[-1]] and said[-1].startswith(
        "sweep: 1/1 group, 1/1 run in "
    )


_PARALLEL_SCRIPT = r"""
import hashlib, json, sys, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
import genprobe.sweep as sweep_mod
from genprobe.runs import Cache, RunSpec

cache_dir, me, specs_json = sys.argv[1], sys.argv[2], sys.argv[3]
specs = [RunSpec(**d) for d in json.loads(specs_json)]
trained = []
real = sweep_mod.train_group
def wrapper(batch, *a, **k):
    trained.extend(s.key for s in batch)
    time.sleep(0.3)  # widen the window in which the other process can collide
    return real(batch, *a, **k)
sweep_mod.train_group = wrapper
Path(cache_dir, me + ".ready").touch()
go = Path(cache_dir, "go")
t0 = time.time()
while not go.exists():
    if time.time() - t0 > 60:
        sys.exit("no go signal")
    time.sleep(0.01)
results = sweep_mod.run_sweep(specs, cache=Cache(cache_dir), device="cpu", progress=False)
hashes = [hashlib.sha256(r.prediction.tobytes()).hexdigest() for r in results]
print(json.dumps({"trained": trained, "hashes": hashes, "keys": [r.spec.key for r in results]}))
"""


@pytest.mark.slow  # two fresh interpreters importing torch
def test_parallel_sweeps_train_each_run_once(tmp_path):
    cache_dir = tmp_path / "shared-cache"
    Cache(cache_dir)
    specs = [tiny(seed=s) for s in range(3)] + [tiny(depth=2, seed=s) for s in range(2)]
    payload = json.dumps([s.to_dict() for s in specs])
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PARALLEL_SCRIPT, str(cache_dir), name, payload],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("p1", "p2")
    ]
    try:
        deadline = time.time() + 90
        while not all((cache_dir / f"{n}.ready").exists() for n in ("p1", "p2")):
            assert time.time() < deadline, "workers did not start"
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.02)
        (cache_dir / "go").touch()
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
            outs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    trained = outs[0]["trained"] + outs[1]["trained"]
    assert sorted(trained) == sorted(s.key for s in specs)  # each run exactly once, by one of them
    assert outs[0]["hashes"] == outs[1]["hashes"]
    assert outs[0]["keys"] == outs[1]["keys"] == [s.key for s in specs]
    cache = Cache(cache_dir)
    for s in specs:
        assert cache.get(s) is not None
    assert stray_files(cache) == []


# --------------------------------------------------------------------------
# planning groups
# --------------------------------------------------------------------------

POST_SIZES = (5000, 2500, 1250, 625, 312)


def test_plan_groups_post_sweep():
    specs = [RunSpec(n=n, seed=s) for n in POST_SIZES for s in (0, 1, 2)]
    groups = plan_groups(specs)
    flat = [s for g in groups for s in g]
    assert sorted(map(repr, flat)) == sorted(map(repr, specs))  # a partition
    for g in groups:
        assert len({group_key(s) for s in g}) == 1
        assert padding_waste(g) <= MAX_PADDING_WASTE
    for n in POST_SIZES:  # all seeds of one N train together
        assert sum(any(s.n == n for s in g) for g in groups) == 1
    # 625 and 312 both take one step per epoch, but padding 312 to 625 wastes 25 %
    assert padding_waste([RunSpec(n=625), RunSpec(n=312)]) == pytest.approx(1 - 937 / 1250)
    assert len(groups) == 5


def test_plan_groups_max_group():
    specs = [RunSpec(n=5000, seed=s) for s in range(7)]
    groups = plan_groups(specs, max_group=3)
    assert [len(g) for g in groups] == [3, 3, 1]
    assert len(plan_groups(specs)) == 1


def test_padding_waste_values():
    assert padding_waste([RunSpec(n=300)] * 4) == 0.0
    # batch 100: 300 and 250 both take 3 steps; useful 550 of 2 * 300
    assert padding_waste([RunSpec(n=300, batch=100), RunSpec(n=250, batch=100)]) == pytest.approx(1 - 550 / 600)


@FAST
@given(
    ns=st.lists(st.integers(1, 6000), min_size=1, max_size=40),
    max_group=st.integers(1, 10),
    protocols=st.lists(st.sampled_from(["standard", "blog"]), min_size=40, max_size=40),
)
def test_plan_groups_properties(ns, max_group, protocols):
    specs = [RunSpec(n=n, seed=i, protocol=p) for i, (n, p) in enumerate(zip(ns, protocols))]
    groups = plan_groups(specs, max_group=max_group)
    flat = [s for g in groups for s in g]
    assert sorted(map(repr, flat)) == sorted(map(repr, specs))
    for g in groups:
        assert 1 <= len(g) <= max_group
        assert len({group_key(s) for s in g}) == 1
        assert padding_waste(g) <= MAX_PADDING_WASTE + 1e-12
    # specs of one N (and group key) are not split unless max_group forces it
    same_n = defaultdict(list)
    for s in specs:
        same_n[(group_key(s), s.n)].append(s)
    for members in same_n.values():
        if len(members) <= max_group:
            assert sum(any(m in g for m in members) for g in groups) == 1


_KILL_SWEEP = """
import sys
from genprobe.runs import Cache, RunSpec
from genprobe.sweep import run_sweep
specs = [RunSpec(truth="ring@64", n=200, seed=0, depth=d, width=8, epochs=e, eval_res=32, curve_res=32, checkpoints=2)
         for d, e in ((3, 5), (4, 20000))]
run_sweep(specs, cache=Cache(sys.argv[1]), device="cpu", progress=False)
"""


@pytest.mark.slow
def test_kill_9_mid_sweep_keeps_finished_runs_and_rerun_trains_only_the_rest(tmp_path, monkeypatch):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SWEEP, str(tmp_path)], env=env)
    runs = tmp_path / "runs"
    deadline = time.time() + 120
    while time.time() < deadline and not list(runs.glob("*.npz")):
        time.sleep(0.05)
    time.sleep(0.5)  # the second, long group is training now
    proc.kill()  # SIGKILL: no cleanup code runs
    proc.wait()
    assert len(list(runs.glob("*.npz"))) == 1, "exactly the finished group survives"
    short, long = (
        RunSpec(truth="ring@64", n=200, seed=0, depth=d, width=8, epochs=e, eval_res=32, curve_res=32, checkpoints=2)
        for d, e in ((3, 5), (4, 20000))
    )
    cache = Cache(tmp_path)
    assert cache.get(short) is not None and cache.get(long) is None
    trained: list = []
    real = sweep_mod.train_group
    monkeypatch.setattr(sweep_mod, "train_group", lambda specs, **kw: trained.append(list(specs)) or real(specs, **kw))
    quick_long = long.replace(epochs=5)  # same group shape, short enough to finish here
    run_sweep([short, quick_long], cache=cache, device="cpu", progress=False)
    assert trained == [[quick_long]], "the rerun trains only what is missing"
