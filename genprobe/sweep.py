"""Run many specs: reuse cached results, batch the rest into few groups.

Groups hold specs that differ only in N, seed and labels and share the same
steps per epoch; a group is split further so that padding the smaller
training sets to the largest wastes at most :data:`MAX_PADDING_WASTE` of its
compute. Each finished group is written to the cache at once, so an
interrupted sweep loses at most the group in flight.

A sweep reports its progress as a whole (:class:`Progress`): groups and runs
done of all, time elapsed and an ETA from the training work done (epochs of
the groups in flight included), as one tqdm bar on a terminal and otherwise as
INFO lines of the ``genprobe`` logger at most every :data:`PROGRESS_EVERY`
seconds (``genprobe`` configures logging; ``-q`` silences it).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from itertools import groupby
from typing import Any

from . import metrics
from .baselines import run_baseline
from .errors import GenprobeError
from .runs import Cache, RunResult, RunSpec
from .text import duration
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
    "Progress",
    "PROGRESS_EVERY",
    "show_bar",
]

log = logging.getLogger("genprobe")

MAX_PADDING_WASTE = 0.2
# More nets per group stop paying off on CPU (measured: 64 nets give ~3 % more
# net-steps/s than 16) and cost memory.
MAX_GROUP = 64
#: seconds between two progress lines off a terminal (a line also at the start and the end)
PROGRESS_EVERY = 30.0


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


class Progress:
    """A sweep's overall progress: groups and runs done of all, elapsed, ETA.

    The ETA is the elapsed time scaled by the training work left (:func:`batch_work`; a group in flight
    counts its finished epochs). ``bar``: a tqdm bar (on stderr); else lines ``sweep: 12/40 groups, 85/300
    runs, 3m10s elapsed, ETA 7m05s`` through ``say`` at most every ``every`` seconds, and at the start and
    the end. Thread-safe: the groups of ``workers`` threads report to one object.
    """

    def __init__(
        self,
        groups: Sequence[Sequence[RunSpec]],
        say: Callable[[str], None],
        bar: bool = False,
        every: float | None = None,
        cached: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.say, self.clock = say, clock
        self.every = PROGRESS_EVERY if every is None else every
        self.groups, self.runs = len(groups), sum(len(g) for g in groups)
        self.work = float(sum(batch_work(g) for g in groups)) or 1.0
        self.groups_done = self.runs_done = 0
        self.work_done = 0.0
        self._partial: dict[int, float] = {}  # id(batch) -> its work done so far (epochs finished)
        self._lock = threading.Lock()
        self.t0 = clock()
        self._last = self.t0
        self._bar = None
        if bar and self.groups:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=1000,
                desc=f"sweep {self._counts()}",
                bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
                file=sys.stderr,
                mininterval=1.0,
            )
        more = f" ({cached} cached)" if cached else ""
        # said with the first epoch, so that a spec that fails to start leaves its error alone on stderr
        self._opening: str | None = f"sweep: {_many(self.groups, 'group')}, {_many(self.runs, 'run')} to train{more}"

    def _counts(self) -> str:
        return f"{self.groups_done}/{_many(self.groups, 'group')}, {self.runs_done}/{_many(self.runs, 'run')}"

    def _fraction(self) -> float:
        return min(1.0, (self.work_done + sum(self._partial.values())) / self.work)

    def line(self) -> str:
        """``sweep: 12/40 groups, 85/300 runs, 3m10s elapsed, ETA 7m05s``."""
        elapsed = self.clock() - self.t0
        f = self._fraction()
        eta = elapsed * (1 - f) / f if f > 0 else float("inf")
        return f"sweep: {self._counts()}, {duration(elapsed)} elapsed, ETA {duration(eta)}"

    def _show(self, force: bool = False) -> None:
        if self._bar is not None:
            self._bar.n = round(1000 * self._fraction())
            self._bar.set_description_str(f"sweep {self._counts()}", refresh=False)
            self._bar.refresh() if force else self._bar.update(0)
            return
        if self._opening is not None:
            self.say(self._opening)
            self._opening = None
        now = self.clock()
        if force or now - self._last >= self.every:
            self._last = now
            self.say(self.line())

    def tick(self) -> None:
        """Nothing finished, but time passed: the opening line, and a line if one is due."""
        with self._lock:
            self._show()

    def epoch(self, batch: Sequence[RunSpec], epoch: int) -> None:
        """``batch`` (a group in flight) finished ``epoch`` of its epochs."""
        with self._lock:
            self._partial[id(batch)] = batch_work(batch) * min(1.0, epoch / max(1, batch[0].total_epochs))
            self._show()

    def done(self, batch: Sequence[RunSpec]) -> None:
        """``batch`` (one of the groups) is trained."""
        with self._lock:
            self._partial.pop(id(batch), None)
            self.groups_done += 1
            self.runs_done += len(batch)
            self.work_done += batch_work(batch)
            if self.groups_done < self.groups:  # the last one: close() says it
                self._show()

    def close(self) -> None:
        if self._bar is not None:
            self._show(force=True)
            self._bar.close()
            self._bar = None
        if self.groups and self.groups_done == self.groups:
            self.say(f"sweep: {self._counts()} in {duration(self.clock() - self.t0)}")


def _many(k: int, what: str) -> str:
    return f"{k} {what}" + ("" if k == 1 else "s")


def show_bar(progress: bool | None) -> bool:
    """A tqdm bar: asked for, or on a terminal unless ``progress`` is False."""
    if progress is not None:
        return progress
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


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
        self.meter: Progress | None = None

    def say(self, msg: str, level: int = logging.INFO) -> None:
        log.log(level, msg)
        if self.log_fn is not None:
            self.log_fn(msg)

    def start(self, groups: Sequence[Sequence[RunSpec]], cached: int) -> Progress:
        """The overall progress of ``groups`` (what this sweep trains)."""
        self.meter = Progress(groups, self.say, bar=show_bar(self.progress), cached=cached)
        return self.meter

    def halt(self, epoch: int) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt("another worker of this sweep stopped")

    def keep(self, r: RunResult) -> None:
        self.done[r.spec] = r
        if self.cache is not None:
            self.cache.put(r)

    def compute(self, batch: list[RunSpec], planned: Sequence[RunSpec] | None = None) -> None:
        """Train (or score) ``batch``; its epochs count towards ``planned``, the group of the sweep's plan
        it is (all of it, or what another process did not hold)."""
        if batch[0].trained:
            more = f", ... ({len(batch)} nets)" if len(batch) > 3 else ""
            self.say(f"genprobe: training {', '.join(s.label() for s in batch[:3])}{more}", logging.DEBUG)
            meter = self.meter

            def on_epoch(epoch: int) -> None:
                self.halt(epoch)
                if meter is not None:
                    meter.epoch(planned or batch, epoch)

            # no bar of its own: the sweep's one bar counts its epochs
            results = train_group(batch, device=self.device, progress=False, on_epoch=on_epoch)
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
                self.compute(mine, batch)
        finally:
            for lock in locks:
                lock.release()
        if batch[0].trained and self.meter is not None:
            self.meter.done(batch)

    def on_cluster(self, groups: list[list[RunSpec]], scheduler: Any, cached: int = 0) -> None:
        """The groups as tasks on a Dask cluster; this process writes their results to its cache."""
        from .cluster import train_on_cluster

        locks: list = []
        try:
            mine = [m for m in (self.claim(g, locks) for g in groups) if m]
            train_on_cluster(
                mine, scheduler, self.device, self.keep, self.say, self.progress, lambda g: self.start(g, cached)
            )
        finally:
            for lock in locks:
                lock.release()

    def on_threads(self, parts: list[list[RunSpec]], workers: int) -> None:
        """The groups' parts (:func:`split_for_workers`) on ``workers`` threads, torch on one thread each
        (restored after)."""
        from .fastmlp import torch_threads

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
    cached = len(unique) - len(missing)
    try:
        if scheduler is not None and groups:
            sweep.on_cluster(groups, scheduler, cached)  # starts the progress once it knows the cluster's parts
        elif workers > 1 and device == "cpu" and groups:
            parts = split_for_workers(groups, workers)
            sweep.start(parts, cached)
            sweep.on_threads(parts, workers)
        else:
            sweep.start(groups, cached)
            for batch in groups:
                sweep.locked(batch)
        sweep.finish_deferred()
    finally:
        if sweep.meter is not None:
            sweep.meter.close()
    # metrics registered after a run was cached: their final values from its stored prediction, no training
    return [metrics.complete(done[s]) for s in specs]
