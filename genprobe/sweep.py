"""Run many specs: reuse cached results, batch the rest into few groups.

Groups hold specs that differ only in N, seed and labels and share the same
steps per epoch; a group is split further so that padding the smaller
training sets to the largest wastes at most :data:`MAX_PADDING_WASTE` of its
compute. Each finished group is written to the cache at once, so an
interrupted sweep loses at most the group in flight.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import groupby
from typing import Any

from . import metrics
from .baselines import run_baseline
from .errors import GenprobeError
from .runs import Cache, RunResult, RunSpec
from .train import batch_work, group_key, resolve_device, split_for_workers, train_group

__all__ = [
    "run_sweep",
    "plan_groups",
    "split_for_workers",
    "batch_work",
    "default_workers",
    "padding_waste",
    "MAX_PADDING_WASTE",
    "MAX_GROUP",
]

log = logging.getLogger("genprobe")

MAX_PADDING_WASTE = 0.2
# More nets per group stop paying off on CPU (measured: 64 nets give ~3 % more
# net-steps/s than 16) and cost memory.
MAX_GROUP = 64


def padding_waste(specs: Sequence[RunSpec]) -> float:
    """Share of a group's per-epoch compute spent on padded (masked) points."""
    batch, n_max = specs[0].batch, max(s.n for s in specs)
    full = (specs[0].steps_per_epoch - 1) * batch
    last_max = n_max - full
    useful = sum(s.n for s in specs)
    return 1.0 - useful / (len(specs) * (full + last_max))


def plan_groups(specs: Iterable[RunSpec], max_group: int = MAX_GROUP) -> list[list[RunSpec]]:
    """Partition trainable specs into batches (see module docstring)."""
    by_key: dict[tuple, list[RunSpec]] = defaultdict(list)
    for s in specs:
        by_key[group_key(s)].append(s)
    groups: list[list[RunSpec]] = []
    for members in by_key.values():
        current: list[RunSpec] = []
        ordered = sorted(members, key=lambda s: (-s.n, s.seed, s.labels))
        # Specs of one N stay together: splitting them over groups only pads more.
        for _, same_n in groupby(ordered, key=lambda s: s.n):
            block = list(same_n)
            if current and (
                len(current) + len(block) > max_group or padding_waste(current + block) > MAX_PADDING_WASTE
            ):
                groups.append(current)
                current = []
            for s in block:  # a block larger than max_group is cut into full groups
                if len(current) >= max_group:
                    groups.append(current)
                    current = []
                current.append(s)
        groups.append(current)
    return groups


def default_workers(device: str) -> int:
    """Groups to train at once: one per torch thread on CPU (each on one thread), else 1."""
    import torch

    return max(1, torch.get_num_threads()) if device == "cpu" else 1


