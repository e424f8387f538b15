"""The demo: register the bundled sources and materialize every asset for their sample days.

Runs go through a real Dagster instance (``DAGSTER_HOME``, SQLite by default), so every run,
materialization and check shows in the UI afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from synthcap_assets.automation.schedules import daily_partition_job
from synthcap_assets.definitions import build_definitions
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, SourceSpec, load_catalog, spec_files

DEFAULT_DAGSTER_HOME = ".dagster_home"
# The demo prints one line per partition; Dagster's step-by-step log stays in the instance.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class PartitionRun:
    """How one (source, date) run went."""

    source: str
    day: dt.date
    success: bool
    seconds: float
    materialized: list[str]
    failed_checks: list[str]
    warned_checks: list[str]
    error: str | None


def ensure_dagster_home(instance_yaml: Path = Path("dagster.yaml")) -> Path:
    """``DAGSTER_HOME``, defaulting to ``./.dagster_home`` seeded with ``./dagster.yaml``."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(DEFAULT_DAGSTER_HOME).resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if instance_yaml.is_file() and not (home / "dagster.yaml").exists():
        shutil.copy(instance_yaml, home / "dagster.yaml")
    return home


def install_bundled_sources(folder: Path) -> list[Path]:
    """Copy the bundled source specs into ``folder``, leaving existing files as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for spec in spec_files(BUNDLED_SOURCES_DIR):
        target = folder / spec.name
        if not target.exists():
            shutil.copy(spec, target)
            copied.append(target)
    return copied


def sample_days(spec: SourceSpec, last: dt.date) -> list[dt.date]:
    """The days from the source's start date, up to ``last``, for which its file exists."""
    days = []
    day = spec.start_date
    while day <= last and Path(spec.resolve_location(day)).is_file():
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    """``step: Error: message`` per failed step: the asset's own error, not Dagster's wrapper."""
    errors = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        # Dagster wraps the asset's own exception; report that one, not the wrapper.
        while error.cls_name.startswith("Dagster") and error.cause is not None:
            error = error.cause
        errors.append(f"{event.step_key}: {error.cls_name}: {error.message.strip()}")
    return errors


def _run_partition(
    job: dg.JobDefinition, instance: dg.DagsterInstance, source: str, day: dt.date
) -> PartitionRun:
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=partition_key(source, day),
        instance=instance,
        raise_on_error=False,
        run_config=QUIET_RUN_CONFIG,
    )
    materialized = sorted(
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    )
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    warn = dg.AssetCheckSeverity.WARN
    error = "; ".join(step_errors(result)) or ("run failed" if not result.success else None)
    return PartitionRun(
        source=source,
        day=day,
        success=result.success,
        seconds=time.perf_counter() - started,
        materialized=materialized,
        failed_checks=sorted(c.check_name for c in failed if c.severity != warn),
        warned_checks=sorted(c.check_name for c in failed if c.severity == warn),
        error=error,
    )


def run_demo(
    lake: str,
    sources: Path,
    on_start: Callable[[int], None] = lambda total: None,
    on_partition: Callable[[PartitionRun], None] = lambda run: None,
) -> list[PartitionRun]:
    """Register the bundled sources and materialize every asset for each sample day."""
    ensure_dagster_home()
    install_bundled_sources(sources)
    specs = load_catalog(sources)
    bundled = {p.stem for p in spec_files(BUNDLED_SOURCES_DIR)}
    yesterday = dt.date.today() - dt.timedelta(days=1)
    plan = [
        (sid, day)
        for sid in sorted(bundled & set(specs))
        for day in sample_days(specs[sid], yesterday)
    ]
    # Date-major order: each day's drift report finds the previous day's profile.
    plan.sort(key=lambda item: (item[1], item[0]))
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(SOURCE_DIMENSION))
    new = sorted({sid for sid, _ in plan} - known)
    if new:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, new)
    job = build_definitions(lake=lake, sources=str(sources)).resolve_job_def(
        daily_partition_job.name
    )
    on_start(len(plan))
    runs = []
    for source, day in plan:
        run = _run_partition(job, instance, source, day)
        runs.append(run)
        on_partition(run)
    return runs
