"""Schedules: every day, capture yesterday's partition of every enabled, registered source.

The schedule only captures (``raw_capture`` and its blocking checks); the downstream assets
follow on their own through declarative automation (``automation/conditions.py``).
``daily_partition_job`` (every asset of a partition but readiness_score, in one run) followed
by ``readiness_job`` is what ``synthcap materialize`` and ``synthcap demo`` use.
"""

import datetime as dt

import dagster as dg

from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import CatalogResource

# readiness_score runs in its own run (readiness_job) after the partition run, success or
# failure: a failed blocking check skips every downstream step of its run, and every captured
# (source, date) must still end with a readiness row (synthcap_assets/materialize.py).
daily_partition_job = dg.define_asset_job(
    "daily_partition_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("readiness_score"),
    description="Every asset of one (source, date) partition but readiness_score, which "
    "readiness_job runs after it whenever the capture landed.",
)

readiness_job = dg.define_asset_job(
    "readiness_job",
    selection=dg.AssetSelection.assets("readiness_score"),
    description="readiness_score of one (source, date) partition, run after its partition run.",
)

daily_capture_job = dg.define_asset_job(
    "daily_capture_job",
    selection=dg.AssetSelection.assets("raw_capture"),
    description="Capture one (source, date) partition; downstream assets follow by automation.",
)


def sources_due(specs: dict, registered: set[str], day: dt.date) -> list[str]:
    """Enabled, registered sources whose data starts on or before ``day``."""
    return sorted(
        sid
        for sid, spec in specs.items()
        if spec.enabled and sid in registered and spec.start_date <= day
    )


@dg.schedule(
    job=daily_capture_job,
    cron_schedule="0 6 * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_capture_schedule(
    context: dg.ScheduleEvaluationContext, catalog: CatalogResource
) -> list[dg.RunRequest] | dg.SkipReason:
    """Requests the capture of yesterday's partition for every enabled source, one run per
    source; downstream assets follow by automation once the capture's checks pass."""
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
