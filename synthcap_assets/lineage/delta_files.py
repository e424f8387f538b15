"""Output statistics of a partition write, read from the Delta table's add actions.

Wiring, not logic: it reads table metadata through the lakehouse resource (no data files are
opened) so that lineage can report the files and bytes a write left in its partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from synthcap_resources.lakehouse import LakehouseResource, WriteResult


@dataclass(frozen=True)
class PartitionFiles:
    """The data files of one partition in one Delta version."""

    files: int
    bytes: int
    rows: int


def partition_files(lakehouse: LakehouseResource, written: WriteResult) -> PartitionFiles:
    """Files, bytes and rows of ``written``'s partition in the version it committed.

    A partition write replaces the whole partition, so the partition's files in that version
    are exactly the files the write added.
    """
    delta = lakehouse.delta_table(written.table)
    if delta is None:
        return PartitionFiles(files=0, bytes=0, rows=0)
    delta.load_as_version(written.version)
    actions = pa.table(delta.get_add_actions(flatten=True)).to_pylist()
    mine = [
        action
        for action in actions
        if all(
            str(action.get(f"partition.{column}")) == value
            for column, value in written.partition.items()
        )
    ]
    return PartitionFiles(
        files=len(mine),
        bytes=sum(int(a["size_bytes"]) for a in mine),
        rows=sum(int(a["num_records"] or 0) for a in mine),
    )
