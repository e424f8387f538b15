"""Dagster wiring for quality: the ``quality_report`` asset and its blocking threshold check."""

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import as_report_rows, without_meta
from synthcap_assets.metadata import written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.quality.dimensions import assess_quality
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, report_table

QUALITY_REPORT = "quality_report"


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="quality",
    kinds={"delta", "polars"},
)
def quality_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Data quality of the day's capture: completeness, uniqueness, validity, consistency and
    timeliness per column (one row each) and for the table (column ``*``), scored 0–100."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    result = assess_quality(
        without_meta(captured_rows(lakehouse, source, day)),
        partition_date=day,
        declared_schema=spec.declared_schema,
        rules=spec.quality.rules,
        time_column=spec.time_column,
        max_age_days=spec.quality.max_age_days,
        key_columns=spec.quality.key_columns,
    )
    report = as_report_rows(result.report, source, day)
    written = lakehouse.write_partition(
        report_table(QUALITY_REPORT), report, {"source": source, "date": day}
    )
    for failure in result.failures:
        context.log.warning(f"{source} {day}: {failure}")
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {
                "quality_score": result.score,
                "threshold": spec.quality.threshold,
                "failures": result.failures[:20],
                "rules": [dict(r) for r in result.rule_results.iter_rows(named=True)],
            },
        )
    )


@dg.asset_check(asset=quality_report, blocking=True, partitions_def=source_date_partitions)
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
        metadata={"score": round(score, 2), "threshold": threshold},
        description=f"quality score {score:.1f} vs threshold {threshold:.0f}",
    )
