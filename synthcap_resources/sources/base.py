"""The connector contract: every kind of source (file, http_api, database, stream) is read
through the same three calls, so ``raw_capture`` does not care where rows come from.

- ``check(spec)``: can the source be reached right now? Raises :class:`SourceUnreachableError`.
- ``discover(spec)``: the source's columns and their catalog types (``str``, ``int``, ...).
- ``read(spec, window, cursor)``: the rows of one date window as a :class:`CaptureBatch`.

Incremental sources return the cursor to resume from in ``CaptureBatch.cursor``; the capture
asset stores it in the lake only after the rows are committed, so a failed write never skips
data. Every error is a :class:`SourceReadError` subclass whose message names the source, the
partition and the cause.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from synthcap_resources.catalog import SourceSpec


class SourceReadError(RuntimeError):
    """A source's data for a day could not be read: missing, empty, malformed or refused."""


class SourceFileMissingError(SourceReadError):
    """No file exists for the source on that day."""


class EmptySourceError(SourceReadError):
    """The source holds no rows for the day."""


class SourceUnreachableError(SourceReadError):
    """The source's host, server or broker cannot be reached (or keeps failing)."""


@dataclass(frozen=True)
class DateWindow:
    """The half-open time window ``[start, end)`` of one daily partition, in UTC."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of_day(cls, day: dt.date) -> DateWindow:
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        return cls(day=day, start=start, end=start + dt.timedelta(days=1))

    def where(self, source_id: str) -> str:
        """The phrase every error message starts with."""
        return f"source {source_id!r}, partition {self.day.isoformat()}"


@dataclass(frozen=True)
class FileEntry:
    """One landed file: where it is, how big and when it last changed (seconds since epoch)."""

    path: str
    size: int
    mtime: float


@dataclass
class CaptureBatch:
    """What one read of one window produced."""

    rows: pl.DataFrame
    # Where the rows came from (file paths, URLs, table names): for lineage and audit.
    origins: list[str] = field(default_factory=list)
    # Cursor to store after the rows are committed (incremental sources); None: not incremental.
    cursor: dict[str, Any] | None = None
    # Rows that could not be parsed at read time, with a ``_reason`` column, for quarantine.
    rejected: pl.DataFrame | None = None
    # Stream sources: append under this Delta transaction ``(app_id, version)`` instead of
    # replacing the partition, so a replayed batch is committed once.
    transaction: tuple[str, int] | None = None
    # Called after the rows (and cursor) are committed, never before: e.g. the broker ack.
    on_committed: Callable[[], None] | None = None
    # File sources: the files read (path, size, mtime), recorded as captured after the commit.
    files: list[FileEntry] = field(default_factory=list)


class Connector(Protocol):
    """One kind of source. Implementations live beside this module, one per kind."""

    def check(self, spec: SourceSpec) -> None: ...

    def discover(self, spec: SourceSpec) -> dict[str, str]: ...

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch: ...
