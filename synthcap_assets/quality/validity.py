"""Value-level validity for the quality report: declared-type conversion and sanity checks.

Captured files often arrive with looser types than the catalog declares (a CSV integer column
with one stray ``"n/a"`` is read as strings). :func:`as_declared` converts a column to its
declared type value by value, leaving null wherever a value does not convert, so the quality
report can count the share that does and rules can compare typed values. :func:`value_ok`
holds the checks that apply whatever the declaration: finite floats, plausible dates and no
control characters in strings. Written here because polars' strict casts either fail the
whole column or, with ``strict=False``, accept formats (and whitespace rules) we do not want.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

DECLARED_TYPES = ("str", "int", "float", "bool", "date", "datetime")
EARLIEST_DATE = dt.date(1900, 1, 1)
# Control characters other than tab, newline and carriage return, which free text may hold.
_CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
# ISO 8601 shapes accepted for datetimes written as text; offsets are converted to UTC.
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")


def is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def parse_datetime_text(s: pl.Series) -> pl.Series:
    """Text to naive ``Datetime('us')``: ISO dates or datetimes, null where none matches."""
    text = s.cast(pl.String).str.strip_chars()
    attempts = [
        text.str.to_datetime(f, strict=False, exact=True, time_unit="us") for f in _NAIVE_FORMATS
    ]
    attempts += [
        text.str.to_datetime(f, strict=False, exact=True, time_unit="us")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
        for f in _AWARE_FORMATS
    ]
    frame = pl.DataFrame({f"a{i}": a for i, a in enumerate(attempts)})
    return frame.select(pl.coalesce(frame.columns)).to_series().alias(s.name)


def naive(s: pl.Series) -> pl.Series:
    """Datetimes as wall-clock time without a zone, so they compare with naive bounds."""
    if isinstance(s.dtype, pl.Datetime) and s.dtype.time_zone is not None:
        return s.dt.replace_time_zone(None)
    return s


def _nulls(s: pl.Series, dtype: pl.DataType) -> pl.Series:
    return pl.Series(s.name, [None] * len(s), dtype=dtype)


def as_declared(s: pl.Series, declared: str) -> pl.Series:
    """``s`` converted to the ``declared`` type, null wherever a value does not convert."""
    return _convert(s, declared).alias(s.name)


def _convert(s: pl.Series, declared: str) -> pl.Series:
    dtype = s.dtype
    text = is_text(dtype)
    stripped = s.cast(pl.String).str.strip_chars() if text else s
    if declared == "str":
        if text:
            return s.cast(pl.String)
        if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean:
            return s.cast(pl.String)
        return _nulls(s, pl.String)  # nested or binary values are not text
    if declared == "int":
        if dtype.is_integer():
            return s
        if dtype.is_float():
            whole = s.is_finite() & (s == s.floor())
            return pl.select(pl.when(whole).then(s)).to_series().cast(pl.Int64, strict=False)
        return stripped.cast(pl.Int64, strict=False) if text else _nulls(s, pl.Int64)
    if declared == "float":
        if dtype.is_numeric():
            return s.cast(pl.Float64)
        return stripped.cast(pl.Float64, strict=False) if text else _nulls(s, pl.Float64)
    if declared == "bool":
        if dtype == pl.Boolean:
            return s
        if dtype.is_integer():
            return pl.select(pl.when(s == 1).then(True).when(s == 0).then(False)).to_series()
        if text:
            lowered = stripped.str.to_lowercase()
            flag = pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
            return pl.select(flag).to_series()
        return _nulls(s, pl.Boolean)
    if declared == "date":
        if dtype == pl.Date:
            return s
        if isinstance(dtype, pl.Datetime):
            local = naive(s)
            midnight = local.dt.truncate("1d") == local  # a time of day is not a date
            return pl.select(pl.when(midnight).then(local.dt.date())).to_series()
        return stripped.str.to_date("%Y-%m-%d", strict=False) if text else _nulls(s, pl.Date)
    if declared == "datetime":
        if isinstance(dtype, pl.Datetime):
            return naive(s)
        if dtype == pl.Date:
            return s.cast(pl.Datetime("us"))
        return parse_datetime_text(s) if text else _nulls(s, pl.Datetime("us"))
    raise ValueError(f"unknown declared type {declared!r}; use one of {', '.join(DECLARED_TYPES)}")


def value_ok(s: pl.Series, partition_date: dt.date) -> pl.Series:
    """Per value: passes the type-independent sanity checks (null where ``s`` is null)."""
    dtype = s.dtype
    if dtype.is_float():
        return s.is_finite()
    latest = partition_date + dt.timedelta(days=1)
    if dtype == pl.Date:
        return (s >= EARLIEST_DATE) & (s <= latest)
    if isinstance(dtype, pl.Datetime):
        local = naive(s)
        # The whole day partition_date + 1 is allowed: the date part is what is compared.
        end = dt.datetime.combine(latest + dt.timedelta(days=1), dt.time())
        return (local >= dt.datetime.combine(EARLIEST_DATE, dt.time())) & (local < end)
    if is_text(dtype):
        return ~s.cast(pl.String).str.contains(_CONTROL_CHARS)
    return pl.Series(s.name, [True] * len(s), dtype=pl.Boolean)
