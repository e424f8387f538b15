"""Dagster wiring for profiling: the ``profile`` and ``drift_report`` assets and the drift check."""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import as_report_rows
from synthcap_assets.metadata import written_metadata
from synthcap_assets.partitions import previous_day_mapping, source_and_day, source_date_partitions
from synthcap_assets.profile.drift import drift_against_profile, drift_summary
from synthcap_assets.profile.stats import profile_frame, profile_summary
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, report_table

PROFILE = "profile"
DRIFT_REPORT = "drift_report"


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="profile",
    kinds={"delta", "polars"},
)
def profile(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource
) -> dg.MaterializeResult:
    """Statistical profile of the day's capture, one row per column: counts, nulls, distinct,
    moments, min/max, percentiles, histogram, top values and the inferred semantic type."""
    source, day = source_and_day(context)
    stats = profile_frame(captured_rows(lakehouse, source, day))
    report = as_report_rows(stats, source, day)
    written = lakehouse.write_partition(
        report_table(PROFILE), report, {"source": source, "date": day}
    )
    return dg.MaterializeResult(metadata=written_metadata(written, report, profile_summary(stats)))


def _no_reference(source: str, day: dt.date) -> pl.DataFrame:
    """The one row a first day's drift report holds: there is nothing to compare with."""
    return pl.DataFrame(
        {
            "column": ["*"],
            "kind": ["no_reference"],
            "detail": [f"no reference: {source} has no profile for {day - dt.timedelta(days=1)}"],
        }
    )


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, dg.AssetDep(profile, partition_mapping=previous_day_mapping)],
    group_name="profile",
    kinds={"delta", "polars"},
)
def drift_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Drift of the day's capture against the previous day's profile of the same source: PSI
    and KS per column, and whether each drifted; the first day says it has no reference."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    reference = report_rows(lakehouse, PROFILE, source, day - dt.timedelta(days=1), required=False)
    if reference is None:
        drift = _no_reference(source, day)
        summary: dict = {"reference": "none", "columns_drifted": 0}
    else:
        drift = drift_against_profile(
            captured_rows(lakehouse, source, day),
            reference.drop("source", "date"),
            psi_threshold=spec.drift.psi_threshold,
            ks_pvalue=spec.drift.ks_pvalue,
        )
        summary = {"reference": (day - dt.timedelta(days=1)).isoformat(), **drift_summary(drift)}
    report = as_report_rows(drift, source, day)
    written = lakehouse.write_partition(
        report_table(DRIFT_REPORT), report, {"source": source, "date": day}
    )
    context.log.info(f"{source} {day}: drift {summary}")
    return dg.MaterializeResult(metadata=written_metadata(written, report, summary))


@dg.asset_check(asset=drift_report, blocking=False, partitions_def=source_date_partitions)
def drift_within_thresholds(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
) -> dg.AssetCheckResult:
    """Warns when any column drifted against the previous day (never blocks)."""
    source, day = source_and_day(context)
    drift = report_rows(lakehouse, DRIFT_REPORT, source, day)
    drifted = (
        drift.filter(pl.col("drifted").fill_null(False))
        if "drifted" in drift.columns
        else drift.clear()
    )
    columns = drifted["column"].to_list()
    return dg.AssetCheckResult(
        passed=not columns,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"drifted_columns": dg.MetadataValue.json(columns)},
        description=f"drifted: {', '.join(columns)}" if columns else "no drift",
    )
