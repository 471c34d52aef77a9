"""Shared test setup.

The nets in these tests are tiny (a few hundred points, widths of 8-30), so
torch's intra-op threads only add synchronisation cost; on a busy 2-core
machine two spinning OpenMP threads made a 20-epoch run ~100x slower
(5 s instead of 0.05 s). One thread also makes CPU results independent of
the machine's core count, which the determinism tests rely on.

Only the tests in this folder run single-threaded: the fixture restores the
thread count afterwards, so the claim suite and the speed benchmarks, which
run in the same `pytest` session, keep every core.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # inherited by subprocesses the tests start
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
