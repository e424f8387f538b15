"""Dagster wiring for features: the ``feature_set`` asset and its no-PII gate."""

import dagster as dg

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_source_rows, without_meta
from synthcap_assets.features.build import build_features, feature_lineage
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.lineage.recording import record_column_lineage
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.assets import handled_rows, no_pii_check, privacy_report
from synthcap_assets.privacy.handling import FEATURE_HANDLINGS
from synthcap_assets.privacy.tokens import token_key
from synthcap_assets.reads import captured_rows
from synthcap_assets.text.corpus import clean_corpus
from synthcap_assets.text.day import day_facts, is_text_source
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, features_table, raw_table


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, privacy_report],
    group_name="features",
    kinds={"delta", "polars"},
)
@emits_lineage
def feature_set(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Model-ready features of the day's capture, by domain: scaled numerics, encoded
    categoricals and date parts; returns, lags and rolling stats for time series; length and
    word counts of the redacted text. PII columns are never copied in: direct identifiers are
    dropped, quasi-identifiers enter generalized only (age bands, birth years, 3-digit zips),
    tokenized columns as tokens. A text source's feature set is its clean corpus: filtered,
    deduplicated (within the day and against earlier days), redacted documents with their
    signals and labels as columns. Stored in ``features/<source>``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    captured = without_meta(captured_rows(lakehouse, source, day))
    handled = handled_rows(
        lakehouse,
        source,
        day,
        captured,
        spec.pii_columns,
        FEATURE_HANDLINGS,
        token_key(spec.privacy.tokenize_salt_env),
    )
    rows, treated, excluded = handled.rows, handled.treated, handled.excluded
    if is_text_source(spec) and spec.text_column in rows.columns:
        # A text source's feature set is its clean corpus (synthcap_assets/text/corpus.py).
        facts, _ = day_facts(lakehouse, spec, captured, day)
        features = clean_corpus(
            rows,
            spec.text_column,
            facts,
            languages=spec.text.languages,
            gates=spec.text.filters,
            redacted=treated.get(spec.text_column) == "redacted",
        )
    else:
        features = build_features(
            rows,
            domain=spec.domain.value,
            exclude=excluded,
            time_column=spec.time_column,
            entity_column=spec.entity_column,
            text_column=spec.text_column,
            passthrough=[c for c, how in treated.items() if how == "tokenized"],
        )
    derived_from = feature_lineage(rows.columns, features)
    record_column_lineage(
        features_table(source), raw_table(source), derived_from, "feature extraction"
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
                "treated_pii_columns": treated,
                "derived_from": derived_from,
                "preview": preview(features),
            },
        )
    )


@dg.asset_check(asset=feature_set, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def feature_set_has_no_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No PII column, and no PII-shaped value, is in the feature set."""
    return no_pii_check(context, lakehouse, catalog, features_table, FEATURE_HANDLINGS)
