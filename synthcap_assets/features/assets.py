"""Dagster wiring for features: the ``feature_set`` asset and its no-PII gate."""

import dagster as dg

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_source_rows, without_meta
from synthcap_assets.features.build import build_features, feature_lineage
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.assets import columns_to_drop, no_pii_check, privacy_report
from synthcap_assets.reads import captured_rows
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, features_table


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, privacy_report],
    group_name="features",
    kinds={"delta", "polars"},
)
def feature_set(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Model-ready features of the day's capture, by domain: scaled numerics, encoded
    categoricals and date parts; returns, lags and rolling stats for time series; length and
    word counts for text. PII columns are never copied in. Stored in ``features/<source>``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    rows = without_meta(captured_rows(lakehouse, source, day))
    excluded = columns_to_drop(lakehouse, source, day, spec.pii_columns)
    features = build_features(
        rows,
        domain=spec.domain.value,
        exclude=excluded,
        time_column=spec.time_column,
        entity_column=spec.entity_column,
        text_column=spec.text_column,
    )
    stored = as_source_rows(features, source, day)
    written = lakehouse.write_partition(features_table(source), stored, {DATE_COLUMN: day})
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            stored,
            {
                "features": features.width,
                "excluded_pii_columns": excluded,
                "derived_from": feature_lineage(rows.columns, features),
                "preview": preview(features),
            },
        )
    )


@dg.asset_check(asset=feature_set, blocking=True, partitions_def=source_date_partitions)
def feature_set_has_no_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No PII column, and no PII-shaped value, is in the feature set."""
    return no_pii_check(context, lakehouse, catalog, features_table)
