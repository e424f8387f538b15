"""Concurrent writers on one Delta table of an S3 lake (moto), as Dagster runs on the production
instance (PostgreSQL): four processes write four different partitions, two more write the same
one. Every committed partition is present once; a writer that loses the race for the same
partition fails with ``ConcurrentWriteError`` and ``retries_lost_writes`` runs it again."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.infra.conftest import LAKE_BUCKET
from synthcap_tests.infra.writers import TABLE, write

WRITERS = [("a", "w1"), ("b", "w2"), ("c", "w3"), ("d", "w4"), ("same", "w5"), ("same", "w6")]


@pytest.mark.usefixtures("prod_home")
def test_concurrent_writers_commit_once_and_losers_retry(tmp_path: Path) -> None:
    lake = f"s3://{LAKE_BUCKET}/concurrency-{tmp_path.name}"
    lakehouse = LakehouseResource(root=lake)
    with dg.DagsterInstance.get() as instance:
        instance.upgrade()
    # The table and the contested partition exist before the race (writer w0).
    lakehouse.write_partition(
        TABLE, pl.DataFrame({"source": ["same"], "writer": ["w0"], "i": [0]}), {"source": "same"}
    )
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "DAGSTER_", "SYNTHCAP_"))}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(len(WRITERS)) as pool:
        barrier, first = manager.Barrier(len(WRITERS)), manager.Event()
        outcomes = pool.starmap(
            write, [(env, lake, part, writer, barrier, first) for part, writer in WRITERS]
        )
    assert all(o.startswith("ok ") for o in outcomes), outcomes

    table = lakehouse.read_table(TABLE)
    counts = dict(table.group_by("source").len().iter_rows())
    assert counts == {"a": 100, "b": 100, "c": 100, "d": 100, "same": 100}
    for part, writer in WRITERS[:4]:
        assert set(table.filter(source=part)["writer"]) == {writer}
    same = set(table.filter(source="same")["writer"])
    assert same == {"w6"}  # the loser's retry ran last: one writer's rows, never a mix

    with dg.DagsterInstance.get() as instance:
        failures, restarts = [], 0
        for outcome in outcomes:
            run_id = outcome.split()[1]
            for record in instance.all_logs(run_id):
                event = record.dagster_event
                if event is None:
                    continue
                if event.event_type == dg.DagsterEventType.STEP_FAILURE:
                    failures.append(event.step_failure_data.error)
                if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
                    restarts += 1
                    failures.append(event.event_specific_data.error)
    # Losers failed with the specific error (never anything else) and were retried.
    assert all(e.cause is not None and e.cause.cls_name == "ConcurrentWriteError" for e in failures)
    assert restarts == len(failures) == 1  # w6, exactly once


def test_a_lost_race_for_one_partition_is_a_concurrent_write_error(tmp_path: Path) -> None:
    """Deterministically: a writer that read version 0 replaces a partition another writer
    replaced since; delta-rs refuses the commit and the lakehouse names it."""
    from synthcap_resources.lakehouse import ConcurrentWriteError, LakehouseError, _write_error

    lake = LakehouseResource(root=str(tmp_path))
    rows = pl.DataFrame({"source": ["same"], "writer": ["w0"], "i": [0]})
    lake.write_partition(TABLE, rows, {"source": "same"})
    lake.write_partition(TABLE, rows.with_columns(writer=pl.lit("w1")), {"source": "same"})
    with pytest.raises(ConcurrentWriteError, match="run it again"):
        lake.write_partition(
            TABLE, rows.with_columns(writer=pl.lit("w2")), {"source": "same"}, read_version=0
        )
    assert lake.read_table(TABLE)["writer"].to_list() == ["w1"]  # the loser changed nothing
    assert lake.version(TABLE) == 1
    # Another partition changed since the read is no conflict; other failures stay generic.
    other = rows.with_columns(source=pl.lit("other"))
    assert lake.write_partition(TABLE, other, {"source": "other"}, read_version=0).version == 2
    assert type(_write_error("t", ValueError("bad"))) is LakehouseError
