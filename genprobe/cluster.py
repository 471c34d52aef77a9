"""Train a sweep's groups on a Dask distributed cluster; the client keeps the cache.

``run_sweep(..., scheduler="tcp://host:8786")`` (``--scheduler`` on the CLI,
``--genprobe-scheduler`` in pytest) sends each planned group as one task to
the cluster. A worker trains its group and returns the results; only the
client writes them to its cache (atomically, as a local sweep does), so
workers need no shared filesystem. A worker that dies takes its task with
it and the scheduler runs it again elsewhere (Dask's ``allowed-failures``);
the client writes each group once, when its one result arrives. A group that
fails is reported at the end, after every other group has been cached.

Dask is an optional extra (``pip install "genprobe[dask]"``): this module is
imported only when a scheduler is named. On CPU a task trains its group on
one thread, so start workers with ``--nthreads`` equal to their cores; with
``device="cuda"`` a task asks for one ``GPU`` resource (start GPU workers
with ``--resources GPU=1``). The C kernel's numbers do not depend on the
thread count or the batch-mates, so a run trained on a worker is the run
trained locally, to the bit, on a CPU of the same instruction set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from .errors import GenprobeError
from .runs import RunResult, RunSpec

__all__ = ["client_for", "train_on_cluster"]

log = logging.getLogger("genprobe")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise GenprobeError(
            'a Dask scheduler was named but Dask is not installed: pip install "genprobe[dask]"'
        ) from None
    return distributed


def client_for(scheduler: Any, timeout: str = "10s"):
    """A ``distributed.Client`` for ``scheduler`` (an address, or a ready Client returned as is)."""
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        return scheduler
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise GenprobeError(f"scheduler must be an address such as tcp://host:8786, got {scheduler!r}")
    try:
        return distributed.Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise GenprobeError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None


def _train_task(specs: list[RunSpec], device: str) -> list[RunResult]:
    """On a worker: one group, torch on one thread (the worker's other threads run other groups)."""
    import torch

    from .train import train_group

    if device == "cpu":
        torch.set_num_threads(1)
    return train_group(specs, device=device, progress=False)


def train_on_cluster(
    groups: Sequence[list[RunSpec]],
    scheduler: Any,
    device: str,
    keep: Callable[[RunResult], None],
    say: Callable[[str], None],
    progress: bool | None = None,
    meter: Callable[[Sequence[list[RunSpec]]], Any] | None = None,
) -> None:
    """Train ``groups`` as tasks on the cluster; ``keep(result)`` (on this process) for every run.

    ``meter(tasks)``: the sweep's overall progress (:class:`genprobe.sweep.Progress`) of the tasks sent, told
    of each task done; without it, a bar of tasks on a terminal (``progress``: None, only on a terminal).

    Raises :class:`GenprobeError` naming the groups that failed, after every
    other group has been kept.
    """
    if not groups:
        return
    distributed = _distributed()
    client = client_for(scheduler)
    own = client is not scheduler
    try:
        resources = {"GPU": 1} if device.startswith("cuda") else None
        if resources is None:
            # on CPU, as on this machine: a part of each group per worker thread, longest first
            from .train import split_for_workers

            groups = split_for_workers(groups, max(1, sum(client.nthreads().values())))
        link = getattr(client, "dashboard_link", None)
        where = f"genprobe: {len(groups)} groups to the Dask cluster at {client.scheduler.address}"
        say(where + (f", dashboard {link}" if link else ""))
        futures = {}
        for i, g in enumerate(groups):
            key = f"genprobe-{g[0].key}-{len(g)}"
            prio = len(groups) - i  # Dask runs higher priorities first: keep the longest-first order
            f = client.submit(_train_task, list(g), device, pure=False, resources=resources, key=key, priority=prio)
            futures[f] = g
        from tqdm.auto import tqdm

        failed: list[str] = []
        quiet = (not progress) if progress is not None else None
        overall = meter(groups) if meter is not None else None
        with tqdm(
            total=len(groups), unit="group", desc="genprobe groups", disable=True if overall is not None else quiet
        ) as bar:
            for f in distributed.as_completed(list(futures)):
                g = futures[f]
                try:
                    results = f.result()
                except Exception as exc:  # reported at the end; the other groups are kept
                    failed.append(f"{g[0].label()} ({len(g)} nets): {exc.__class__.__name__}: {exc}")
                    log.warning("genprobe: group failed on the cluster: %s", failed[-1])
                else:
                    for r in results:
                        keep(r)
                bar.update(1)
                if overall is not None:
                    overall.done(g)
        if failed:
            raise GenprobeError(f"{len(failed)} of {len(groups)} groups failed on the cluster: " + "; ".join(failed))
    finally:
        if own:
            client.close()
