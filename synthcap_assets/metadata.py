"""Materialization metadata shared by every asset: rows, table URI, Delta version, schema.

``written_metadata`` also records the write for the asset's OpenLineage events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
import polars as pl

from synthcap_assets.lineage.recording import record_write
from synthcap_resources.lakehouse import WriteResult


def column_schema(df: pl.DataFrame) -> dg.TableSchema:
    """``df``'s columns as a Dagster table schema (shown in the UI's asset page)."""
    return dg.TableSchema(
        columns=[dg.TableColumn(name=name, type=str(dtype)) for name, dtype in df.schema.items()]
    )


def _headline(value: Any) -> Any:
    if isinstance(value, dg.MetadataValue):
        return value
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return dg.MetadataValue.json(list(value))
    if isinstance(value, dict):
        return dg.MetadataValue.json(value)
    return value


def written_metadata(
    written: WriteResult, df: pl.DataFrame, headline: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Metadata for a partition write plus the asset's headline numbers (``None`` ones left out)."""
    record_write(written, df)
    metadata: dict[str, Any] = {
        "dagster/row_count": written.rows,
        "dagster/column_schema": column_schema(df),
        "table": written.table,
        "table_uri": dg.MetadataValue.path(written.uri),
        "delta_version": written.version,
    }
    for key, value in (headline or {}).items():
        if value is not None:
            metadata[key] = _headline(value)
    return metadata


def preview(df: pl.DataFrame, rows: int = 10) -> dg.MetadataValue:
    """A markdown preview of the first rows, for the UI."""
    head = df.head(rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return dg.MetadataValue.md("\n".join(lines))
