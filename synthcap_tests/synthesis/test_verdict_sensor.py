"""The readiness sensors' decision for runs that ended: which ask for a readiness run and why
the others do not (a real instance, a real lake with one captured day)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_assets.automation.readiness_sensor import READINESS_SENSORS, readiness_request
from synthcap_assets.automation.schedules import daily_partition_job, readiness_job
from synthcap_assets.partitions import partition_key
from synthcap_resources.lakehouse import LakehouseResource, raw_table

DAY = dt.date(2026, 11, 16)
KEY = str(partition_key("shop", DAY))


@pytest.fixture
def lakehouse(tmp_path: Path) -> LakehouseResource:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    rows = pl.DataFrame({"x": [1, 2, 3], "_source": ["shop"] * 3, "_date": [DAY] * 3})
    lake.write_partition(raw_table("shop"), rows, {"_date": DAY})
    return lake


def _run(status: dg.DagsterRunStatus, job: str, key: str | None = KEY, **kw) -> dg.DagsterRun:
    tags = {"dagster/partition": key} if key else {}
    return dg.DagsterRun(
        job_name=job, run_id=f"{job}-{status.value}", status=status, tags=tags, **kw
    )


def test_an_ended_partition_run_of_a_captured_day_asks_for_readiness(lakehouse) -> None:
    with dg.instance_for_test() as instance:
        for status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE):
            run = _run(status, daily_partition_job.name)
            request = readiness_request(instance, run, lakehouse)
            assert isinstance(request, dg.RunRequest)
            assert request.partition_key == KEY and request.run_key == f"readiness:{run.run_id}"
        assert {s.name for s in READINESS_SENSORS} == {
            "readiness_after_success",
            "readiness_after_failure",
        }


def test_runs_that_need_no_readiness_run_say_why(lakehouse) -> None:
    ended = dg.DagsterRunStatus.FAILURE
    with dg.instance_for_test() as instance:
        cases = {
            "is itself a readiness run": _run(ended, readiness_job.name),
            "has no partition": _run(ended, daily_partition_job.name, key=None),
            "no capture landed": _run(
                ended, daily_partition_job.name, key=str(partition_key("shop", DAY.replace(day=17)))
            ),
            "already materialized readiness_score": _run(
                dg.DagsterRunStatus.SUCCESS,
                "__ASSET_JOB",
                asset_selection=frozenset({dg.AssetKey("readiness_score")}),
            ),
        }
        for why, run in cases.items():
            skipped = readiness_request(instance, run, lakehouse)
            assert isinstance(skipped, dg.SkipReason) and why in skipped.skip_message, why
        # while another run of the partition is still going, its end asks instead
        instance.add_run(_run(dg.DagsterRunStatus.STARTED, "__ASSET_JOB"))
        waiting = readiness_request(instance, _run(ended, daily_partition_job.name), lakehouse)
        assert isinstance(waiting, dg.SkipReason) and "still in progress" in waiting.skip_message
