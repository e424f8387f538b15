"""Run a plan's partitions on several worker processes: sources side by side, days in order.

Sources are independent of each other, but the days of one source must run in date order
(``drift_report`` reads the previous day's ``profile``). ``run_in_workers`` keeps, per source,
the queue of its days and hands a source's next day to the pool only when its previous day has
ended, so any free worker takes the next ready partition (earliest date first) and the two
cores of a small machine stay busy to the end. Each worker is a *spawned* process (not
forked: XLA's thread pools do not survive a fork, see ``executor.py``) that loads the
definitions once and runs its partitions with ``materialize.run_partition`` on the same
``DAGSTER_HOME`` instance and lake as the parent, so every run, materialization and check is
in the instance as with one process. The parent only schedules and reports: ``on_partition``
is called in the parent, once per partition, as each ends.

Two workers may commit to the same Delta table at once (the report tables hold every
source); delta-rs retries a commit that lost a race to a different partition, and a write
that lost a race for the same data becomes a Dagster retry of its step
(``synthcap_resources/write_retry.py``), which the in-process executor honours.

``SYNTHCAP_DEMO_WORKERS``: how many workers (default: the CPU cores this process may use,
never more than the plan has sources); ``1`` runs every partition in the calling process.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synthcap_assets.materialize import PartitionRun

WORKERS_ENV = "SYNTHCAP_DEMO_WORKERS"
# What a worker keeps between its partitions: the definitions and the instance.
_LOADED: dict[str, Any] = {}


class WorkerCountError(ValueError):
    """``SYNTHCAP_DEMO_WORKERS`` is not a whole number of at least 1."""


class WorkerDiedError(RuntimeError):
    """A worker process ended without finishing its partition."""


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(plan: list[tuple[str, dt.date]], env: Mapping[str, str] | None = None) -> int:
    """Workers for ``plan``: ``SYNTHCAP_DEMO_WORKERS``, else the usable cores; never more than
    the plan has sources (one source's days run one after the other)."""
    raw = (os.environ if env is None else env).get(WORKERS_ENV, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = 0
        if wanted < 1:
            raise WorkerCountError(
                f"{WORKERS_ENV}={raw!r}: give a whole number of worker processes, at least 1 "
                "(1 runs every partition in this process)"
            )
    else:
        wanted = usable_cores()
    return max(1, min(wanted, len({source for source, _ in plan})))


def _run_in_worker(lake: str, sources: str, source: str, day: dt.date) -> PartitionRun:
    """In a worker: load the definitions and the instance once, then run one partition."""
    import dagster as dg

    from synthcap_assets.materialize import run_partition

    if not _LOADED:
        from synthcap_assets.definitions import build_definitions
        from synthcap_assets.executor import sqlite_sync

        sqlite_sync()
        _LOADED["instance"] = dg.DagsterInstance.get()
        _LOADED["defs"] = build_definitions(lake=lake, sources=sources)
    return run_partition(_LOADED["defs"], _LOADED["instance"], source, day)


def run_in_workers(
    lake: str,
    sources: Path,
    plan: list[tuple[str, dt.date]],
    workers: int,
    on_partition: Callable[[PartitionRun], None] = lambda run: None,
) -> list[PartitionRun]:
    """Run every (source, day) of ``plan`` on ``workers`` spawned processes, each source's
    days in date order; returns the runs in the plan's order. The instance's storage must
    exist already (the caller registered the sources), so workers never create it at once."""
    days: dict[str, deque[dt.date]] = {}
    for source, day in sorted(plan, key=lambda item: (item[1], item[0])):
        days.setdefault(source, deque()).append(day)
    done: dict[tuple[str, dt.date], PartitionRun] = {}
    running: dict[Future, tuple[str, dt.date]] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(source: str) -> None:
        day = days[source].popleft()
        running[pool.submit(_run_in_worker, lake, str(sources), source, day)] = (source, day)

    try:
        for source in days:
            submit(source)
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                source, day = running.pop(future)
                run = future.result()  # a worker's error (not a failed step) ends the plan
                done[(source, day)] = run
                on_partition(run)
                if days[source]:
                    submit(source)
    except BrokenProcessPool as exc:
        pool.shutdown(wait=False, cancel_futures=True)
        raise WorkerDiedError(
            f"a worker process ended abruptly, {len(plan) - len(done)} partition(s) unfinished: "
            "out of memory, killed, or started by a script without "
            "`if __name__ == '__main__':` (spawned workers import it again); "
            f"{WORKERS_ENV}=1 runs in this process"
        ) from exc
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [done[item] for item in plan]
