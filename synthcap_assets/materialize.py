"""Materialize every asset of chosen (source, date) partitions on a real Dagster instance.

One way to run partitions, shared by ``synthcap materialize`` and ``synthcap demo``: register
the sources' dynamic partitions, run ``daily_partition_job`` per partition (every asset but
``readiness_score``), then ``readiness_job`` for that partition whenever its capture landed —
whether the partition run succeeded or a blocking check stopped it — so every captured
(source, date) ends with a readiness row. Runs go through ``DAGSTER_HOME`` (SQLite by
default), so every run, materialization and check shows in the UI afterwards. Sources run side
by side on worker processes, each source's days in date order (``synthcap_assets.workers``,
``SYNTHCAP_DEMO_WORKERS``; 1 runs everything in this process).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from synthcap_assets.executor import sqlite_sync
from synthcap_assets.partitions import LAKE_START_DATE, SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import scan_catalog

DEFAULT_DAGSTER_HOME = ".dagster_home"
# One line per partition is printed, naming any failure; Dagster's step-by-step log (failures
# included) stays in the instance, where the UI shows it.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
CAPTURE_ASSET = "raw_capture"
READINESS_ASSET = "readiness_score"


class PlanError(ValueError):
    """A materialize request that names no runnable partition (unknown source, bad dates)."""


@dataclass(frozen=True)
class PartitionRun:
    """How one (source, date) went: the partition run, then the readiness run."""

    source: str
    day: dt.date
    success: bool
    seconds: float
    materialized: list[str]
    failed_checks: list[str]
    warned_checks: list[str]
    error: str | None
    readiness: bool = False
    worker: int = 0  # the id of the process that ran it (the demo counts its workers)

    @property
    def held_by_gate(self) -> bool:
        """Failed only because a blocking check said no, with the day's readiness row written:
        a verdict (the row says why), not a crash."""
        errors = (self.error or "").split("; ") if self.error else []
        return (
            not self.success
            and self.readiness
            and bool(self.failed_checks)
            and all(f": {CHECK_FAILED_ERROR}:" in e for e in errors)
        )


CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"


def ensure_dagster_home(instance_yaml: Path = Path("dagster.yaml")) -> Path:
    """``DAGSTER_HOME``, defaulting to ``./.dagster_home`` seeded with ``./dagster.yaml``."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(DEFAULT_DAGSTER_HOME).resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if instance_yaml.is_file() and not (home / "dagster.yaml").exists():
        shutil.copy(instance_yaml, home / "dagster.yaml")
    return home


def day_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last``, both included."""
    if last < first:
        raise PlanError(f"--to {last} is before --from {first}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def plan_partitions(sources: Iterable[str], days: Iterable[dt.date]) -> list[tuple[str, dt.date]]:
    """(source, day) pairs, date-major: each day's drift report finds the previous profile."""
    return sorted({(s, d) for s in sources for d in days}, key=lambda item: (item[1], item[0]))


def plan_for(
    folder: Path,
    ids: list[str],
    date: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[list[tuple[str, dt.date]], list[str]]:
    """The partitions ``synthcap materialize`` runs, and notes on the days it left out.

    ``date`` alone: that day; ``start`` [``end``]: the range, ``end`` defaulting to yesterday;
    neither: yesterday. Days before a source's ``start_date`` are left out with a note.
    """
    yesterday = (today or dt.date.today()) - dt.timedelta(days=1)
    if end is not None and start is None:
        raise PlanError("--to needs --from (or use --date for one day)")
    days = day_range(start, end or yesterday) if start else [date or yesterday]
    specs, errors = scan_catalog(folder)
    unknown = [i for i in ids if i not in specs]
    if unknown:
        invalid = [str(e) for e in errors if any(i in str(e) for i in unknown)]
        known = ", ".join(sorted(specs)) or "none"
        raise PlanError(
            f"source(s) {', '.join(unknown)} not in the catalog {folder} (known: {known})"
            + ("; invalid specs: " + "; ".join(invalid) if invalid else "")
        )
    lake_start = dt.date.fromisoformat(LAKE_START_DATE)
    notes, plan = [], []
    for sid in ids:
        first = max(specs[sid].start_date, lake_start)
        kept = [d for d in days if d >= first]
        if len(kept) < len(days):
            notes.append(
                f"{sid}: {len(days) - len(kept)} day(s) before {first} left out "
                f"(the source's start_date, or SYNTHCAP_START_DATE for the lake)"
            )
        plan += plan_partitions([sid], kept)
    if not plan:
        raise PlanError(f"no partition to run for {', '.join(ids)} on {days[0]}..{days[-1]}")
    return sorted(set(plan), key=lambda item: (item[1], item[0])), notes


def register_sources(instance: dg.DagsterInstance, sources: Iterable[str]) -> list[str]:
    """Add the sources missing from the ``source`` dynamic partitions; returns those added."""
    known = set(instance.get_dynamic_partitions(SOURCE_DIMENSION))
    new = sorted(set(sources) - known)
    if new:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, new)
    return new


