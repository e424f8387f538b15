"""Statistical profile of a captured frame: one row per data column.

Each row holds counts, moments, 101 quantiles, an equal-width histogram and the most frequent
values, enough for the next day's drift check to compare against without the old rows. polars
only selects and cleans columns; the maths lives in small pure numpy functions (``moments``,
``quantiles``, ``histogram``, ``top_values``) so that a later step can swap them for JAX kernels.

Conventions: numbers are float64; dates and datetimes become days since 1970-01-01 (UTC) and
booleans 0/1. Float NaN and +/-inf count as nulls, because neither has a place on the number
line that a quantile or a histogram bin could use.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.columns import data_columns

QUANTILE_PROBS: tuple[float, ...] = tuple(i / 100 for i in range(101))
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
}


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


def moments(values: np.ndarray) -> tuple[float | None, float | None, float | None, float | None]:
    """(mean, sample std with ddof=1, min, max) of ``values``; None where undefined."""
    if values.size == 0:
        return None, None, None, None
    # np.std subtracts the mean before squaring, so a 1e12 offset does not cancel the spread.
    std = float(np.std(values, ddof=1)) if values.size >= 2 else None
    return float(np.mean(values)), std, float(values.min()), float(values.max())


def quantiles(values: np.ndarray) -> list[float] | None:
    """Values at ``QUANTILE_PROBS`` with linear interpolation (numpy's default method)."""
    if values.size == 0:
        return None
    return np.quantile(values, QUANTILE_PROBS).tolist()


def histogram(values: np.ndarray, bins: int) -> tuple[list[float], list[int]] | None:
    """(edges, counts): ``bins`` equal-width bins over [min, max], the last bin closed.

    A constant column gets the single bin ``[v, v]`` holding every value.
    """
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    if low == high:
        return [low, high], [int(values.size)]
    edges = np.linspace(low, high, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    return edges.tolist(), counts.astype(np.int64).tolist()


def top_values(series: pl.Series, top_k: int) -> tuple[list[str], list[int]]:
    """The ``top_k`` most frequent non-null values as strings with their counts.

    Ties are broken by the value in its own order (numbers numerically, strings lexically).
    """
    values = nullify_non_finite(series).drop_nulls().rename("value")
    if values.len() == 0 or top_k == 0:
        return [], []
    counts = values.value_counts()
    try:
        counts = counts.sort(["count", "value"], descending=[True, False])
    except pl.exceptions.PolarsError:
        # Some nested types cannot be ordered; fall back to their string form.
        counts = counts.with_columns(value_strings(counts["value"]))
        counts = counts.sort(["count", "value"], descending=[True, False])
    counts = counts.head(top_k)
    return value_strings(counts["value"]).to_list(), counts["count"].cast(pl.Int64).to_list()


def profile_column(series: pl.Series, *, bins: int = 20, top_k: int = 10) -> dict[str, object]:
    """One profile row (a dict keyed like ``PROFILE_SCHEMA``) for one column."""
    clean = nullify_non_finite(series)
    nulls = clean.null_count()
    count = clean.len() - nulls
    row: dict[str, object] = {
        "column": series.name,
        "dtype": str(series.dtype),
        "semantic_type": infer_semantic_type(clean),
        "count": count,
        "nulls": nulls,
        "distinct": clean.drop_nulls().n_unique() if count else 0,
    }
    values = numeric_values(clean)
    mean, std, low, high = moments(values) if values is not None else (None,) * 4
    row.update(mean=mean, std=std, min=low, max=high)
    quantitative = values is not None and is_quantitative(clean.dtype)
    row["quantiles"] = quantiles(values) if quantitative else None
    hist = histogram(values, bins) if quantitative else None
    row["hist_edges"], row["hist_counts"] = hist if hist is not None else (None, None)
    row["top_values"], row["top_counts"] = top_values(clean, top_k)
    return row


def profile_frame(df: pl.DataFrame, *, bins: int = 20, top_k: int = 10) -> pl.DataFrame:
    """Profile every data column of ``df`` (capture metadata ignored); schema ``PROFILE_SCHEMA``."""
    if bins < 1:
        raise ProfileError(f"bins must be at least 1, got {bins}")
    if top_k < 0:
        raise ProfileError(f"top_k must be 0 or more, got {top_k}")
    rows = [profile_column(df.get_column(c), bins=bins, top_k=top_k) for c in data_columns(df)]
    return pl.DataFrame(rows, schema=PROFILE_SCHEMA)


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
