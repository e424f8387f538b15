"""Statistical profile of a captured frame: one row per data column.

Each row holds counts, moments, 101 quantiles, an equal-width histogram, outlier counts and
the most frequent values, plus the column's mergeable kernel state (``state``) so that day
profiles merge into range profiles (drift is computed from both days' rows, not from these
summaries: see ``profile/drift.py``). polars only selects, cleans and codes columns; the
maths is the JAX kernels'.

Conventions: numbers are float64; dates and datetimes become days since 1970-01-01 (UTC) and
booleans 0/1. Float NaN and +/-inf count as nulls, because neither has a place on the number
line that a quantile or a histogram bin could use.
"""

from __future__ import annotations

import contextlib

import numpy as np
import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.privacy.redact import redact_value
from synthcap_assets.profile.state import QUANTILE_PROBS as QUANTILE_PROBS
from synthcap_assets.profile.state import (
    STATE_SCHEMA,
    hashed_values,
    kernel_state,
    state_fields,
    statistics,
    value_counts,
)

SEMANTIC_TYPES = ("numeric", "boolean", "datetime", "categorical", "text", "identifier", "empty")
# Integer columns with at most this many distinct values are codes or levels, not quantities.
CATEGORICAL_MAX_DISTINCT = 20
IDENTIFIER_MIN_COUNT = 20
IDENTIFIER_MAX_MEAN_LENGTH = 40
TEXT_MIN_MEAN_WORDS = 4
_US_PER_DAY = 86_400_000_000
_STRING_TYPES = (pl.String, pl.Categorical, pl.Enum)

PROFILE_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8(),
    "dtype": pl.Utf8(),
    "semantic_type": pl.Utf8(),
    "count": pl.Int64(),
    "nulls": pl.Int64(),
    "distinct": pl.Int64(),
    "mean": pl.Float64(),
    "std": pl.Float64(),
    "min": pl.Float64(),
    "max": pl.Float64(),
    "quantiles": pl.List(pl.Float64()),
    "hist_edges": pl.List(pl.Float64()),
    "hist_counts": pl.List(pl.Int64()),
    "top_values": pl.List(pl.Utf8()),
    "top_counts": pl.List(pl.Int64()),
    "distinct_exact": pl.Boolean(),
    # How the kernels saw the column: "quantitative" (numbers, dates), "values" (booleans:
    # moments but no quantiles) or "hash" (strings and others: distinct count only).
    "value_kind": pl.Utf8(),
    "sum": pl.Float64(),
    "var": pl.Float64(),
    "skewness": pl.Float64(),
    "kurtosis": pl.Float64(),
    "zeros": pl.Int64(),
    "negatives": pl.Int64(),
    "rank_error": pl.Float64(),
    "outliers_robust_z": pl.Int64(),
    "outliers_iqr": pl.Int64(),
    **STATE_SCHEMA,
}
# Statistics that only numbers have; hashed columns (strings, ...) report them as null.
_VALUE_STATISTICS = ("mean", "std", "min", "max", "sum", "var", "skewness", "kurtosis")
_VALUE_STATISTICS += ("zeros", "negatives")


class ProfileError(ValueError):
    """A profile frame or a profiling parameter is unusable; the message says what to fix."""


def nullify_non_finite(series: pl.Series) -> pl.Series:
    """``series`` with float NaN and +/-inf turned into nulls; other types are returned as is."""
    if not series.dtype.is_float():
        return series
    return series.to_frame().select(pl.when(pl.first().is_finite()).then(pl.first())).to_series()


def is_quantitative(dtype: pl.DataType) -> bool:
    """Whether quantiles and histograms make sense for ``dtype`` (numbers, dates, datetimes)."""
    return dtype.is_numeric() or dtype == pl.Date or dtype == pl.Datetime


def numeric_values(series: pl.Series) -> np.ndarray | None:
    """Finite non-null values of ``series`` as float64, or None for a type with no number line.

    Dates and datetimes become days since the epoch, booleans 0/1.
    """
    dtype = series.dtype
    if dtype == pl.Date:
        floats = series.cast(pl.Int32).cast(pl.Float64)
    elif dtype == pl.Datetime:
        floats = series.dt.epoch("us").cast(pl.Float64) / _US_PER_DAY
    elif dtype == pl.Boolean or dtype.is_numeric():
        floats = series.cast(pl.Float64)
    else:
        return None
    values = floats.drop_nulls().to_numpy().astype(np.float64, copy=False)
    return values[np.isfinite(values)]


