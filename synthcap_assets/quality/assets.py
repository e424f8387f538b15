"""Dagster wiring for quality: the ``quality_report`` asset, its blocking threshold check and
its non-blocking metric-anomaly check."""

import math

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.capture.contract_store import schema_changes
from synthcap_assets.columns import as_report_rows, without_meta
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.metadata import frame_table, markdown_list, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.quality.accuracy import expected_rows_from_history
from synthcap_assets.quality.anomalies import describe, detect_anomalies, partition_metrics
from synthcap_assets.quality.dimensions import DIMENSIONS, TABLE_ROW, Reference, assess_quality
from synthcap_assets.quality.history import METRICS_TABLE, metric_history, past_row_counts
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource, report_table
from synthcap_resources.reference import read_reference

QUALITY_REPORT = "quality_report"
# Trailing days a metric needs before the history check judges it.
MIN_HISTORY_DAYS = 3


def _reference(spec: SourceSpec, day) -> Reference | None:
    rows = read_reference(spec, day)
    ref = spec.quality.reference
    if rows is None or ref is None:
        return None
    return Reference(rows, tuple(ref.key), tuple(ref.columns), ref.tolerance)


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="quality",
    kinds={"delta", "polars"},
)
@emits_lineage
def quality_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Data quality of the day's capture: completeness, uniqueness, validity, consistency,
    timeliness, accuracy and volume per column (one row each) and for the table (column
    ``*``), scored 0–100 with the source's weights; schema changes and metrics alongside."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    rows = without_meta(captured_rows(lakehouse, source, day))
    q = spec.quality
    history = metric_history(lakehouse, source, day, q.anomaly_window)
    expected = (q.min_rows, q.max_rows)
    if expected == (None, None):
        expected = expected_rows_from_history(past_row_counts(history))
    result = assess_quality(
        rows,
        partition_date=day,
        declared_schema=spec.declared_schema,
        rules=q.rules,
        time_column=spec.time_column,
        max_age_days=q.max_age_days,
        key_columns=q.key_columns,
        weights=q.weights or None,
        reference=_reference(spec, day),
        expected_rows=expected,
    )
    changes = schema_changes(lakehouse, source, day)
    failures = [
        f"schema change: column {r['column']!r} {r['change']} "
        f"(expected {r['expected']}, observed {r['observed']}): {r['action']}"
        for r in changes.iter_rows(named=True)
    ] + result.failures
    report = as_report_rows(result.report, source, day)
    partition = {"source": source, "date": day}
    written = lakehouse.write_partition(report_table(QUALITY_REPORT), report, partition)
    metrics = as_report_rows(partition_metrics(rows), source, day)
    lakehouse.write_partition(METRICS_TABLE, metrics, partition)
    for failure in failures:
        context.log.warning(f"{source} {day}: {failure}")
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {
                "quality_score": result.score,
                "threshold": q.threshold,
                **quality_headline(result.report, result.rule_results, failures),
                "schema_changes": [dict(r) for r in changes.iter_rows(named=True)],
            },
        )
    )


def quality_headline(
    report: pl.DataFrame, rules: pl.DataFrame, failures: list[str]
) -> dict[str, object]:
    """The quality report's metadata: each table-level dimension as a 0-100 number (plotted
    per partition by the UI), the per-column dimension table, the rules table and the
    failures in words."""
    table = report.filter(pl.col("column") == TABLE_ROW)
    dims = {
        f"{d}_score": round(100 * table[d][0], 2)
        for d in DIMENSIONS
        if table.height and d in table.columns and table[d][0] is not None
    }
    return {
        **dims,
        "dimensions": frame_table(report.select("column", *DIMENSIONS, "score")),
        "rules": frame_table(rules) if rules.height else None,
        "failures": markdown_list(failures[:20], empty="no failures"),
        "failure_count": len(failures),
    }


@dg.asset_check(asset=quality_report, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def quality_score_meets_threshold(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """The table's quality score is at or above the source's threshold."""
    source, day = source_and_day(context)
    threshold = catalog.get(source).quality.threshold
    report = report_rows(lakehouse, QUALITY_REPORT, source, day)
    table_row = report.filter(pl.col("column") == "*")
    score = float(table_row["score"][0]) if table_row.height else 0.0
    return dg.AssetCheckResult(
        passed=score >= threshold,
        metadata={
            "score": round(score, 2),
            "threshold": threshold,
            "observed": round(score, 2),
            "expected": f">= {threshold:g}",
        },
        description=f"{source} {day}: quality score {score:.1f} vs threshold {threshold:.0f}",
    )


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


@dg.asset_check(
    asset=quality_report,
    blocking=False,
    partitions_def=source_date_partitions,
)
@emits_check_lineage
def quality_metrics_within_history(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """Row count, null rates, means and distinct counts lie within the robust range of the
    source's trailing days (a warning, never blocking)."""
    source, day = source_and_day(context)
    q = catalog.get(source).quality
    current = lakehouse.read_partition(METRICS_TABLE, {"source": source, "date": day})
    if current is None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{source} {day}: no metrics; materialize quality_report",
        )
    history = metric_history(lakehouse, source, day, q.anomaly_window)
    days = history["date"].n_unique()
    judged = detect_anomalies(
        current, history, z_threshold=q.anomaly_z, min_history=MIN_HISTORY_DAYS
    )
    if judged.is_empty():
        # Nothing to judge is not "all within range": say how much history there is.
        note = f"no history yet: {days} of {MIN_HISTORY_DAYS} days"
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"history_days": days, "metrics_judged": 0, "observed": note},
            description=f"{source} {day}: {note}",
        )
    anomalies = judged.filter(pl.col("anomalous"))
    lines = [describe(a) for a in anomalies.iter_rows(named=True)]
    ranges = {
        f"{r['column']}.{r['metric']}": {
            "observed": _finite(r["observed"]),
            "expected_low": _finite(r["low"]),
            "expected_high": _finite(r["high"]),
        }
        for r in judged.iter_rows(named=True)
    }
    return dg.AssetCheckResult(
        passed=anomalies.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "history_days": days,
            "metrics_judged": judged.height,
            "anomalies": dg.MetadataValue.json(lines),
            "expected_ranges": dg.MetadataValue.json(ranges),
            "observed": "; ".join(lines) or "all metrics within range",
            "expected": f"|robust z| <= {q.anomaly_z:g} over {q.anomaly_window} trailing days",
        },
        description=f"{source} {day}: "
        + ("; ".join(lines[:5]) or f"{judged.height} metrics within range of {days} days"),
    )
