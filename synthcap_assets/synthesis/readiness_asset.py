"""Dagster wiring for ``readiness_score``: every captured day gets its row.

It reads the synthesis outcome and the quality, privacy and drift reports, each optional
(:mod:`.readiness_inputs`): a missing report makes its component unknown, never the row. It
runs in its own run after the partition run (``readiness_job``, started by ``synthcap
materialize`` and by the readiness sensors), where no upstream check can skip it.
"""

import dagster as dg
import polars as pl

from synthcap_assets.columns import as_report_rows
from synthcap_assets.lineage.hooks import emits_lineage
from synthcap_assets.metadata import frame_table, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.assets import privacy_report
from synthcap_assets.profile.assets import drift_report
from synthcap_assets.quality.assets import quality_report
from synthcap_assets.reads import captured_rows
from synthcap_assets.reports import report_metadata
from synthcap_assets.reports.inputs import CAPTURED
from synthcap_assets.synthesis.assets import synthetic_sample
from synthcap_assets.synthesis.budget import decide_for
from synthcap_assets.synthesis.evaluate import summary
from synthcap_assets.synthesis.outcome import SAMPLE
from synthcap_assets.synthesis.pipeline import CODES_METRIC
from synthcap_assets.synthesis.readiness import readiness
from synthcap_assets.synthesis.readiness_inputs import (
    delivery_volume,
    drifted_and_compared,
    read_reports,
    table_row,
    text_facts,
)
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, report_table

READINESS_SCORE = "readiness_score"


def pair_cells(evaluation: pl.DataFrame | None) -> int | None:
    """Cells of the largest two-way marginal: the product of the two largest code counts."""
    if evaluation is None:
        return None
    codes = sorted(evaluation.filter(pl.col("metric") == CODES_METRIC)["score"].to_list())
    return int(codes[-1] * codes[-2]) if len(codes) >= 2 else None


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
    quality, privacy risk, drift, synthetic utility and volume, with its breakdown, what is
    unknown and why, what is ready and what is not, and recommendations a person can act on
    (every column left out of the sample, a refusal's actions). Written for every captured
    day: a missing upstream report makes its component unknown, never the row."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    captured = captured_rows(lakehouse, source, day)
    reports = read_reports(lakehouse, source, day)
    privacy = reports.privacy
    anonymity = table_row(privacy)
    # k-anonymity means something only over quasi-identifiers: with none (rows that do not
    # describe people, or no QI found) every row shares one class and k is the row count.
    combination = [c for c in (anonymity.get("qi_combination_generalized") or "").split(", ") if c]
    if not combination:
        anonymity = {}
    drifted, compared = (
        (None, None) if reports.drift is None else drifted_and_compared(reports.drift)
    )
    headline = {} if reports.evaluation is None else summary(reports.evaluation)
    outcome = reports.outcome
    synthesized = 0
    if outcome is not None:
        synthesized = len(outcome.synthesized if outcome.status == SAMPLE else [])
        synthesized = synthesized or len(outcome.counted_columns)
    result = readiness(
        quality_score=None if reports.quality is None else reports.quality.get("score") or 0.0,
        quality_threshold=spec.quality.threshold,
        direct_identifiers=None
        if privacy is None
        else privacy.filter(pl.col("direct_identifier").fill_null(False))["column"].to_list(),
        k_anonymity=anonymity.get("k_anonymity_generalized"),
        unique_share=anonymity.get("unique_share_generalized"),
        drifted_columns=drifted,
        compared_columns=compared,
        utility=None,
        mia_auc=headline.get("mia_auc"),
        dcr_ratio=headline.get("dcr_ratio"),
        budget_left=decide_for(lakehouse, source, day, spec.privacy).remaining,
        pair_cells=pair_cells(reports.evaluation),
        rows=captured.height,
        epsilon=spec.privacy.epsilon,
        synthesized_columns=synthesized,
        quasi_identifiers=combination or spec.quasi_identifiers,
        synthesis=outcome,
        delivery=delivery_volume(lakehouse, spec, day, reports.quality),
        text=text_facts(spec, captured, privacy),
        unknown=reports.unknown,
    )
    report = as_report_rows(
        pl.DataFrame(
            {
                "score": [result.score],
                **{k: [v] for k, v in result.breakdown.items()},
                "synthesis": [None if outcome is None else outcome.status],
                "recommendations": [result.recommendations],
                "unknown": [[f"{k}: {v}" for k, v in result.unknown.items()]],
                "ready": [result.ready],
                "not_ready": [result.not_ready],
            },
            schema_overrides={k: pl.Float64 for k in result.breakdown}
            | {"synthesis": pl.String, "unknown": pl.List(pl.String)}
            | {"ready": pl.List(pl.String), "not_ready": pl.List(pl.String)}
            | {"recommendations": pl.List(pl.String)},
        ),
        source,
        day,
    )
    written = lakehouse.write_partition(
        report_table(READINESS_SCORE), report, {"source": source, "date": day}
    )

    def md(lines: list[str]) -> dg.MetadataValue:
        return dg.MetadataValue.md("\n".join(f"- {r}" for r in lines) or "none")

    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {
                "score": result.score,
                **{k: v for k, v in result.breakdown.items() if v is not None},
                "synthesis": None if outcome is None else outcome.status,
                "recommendations": md(result.recommendations),
                "unknown": md([f"{k}: {v}" for k, v in result.unknown.items()]),
                "ready": md(result.ready),
                "not_ready": md(result.not_ready),
                "breakdown": frame_table(pl.DataFrame([result.breakdown])),
                **report_metadata(
                    lakehouse,
                    source,
                    day,
                    spec.columns,
                    context.log,
                    # What this run read or wrote is not read again for the visual report.
                    known=reports.frames | {READINESS_SCORE: report, CAPTURED: captured},
                ),
            },
        )
    )
