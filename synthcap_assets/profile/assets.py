"""Dagster wiring for profiling: the ``profile`` and ``drift_report`` assets and the drift check."""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.lineage.recording import record_read
from synthcap_assets.metadata import drift_table, profile_table, written_metadata
from synthcap_assets.partitions import previous_day_mapping, source_and_day, source_date_partitions
from synthcap_assets.profile.drift import drift_between, drift_summary, drift_thresholds
from synthcap_assets.profile.files import delta_files, profile_partition
from synthcap_assets.profile.stats import profile_frame, profile_summary
from synthcap_assets.profile.timeseries import timeseries_profile
from synthcap_assets.reads import MissingUpstreamError, captured_rows, report_rows
from synthcap_resources.catalog import CatalogResource, Domain
from synthcap_resources.distributed import DaskResource
from synthcap_resources.lakehouse import LakehouseResource, raw_table, report_table

PROFILE = "profile"
TIMESERIES_PROFILE = "timeseries_profile"
DRIFT_REPORT = "drift_report"


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="profile",
    kinds={"delta", "polars"},
)
@emits_lineage(profile_output=True)
def profile(
    context: dg.AssetExecutionContext,
    lakehouse: LakehouseResource,
    catalog: CatalogResource,
    dask: DaskResource,
) -> dg.MaterializeResult:
    """Statistical profile of the day's capture, one row per column, computed by the JAX
    kernels: counts, nulls, distinct, moments, min/max, zeros/negatives, percentiles with their
    rank bound, histogram, outlier counts, top values, the inferred semantic type, and the
    column's mergeable state (so ``synthcap profile --from --to`` merges days). Time-series
    and financial sources also get ``reports/timeseries_profile``: per column and entity,
    autocorrelation, seasonal period, ADF test, trend, variance ratio, volatility clustering.
    With ``SYNTHCAP_DASK_ADDRESS`` set, the column profile runs on that Dask cluster, one task
    per Delta file of the partition, merged from the kernels' states (``profile.files``)."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    series_wanted = spec.domain in (Domain.timeseries, Domain.financial) and spec.time_column
    rows = None
    if dask.in_process:
        rows = captured_rows(lakehouse, source, day)
        stats = profile_frame(rows)
    else:
        stats = _split_profile(context, lakehouse, dask, source, day)
    summary = profile_summary(stats)
    partition = {"source": source, "date": day}
    if series_wanted:
        # Series statistics need the rows in order: read here even when the profile was split.
        rows = captured_rows(lakehouse, source, day) if rows is None else rows
        # Written first: a failure here leaves the day's profile untouched for a re-run.
        numeric = stats.filter(pl.col("semantic_type") == "numeric")["column"].to_list()
        series = timeseries_profile(rows, spec.time_column, spec.entity_column, numeric)
        lakehouse.write_partition(
            report_table(TIMESERIES_PROFILE), as_report_rows(series, source, day), partition
        )
        summary["series_profiled"] = series.height
        summary["non_stationary_series"] = int((series["adf_pvalue"] > 0.05).sum())
    report = as_report_rows(stats, source, day)
    written = lakehouse.write_partition(report_table(PROFILE), report, partition)
    return dg.MaterializeResult(
        metadata=written_metadata(written, report, profile_headline(stats, summary, spec.columns))
    )


def _split_profile(
    context: dg.AssetExecutionContext,
    lakehouse: LakehouseResource,
    dask: DaskResource,
    source: str,
    day: dt.date,
) -> pl.DataFrame:
    """The day's column profile computed on the Dask cluster, one task per Delta file."""
    where = {DATE_COLUMN: day.isoformat()}
    table = raw_table(source)
    if lakehouse.version(table) is None or not delta_files(
        lakehouse.uri(table), where, lakehouse.storage_options
    ):
        raise MissingUpstreamError(
            f"source {source!r}, partition {day}: raw_capture has no rows; materialize it first"
        )
    with dask.client() as client:
        stats = profile_partition(lakehouse.uri(table), where, client, lakehouse.storage_options)
    record_read(table, {DATE_COLUMN: day})
    context.log.info(f"{source} {day}: profiled file by file on Dask at {dask.address}")
    return stats


