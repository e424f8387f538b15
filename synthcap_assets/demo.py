"""The demo: register the bundled sources and materialize every asset for their sample days.

The partitions run through ``synthcap_assets.materialize`` (the same path as
``synthcap materialize``): a real Dagster instance (``DAGSTER_HOME``, SQLite by default), so
every run, materialization and check shows in the UI afterwards.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from synthcap_assets.materialize import (
    PartitionRun,
    ensure_dagster_home,
    plan_partitions,
    run_partitions,
    step_errors,
)
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, SourceSpec, load_catalog, spec_files

__all__ = [
    "PartitionRun",
    "ensure_dagster_home",
    "install_bundled_sources",
    "run_demo",
    "sample_days",
    "step_errors",
]


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
        pair
        for sid in sorted(bundled & set(specs))
        for pair in plan_partitions([sid], sample_days(specs[sid], yesterday))
    ]
    plan.sort(key=lambda item: (item[1], item[0]))
    return run_partitions(lake, sources, plan, on_start, on_partition)