def step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    """``step: Error: message`` per failed step: the asset's own error, not Dagster's wrapper."""
    errors = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        # Dagster wraps the asset's own exception; report that one, not the wrapper.
        while error.cls_name.startswith("Dagster") and error.cause is not None:
            error = error.cause
        # The message may start with the exception's qualified name; say it once.
        message = error.message.strip()
        head, _, rest = message.partition(": ")
        if head.rsplit(".", 1)[-1] == error.cls_name:
            message = rest.strip()
        errors.append(f"{event.step_key}: {error.cls_name}: {message}")
    return errors


def _materialized(result: dg.ExecuteInProcessResult) -> list[str]:
    return sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())


def run_partition(
    defs: dg.Definitions, instance: dg.DagsterInstance, source: str, day: dt.date
) -> PartitionRun:
    """The partition run of (source, day), then its readiness run when the capture landed."""
    from synthcap_assets.automation.schedules import daily_partition_job, readiness_job

    started = time.perf_counter()
    key = partition_key(source, day)
    result = defs.resolve_job_def(daily_partition_job.name).execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG
    )
    materialized = _materialized(result)
    checks = result.get_asset_check_evaluations()
    errors = step_errors(result)
    readiness = False
    if CAPTURE_ASSET in materialized:
        scored = defs.resolve_job_def(readiness_job.name).execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG
        )
        materialized += _materialized(scored)
        checks += scored.get_asset_check_evaluations()
        errors += step_errors(scored)
        readiness = READINESS_ASSET in materialized
        success = result.success and scored.success
    else:
        success = result.success
    failed = [c for c in checks if not c.passed]
    warn = dg.AssetCheckSeverity.WARN
    return PartitionRun(
        source=source,
        day=day,
        success=success,
        seconds=time.perf_counter() - started,
        materialized=materialized,
        failed_checks=sorted(c.check_name for c in failed if c.severity != warn),
        warned_checks=sorted(c.check_name for c in failed if c.severity == warn),
        error="; ".join(errors) or (None if success else "run failed"),
        readiness=readiness,
        worker=os.getpid(),
    )


def run_partitions(
    lake: str,
    sources: Path,
    plan: list[tuple[str, dt.date]],
    on_start: Callable[[int], None] = lambda total: None,
    on_partition: Callable[[PartitionRun], None] = lambda run: None,
) -> list[PartitionRun]:
    """Register the plan's sources and run every (source, day) of ``plan``: on worker
    processes, sources side by side and each source's days in date order, or (one worker)
    in this process in the plan's order. ``on_partition`` is called here as each ends."""
    from synthcap_assets.workers import run_in_workers, worker_count

    workers = worker_count(plan)
    ensure_dagster_home()
    sqlite_sync()
    instance = dg.DagsterInstance.get()
    register_sources(instance, {source for source, _ in plan})
    if workers > 1:
        on_start(len(plan))
        return run_in_workers(lake, sources, plan, workers, on_partition)
    # The definitions load torch and smartnoise: only when there is something to run.
    from synthcap_assets.definitions import build_definitions

    defs = build_definitions(lake=lake, sources=str(sources))
    on_start(len(plan))
    runs = []
    for source, day in plan:
        run = run_partition(defs, instance, source, day)
        runs.append(run)
        on_partition(run)
    return runs
