"""The metric history of a source: ``reports/quality_metrics`` rows of its trailing days."""

from __future__ import annotations

import datetime as dt

import polars as pl
from deltalake.exceptions import DeltaError

from synthcap_assets.quality.anomalies import METRICS_SCHEMA, TABLE
from synthcap_resources.lakehouse import LakehouseError, LakehouseResource, report_table

QUALITY_METRICS = "quality_metrics"
METRICS_TABLE = report_table(QUALITY_METRICS)


def metric_history(
    lakehouse: LakehouseResource, source: str, day: dt.date, window: int
) -> pl.DataFrame:
    """Metric rows of ``source`` for the ``window`` days before ``day`` (``day`` excluded)."""
    empty = pl.DataFrame(schema={"date": pl.Date, **METRICS_SCHEMA})
    delta = lakehouse.delta_table(METRICS_TABLE)
    if delta is None:
        return empty
    start = day - dt.timedelta(days=window)
    filters = [("source", "=", source), ("date", ">=", start), ("date", "<", day)]
    try:
        arrow = delta.to_pyarrow_table(filters=filters)
    except (DeltaError, ValueError) as exc:
        where = f"source {source!r}, partition {day}"
        raise LakehouseError(f"{METRICS_TABLE} {where}: history read failed: {exc}") from exc
    frame = pl.from_arrow(arrow)
    return frame.select(empty.columns) if frame.height else empty


def past_row_counts(history: pl.DataFrame) -> list[int]:
    """The row count of each past day in ``history``."""
    counts = history.filter((pl.col("column") == TABLE) & (pl.col("metric") == "row_count"))
    return [int(v) for v in counts.sort("date")["value"].to_list()]
