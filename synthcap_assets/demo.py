"""The demo: register the bundled sources and materialize every asset for their sample days.

The partitions run through ``synthcap_assets.materialize`` (the same path as
``synthcap materialize``): a real Dagster instance (``DAGSTER_HOME``, SQLite by default), so
every run, materialization and check shows in the UI afterwards.

The demo has a time budget (``DEMO_BUDGET_SECONDS``, on a quiet 2-core machine), split among
its steps (``STEP_BUDGETS``: each asset's seconds summed over every partition); ``synthcap
demo`` prints each step's measured time beside its budget at its end (``budget_lines``). An
asset added to the graph gets a line in ``STEP_BUDGETS`` or is counted under ``other``.
Sources run side by side on worker processes (``synthcap_assets.workers``); the step table then
sums the steps of every worker against the budgets times the workers.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
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

DEMO_BUDGET_SECONDS = 60.0
# Seconds per step, summed over all the demo's partitions; they add up to the demo's budget.
STEP_BUDGETS: dict[str, float] = {
    # Set from quiet runs (2026-12-07 05:24: one worker 40.5 s of steps; two 69.7-74.6 worker-s);
    # "other" is each worker's imports, Dagster's bookkeeping and the final table.
    "raw_capture": 3.0,
    "quality_report": 2.5,
    "profile": 6.0,
    "privacy_report": 2.5,
    "drift_report": 4.0,
    "feature_set": 2.5,
    "text": 4.0,  # the text assets (synthcap_assets/text/), together
    "privacy_budget": 1.5,
    "synthetic_sample": 11.0,
    "readiness_score": 5.5,
    "checks": 2.5,  # every asset check, together
    "other": 15.0,
}


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


def _budget_key(step: str) -> str:
    name = step.split(".")[-1]
    if name in STEP_BUDGETS:
        return name
    if name.startswith("text") or "_text" in name:
        return "text"
    return "checks" if "check" in step or "_is_" in name or "_within_" in name else "other"


def step_seconds(since: dt.datetime) -> dict[str, float]:
    """Seconds per budget line, summed over every step of every run created after ``since``
    in the Dagster instance (``DAGSTER_HOME``)."""
    import dagster as dg

    totals: dict[str, float] = defaultdict(float)
    with dg.DagsterInstance.get() as instance:
        for run in instance.get_runs(filters=dg.RunsFilter(created_after=since)):
            for stats in instance.get_run_step_stats(run.run_id):
                if stats.start_time and stats.end_time:
                    totals[_budget_key(stats.step_key)] += stats.end_time - stats.start_time
    return dict(totals)


def budget_lines(total: float, steps: dict[str, float], workers: int = 1) -> list[str]:
    """The demo's time against its budget, step by step.

    With ``workers`` processes side by side, the steps are summed over all of them (worker
    seconds): each line's budget is its share times ``workers``, and ``other`` is the workers'
    time outside any step (start-up, Dagster's bookkeeping between steps, a worker waiting for
    the last partition of the other).
    """
    other = max(0.0, total * workers - sum(steps.values())) + steps.get("other", 0.0)
    measured = {**steps, "other": other}
    lines = [
        f"time budget: {total:.1f}s of {DEMO_BUDGET_SECONDS:.0f}s "
        f"({'within' if total <= DEMO_BUDGET_SECONDS else 'OVER'} budget; a quiet 2-core machine)"
    ]
    if workers > 1:
        lines.append(
            f"  steps summed over {workers} worker processes: {total * workers:.1f} worker-seconds "
            f"of {DEMO_BUDGET_SECONDS * workers:.0f}"
        )
    for key, budget in STEP_BUDGETS.items():
        spent = measured.get(key, 0.0)
        mark = "" if spent <= budget * workers else "  over"
        lines.append(f"  {key:<18}{spent:>7.1f}s of {budget * workers:>5.1f}s{mark}")
    return lines
