"""What the running asset read and wrote, recorded for its OpenLineage events.

A context variable holds the running asset's recorder (set by ``hooks.emits_lineage``), so the
shared helpers report what actually happened without new parameters: ``reads.py`` calls
:func:`record_read` for each upstream partition it reads, ``metadata.py`` :func:`record_write`
for each partition written, and an asset that knows how its columns derive calls
:func:`record_column_lineage`. Outside a wrapped run these calls do nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl

from synthcap_resources.lakehouse import (
    PER_SOURCE_TABLES,
    PartitionValue,
    WriteResult,
    report_table,
)

FOLDER_OF_ASSET = {asset: folder for folder, asset in PER_SOURCE_TABLES.items()}


@dataclass(frozen=True)
class Read:
    """A partition of a lake table read (``namespace`` None), or an outside dataset (a file)."""

    table: str
    partition: dict[str, str]
    namespace: str | None = None


@dataclass(frozen=True)
class ColumnLineage:
    """How each column of an output derives from columns of one input table."""

    input_table: str
    derived_from: Mapping[str, Sequence[str]]
    description: str
    masking: bool
    same_name_is_identity: bool


@dataclass
class Recorder:
    """Everything one asset run read and wrote, in order."""

    reads: list[Read] = field(default_factory=list)
    writes: list[tuple[WriteResult, pl.DataFrame]] = field(default_factory=list)
    column_lineage: dict[str, ColumnLineage] = field(default_factory=dict)


ACTIVE: ContextVar[Recorder | None] = ContextVar("synthcap_lineage_recorder", default=None)


def _text(value: PartitionValue) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def record_read(table: str, partition: Mapping[str, PartitionValue]) -> None:
    """Note that the running asset read ``partition`` of ``table``."""
    _add_read(Read(table, {k: _text(v) for k, v in partition.items()}))


def record_source_read(location: str) -> None:
    """Note that the running asset read a source at ``location`` (a path or a URL).

    Named as OpenLineage names files: namespace ``file`` and the absolute path, or the URL's
    ``scheme://host`` and its path.
    """
    if "://" in location and not location.startswith("file://"):
        parts = urlsplit(location)
        _add_read(Read(parts.path.lstrip("/"), {}, f"{parts.scheme}://{parts.netloc}"))
    else:
        path = str(Path(location.removeprefix("file://")).resolve())
        _add_read(Read(path, {}, "file"))


def _add_read(read: Read) -> None:
    recorder = ACTIVE.get()
    if recorder is not None and read not in recorder.reads:
        recorder.reads.append(read)


def record_write(written: WriteResult, df: pl.DataFrame) -> None:
    """Note that the running asset wrote ``df`` as ``written``."""
    recorder = ACTIVE.get()
    if recorder is not None:
        recorder.writes.append((written, df))


def record_column_lineage(
    output_table: str,
    input_table: str,
    derived_from: Mapping[str, Sequence[str]],
    description: str,
    *,
    masking: bool = False,
    same_name_is_identity: bool = True,
) -> None:
    """Note which ``input_table`` columns each ``output_table`` column derives from, and how."""
    recorder = ACTIVE.get()
    if recorder is not None:
        recorder.column_lineage[output_table] = ColumnLineage(
            input_table, dict(derived_from), description, masking, same_name_is_identity
        )


def asset_table(asset: str, source: str) -> str:
    """The table an asset writes for ``source``: ``raw/<source>`` … or ``reports/<asset>``."""
    folder = FOLDER_OF_ASSET.get(asset)
    return f"{folder}/{source}" if folder else report_table(asset)


def asset_partition(asset: str, source: str, day: dt.date) -> dict[str, str]:
    """The Delta partition an asset writes for (source, day)."""
    if asset in FOLDER_OF_ASSET:
        return {"_date": day.isoformat()}
    return {"source": source, "date": day.isoformat()}
