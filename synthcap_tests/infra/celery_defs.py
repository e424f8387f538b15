"""Jobs for the Celery tests, loaded by the Celery workers from this module: a light
partitioned asset for the smoke test, and synthcap's own capture -> quality -> profile for the
slow one, both on the Celery executor (broker from ``SYNTHCAP_CELERY_BROKER``). synthcap's
assets are imported only by the slow job's loader, so the smoke runs start fast.

Runs are launched from separate processes (``launch``): ``execute_job`` in threads of one
process deadlocks in ``logging.config.dictConfig``."""

import os
import socket
import time

import dagster as dg
import polars as pl
from dagster_celery import celery_executor

from synthcap_resources.lakehouse import LakehouseResource, lake_root

DAYS = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"]
CELERY_CONFIG = {"execution": {"config": {"broker": {"env": "SYNTHCAP_CELERY_BROKER"}}}}
WORKER_ENV = "SYNTHCAP_TEST_WORKER"


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(DAYS))
def worker_day(context: dg.AssetExecutionContext, lakehouse: LakehouseResource) -> None:
    """One row per day naming the Celery worker that wrote it; prints to the step log."""
    worker = os.environ.get(WORKER_ENV, socket.gethostname())
    print(f"worker_day {context.partition_key} on {worker}")  # reaches the compute logs
    time.sleep(1.0)  # long enough that four runs at once spread over both workers
    frame = pl.DataFrame({"day": [context.partition_key], "worker": [worker]})
    lakehouse.write_partition("reports/worker_day", frame, {"day": context.partition_key})


smoke_job = dg.define_asset_job("celery_smoke", [worker_day], executor_def=celery_executor)


def get_smoke_job() -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[worker_day],
        jobs=[smoke_job],
        resources={"lakehouse": LakehouseResource(root=lake_root())},
    )
    return defs.resolve_job_def(smoke_job.name)


def get_partition_job() -> dg.JobDefinition:
    from synthcap_assets.capture.assets import raw_capture
    from synthcap_assets.definitions import build_resources
    from synthcap_assets.partitions import source_date_partitions
    from synthcap_assets.profile.assets import profile
    from synthcap_assets.quality.assets import quality_report

    job = dg.define_asset_job(
        "celery_partition",
        [raw_capture, quality_report, profile],
        executor_def=celery_executor,
        partitions_def=source_date_partitions,
    )
    defs = dg.Definitions(
        assets=[raw_capture, quality_report, profile], jobs=[job], resources=build_resources()
    )
    return defs.resolve_job_def(job.name)


def launch(
    job: str, env: dict[str, str], run_config: dict, tags: dict[str, str]
) -> tuple[bool, str]:
    """Launch one run of ``job`` (``smoke`` or ``partition``) and wait for it (in a spawned
    process); returns (success, run id)."""
    os.environ.update(env)
    job_fn = get_smoke_job if job == "smoke" else get_partition_job
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(job_fn), instance, run_config=run_config, tags=tags
        )
        return result.success, result.run_id
