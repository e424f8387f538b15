"""Readiness after every partition run: a run-status sensor pair (success and failure).

In a Dagster run a failed blocking check skips every downstream step, so a day whose sample
fails its usefulness check, or whose quality gate fails, would never reach ``readiness_score``
through automation. When any run of a (source, date) partition ends — succeeded or failed —
and that day's capture landed in the lake, these sensors request ``readiness_job`` (only
``readiness_score``) for the partition, in a run of its own where no upstream check can skip
it: the UI and daemon path, like ``synthcap materialize``, ends every captured day with a
readiness row.

A run executed by ``WarmRunLauncher``'s run worker (the embedded default) does not wait for the
sensors' next tick (every 30 s): as its run ends, the worker calls ``request_after_run``, which
applies the same rules and submits the readiness run to the queue at once (the daemon path's
partition then ends about as soon after its run as the demo's). The sensors stay as they are,
for runs of other launchers and for a worker that died; they skip a run whose readiness run was
already requested (``synthcap/after_run`` names it). Were a sensor tick to read the run's end in
the tenth of a second before its worker submits, the day would be scored twice (the same row).

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
AFTER_RUN_TAG = "synthcap/after_run"
REQUESTED_BY_TAG = "synthcap/requested_by"  # on the readiness runs a run worker requested
ENDED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
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
    if instance.get_run_records(dg.RunsFilter(tags={AFTER_RUN_TAG: run.run_id}), limit=1):
        return dg.SkipReason(f"the readiness run after run {run.run_id} was already requested")
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
        tags={"synthcap/trigger": "readiness_after_run", AFTER_RUN_TAG: run.run_id},
    )


def request_after_run(instance: dg.DagsterInstance, run_id: str) -> str:
    """Submit the readiness run that ``readiness_request`` asks for after the run ``run_id``
    ended, to the instance's queue, from the process that ran it (``WarmRunLauncher``'s run
    worker calls this as its run ends; see the module docstring). Returns what it did."""
    from dagster._core.remote_origin import RemoteJobOrigin
    from dagster._utils.hosted_user_process import recon_job_from_origin

    run = instance.get_run_by_id(run_id)
    if run is None or run.status not in ENDED or run.job_code_origin is None:
        status = "not found" if run is None else run.status.value
        return f"no readiness run requested after run {run_id} ({status})"
    if run.job_name == readiness_job.name or PARTITION_TAG not in run.tags:
        return f"no readiness run requested after run {run_id} (not a partition run)"
    origin = run.job_code_origin._replace(job_name=readiness_job.name)
    job = recon_job_from_origin(origin).get_definition()
    lakehouse = {"lakehouse": job.resource_defs["lakehouse"]}
    with dg.build_resources(lakehouse, instance=instance) as resources:
        request = readiness_request(instance, run, resources.lakehouse)
    if isinstance(request, dg.SkipReason):
        return request.skip_message or "skipped"
    remote = run.remote_job_origin
    partition_tags = {k: v for k, v in run.tags.items() if k.startswith(PARTITION_TAG)}
    readiness = instance.create_run_for_job(
        job_def=job,
        tags={**partition_tags, **request.tags, REQUESTED_BY_TAG: "run_worker"},
        job_code_origin=origin,
        remote_job_origin=(
            RemoteJobOrigin(remote.repository_origin, readiness_job.name) if remote else None
        ),
    )
    instance.submit_run(readiness.run_id, workspace=None)
    return f"readiness run {readiness.run_id} submitted after run {run_id}"


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
