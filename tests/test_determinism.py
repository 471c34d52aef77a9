"""A result depends on its spec alone (issue 9): group, thread count, process, kernel build.

With the C kernel a spec gives bitwise the same history, final metrics and
prediction trained alone, in a group of 2, 3 or 16 (with other seeds, its
shuffled-label twin, or padded smaller sets), on 1 or 2 threads, and with
the kernel built for another ``-march``. With torch ops (``GENPROBE_CKERNEL=off``)
it is the same to float rounding: torch's ``bmm`` rounds differently for
other batch sizes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from genprobe.native import build
from genprobe.runs import RunResult, RunSpec
from genprobe.train import train_group

SPEC = RunSpec(
    truth="ring@64", n=300, seed=7, epochs=15, depth=6, width=30, batch=100, eval_res=32, curve_res=32, checkpoints=3
)


def _kernel_or_skip():
    if build.load() is None:
        pytest.skip(f"C kernel unavailable: {build.unavailable_reason()}")


def train(specs, threads=1, step="auto") -> list[RunResult]:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return train_group(list(specs), device="cpu", progress=False, step=step)
    finally:
        torch.set_num_threads(before)


def assert_bitwise(a: RunResult, b: RunResult) -> None:
    assert a.spec == b.spec
    np.testing.assert_array_equal(a.prediction, b.prediction)
    assert a.history.keys() == b.history.keys()
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k], err_msg=k)
    assert a.final.keys() == b.final.keys()
    # linear_regions included: on the C kernel the activation patterns come from its own per-net pass
    for k in a.final:
        assert a.final[k] == b.final[k] or (np.isnan(a.final[k]) and np.isnan(b.final[k])), k
    assert a.boundaries is not None and b.boundaries is not None
    np.testing.assert_array_equal(a.boundaries, b.boundaries)
    assert a.diverged_at == b.diverged_at


def groups() -> dict[str, list[RunSpec]]:
    """Groups holding SPEC, with batch-mates of every kind the sweep makes."""
    others = [SPEC.replace(seed=s) for s in range(100, 115)]
    return {
        "2 (another seed)": [SPEC.replace(seed=1), SPEC],
        "2 (its shuffled twin)": [SPEC, SPEC.replace(labels="shuffled")],
        "3 (padded: smaller N)": [SPEC.replace(n=250, seed=2), SPEC, SPEC.replace(n=280, seed=3)],
        "16": others[:8] + [SPEC] + others[8:],
        "3 (both protocols)": [SPEC.replace(protocol="blog", seed=4), SPEC, SPEC.replace(protocol="blog", seed=5)],
    }


@pytest.fixture(scope="module")
def alone() -> RunResult:
    _kernel_or_skip()
    return train([SPEC])[0]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("group", list(groups()))
def test_c_kernel_result_does_not_depend_on_batch_mates_or_threads(alone, group, threads):
    specs = groups()[group]
    [r] = [r for r in train(specs, threads=threads) if r.spec == SPEC]
    assert r.meta["step"] == "c"
    assert_bitwise(r, alone)


def test_c_kernel_alone_on_two_threads(alone):
    assert_bitwise(train([SPEC], threads=2)[0], alone)


def test_torch_ops_agree_to_float_rounding():
    from tests.test_train import assert_same_run

    [ref] = train([SPEC], step="torch")
    for specs in groups().values():
        [r] = [r for r in train(specs, step="torch") if r.spec == SPEC]
        assert r.meta["step"] == "torch"
        assert_same_run(r, ref)


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


@pytest.mark.slow
@pytest.mark.skipif(not {"avx2", "fma"} <= _cpu_flags(), reason="needs an x86-64 CPU with AVX2 and FMA")
def test_kernel_numbers_do_not_depend_on_the_march_it_was_built_for(alone, tmp_path, monkeypatch):
    """native (AVX-512 here: 16 floats a vector), x86-64-v3 (AVX2: 8) and x86-64 (no FMA
    instruction: fmaf, slowly) all compute every number the same."""
    monkeypatch.setenv("GENPROBE_KERNEL_CACHE", str(tmp_path))
    results = {}
    try:
        for march in ("x86-64-v3", "x86-64"):
            monkeypatch.setenv("GENPROBE_CKERNEL_MARCH", march)
            build._load_cached.cache_clear()
            kernel = build.load()
            assert kernel is not None and march in os.environ["GENPROBE_CKERNEL_MARCH"]
            spec = SPEC if march == "x86-64-v3" else SPEC.replace(epochs=2)  # the FMA-less build is ~50x slower
            results[march] = (spec, train([spec])[0])
    finally:
        build._load_cached.cache_clear()
    assert_bitwise(results["x86-64-v3"][1], alone)
    monkeypatch.delenv("GENPROBE_CKERNEL_MARCH")
    spec, r = results["x86-64"]
    assert_bitwise(r, train([spec])[0])


@pytest.mark.parametrize("threads", [1, 2])
def test_blog_nets_beside_standard_nets_are_the_blog_nets_alone(threads):
    """A group may mix the post's two protocols (each net's Adam restarts on its own schedule)."""
    _kernel_or_skip()
    blog = [SPEC.replace(protocol="blog"), SPEC.replace(protocol="blog", seed=8, labels="shuffled")]
    mixed = train([SPEC.replace(seed=9), blog[0], SPEC, blog[1]], threads=threads)
    by_spec = {r.spec: r for r in mixed}
    for r in train(blog, threads=threads):
        assert_bitwise(by_spec[r.spec], r)
