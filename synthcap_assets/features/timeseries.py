"""Per-entity time-series features: returns, lags, rolling statistics and OHLCV indicators.

All window computations run within one entity (``over(entity)``) on a frame already sorted by
(entity, time), so a series never borrows values from another entity or from the future.
Rolling windows span 5 rows and need at least 2 non-null values; nulls inside a window are
skipped, as pandas does with ``min_periods``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from synthcap_assets.features.generic import SEPARATOR, finite

WINDOW = 5
MIN_SAMPLES = 2
OHLCV = ("open", "high", "low", "close", "volume")
# Financial features that are not named after one input column, and what they derive from.
FINANCIAL_SOURCES = {
    "log_return": ("close",),
    "range_pct": ("high", "low", "close"),
    "volatility5": ("close",),
}


def sort_series(df: pl.DataFrame, entity: str | None, time: str | None) -> pl.DataFrame:
    """``df`` ordered by (entity, time), nulls last; without a time column, row order is kept."""
    keys = [c for c in (entity, time) if c is not None]
    return df.sort(keys, nulls_last=True, maintain_order=True) if keys else df


def _within(expr: pl.Expr, entity: str | None) -> pl.Expr:
    return expr.over(entity) if entity is not None else expr


def _pct_change(value: pl.Expr, entity: str | None) -> pl.Expr:
    previous = _within(value.shift(1), entity)
    # A change from zero (or from a missing value) has no defined percentage.
    return pl.when(previous != 0).then(value / previous - 1)


def series_features(
    df: pl.DataFrame, columns: Sequence[str], entity: str | None
) -> list[pl.Series]:
    """``__ret``, ``__lag1``, ``__lag2``, ``__roll_mean5`` and ``__roll_std5`` of each column."""
    exprs = []
    for column in columns:
        value = finite(column)
        name = f"{column}{SEPARATOR}"
        exprs += [
            _pct_change(value, entity).alias(f"{name}ret"),
            _within(value.shift(1), entity).alias(f"{name}lag1"),
            _within(value.shift(2), entity).alias(f"{name}lag2"),
            _within(value.rolling_mean(WINDOW, min_samples=MIN_SAMPLES), entity).alias(
                f"{name}roll_mean{WINDOW}"
            ),
            _within(value.rolling_std(WINDOW, min_samples=MIN_SAMPLES), entity).alias(
                f"{name}roll_std{WINDOW}"
            ),
        ]
    return df.select(exprs).get_columns() if exprs else []


def find_ohlcv(columns: Sequence[str]) -> dict[str, str]:
    """Lowercase OHLCV field -> the actual column name (matched case-insensitively)."""
    lowered = {c.lower(): c for c in reversed(columns)}
    return {field: lowered[field] for field in OHLCV if field in lowered}


def _zscore_within(value: pl.Expr, entity: str | None) -> pl.Expr:
    mean = _within(value.mean(), entity)
    std = _within(value.std(ddof=0), entity)
    return (
        pl.when(value.is_null())
        .then(None)
        .when(std.is_null() | (std == 0))
        .then(0.0)
        .otherwise((value - mean) / std)
    )


def financial_features(
    df: pl.DataFrame, ohlcv: dict[str, str], entity: str | None
) -> list[pl.Series]:
    """OHLCV indicators for whichever of their inputs exist (see ``ohlcv``).

    ``log_return``: log(close / previous close), null unless both are > 0; ``range_pct``:
    (high - low) / close; ``volatility5``: rolling std of ``log_return``; ``volume__z``: volume
    z-scored within its entity (volumes of different instruments differ by orders of
    magnitude, so a pooled score would mostly say which instrument a row is).
    """
    exprs: list[pl.Expr] = []
    if "close" in ohlcv:
        close = finite(ohlcv["close"])
        previous = _within(close.shift(1), entity)
        log_return = pl.when((close > 0) & (previous > 0)).then((close / previous).log())
        exprs.append(log_return.alias("log_return"))
    if {"high", "low", "close"} <= ohlcv.keys():
        close = finite(ohlcv["close"])
        spread = finite(ohlcv["high"]) - finite(ohlcv["low"])
        exprs.append(pl.when(close != 0).then(spread / close).alias("range_pct"))
    if "volume" in ohlcv:
        volume = finite(ohlcv["volume"])
        exprs.append(_zscore_within(volume, entity).alias(f"{ohlcv['volume']}{SEPARATOR}z"))
    if not exprs:
        return []
    out = df.with_columns(exprs)
    if "close" in ohlcv:
        volatility = pl.col("log_return").rolling_std(WINDOW, min_samples=MIN_SAMPLES)
        out = out.with_columns(_within(volatility, entity).alias(f"volatility{WINDOW}"))
    names = [e.meta.output_name() for e in exprs]
    if "close" in ohlcv:
        names.append(f"volatility{WINDOW}")
    return out.select(names).get_columns()
