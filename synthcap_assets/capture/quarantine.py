"""Quarantine: rows a source delivered but that must not land in ``raw/<source>``.

Every rejected row is kept, never silently dropped: one tidy table ``quarantine`` (partitioned
by source and date, like the reports) with the row's position in the delivery, the reason and
the row itself as JSON, so a person can query, fix and replay it. Re-capturing a partition
replaces that partition's quarantine rows together with its data. Each row carries
``raw_version``, the Delta version of ``raw/<source>`` committed by the same capture.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from synthcap_resources.lakehouse import LakehouseResource, WriteResult, report_table

QUARANTINE_TABLE = report_table("quarantine")
REASON_COLUMN = "_reason"
ROW_COLUMN = "_row"
QUARANTINE_SCHEMA = {
    "source": pl.Utf8,
    "date": pl.Date,
    "row": pl.Int64,
    "reason": pl.Utf8,
    "record": pl.Utf8,
    "quarantined_at": pl.Datetime("us", "UTC"),
    "raw_version": pl.Int64,
}


def quarantine_frame(
    source: str, day: dt.date, rejected: pl.DataFrame, raw_version: int | None = None
) -> pl.DataFrame:
    """Tidy quarantine rows from ``rejected`` (its columns plus ``_reason`` and ``_row``)."""
    if REASON_COLUMN not in rejected.columns:
        raise ValueError(f"rejected rows of {source} on {day} need a {REASON_COLUMN!r} column")
    data = [c for c in rejected.columns if c not in (REASON_COLUMN, ROW_COLUMN)]
    rows = (
        rejected[ROW_COLUMN].cast(pl.Int64).to_list()
        if ROW_COLUMN in rejected.columns
        else [None] * rejected.height
    )
    records = [json.dumps(r, default=str) for r in rejected.select(data).iter_rows(named=True)]
    now = dt.datetime.now(dt.UTC)
    return pl.DataFrame(
        {
            "source": [source] * rejected.height,
            "date": [day] * rejected.height,
            "row": rows,
            "reason": rejected[REASON_COLUMN].cast(pl.Utf8).to_list(),
            "record": records,
            "quarantined_at": [now] * rejected.height,
            "raw_version": [raw_version] * rejected.height,
        },
        schema=QUARANTINE_SCHEMA,
    )


def write_quarantine(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    rejected: list[pl.DataFrame],
    raw_version: int | None = None,
) -> WriteResult:
    """Replace the (source, day) partition of the quarantine table with ``rejected``.

    Called on every capture, with an empty list when nothing was rejected, so a re-capture
    that fixed the data also clears the partition's old quarantine rows.
    """
    frames = [quarantine_frame(source, day, r, raw_version) for r in rejected if r.height]
    rows = pl.concat(frames) if frames else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return lakehouse.write_partition(
        QUARANTINE_TABLE, rows, {"source": source, "date": day.isoformat()}
    )


def append_quarantine(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    rejected: list[pl.DataFrame],
    transaction: tuple[str, int] | None = None,
) -> WriteResult | None:
    """Add ``rejected`` to the (source, day) partition: a stream day is captured in many
    batches, and each batch's rejected rows must stay beside the earlier ones. Under a stream
    batch's ``transaction`` (app id, version) the rows are added once however often the batch
    is replayed; ``None`` when nothing was added."""
    frames = [quarantine_frame(source, day, r) for r in rejected if r.height]
    if not frames:
        return None
    partition_by = ["source", "date"]
    if transaction is None:
        return lakehouse.append(QUARANTINE_TABLE, pl.concat(frames), partition_by=partition_by)
    app_id, version = transaction
    return lakehouse.append_transaction(
        QUARANTINE_TABLE, pl.concat(frames), app_id, version, partition_by=partition_by
    )
