"""Reads every downstream asset shares: a partition of an upstream table, or a clear error.

Each partition read is recorded as an input of the running asset's OpenLineage run.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from synthcap_assets.columns import DATE_COLUMN
from synthcap_assets.lineage.recording import record_read
from synthcap_resources.lakehouse import LakehouseResource, raw_table, report_table


class MissingUpstreamError(RuntimeError):
    """An upstream partition an asset needs has not been materialized."""


def captured_rows(lakehouse: LakehouseResource, source: str, day: dt.date) -> pl.DataFrame:
    """The ``raw_capture`` rows of (source, day)."""
    rows = lakehouse.read_partition(raw_table(source), {DATE_COLUMN: day})
    if rows is None:
        raise MissingUpstreamError(
            f"source {source!r}, partition {day}: raw_capture has no rows; materialize it first"
        )
    record_read(raw_table(source), {DATE_COLUMN: day})
    return rows


def report_rows(
    lakehouse: LakehouseResource, asset: str, source: str, day: dt.date, *, required: bool = True
) -> pl.DataFrame | None:
    """The rows a report asset wrote for (source, day); ``None`` if absent and not required."""
    partition = {"source": source, "date": day}
    rows = lakehouse.read_partition(report_table(asset), partition)
    if rows is None and required:
        raise MissingUpstreamError(
            f"source {source!r}, partition {day}: {asset} has no rows; materialize it first"
        )
    if rows is not None:
        record_read(report_table(asset), partition)
    return rows
