"""Conform captured rows to the source's declared schema and stamp them with capture metadata.

Runs inside ``raw_capture`` before the write: a declared column that is missing, or a value
that cannot be read as its declared type, stops the capture with a message naming the column,
the row and the value, so nothing non-conforming lands.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from synthcap_assets.columns import CAPTURED_AT_COLUMN, DATE_COLUMN, META_COLUMNS, SOURCE_COLUMN

POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.Utf8(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}


class SchemaConformError(ValueError):
    """Captured rows do not fit the declared schema."""


def _cast(series: pl.Series, declared: str) -> pl.Series:
    target = POLARS_TYPES[declared]
    if series.dtype == target:
        return series
    if series.dtype == pl.Utf8 and declared == "date":
        return series.str.strip_chars().str.to_date(strict=False)
    if series.dtype == pl.Utf8 and declared == "datetime":
        return series.str.strip_chars().str.to_datetime(strict=False, time_unit="us")
    if series.dtype == pl.Utf8 and declared == "bool":
        lowered = series.str.strip_chars().str.to_lowercase()
        mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        return lowered.replace_strict(mapping, default=None, return_dtype=pl.Boolean)
    if isinstance(series.dtype, pl.Datetime) and declared == "date":
        return series.dt.date()
    if declared == "int" and series.dtype.is_float():
        # 3.0 is an int; 3.5 is not: non-whole numbers become nulls and are reported.
        whole = pl.when(series % 1 == 0).then(series).otherwise(None)
        return pl.select(whole.cast(pl.Int64, strict=False)).to_series().alias(series.name)
    return series.cast(target, strict=False)


def conform(
    df: pl.DataFrame, declared_schema: Mapping[str, str] | None, where: str
) -> pl.DataFrame:
    """``df`` with declared columns cast to their declared types; extra columns kept as read.

    ``where`` names the source and partition for error messages.
    """
    reserved = [c for c in df.columns if c in META_COLUMNS]
    if reserved:
        raise SchemaConformError(f"{where}: column(s) {reserved} are reserved for capture metadata")
    if not declared_schema:
        return df
    missing = [c for c in declared_schema if c not in df.columns]
    if missing:
        raise SchemaConformError(
            f"{where}: schema drift: declared column(s) {missing} missing from the data "
            f"(found {df.columns})"
        )
    columns = []
    for name in df.columns:
        series = df[name]
        if name in declared_schema:
            cast = _cast(series, declared_schema[name])
            broken = series.is_not_null() & cast.is_null()
            if broken.any():
                row = int(broken.arg_max())
                raise SchemaConformError(
                    f"{where}: column {name!r} declared {declared_schema[name]} but "
                    f"{int(broken.sum())} value(s) are not, e.g. row {row + 1}: {series[row]!r}"
                )
            series = cast
        columns.append(series)
    return pl.DataFrame(columns)


def add_capture_columns(
    df: pl.DataFrame, source: str, day: dt.date, captured_at: dt.datetime
) -> pl.DataFrame:
    """``df`` plus ``_source``, ``_date`` and ``_captured_at``."""
    return df.with_columns(
        pl.lit(source, dtype=pl.Utf8).alias(SOURCE_COLUMN),
        pl.lit(day, dtype=pl.Date).alias(DATE_COLUMN),
        pl.lit(captured_at, dtype=pl.Datetime("us", "UTC")).alias(CAPTURED_AT_COLUMN),
    )