def profile_headline(
    stats: pl.DataFrame, summary: dict, descriptions: dict[str, str]
) -> dict[str, object]:
    """The profile's metadata: the per-column table, and rates (not column counts, which
    differ by source) as the numbers Dagster plots per partition."""
    kinds = {k.removesuffix("_columns"): v for k, v in summary.items() if k.endswith("_columns")}
    rates = ("rows", "mean_null_share", "max_null_share", "series_profiled")
    return {
        "columns": profile_table(stats, descriptions),
        **{k: summary[k] for k in rates if k in summary},
        "non_stationary_share": summary["non_stationary_series"] / summary["series_profiled"]
        if summary.get("series_profiled")
        else None,
        "column_types": {k: v for k, v in kinds.items() if v},
    }


def _no_reference(source: str, day: dt.date) -> pl.DataFrame:
    """The one row a first day's drift report holds: there is nothing to compare with."""
    return pl.DataFrame(
        {
            "column": ["*"],
            "kind": ["no_reference"],
            "detail": [
                f"no reference: {source} has no captured rows for {day - dt.timedelta(days=1)}"
            ],
        }
    )


def _previous_rows(lakehouse: LakehouseResource, source: str, day: dt.date) -> pl.DataFrame | None:
    """The previous day's captured rows of ``source``, or None when that day was not captured."""
    try:
        return captured_rows(lakehouse, source, day - dt.timedelta(days=1))
    except MissingUpstreamError:
        return None


@dg.asset(
    partitions_def=source_date_partitions,
    # The previous day's profile stands for the previous day's capture having landed and
    # passed its gates (raw_capture cannot be a dependency twice, on two mappings); the rows
    # compared are both days' raw_capture rows, each read recorded in the lineage.
    deps=[raw_capture, dg.AssetDep(profile, partition_mapping=previous_day_mapping)],
    group_name="profile",
    kinds={"delta", "polars"},
)
@emits_lineage
def drift_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Drift of the day's captured rows against the previous day's captured rows of the same
    source, per column, computed from the rows: KS, Wasserstein ÷ std, PSI, Jensen–Shannon
    (numeric) or chi-square, PSI, Jensen–Shannon over the top values plus "other values"
    (categorical), no distribution test for identifier-like columns; the deciding method by
    reference size, and whether the column drifted; the first day says it has no reference."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    reference = _previous_rows(lakehouse, source, day)
    if reference is None:
        drift = _no_reference(source, day)
        summary: dict = {"reference": "none", "drifted_share": 0.0}
    else:
        drift = drift_between(
            captured_rows(lakehouse, source, day),
            reference,
            thresholds=drift_thresholds(spec.drift),
            method=spec.drift.method,
        )
        counts = drift_summary(drift)
        summary = {
            "reference": (day - dt.timedelta(days=1)).isoformat(),
            "drifted_share": counts["drifted_share"],
            "max_psi": counts["max_psi"],
            "drifted": f"{counts['columns_drifted']} of {drift.height} columns",
        }
    report = as_report_rows(drift, source, day)
    written = lakehouse.write_partition(
        report_table(DRIFT_REPORT), report, {"source": source, "date": day}
    )
    context.log.info(f"{source} {day}: drift {summary}")
    summary["columns"] = drift_table(drift)
    return dg.MaterializeResult(metadata=written_metadata(written, report, summary))


@dg.asset_check(asset=drift_report, blocking=False, partitions_def=source_date_partitions)
@emits_check_lineage
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
        # The partition is named: the UI's sidebar shows the latest failure of any partition.
        description=f"{source} {day}: "
        + (f"drifted: {', '.join(columns)}" if columns else "no drift"),
    )
