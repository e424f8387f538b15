"""Readiness after every partition run: a run-status sensor pair (success and failure).

In a Dagster run a failed blocking check skips every downstream step, so a day whose sample
fails its usefulness check, or whose quality gate fails, would never reach ``readiness_score``
through automation. When any run of a (source, date) partition ends — succeeded or failed —
and that day's capture landed in the lake, these sensors request ``readiness_job`` (only
``readiness_score``) for the partition, in a run of its own where no upstream check can skip
it: the UI and daemon path, like ``synthcap materialize``, ends every captured day with a
readiness row.

Not requested: for readiness runs themselves, for a successful run that already materialized
``readiness_score``, for runs without a (source, date) partition, while another run of the same
partition is still queued or running (its end triggers the request), and when no row of the
day was captured. The run key names the run that ended, so each ended run asks once.
"""

import datetime as dt

import dagster as dg

from synthcap_assets.automation.schedules import readiness_job
from synthcap_assets.columns import DATE_COLUMN
from synthcap_assets.partitions import source_date_partitions
from synthcap_resources.lakehouse import LakehouseResource, raw_table

READINESS_ASSET = dg.AssetKey("readiness_score")
PARTITION_TAG = "dagster/partition"
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def readiness_request(
    instance: dg.DagsterInstance, run: dg.DagsterRun, lakehouse: LakehouseResource
) -> dg.RunRequest | dg.SkipReason:
    """The readiness run to request after ``run`` ended, or why none is."""
    key = run.tags.get(PARTITION_TAG)
    if run.job_name == readiness_job.name:
        return dg.SkipReason(f"run {run.run_id} is itself a readiness run")
    if not key:
        return dg.SkipReason(f"run {run.run_id} has no partition")
    try:
        dims = source_date_partitions.get_partition_key_from_str(key).keys_by_dimension
    except (ValueError, KeyError, IndexError):
        return dg.SkipReason(f"run {run.run_id}: {key!r} is not a (source, date) partition")
    selected = run.asset_selection or frozenset()
    if run.status == dg.DagsterRunStatus.SUCCESS and READINESS_ASSET in selected:
        return dg.SkipReason(f"run {run.run_id} already materialized readiness_score for {key}")
    active = instance.get_run_records(
        dg.RunsFilter(tags={PARTITION_TAG: key}, statuses=ACTIVE), limit=5
    )
    if any(r.dagster_run.run_id != run.run_id for r in active):
        return dg.SkipReason(f"another run of {key} is still in progress; its end will ask")
    source, day = dims["source"], dt.date.fromisoformat(dims["date"])
    if lakehouse.read_partition(raw_table(source), {DATE_COLUMN: day}) is None:
        return dg.SkipReason(f"no capture landed for {key}: nothing to score")
    return dg.RunRequest(
        run_key=f"readiness:{run.run_id}",
        partition_key=key,
        tags={"synthcap/trigger": "readiness_after_run", "synthcap/after_run": run.run_id},
    )


def _sensor(status: dg.DagsterRunStatus, name: str, ended: str) -> dg.RunStatusSensorDefinition:
    @dg.run_status_sensor(
        run_status=status,
        name=name,
        request_job=readiness_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=f"Requests readiness_job for a (source, date) after its run {ended}.",
    )
    def readiness_after_run(
        context: dg.RunStatusSensorContext, lakehouse: LakehouseResource
    ) -> dg.RunRequest | dg.SkipReason:
        return readiness_request(context.instance, context.dagster_run, lakehouse)

    return readiness_after_run


readiness_after_success = _sensor(
    dg.DagsterRunStatus.SUCCESS, "readiness_after_success", "succeeded"
)
readiness_after_failure = _sensor(dg.DagsterRunStatus.FAILURE, "readiness_after_failure", "failed")
READINESS_SENSORS = [readiness_after_success, readiness_after_failure]
