"""Metric anomalies: today's partition against the trailing history of the same source.

:func:`partition_metrics` reduces a capture to tidy ``(column, metric, value)`` rows: the row
count (column ``*``), and per column the null rate, the distinct count and, for numbers, the
mean. :func:`detect_anomalies` compares each metric with its own history by a robust z-score
(Iglewicz & Hoaglin): ``z = 0.6745 (x - median) / MAD``. The expected range is the set of
values whose |z| stays within the threshold, ``median ± threshold · MAD / 0.6745``. A metric
that never varied (MAD 0) expects exactly its median, within a small relative tolerance.
Metrics with fewer than ``min_history`` past values are not judged.
"""

from __future__ import annotations

import polars as pl

from synthcap_assets.columns import data_columns

TABLE = "*"
METRICS_SCHEMA = {"column": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
ANOMALY_SCHEMA = {
    "column": pl.Utf8,
    "metric": pl.Utf8,
    "observed": pl.Float64,
    "median": pl.Float64,
    "mad": pl.Float64,
    "z": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "history": pl.Int64,
    "anomalous": pl.Boolean,
}
_CONSISTENCY = 0.6745  # Phi^-1(0.75): makes the MAD comparable with a standard deviation
_FLAT_TOLERANCE = 1e-9


def partition_metrics(df: pl.DataFrame) -> pl.DataFrame:
    """Row count, and per source column null rate, distinct count and (numbers) mean."""
    rows: list[tuple[str, str, float | None]] = [(TABLE, "row_count", float(df.height))]
    for c in data_columns(df):
        s = df[c]
        if s.dtype.is_float():
            s = s.fill_nan(None)
        rows.append((c, "null_rate", s.null_count() / df.height if df.height else None))
        rows.append((c, "distinct", float(s.drop_nulls().n_unique())))
        if s.dtype.is_numeric() and s.null_count() < len(s):
            rows.append((c, "mean", float(s.cast(pl.Float64).mean())))
    return pl.DataFrame(rows, schema=METRICS_SCHEMA, orient="row")


def _judge(x: float, past: list[float], z_threshold: float) -> tuple[float, ...]:
    ordered = sorted(past)
    median = float(pl.Series(ordered).median())
    mad = float(pl.Series([abs(v - median) for v in ordered]).median())
    if mad > 0:
        half_width = z_threshold * mad / _CONSISTENCY
        z = _CONSISTENCY * (x - median) / mad
    else:
        half_width = _FLAT_TOLERANCE * max(1.0, abs(median))
        z = 0.0 if abs(x - median) <= half_width else float("inf") * (1 if x > median else -1)
    return median, mad, z, median - half_width, median + half_width


def detect_anomalies(
    current: pl.DataFrame,
    history: pl.DataFrame,
    *,
    z_threshold: float = 4.0,
    min_history: int = 3,
) -> pl.DataFrame:
    """One row per current metric with enough history: its expected range and whether it is
    anomalous. ``history`` holds past metric rows (``column``, ``metric``, ``value``, any
    number of days)."""
    past: dict[tuple[str, str], list[float]] = {}
    for column, metric, value in history.select("column", "metric", "value").iter_rows():
        if value is not None:
            past.setdefault((column, metric), []).append(float(value))
    rows = []
    for column, metric, value in current.select("column", "metric", "value").iter_rows():
        values = past.get((column, metric), [])
        if value is None or len(values) < min_history:
            continue
        median, mad, z, low, high = _judge(float(value), values, z_threshold)
        anomalous = abs(z) > z_threshold if mad > 0 else not low <= value <= high
        rows.append((column, metric, value, median, mad, z, low, high, len(values), anomalous))
    return pl.DataFrame(rows, schema=ANOMALY_SCHEMA, orient="row")


def describe(anomaly: dict) -> str:
    """One anomaly as a sentence naming the column, metric, value and expected range."""
    where = (
        "row count"
        if anomaly["column"] == TABLE
        else f"{anomaly['metric']} of {anomaly['column']!r}"
    )
    return (
        f"{where} = {anomaly['observed']:.6g}, expected {anomaly['low']:.6g} … "
        f"{anomaly['high']:.6g} (median {anomaly['median']:.6g} of {anomaly['history']} days)"
    )
