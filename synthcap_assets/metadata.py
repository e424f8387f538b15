"""Materialization metadata shared by every asset: rows, table URI, Delta version, schema,
and the per-column tables the Dagster UI shows (``dg.MetadataValue.table``).

``written_metadata`` also records the write for the asset's OpenLineage events. Column
descriptions come from the catalog's ``columns:`` (what a source's column means) and from
``REPORT_COLUMN_DOCS`` (what a report table's statistic means).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl

from synthcap_assets.lineage.recording import record_write
from synthcap_resources.lakehouse import WriteResult

# What each column of the report tables holds (shown in the UI's column schema).
REPORT_COLUMN_DOCS: dict[str, str] = {
    "source": "source id (catalog file name)",
    "date": "partition date",
    "column": "the source's column; '*' is the whole table",
    "dtype": "the column's data type as captured",
    "semantic_type": "inferred kind: numeric, categorical, datetime, text, identifier, ...",
    "count": "non-null values",
    "nulls": "null (missing) values",
    "distinct": "distinct non-null values (exact or sketched, see distinct_exact)",
    "mean": "arithmetic mean",
    "std": "standard deviation",
    "min": "smallest value",
    "max": "largest value",
    "quantiles": "101 percentiles p0..p100",
    "hist_edges": "equal-width histogram bin edges",
    "hist_counts": "rows per histogram bin",
    "top_values": "most frequent values",
    "top_counts": "rows per top value",
    "kind": "row kind: numeric, categorical, identifier, schema, no_reference",
    "method": "the test or distance that decides drift",
    "statistic": "the deciding method's value",
    "threshold": "the value at which the column counts as drifted",
    "psi": "population stability index against the previous day",
    "drifted": "whether the column drifted against the previous day",
    "detail": "why, in words",
    "score": "0-100 score",
    "completeness": "share of non-missing values",
    "uniqueness": "share of distinct values (key uniqueness for the table)",
    "validity": "share of values valid for the declared type",
    "consistency": "share of rows passing the catalog's rules",
    "timeliness": "share of timestamps within max_age_days",
    "accuracy": "share of values matching the reference",
    "volume": "whether the row count is within the expected range",
    "pii_type": "detected kind of personal data",
    "handling": "what happens to the column downstream (drop, tokenize, generalize, ...)",
    "direct_identifier": "identifies a person on its own",
    "quasi_identifier": "identifies a person in combination with others",
    "k_anonymity": "smallest group of rows sharing the quasi-identifier values",
}


def column_schema(
    df: pl.DataFrame, descriptions: Mapping[str, str] | None = None
) -> dg.TableSchema:
    """``df``'s columns as a Dagster table schema (shown in the UI's asset page), described by
    ``descriptions`` (the catalog's ``columns:``) or else by ``REPORT_COLUMN_DOCS``."""
    docs = {**REPORT_COLUMN_DOCS, **(descriptions or {})}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=str(dtype), description=docs.get(name))
            for name, dtype in df.schema.items()
        ]
    )


def _table_type(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "bool"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return "string"


def _cell(value: Any, kind: str) -> str | int | float | bool | None:
    if value is None:
        return None
    if kind == "float":
        return round(float(value), 4) if math.isfinite(value) else None
    if kind in ("int", "bool"):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def frame_table(
    df: pl.DataFrame, descriptions: Mapping[str, str] | None = None
) -> dg.MetadataValue:
    """``df`` as a metadata table with a typed schema (the UI renders it as a table)."""
    kinds = {name: _table_type(dtype) for name, dtype in df.schema.items()}
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=kind, description=(descriptions or {}).get(name))
            for name, kind in kinds.items()
        ]
    )
    records = [
        dg.TableRecord({k: _cell(v, kinds[k]) for k, v in row.items()})
        for row in df.iter_rows(named=True)
    ]
    return dg.MetadataValue.table(records=records, schema=schema)


def _pick(df: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The named columns of ``df`` in that order; a missing one is left out."""
    return df.select([c for c in columns if c in df.columns])


def profile_table(stats: pl.DataFrame, descriptions: Mapping[str, str]) -> dg.MetadataValue:
    """The profile as the UI's per-column table: type, nulls, distinct, mean, p50, min, max and
    the catalog's description of the column."""
    totals = pl.col("count") + pl.col("nulls")
    p50 = (
        pl.col("quantiles").list.get(50, null_on_oob=True)
        if "quantiles" in stats.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    table = stats.select(
        "column",
        pl.col("semantic_type").alias("type"),
        "nulls",
        pl.when(totals > 0).then(pl.col("nulls") / totals).otherwise(0.0).alias("null_share"),
        "distinct",
        "mean",
        p50.alias("p50"),
        "min",
        "max",
        pl.col("column").replace_strict(dict(descriptions), default=None).alias("description"),
    )
    return frame_table(table, PROFILE_TABLE_DOCS)


PROFILE_TABLE_DOCS = {
    "type": "inferred semantic type",
    "null_share": "nulls / rows",
    "p50": "median (histogram-refined, rank bound in the profile table)",
    "description": "what the column means (catalog 'columns:')",
}
DRIFT_TABLE_COLUMNS = ("column", "kind", "method", "statistic", "threshold", "psi", "drifted")


def drift_table(drift: pl.DataFrame) -> dg.MetadataValue:
    """The drift report as the UI's per-column table: method, statistic, threshold, PSI,
    drifted and why."""
    return frame_table(_pick(drift, (*DRIFT_TABLE_COLUMNS, "detail")), REPORT_COLUMN_DOCS)


def markdown_list(lines: Sequence[str], empty: str = "none") -> dg.MetadataValue:
    """``lines`` as a markdown bullet list (``empty`` when there are none)."""
    return dg.MetadataValue.md("\n".join(f"- {line}" for line in lines) or empty)


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
    written: WriteResult,
    df: pl.DataFrame,
    headline: Mapping[str, Any] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Metadata for a partition write plus the asset's headline numbers (``None`` ones left
    out); ``descriptions`` name what the written columns mean (the catalog's ``columns:``)."""
    record_write(written, df)
    metadata: dict[str, Any] = {
        "dagster/row_count": written.rows,
        "dagster/column_schema": column_schema(df, descriptions),
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
