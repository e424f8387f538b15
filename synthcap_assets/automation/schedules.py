"""Schedules: every day, materialize yesterday's partition of every enabled, registered source."""

import datetime as dt

import dagster as dg

from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import CatalogResource

daily_partition_job = dg.define_asset_job(
    "daily_partition_job",
    selection=dg.AssetSelection.all(),
    description="Every asset of one (source, date) partition, from capture to readiness.",
)


def sources_due(specs: dict, registered: set[str], day: dt.date) -> list[str]:
    """Enabled, registered sources whose data starts on or before ``day``."""
    return sorted(
        sid
        for sid, spec in specs.items()
        if spec.enabled and sid in registered and spec.start_date <= day
    )


@dg.schedule(
    job=daily_partition_job,
    cron_schedule="0 6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_capture_schedule(
    context: dg.ScheduleEvaluationContext, catalog: CatalogResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """Requests yesterday's partition for every enabled source, one run per source."""
    day = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    specs, _ = catalog.scan()
    registered = set(context.instance.get_dynamic_partitions(SOURCE_DIMENSION))
    due = sources_due(specs, registered, day)
    if not due:
        return dg.SkipReason(f"no enabled, registered source is due for {day}")
    return [
        dg.RunRequest(run_key=f"{source}|{day}", partition_key=partition_key(source, day))
        for source in due
    ]
