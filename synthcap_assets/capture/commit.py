"""Commit one capture: the rows first, then what depends on them having landed.

Order inside ``raw_capture`` (each step only after the one before succeeded):

1. the rows: one Delta commit replacing the (source, date) partition of ``raw/<source>``;
   a stream batch (``CaptureBatch.transaction``) is appended under its Delta transaction id
   instead, so a replayed batch lands once;
2. the quarantine partition (``quarantine.write_quarantine``, called by the asset);
3. the cursor (``state/cursors``) and the files read (``state/captured_files``);
4. ``CaptureBatch.on_committed`` (e.g. the broker ack).

A failure at step 1 leaves the lake as it was; a failure after it leaves the data and an
unadvanced cursor, so the next capture re-reads rather than skips.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from synthcap_assets.columns import DATE_COLUMN
from synthcap_resources.lakehouse import LakehouseResource, WriteResult, raw_table
from synthcap_resources.sources.base import CaptureBatch
from synthcap_resources.sources.state import record_captured_files, store_cursor


def commit_rows(
    lakehouse: LakehouseResource, source: str, day: dt.date, rows: pl.DataFrame, batch: CaptureBatch
) -> WriteResult | None:
    """Write the rows; ``None`` when a stream transaction was already committed."""
    if batch.transaction is None:
        return lakehouse.write_partition(raw_table(source), rows, {DATE_COLUMN: day})
    app_id, version = batch.transaction
    return lakehouse.append_transaction(
        raw_table(source), rows, app_id, version, partition_by=[DATE_COLUMN]
    )


def after_commit(
    lakehouse: LakehouseResource, source: str, day: dt.date, batch: CaptureBatch
) -> dict[str, Any]:
    """Store the cursor and the captured files, then run ``on_committed``; returns metadata."""
    metadata: dict[str, Any] = {}
    if batch.cursor is not None:
        store_cursor(lakehouse, source, day, batch.cursor)
        metadata["cursor"] = batch.cursor
    if batch.files:
        record_captured_files(lakehouse, source, day, batch.files)
        metadata["files_captured"] = len(batch.files)
    if batch.on_committed is not None:
        batch.on_committed()
    return metadata
