"""Dagster wiring for synthesis: ``synthetic_sample`` (with its no-PII gate) and
``readiness_score``."""

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows, as_source_rows, without_meta
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.assets import (
    PRIVACY_REPORT,
    columns_to_drop,
    no_pii_check,
    privacy_report,
)
from synthcap_assets.profile.assets import DRIFT_REPORT, PROFILE, drift_report, profile
from synthcap_assets.quality.assets import QUALITY_REPORT, quality_report
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_assets.synthesis.readiness import readiness
from synthcap_assets.synthesis.synthesize import SynthesisError, synthesize
from synthcap_assets.synthesis.utility import column_shapes, utility_score
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, report_table, synthetic_table

SYNTHETIC_UTILITY = "synthetic_utility"
READINESS_SCORE = "readiness_score"


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, profile, privacy_report],
    group_name="synthesis",
    kinds={"delta", "smartnoise"},
)
def synthetic_sample(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """A differentially private synthetic version of the day's table (smartnoise-synth MST or
    AIM at the source's epsilon), continuous columns binned from the profile, PII columns
    dropped; stored in ``synthetic/<source>``, its per-column utility in ``synthetic_utility``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    real = without_meta(captured_rows(lakehouse, source, day))
    try:
        result = synthesize(
            real,
            profile=report_rows(lakehouse, PROFILE, source, day).drop("source", "date"),
            epsilon=spec.privacy.epsilon,
            exclude=columns_to_drop(lakehouse, source, day, spec.pii_columns),
            synthesizer=spec.privacy.synthesizer,
            rows=spec.privacy.sample_rows,
        )
    except SynthesisError as exc:
        raise SynthesisError(f"source {source!r}, partition {day}: {exc}") from exc
    shapes = column_shapes(real, result.sample, result.columns)
    lakehouse.write_partition(
        report_table(SYNTHETIC_UTILITY),
        as_report_rows(shapes, source, day),
        {"source": source, "date": day},
    )
    stored = as_source_rows(result.sample, source, day)
    written = lakehouse.write_partition(synthetic_table(source), stored, {DATE_COLUMN: day})
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            stored,
            {
                "synthesizer": result.synthesizer,
                "epsilon": result.epsilon,
                "fit_seconds": result.fit_seconds,
                "utility": utility_score(shapes),
                "synthesized_columns": result.columns,
                "dropped_columns": result.dropped,
                "preview": preview(result.sample),
            },
        )
    )


@dg.asset_check(asset=synthetic_sample, blocking=True, partitions_def=source_date_partitions)
def synthetic_sample_has_no_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No PII column, and no PII-shaped value, is in the synthetic sample."""
    return no_pii_check(context, lakehouse, catalog, synthetic_table)


def _table_row(report: pl.DataFrame) -> dict:
    rows = report.filter(pl.col("column") == "*")
    return rows.row(0, named=True) if rows.height else {}


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[quality_report, privacy_report, drift_report, synthetic_sample],
    group_name="synthesis",
    kinds={"delta", "polars"},
)
def readiness_score(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Whether the source, that day, is fit to be used and synthesized: a 0–100 score from
    quality, privacy risk, drift, synthetic utility and volume, with its breakdown and
    recommendations a person can act on."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    quality = _table_row(report_rows(lakehouse, QUALITY_REPORT, source, day))
    privacy = report_rows(lakehouse, PRIVACY_REPORT, source, day)
    anonymity = _table_row(privacy)
    drift = report_rows(lakehouse, DRIFT_REPORT, source, day)
    compared = drift.filter(pl.col("kind") != "no_reference")
    drifted = (
        compared.filter(pl.col("drifted").fill_null(False))
        if "drifted" in drift.columns
        else compared.clear()
    )
    shapes = report_rows(lakehouse, SYNTHETIC_UTILITY, source, day, required=False)
    result = readiness(
        quality_score=float(quality.get("score") or 0.0),
        quality_threshold=spec.quality.threshold,
        direct_identifiers=privacy.filter(pl.col("direct_identifier").fill_null(False))[
            "column"
        ].to_list(),
        k_anonymity=anonymity.get("k_anonymity_generalized"),
        unique_share=anonymity.get("unique_share_generalized"),
        drifted_columns=drifted["column"].to_list(),
        compared_columns=compared.height,
        utility=None if shapes is None else utility_score(shapes.drop("source", "date")),
        rows=captured_rows(lakehouse, source, day).height,
        epsilon=spec.privacy.epsilon,
        synthesized_columns=0 if shapes is None else shapes.height,
        quasi_identifiers=spec.quasi_identifiers,
    )
    report = as_report_rows(
        pl.DataFrame(
            {
                "score": [result.score],
                **{k: [v] for k, v in result.breakdown.items()},
                "recommendations": [result.recommendations],
            }
        ),
        source,
        day,
    )
    written = lakehouse.write_partition(
        report_table(READINESS_SCORE), report, {"source": source, "date": day}
    )
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {
                "score": result.score,
                **result.breakdown,
                "recommendations": dg.MetadataValue.md(
                    "\n".join(f"- {r}" for r in result.recommendations) or "none"
                ),
            },
        )
    )
