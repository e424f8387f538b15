"""Capture state kept in the lake: incremental cursors and the files already captured.

- ``state/cursors``: one row appended per committed capture of an incremental source
  (source, date, cursor as JSON, stored_at); the latest ``stored_at`` per source wins.
  ``raw_capture`` appends only after the data commit, so a failed write never skips data.
- ``state/captured_files``: one row per file read by a committed capture (path, size,
  mtime); the landing sensor compares what landed with it, so each file is captured once.

Both are append-only Delta tables written through :class:`LakehouseResource`; each row
carries ``raw_version``, the Delta version of ``raw/<source>`` its capture committed (null for a
replayed stream batch), so bookkeeping and data can be matched.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from synthcap_resources.lakehouse import LakehouseResource, WriteResult
from synthcap_resources.sources.base import FileEntry

CURSORS_TABLE = "state/cursors"
CAPTURED_FILES_TABLE = "state/captured_files"

CURSOR_SCHEMA = {
    "source": pl.Utf8,
    "date": pl.Date,
    "cursor": pl.Utf8,
    "stored_at": pl.Datetime("us", "UTC"),
    "raw_version": pl.Int64,
}
FILES_SCHEMA = {
    "source": pl.Utf8,
    "date": pl.Date,
    "path": pl.Utf8,
    "size": pl.Int64,
    "mtime": pl.Float64,
    "captured_at": pl.Datetime("us", "UTC"),
    "raw_version": pl.Int64,
}

FileKey = tuple[str, int, float]


def store_cursor(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    cursor: dict[str, Any],
    raw_version: int | None = None,
) -> WriteResult:
    """Append ``cursor`` as the latest state of ``source`` (call after the data commit)."""
    row = pl.DataFrame(
        {
            "source": [source],
            "date": [day],
            "cursor": [json.dumps(cursor, sort_keys=True, default=str)],
            "stored_at": [dt.datetime.now(dt.UTC)],
            "raw_version": [raw_version],
        },
        schema=CURSOR_SCHEMA,
    )
    return lakehouse.append(CURSORS_TABLE, row)


def latest_cursor(lakehouse: LakehouseResource, source: str) -> dict[str, Any] | None:
    """The cursor most recently stored for ``source``, or ``None``."""
    table = lakehouse.read_table(CURSORS_TABLE)
    if table is None:
        return None
    mine = table.filter(pl.col("source") == source)
    if mine.height == 0:
        return None
    return json.loads(mine.sort("stored_at")["cursor"][-1])


def record_captured_files(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    files: Iterable[FileEntry],
    raw_version: int | None = None,
) -> WriteResult | None:
    """Note ``files`` as captured for (``source``, ``day``); call after the data commit."""
    entries = list(files)
    if not entries:
        return None
    now = dt.datetime.now(dt.UTC)
    rows = pl.DataFrame(
        {
            "source": [source] * len(entries),
            "date": [day] * len(entries),
            "path": [e.path for e in entries],
            "size": [e.size for e in entries],
            "mtime": [float(e.mtime) for e in entries],
            "captured_at": [now] * len(entries),
            "raw_version": [raw_version] * len(entries),
        },
        schema=FILES_SCHEMA,
    )
    return lakehouse.append(CAPTURED_FILES_TABLE, rows)


def captured_files(lakehouse: LakehouseResource, source: str) -> set[FileKey]:
    """(path, size, mtime) of every file captured for ``source``: a file that changed
    (new size or mtime) counts as new."""
    table = lakehouse.read_table(CAPTURED_FILES_TABLE)
    if table is None:
        return set()
    mine = table.filter(pl.col("source") == source)
    return set(zip(mine["path"], mine["size"], mine["mtime"], strict=True))


def file_key(entry: FileEntry) -> FileKey:
    return (entry.path, int(entry.size), float(entry.mtime))
