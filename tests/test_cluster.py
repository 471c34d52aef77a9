"""Sweeps on a Dask distributed cluster (genprobe.cluster): same results, same cache.

A ``LocalCluster`` of 2 worker processes stands in for machines: the groups
go as tasks, the client writes the cache, a run trained on a worker is the
run trained here to the bit (C kernel), a killed worker's group is run again
and written once, and a failing group is reported after the others are kept.
Skipped where the ``dask`` extra is not installed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import numpy as np
import pytest

from genprobe.errors import GenprobeError
from genprobe.native import build
from genprobe.runs import Cache, RunSpec
from genprobe.sweep import run_sweep

distributed = pytest.importorskip("distributed")

pytest_plugins = ["pytester"]

TINY = dict(truth="ring@64", n=200, epochs=4, depth=3, width=8, eval_res=16, curve_res=16, checkpoints=2)


def tiny(**changes) -> RunSpec:
    return RunSpec(**(TINY | changes))


@pytest.fixture(scope="module")
def client():
    if build.load() is None:
        pytest.skip(f"C kernel unavailable: {build.unavailable_reason()}")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def assert_same(a, b) -> None:
    assert a.spec == b.spec
    np.testing.assert_array_equal(a.prediction, b.prediction)
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    for k in set(a.final) - {"linear_regions"}:
        assert a.final[k] == b.final[k] or (np.isnan(a.final[k]) and np.isnan(b.final[k])), k


def counting_puts(cache: Cache) -> Counter:
    puts: Counter = Counter()
    real = cache.put

    def put(r):
        puts[r.spec] += 1
        return real(r)

    cache.put = put  # type: ignore[method-assign]
    return puts


def test_cluster_runs_are_the_local_runs_and_the_client_keeps_the_cache(client, tmp_path, monkeypatch):
    specs = [tiny(seed=s, protocol=p) for s in range(3) for p in ("standard", "blog")] + [tiny(model="knn")]
    local = run_sweep(specs, cache=None, device="cpu", progress=False)
    cache = Cache(tmp_path / "cache")
    puts = counting_puts(cache)
    remote = run_sweep(specs, cache=cache, device="cpu", progress=False, scheduler=client)
    for a, b in zip(local, remote):
        assert_same(a, b)
    assert all(n == 1 for n in puts.values()) and set(puts) == set(specs)
    assert all(r.meta["step"] == "c" for r in remote if r.spec.trained)
    # cached runs are not submitted again
    import genprobe.cluster as cluster_mod

    sent = []
    real = cluster_mod.train_on_cluster
    monkeypatch.setattr(
        cluster_mod, "train_on_cluster", lambda groups, *a, **k: (sent.append(groups), real(groups, *a, **k))
    )
    again = run_sweep(specs, cache=cache, device="cpu", progress=False, scheduler=client)
    assert sent in ([], [[]]) and [r.spec for r in again] == specs


def test_a_killed_worker_s_group_runs_again_and_is_written_once(client, tmp_path):
    specs = [tiny(depth=d, seed=s, epochs=150) for d in (3, 4, 5, 6) for s in (0, 1)]
    local = run_sweep(specs, cache=None, device="cpu", progress=False)
    cache = Cache(tmp_path / "cache")
    puts = counting_puts(cache)
    out: dict = {}
    t = threading.Thread(
        target=lambda: out.setdefault(
            "r", run_sweep(specs, cache=cache, device="cpu", progress=False, scheduler=client)
        )
    )
    t.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline:
        busy = {w: keys for w, keys in client.processing().items() if any(str(k).startswith("genprobe-") for k in keys)}
        if busy:
            address = next(iter(busy))
            pid = client.run(os.getpid, workers=[address])[address]
            os.kill(pid, signal.SIGKILL)  # mid-task: the nanny restarts it, the scheduler reruns the task
            killed = address
        time.sleep(0.05)
    t.join(timeout=180)
    assert killed is not None, "no worker was busy with a group"
    assert not t.is_alive() and "r" in out
    for a, b in zip(local, out["r"]):
        assert_same(a, b)
    assert set(puts) == set(specs) and max(puts.values()) == 1


def test_a_failing_group_is_reported_and_the_others_kept(client, tmp_path):
    good = [tiny(seed=s) for s in (0, 1)]
    bad = [tiny(n=5000, seed=0)]  # more points than the 64^2 image has: fails on the worker
    cache = Cache(tmp_path / "cache")
    with pytest.raises(GenprobeError, match=r"1 of \d+ groups failed on the cluster: .*N=5000 is larger"):
        run_sweep(good + bad, cache=cache, device="cpu", progress=False, scheduler=client)
    assert all(cache.path(s).exists() for s in good) and not cache.path(bad[0]).exists()


def test_cli_train_on_a_scheduler(client, tmp_path, capsys):
    from genprobe.cli import main

    args = [
        "train",
        "--n",
        "200",
        "--seeds",
        "0,1",
        "--epochs",
        "3",
        "--depth",
        "3",
        "--width",
        "8",
        "--truth",
        "ring@64",
    ]
    args += ["--eval-res", "16", "--curve-res", "16", "--checkpoints", "1", "--quiet"]
    assert main(args + ["--cache", str(tmp_path / "a"), "--scheduler", client.scheduler.address]) == 0
    remote = capsys.readouterr().out
    assert main(args + ["--cache", str(tmp_path / "b")]) == 0
    assert remote.splitlines()[1:] == capsys.readouterr().out.splitlines()[1:]  # the same table of numbers


def test_an_unreachable_scheduler_is_one_clear_error():
    from genprobe.cluster import client_for

    with pytest.raises(GenprobeError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        client_for("tcp://127.0.0.1:9", timeout="1s")
    with pytest.raises(GenprobeError, match="scheduler must be an address"):
        client_for("")


def test_without_a_scheduler_dask_is_not_imported(tmp_path):
    code = (
        "import sys; from genprobe.runs import RunSpec; from genprobe.sweep import run_sweep; "
        "run_sweep([RunSpec(truth='ring@64', n=50, model='knn', eval_res=16, curve_res=16)], device='cpu'); "
        "print('distributed' in sys.modules, 'dask' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


SUITE = """
from genprobe import claims
from genprobe.runs import RunSpec


def tiny(s):
    return RunSpec(truth="ring@64", n=200, seed=s, epochs=3, depth=3, width=8, eval_res=16, curve_res=16, checkpoints=1)


def test_nets(probe):
    probe.check(lambda g: claims.threshold(g.runs([tiny(s) for s in g.seeds]), "held_out_iou", ">=", 0, claim="n"))
"""


def test_pytest_trains_on_the_scheduler(client, pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("GENPROBE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GENPROBE_SCHEDULER", client.scheduler.address)
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("--genprobe-seeds=0,1,2,3,4", "--genprobe-no-report", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*groups to the Dask cluster at tcp://*"])
