"""Concurrent writers for the concurrency test: each process materializes one partition of one
Delta table on the S3 lake as a Dagster run on the shared PostgreSQL instance. The asset
carries synthcap's own ``retries_lost_writes`` (every synthcap asset gets it through
``emits_lineage``; no lineage resource here). All writers pass a barrier right before their
first write attempt, each writing against the version it saw before it (``read_version``).
Of the two writers of partition ``same``, the second waits until the first has committed, so
it loses the race every time: its first attempt fails with ``ConcurrentWriteError`` and is retried
(``RetryRequested``)."""

import os
import traceback
from typing import Any

import dagster as dg
import polars as pl

from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.write_retry import retries_lost_writes

TABLE = "reports/concurrency"
partitions = dg.StaticPartitionsDefinition(["a", "b", "c", "d", "same"])
FIRST_SAME, SECOND_SAME = "w5", "w6"  # the two writers of partition "same"
_barrier: Any = None
_first_committed: Any = None


class WriterConfig(dg.Config):
    writer: str


@dg.asset(partitions_def=partitions)
@retries_lost_writes
def concurrent_writes(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, config: WriterConfig
) -> dg.MaterializeResult:
    """Replaces its partition with 100 rows tagged by the writer."""
    writer = config.writer
    frame = pl.DataFrame(
        {"source": [context.partition_key] * 100, "writer": [writer] * 100, "i": range(100)}
    )
    read_version = None
    if context.retry_number == 0 and _barrier is not None:
        read_version = lakehouse.version(TABLE)  # what this writer saw before the race
        _barrier.wait(timeout=120)
        if writer == SECOND_SAME:
            # The race, made certain: the other writer of the same partition commits first.
            _first_committed.wait(timeout=120)
    try:
        written = lakehouse.write_partition(
            TABLE, frame, {"source": context.partition_key}, read_version=read_version
        )
    finally:
        if writer == FIRST_SAME and _first_committed is not None:
            _first_committed.set()
    return dg.MaterializeResult(metadata={"version": written.version, "writer": writer})


def write(
    env: dict[str, str], lake: str, partition: str, writer: str, barrier: Any, first: Any
) -> str:
    """Run one writer (in a spawned process); returns ``ok <run id>`` or the error."""
    global _barrier, _first_committed
    os.environ.update(env)
    _barrier, _first_committed = barrier, first
    try:
        with dg.DagsterInstance.get() as instance:
            result = dg.materialize(
                [concurrent_writes],
                partition_key=partition,
                resources={"lakehouse": LakehouseResource(root=lake)},
                run_config={"ops": {"concurrent_writes": {"config": {"writer": writer}}}},
                instance=instance,
                raise_on_error=False,
            )
            return f"{'ok' if result.success else 'failed'} {result.run_id}"
    except Exception:  # the parent asserts on this text
        return "error " + traceback.format_exc()
