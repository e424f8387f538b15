"""Column conventions shared by every stage: the metadata columns capture adds to each row."""

from __future__ import annotations

import datetime as dt

import polars as pl

SOURCE_COLUMN = "_source"
DATE_COLUMN = "_date"
CAPTURED_AT_COLUMN = "_captured_at"
META_COLUMNS = (SOURCE_COLUMN, DATE_COLUMN, CAPTURED_AT_COLUMN)


def data_columns(df: pl.DataFrame) -> list[str]:
    """The source's own columns of ``df``: everything but capture metadata."""
    return [c for c in df.columns if c not in META_COLUMNS]


def without_meta(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` without the capture metadata columns."""
    return df.select(data_columns(df))


def as_report_rows(df: pl.DataFrame, source: str, day: dt.date) -> pl.DataFrame:
    """``df`` with ``source`` and ``date`` leading: the tidy shape every report table shares."""
    return df.select(
        pl.lit(source, dtype=pl.Utf8).alias("source"),
        pl.lit(day, dtype=pl.Date).alias("date"),
        pl.all(),
    )


def as_source_rows(df: pl.DataFrame, source: str, day: dt.date) -> pl.DataFrame:
    """``df`` with ``_source`` and ``_date``: the shape of per-source derived tables."""
    return df.with_columns(
        pl.lit(source, dtype=pl.Utf8).alias(SOURCE_COLUMN),
        pl.lit(day, dtype=pl.Date).alias(DATE_COLUMN),
    )
