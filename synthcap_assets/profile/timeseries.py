"""Time-series profile of a day's capture (timeseries and financial sources), on the kernels.

For each numeric column and each entity (ticker, ...; the whole table when the source names no
entity column), the values ordered by the source's time column form one series; all series of
a column go to the kernels at once (series × time, padded). Per series: lag-1 autocorrelation
(FFT), the dominant seasonal period and its strength, the ADF statistic and p-value (constant,
lag chosen as statsmodels' default 12·(n/100)^¼ capped by the series length), the OLS trend
slope and r², the variance ratio VR(5) of the increments (of log levels for positive columns),
and volatility clustering: the lag-1 autocorrelation of squared returns. Series shorter than
``MIN_POINTS`` are left out: none of these numbers means anything on a handful of points.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.kernels.timeseries import (
    acf,
    seasonal_period,
    trend,
    variance_ratio,
    volatility_clustering,
)
from synthcap_assets.kernels.ts_adf import adf
from synthcap_assets.profile.stats import kernel_column

MIN_POINTS = 30
VR_LAGS = 5
TIMESERIES_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8(),
    "entity": pl.Utf8(),
    "points": pl.Int64(),
    "acf_1": pl.Float64(),
    "seasonal_period": pl.Int64(),
    "seasonal_strength": pl.Float64(),
    "adf_statistic": pl.Float64(),
    "adf_pvalue": pl.Float64(),
    "adf_lags": pl.Int64(),
    "trend_slope": pl.Float64(),
    "trend_r2": pl.Float64(),
    "variance_ratio": pl.Float64(),
    "variance_ratio_z": pl.Float64(),
    "volatility_clustering": pl.Float64(),
}


def _series(df: pl.DataFrame, column: str, time_column: str, entity: str | None):
    """(entity labels, series × time matrix with NaN padding at the end) of one column."""
    groups = [("*", df)] if entity is None else df.group_by(entity, maintain_order=True)
    labels, rows = [], []
    for key, part in groups:
        values = kernel_column(part.sort(time_column).get_column(column))
        values = values[np.isfinite(values)]  # interior nulls dropped: kernels need contiguity
        if values.size >= MIN_POINTS:
            labels.append(str(key[0] if isinstance(key, tuple) else key))
            rows.append(values)
    if not rows:
        return [], np.empty((0, 0))
    matrix = np.full((len(rows), max(r.size for r in rows)), np.nan)
    for i, r in enumerate(rows):
        matrix[i, : r.size] = r
    return labels, matrix


def _increments(matrix: np.ndarray) -> np.ndarray:
    """Returns of a level series: log differences when every level is positive, else plain
    differences; NaN padding stays at the end."""
    finite = matrix[np.isfinite(matrix)]
    levels = np.log(matrix) if finite.size and (finite > 0).all() else matrix
    return np.diff(levels, axis=1)


def timeseries_profile(
    df: pl.DataFrame, time_column: str, entity_column: str | None, columns: list[str]
) -> pl.DataFrame:
    """One row (``TIMESERIES_SCHEMA``) per (numeric column, entity) series."""
    out = []
    for column in columns:
        labels, matrix = _series(df, column, time_column, entity_column)
        if not labels:
            continue
        counts = np.isfinite(matrix).sum(axis=1)
        shortest = int(counts.min())
        lags = int(min(12 * (shortest / 100) ** 0.25, shortest // 2 - 3))
        test = adf(matrix, max(lags, 0))
        season = seasonal_period(matrix, max_period=shortest // 2)
        line = trend(matrix)
        levels = np.log(matrix) if (matrix[np.isfinite(matrix)] > 0).all() else matrix
        ratio = variance_ratio(levels, VR_LAGS)
        returns = _increments(matrix)
        clustering = volatility_clustering(returns, 1)[:, 0]
        first = acf(matrix, 1)[:, 1]
        for i, label in enumerate(labels):
            out.append(
                {
                    "column": column,
                    "entity": label,
                    "points": int(counts[i]),
                    "acf_1": _f(first[i]),
                    "seasonal_period": int(season.period[i]),
                    "seasonal_strength": _f(season.strength[i]),
                    "adf_statistic": _f(test.statistic[i]),
                    "adf_pvalue": _f(test.pvalue[i]),
                    "adf_lags": test.usedlag,
                    "trend_slope": _f(line.slope[i]),
                    "trend_r2": _f(line.r_squared[i]),
                    "variance_ratio": _f(ratio.ratio[i]),
                    "variance_ratio_z": _f(ratio.z_robust[i]),
                    "volatility_clustering": _f(clustering[i]),
                }
            )
    return pl.DataFrame(out, schema=TIMESERIES_SCHEMA)


def _f(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