def value_strings(series: pl.Series) -> pl.Series:
    """Non-null values of ``series`` as strings, formatted the same way for every caller."""
    values = nullify_non_finite(series).drop_nulls()
    try:
        return values.cast(pl.String)
    except pl.exceptions.InvalidOperationError:
        # Durations, lists and other nested types have no polars string cast.
        return pl.Series(values.name, [str(v) for v in values.to_list()], dtype=pl.String)


def infer_semantic_type(series: pl.Series) -> str:
    """What the column means, one of ``SEMANTIC_TYPES``, judged from its non-null values."""
    values = nullify_non_finite(series).drop_nulls()
    if values.len() == 0:
        return "empty"
    dtype = values.dtype
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Date or dtype == pl.Datetime:
        return "datetime"
    if dtype.is_float() or dtype.is_decimal():
        return "numeric"
    if dtype.is_integer():
        return "numeric" if values.n_unique() > CATEGORICAL_MAX_DISTINCT else "categorical"
    if any(dtype == t for t in _STRING_TYPES):
        return _string_semantic_type(values.cast(pl.String))
    return "categorical"


def _string_semantic_type(values: pl.Series) -> str:
    count = values.len()
    mean_length = float(values.str.len_chars().mean() or 0.0)
    if (
        values.n_unique() == count
        and count >= IDENTIFIER_MIN_COUNT
        and mean_length < IDENTIFIER_MAX_MEAN_LENGTH
    ):
        return "identifier"
    mean_words = float(values.str.count_matches(r"\S+").mean() or 0.0)
    return "text" if mean_words >= TEXT_MIN_MEAN_WORDS else "categorical"


