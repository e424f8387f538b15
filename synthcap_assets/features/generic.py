"""Features for every domain: z-scored numbers, one-hot categories and calendar parts of dates.

Every feature is named ``<input column>__<suffix>`` so its lineage can be read off its name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

SEPARATOR = "__"


def is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() and dtype != pl.Boolean


def is_categorical(dtype: pl.DataType) -> bool:
    return dtype in (pl.String, pl.Boolean) or isinstance(dtype, pl.Categorical | pl.Enum)


def is_temporal(dtype: pl.DataType) -> bool:
    return dtype == pl.Date or isinstance(dtype, pl.Datetime)


def finite(column: str) -> pl.Expr:
    """``column`` as Float64 with NaN and +-inf turned into null (they would poison means)."""
    value = pl.col(column).cast(pl.Float64)
    return pl.when(value.is_finite()).then(value)


def slug(value: object) -> str:
    """A lowercase ASCII identifier for a category value: "New York" -> "new_york"."""
    text = re.sub(r"[^0-9a-z]+", "_", str(value).lower()).strip("_")
    return text or "empty"


def zscore(df: pl.DataFrame, column: str) -> pl.Series:
    """Standard score with the population std; 0.0 for a constant column, null stays null."""
    value = df.select(finite(column)).to_series()
    mean, std = value.mean(), value.std(ddof=0)
    if mean is None or std is None or std == 0:
        scored = pl.when(value.is_null()).then(None).otherwise(0.0)
        return df.select(scored.cast(pl.Float64)).to_series()
    return (value - mean) / std


def one_hot(df: pl.DataFrame, column: str, max_categories: int) -> list[pl.Series]:
    """Int8 indicators ``<col>__is_<slug>``; none when the column has > max_categories values.

    Null rows are 0 in every indicator. Values whose slugs collide get a numeric suffix.
    """
    values = df[column].cast(pl.String)
    categories = sorted(values.drop_nulls().unique().to_list())
    if not categories or len(categories) > max_categories:
        return []
    out, used = [], set()
    for category in categories:
        name = f"{column}{SEPARATOR}is_{slug(category)}"
        suffix = 2
        while name in used:
            name = f"{column}{SEPARATOR}is_{slug(category)}_{suffix}"
            suffix += 1
        used.add(name)
        out.append((values == category).fill_null(False).cast(pl.Int8).alias(name))
    return out


def calendar(df: pl.DataFrame, column: str) -> list[pl.Series]:
    """``__year``, ``__month`` and ``__dayofweek`` (0 = Monday .. 6 = Sunday) as Int64."""
    col = pl.col(column)
    return df.select(
        col.dt.year().cast(pl.Int64).alias(f"{column}{SEPARATOR}year"),
        col.dt.month().cast(pl.Int64).alias(f"{column}{SEPARATOR}month"),
        (col.dt.weekday().cast(pl.Int64) - 1).alias(f"{column}{SEPARATOR}dayofweek"),
    ).get_columns()


def generic_features(
    df: pl.DataFrame,
    columns: Sequence[str],
    *,
    max_categories: int,
    calendar_only: Sequence[str] = (),
) -> list[pl.Series]:
    """Generic features of ``columns``; ``calendar_only`` columns get date parts and nothing else.

    Numbers are z-scored, string/bool columns with at most ``max_categories`` distinct values
    are one-hot encoded, dates and datetimes are split into calendar parts; other columns
    (high-cardinality strings, lists, durations, ...) give no features.
    """
    out: list[pl.Series] = []
    for column in columns:
        dtype = df.schema[column]
        if is_temporal(dtype):
            out.extend(calendar(df, column))
        elif column in calendar_only:
            continue
        elif is_numeric(dtype):
            out.append(zscore(df, column).alias(f"{column}{SEPARATOR}z"))
        elif is_categorical(dtype):
            out.extend(one_hot(df, column, max_categories))
    return out
