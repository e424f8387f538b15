"""Dagster wiring for synthesis: ``synthetic_sample`` (with its no-PII gate) and
``readiness_score``."""

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows, as_source_rows, without_meta
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.lineage.recording import record_column_lineage, record_write
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
from synthcap_assets.synthesis.budget import decide_for, privacy_budget
from synthcap_assets.synthesis.evaluate import summary
from synthcap_assets.synthesis.ledger import (
    BudgetExceededError,
    record_spend,
    spend_row,
)
from synthcap_assets.synthesis.pipeline import CODES_METRIC, synthesize_evaluated
from synthcap_assets.synthesis.readiness import readiness
from synthcap_assets.synthesis.synthesize import SynthesisError
from synthcap_assets.synthesis.utility import KS_METRIC, TV_METRIC, utility_score
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import (
    LakehouseResource,
    raw_table,
    report_table,
    synthetic_table,
)

SYNTHETIC_UTILITY = "synthetic_utility"
READINESS_SCORE = "readiness_score"


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, profile, privacy_report, privacy_budget],
    group_name="synthesis",
    kinds={"delta", "smartnoise"},
)
@emits_lineage
def synthetic_sample(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """A differentially private synthetic version of the day's table: smartnoise-synth MST or
    AIM at the source's (epsilon, delta), bins and categories measured privately inside that
    budget, PII columns dropped, 20% of rows held out for evaluation; the spend is recorded in
    the ``audit/privacy_budget`` ledger. Stored in ``synthetic/<source>``; its evaluation
    (column shapes, pair trends, DCR ratio, exact matches, membership-inference AUC) in
    ``synthetic_utility``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    real = without_meta(captured_rows(lakehouse, source, day))
    privacy = spec.privacy
    where = f"source {source!r}, partition {day}"
    decision = decide_for(lakehouse, source, day, privacy)
    if not decision.allowed:  # the blocking check stops this first; a direct run stops here
        raise BudgetExceededError(f"{where}: {decision.describe()}")
    try:
        done = synthesize_evaluated(
            real,
            profile=report_rows(lakehouse, PROFILE, source, day).drop("source", "date"),
            privacy=privacy,
            exclude=columns_to_drop(lakehouse, source, day, spec.pii_columns),
            rules=spec.quality.rules,
        )
    except SynthesisError as exc:
        raise SynthesisError(f"{where}: {exc}") from exc
    result = done.result
    try:
        spent = record_spend(
            lakehouse,
            spend_row(
                source,
                day,
                epsilon=result.epsilon,
                delta=result.delta,
                rho=result.rho,
                rho_preprocess=result.rho_preprocess,
                synthesizer=result.synthesizer,
                run_id=context.run.run_id,
            ),
            privacy.budget,
            per_partition=privacy.budget_scope == "partition",
        )
    except BudgetExceededError as exc:
        raise BudgetExceededError(f"{where}: {exc}") from exc
    utility = as_report_rows(done.evaluation, source, day)
    record_write(
        lakehouse.write_partition(
            report_table(SYNTHETIC_UTILITY), utility, {"source": source, "date": day}
        ),
        utility,
    )
    record_column_lineage(
        synthetic_table(source),
        raw_table(source),
        {column: [column] for column in result.columns},
        f"DP synthesis ({result.synthesizer.upper()})",
        masking=True,
        same_name_is_identity=False,
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
                "delta": result.delta,
                "rho_preprocess": result.rho_preprocess,
                "fit_seconds": result.fit_seconds,
                **summary(done.evaluation),
                "utility": utility_score(done.evaluation),
                "budget_remaining_epsilon": spent.remaining_after,
                "train_rows": done.train_rows,
                "holdout_rows": done.holdout_rows,
                "synthesized_columns": result.columns,
                "domain": result.domain,
                "dropped_columns": result.dropped,
                "preview": preview(result.sample),
            },
        )
    )


@dg.asset_check(asset=synthetic_sample, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def synthetic_sample_has_no_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No PII column, and no PII-shaped value, is in the synthetic sample."""
    return no_pii_check(context, lakehouse, catalog, synthetic_table)


shape_rows = pl.col("metric").is_in([KS_METRIC, TV_METRIC])


def pair_cells(evaluation: pl.DataFrame | None) -> int | None:
    """Cells of the largest two-way marginal: the product of the two largest code counts."""
    if evaluation is None:
        return None
    codes = sorted(evaluation.filter(pl.col("metric") == CODES_METRIC)["score"].to_list())
    return int(codes[-1] * codes[-2]) if len(codes) >= 2 else None


def _table_row(report: pl.DataFrame) -> dict:
    rows = report.filter(pl.col("column") == "*")
    return rows.row(0, named=True) if rows.height else {}


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[quality_report, privacy_report, drift_report, synthetic_sample],
    group_name="synthesis",
    kinds={"delta", "polars"},
)
@emits_lineage
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
    headline = {} if shapes is None else summary(shapes)
    budget = decide_for(lakehouse, source, day, spec.privacy)
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
        mia_auc=headline.get("mia_auc"),
        dcr_ratio=headline.get("dcr_ratio"),
        budget_left=budget.remaining,
        pair_cells=pair_cells(shapes),
        rows=captured_rows(lakehouse, source, day).height,
        epsilon=spec.privacy.epsilon,
        synthesized_columns=0 if shapes is None else shapes.filter(shape_rows).height,
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