def kernel_column(series: pl.Series) -> np.ndarray:
    """``series`` as the float64 column the kernels profile, NaN where missing: numbers, dates
    and booleans by value (the ``numeric_values`` convention), anything else by a hash of its
    string form (``state.hashed_values``), which only the distinct count reads."""
    dtype = series.dtype
    if dtype == pl.Date:
        floats = series.cast(pl.Int32).cast(pl.Float64)
    elif dtype == pl.Datetime:
        floats = series.dt.epoch("us").cast(pl.Float64) / _US_PER_DAY
    elif dtype == pl.Boolean or dtype.is_numeric():
        floats = series.cast(pl.Float64)
    else:
        return hashed_values(value_strings_aligned(series))
    values = floats.to_numpy().astype(np.float64, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def value_strings_aligned(series: pl.Series) -> pl.Series:
    """Every value of ``series`` as a string, nulls (and NaN/inf) kept as nulls in place."""
    clean = nullify_non_finite(series)
    try:
        return clean.cast(pl.String)
    except pl.exceptions.InvalidOperationError:
        return pl.Series(
            clean.name, [None if v is None else str(v) for v in clean.to_list()], pl.String
        )


def sorted_value_counts(series: pl.Series) -> tuple[list[str], list[int], bool]:
    """Value counts of ``series`` as strings, ties broken by the value in its own order."""
    labels, counts, complete = value_counts(value_strings_aligned(series))
    if not labels:
        return labels, counts, complete
    ordered = _value_order(series)
    rank = {label: i for i, label in enumerate(ordered)}
    ranked = sorted(zip(labels, counts, strict=True), key=lambda lc: (-lc[1], rank.get(lc[0], 0)))
    return [lc[0] for lc in ranked], [lc[1] for lc in ranked], complete


def _value_order(series: pl.Series) -> list[str]:
    values = nullify_non_finite(series).drop_nulls().unique()
    # Nested types have no order; their string order (the default) decides.
    with contextlib.suppress(pl.exceptions.PolarsError):
        values = values.sort()
    return value_strings(values).to_list()


def redacted_counts(labels: list[str], counts: list[int]) -> tuple[list[str], list[int]]:
    """Value labels with personal data replaced by the one redactor's placeholders (a free-text
    column's values are whole documents: a report must not keep their emails or phones),
    counts of labels that become equal summed, by count then label as before."""
    redacted = [redact_value(label) for label in labels]
    if redacted == labels:
        return labels, counts
    total: dict[str, int] = {}
    for label, count in zip(redacted, counts, strict=True):
        total[label] = total.get(label, 0) + int(count)
    first = {label: i for i, label in reversed(list(enumerate(redacted)))}
    ranked = sorted(total, key=lambda label: (-total[label], first[label]))
    return ranked, [total[label] for label in ranked]


def profile_rows(
    meta: list[dict[str, object]],
    state_rows: list[dict[str, object]],
    stat_rows: list[dict[str, object]],
    counts: list[tuple[list[str], list[int], bool]],
    *,
    top_k: int,
) -> pl.DataFrame:
    """Profile rows (``PROFILE_SCHEMA``) from per-column metadata, stored states, finished
    statistics and value counts; one builder for day profiles and merged range profiles."""
    rows = []
    for info, state, stats, (labels, values, complete) in zip(
        meta, state_rows, stat_rows, counts, strict=True
    ):
        row: dict[str, object] = {**info, **stats, **state}
        kind = row["value_kind"]
        if kind == "hash":
            for key in _VALUE_STATISTICS:
                row[key] = None
        if kind != "quantitative" or not stats["count"]:
            row.update(quantiles=None, hist_edges=None, hist_counts=None, rank_error=None)
            row.update(outliers_robust_z=None, outliers_iqr=None)
        if kind != "quantitative":
            labels, values = redacted_counts(labels, values)
        row.update(
            top_values=labels[:top_k],
            top_counts=values[:top_k],
            value_labels=labels,
            value_counts=values,
            value_counts_complete=complete,
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=PROFILE_SCHEMA)


def column_meta(series: pl.Series) -> dict[str, object]:
    """What a profile row says of a column besides its statistics."""
    clean = nullify_non_finite(series)
    dtype = clean.dtype
    if numeric_values(clean.head(0)) is None:
        kind = "hash"
    else:
        kind = "quantitative" if is_quantitative(dtype) else "values"
    return {
        "column": series.name,
        "dtype": str(series.dtype),
        "semantic_type": infer_semantic_type(clean),
        "value_kind": kind,
    }


def profile_frame(df: pl.DataFrame, *, bins: int = 20, top_k: int = 10) -> pl.DataFrame:
    """Profile every data column of ``df`` (capture metadata ignored); schema ``PROFILE_SCHEMA``.

    The statistics come from one ``kernels.profile`` pass over all columns (``state``)."""
    if bins < 1:
        raise ProfileError(f"bins must be at least 1, got {bins}")
    if top_k < 0:
        raise ProfileError(f"top_k must be 0 or more, got {top_k}")
    names = data_columns(df)
    if not names:
        return pl.DataFrame(schema=PROFILE_SCHEMA)
    series = [df.get_column(c) for c in names]
    state = kernel_state([kernel_column(s) for s in series])  # may hold padding columns
    return profile_rows(
        [column_meta(s) for s in series],
        state_fields(state)[: len(series)],
        statistics(state, bins)[: len(series)],
        [sorted_value_counts(s) for s in series],
        top_k=top_k,
    )


def check_profile(profile: pl.DataFrame) -> None:
    """Raise ProfileError unless ``profile`` has every column ``profile_frame`` writes."""
    missing = [c for c in PROFILE_SCHEMA if c not in profile.columns]
    if missing:
        raise ProfileError(
            f"profile frame lacks columns {missing}; pass a frame made by profile_frame"
        )


def profile_summary(profile: pl.DataFrame) -> dict[str, float | int]:
    """Headline numbers of a profile: column counts per semantic type, null shares, rows."""
    check_profile(profile)
    totals = (profile["count"] + profile["nulls"]).to_numpy().astype(np.float64)
    nulls = profile["nulls"].to_numpy().astype(np.float64)
    # A column of a 0-row frame has no null share to speak of; count it as 0.
    shares = np.divide(nulls, totals, out=np.zeros_like(nulls), where=totals > 0)
    kinds = profile["semantic_type"].to_list()
    summary: dict[str, float | int] = {
        "columns": profile.height,
        "rows": int(totals.max()) if profile.height else 0,
        "total_nulls": int(nulls.sum()),
        "mean_null_share": float(shares.mean()) if profile.height else 0.0,
        "max_null_share": float(shares.max()) if profile.height else 0.0,
        "constant_columns": int((profile["distinct"] == 1).sum()),
    }
    for kind in SEMANTIC_TYPES:
        summary[f"{kind}_columns"] = kinds.count(kind)
    return summary