class _Sweep:
    """One sweep's state: the results so far, the cache and its locks, and how a batch is computed.

    A batch is computed under the cache's per-run locks (:meth:`locked`); a run another process holds
    is deferred and read (or, if that process died, computed) at the end (:meth:`finish_deferred`)."""

    def __init__(
        self,
        cache: Cache | None,
        device: str,
        progress: bool | None,
        log_fn: Callable[[str], None] | None,
        done: dict[RunSpec, RunResult],
    ):
        self.cache, self.device, self.progress, self.log_fn = cache, device, progress, log_fn
        self.done = done
        self.deferred: list[RunSpec] = []
        self.stop = threading.Event()  # set when a worker fails: the others stop at their next epoch

    def say(self, msg: str) -> None:
        log.info(msg)
        if self.log_fn is not None:
            self.log_fn(msg)

    def halt(self, epoch: int) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt("another worker of this sweep stopped")

    def keep(self, r: RunResult) -> None:
        self.done[r.spec] = r
        if self.cache is not None:
            self.cache.put(r)

    def compute(self, batch: list[RunSpec]) -> None:
        if batch[0].trained:
            more = f", ... ({len(batch)} nets)" if len(batch) > 3 else ""
            self.say(f"genprobe: training {', '.join(s.label() for s in batch[:3])}{more}")
            results = train_group(batch, device=self.device, progress=self.progress, on_epoch=self.halt)
        else:
            results = [run_baseline(s) for s in batch]
        for r in results:
            self.keep(r)

    def claim(self, batch: list[RunSpec], locks: list) -> list[RunSpec]:
        """The specs of ``batch`` this process computes, their cache locks appended to ``locks``;
        what another process holds is deferred."""
        if self.cache is None:
            return list(batch)
        mine = []
        for s in batch:
            lock = self.cache.lock(s)
            try:
                lock.acquire(timeout=0)
            except Exception:  # filelock.Timeout: another process is computing it
                self.deferred.append(s)
                continue
            locks.append(lock)
            r = self.cache.get(s)  # it may have landed while we waited
            if r is not None:
                self.done[s] = r
            else:
                mine.append(s)
        return mine

    def locked(self, batch: list[RunSpec]) -> None:
        """compute(batch) under the cache's locks."""
        locks: list = []
        try:
            mine = self.claim(batch, locks)
            if mine:
                self.compute(mine)
        finally:
            for lock in locks:
                lock.release()

    def on_cluster(self, groups: list[list[RunSpec]], scheduler: Any) -> None:
        """The groups as tasks on a Dask cluster; this process writes their results to its cache."""
        from .cluster import train_on_cluster

        locks: list = []
        try:
            mine = [m for m in (self.claim(g, locks) for g in groups) if m]
            train_on_cluster(mine, scheduler, self.device, self.keep, self.say, self.progress)
        finally:
            for lock in locks:
                lock.release()

    def on_threads(self, groups: list[list[RunSpec]], workers: int) -> None:
        """The groups split over ``workers`` threads, torch on one thread each (restored after)."""
        from .fastmlp import torch_threads

        parts = split_for_workers(groups, workers)
        with torch_threads(1), ThreadPoolExecutor(max_workers=workers, thread_name_prefix="genprobe-sweep") as pool:
            futures = [pool.submit(self.locked, p) for p in parts]
            try:
                for f in as_completed(futures):
                    f.result()
            except BaseException:
                self.stop.set()  # the others stop at their next epoch; finished groups are cached
                for f in futures:
                    f.cancel()
                raise

    def finish_deferred(self) -> None:
        """The runs another process held: read once it lets go, computed here if it died first."""
        if self.cache is None:
            return
        for s in self.deferred:
            with self.cache.lock(s):
                r = self.cache.get(s)
                if r is None:  # the other process died before writing it
                    self.compute([s])
                else:
                    self.done[s] = r


def run_sweep(
    specs: Sequence[RunSpec],
    cache: Cache | None = None,
    device: str = "auto",
    progress: bool | None = None,
    max_group: int = MAX_GROUP,
    log_fn: Callable[[str], None] | None = None,
    workers: int = 1,
    scheduler: Any = None,
) -> list[RunResult]:
    """Results for ``specs`` (in order), training only what the cache lacks.

    With a cache, each run is computed under its file lock: a second process
    asking for the same run waits for it and then reads it from the cache.

    ``workers`` > 1 (CPU only): that many groups train at once, each on one
    thread (:func:`split_for_workers`); the same results to the bit with the
    C kernel (tests/test_runs_cache.py), to float rounding with torch ops.
    An interrupt stops every worker at its next epoch.

    ``scheduler`` (an address or a ``distributed.Client``): the groups train
    as tasks on that Dask cluster and this process writes their results to
    its cache (:mod:`genprobe.cluster`; ``pip install "genprobe[dask]"``).
    """
    device = resolve_device(device)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GenprobeError(f"workers must be a whole number >= 1, got {workers!r}")
    unique = list(dict.fromkeys(specs))
    done: dict[RunSpec, RunResult] = {}
    if cache is not None:
        for s in unique:
            r = cache.get(s)
            if r is not None:
                done[s] = r
    missing = [s for s in unique if s not in done]
    sweep = _Sweep(cache, device, progress, log_fn, done)
    for s in missing:
        if not s.trained:  # untrained rules first, one at a time
            sweep.locked([s])
    groups = plan_groups([s for s in missing if s.trained], max_group)
    if scheduler is not None and groups:
        sweep.on_cluster(groups, scheduler)
    elif workers > 1 and device == "cpu" and groups:
        sweep.on_threads(groups, workers)
    else:
        for batch in groups:
            sweep.locked(batch)
    sweep.finish_deferred()
    # metrics registered after a run was cached: their final values from its stored prediction, no training
    return [metrics.complete(done[s]) for s in specs]
