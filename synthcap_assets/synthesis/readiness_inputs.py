"""What ``readiness_score`` reads, each piece on its own so that a missing report makes only
its component unknown: the quality, privacy and drift reports, the synthesis outcome and
evaluation, the delivery-size history and, for text sources, the corpus facts.

Every reader returns ``None`` (or an "unknown" reason) for a table or partition that is not
there; none raises for a missing upstream. Only the capture itself is required: a (source,
date) without captured rows has nothing to score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from synthcap_assets.columns import without_meta
from synthcap_assets.privacy.assets import PRIVACY_REPORT
from synthcap_assets.profile.assets import DRIFT_REPORT
from synthcap_assets.quality.assets import QUALITY_REPORT
from synthcap_assets.quality.history import metric_history, past_row_counts
from synthcap_assets.reads import report_rows as read_rows
from synthcap_assets.synthesis.outcome import SAMPLE, SYNTHETIC_OUTCOME, Outcome, outcome_from_row
from synthcap_assets.synthesis.readiness import DeliveryVolume, TextFacts
from synthcap_resources.catalog import Domain, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource

SYNTHETIC_UTILITY = "synthetic_utility"
TABLE_ROW = "*"


@dataclass
class ReportsOfDay:
    """The reports of one (source, date), ``None`` where absent, and why each is missing."""

    quality: dict | None = None
    privacy: pl.DataFrame | None = None
    drift: pl.DataFrame | None = None
    outcome: Outcome | None = None
    evaluation: pl.DataFrame | None = None
    unknown: dict[str, str] = field(default_factory=dict)
    # Each report table read, by name, as the lake holds it (the visual report reuses them).
    frames: dict[str, pl.DataFrame | None] = field(default_factory=dict)


def _missing(asset: str, day: dt.date) -> str:
    return (
        f"{asset} has no rows for {day}: its step failed or was skipped (see the partition "
        "run); materialize it, then readiness_score again"
    )


def table_row(report: pl.DataFrame | None) -> dict:
    """The ``*`` (whole-table) row of a report, ``{}`` when there is none."""
    if report is None:
        return {}
    rows = report.filter(pl.col("column") == TABLE_ROW)
    return rows.row(0, named=True) if rows.height else {}


def read_reports(lakehouse: LakehouseResource, source: str, day: dt.date) -> ReportsOfDay:
    """Every report readiness reads, each optional."""
    out = ReportsOfDay()

    def report_rows(asset: str) -> pl.DataFrame | None:
        out.frames[asset] = read_rows(lakehouse, asset, source, day, required=False)
        return out.frames[asset]

    quality = report_rows(QUALITY_REPORT)
    if quality is None:
        out.unknown["quality"] = _missing(QUALITY_REPORT, day)
    else:
        out.quality = table_row(quality)
    out.privacy = report_rows(PRIVACY_REPORT)
    if out.privacy is None:
        out.unknown["privacy"] = _missing(PRIVACY_REPORT, day)
    out.drift = report_rows(DRIFT_REPORT)
    if out.drift is None:
        out.unknown["drift"] = _missing(DRIFT_REPORT, day)
    stored = report_rows(SYNTHETIC_OUTCOME)
    if stored is None:
        out.unknown["utility"] = (
            f"synthetic_sample recorded no outcome for {day}: it did not run (a blocking check "
            "before it failed, e.g. privacy_budget_available) or its run was cut short"
        )
    else:
        out.outcome = outcome_from_row(stored.row(0, named=True))
        if out.outcome.status == SAMPLE:
            out.evaluation = report_rows(SYNTHETIC_UTILITY)
    return out


def drifted_and_compared(drift: pl.DataFrame) -> tuple[list[str], int]:
    """(drifted columns, compared columns) of a drift report; "no reference" rows are not
    compared."""
    compared = drift.filter(pl.col("kind") != "no_reference")
    if "method" in drift.columns:  # identifiers get no distribution test: nothing compared
        compared = compared.filter(~pl.col("method").is_in(["identifier", "none"]))
    if "drifted" not in drift.columns:
        return [], compared.height
    drifted = compared.filter(pl.col("drifted").fill_null(False))
    return drifted["column"].to_list(), compared.height


def delivery_volume(
    lakehouse: LakehouseResource, spec: SourceSpec, day: dt.date, quality: dict | None
) -> DeliveryVolume:
    """The quality report's volume dimension for the day and the past days it could use."""
    history = metric_history(lakehouse, spec.id, day, spec.quality.anomaly_window)
    days = len(past_row_counts(history))
    share = None if quality is None else quality.get("volume")
    declared = spec.quality.min_rows is not None or spec.quality.max_rows is not None
    return DeliveryVolume(share=share, history_days=days, declared=declared)


def text_facts(spec: SourceSpec, captured: pl.DataFrame, privacy: pl.DataFrame | None):
    """The corpus facts of a text source (``None`` for other sources or a missing column)."""
    column = spec.text_column
    if spec.domain is not Domain.text or not column or column not in captured.columns:
        return None
    texts = without_meta(captured)[column].cast(pl.String).str.strip_chars()
    texts = texts.filter(texts.is_not_null() & (texts.str.len_chars() > 0))
    duplicates = None if texts.len() == 0 else 1.0 - texts.n_unique() / texts.len()
    pii_share, kinds = None, []
    if privacy is not None:
        row = privacy.filter(pl.col("column") == column)
        if row.height:
            found = row.row(0, named=True)
            pii_share = found.get("match_share") or 0.0
            kinds = [found["pii_type"]] if found.get("pii_type") else []
    return TextFacts(
        column, texts.len(), pii_share, kinds, duplicates, **text_stage_facts(spec, captured)
    )


def text_stage_facts(spec: SourceSpec, captured: pl.DataFrame) -> dict:
    """Near-duplicate share, filter pass rate, language purity and clean-corpus size of the
    day (synthcap_assets/text/), from the rows alone: earlier days are not consulted."""
    from synthcap_assets.text.corpus import kept_mask
    from synthcap_assets.text.day import dedup_params
    from synthcap_assets.text.facts import document_facts
    from synthcap_assets.text.signals import QualityRules

    facts, _ = document_facts(
        without_meta(captured)[spec.text_column],
        rules=QualityRules.from_overrides(spec.text.filter_params),
        dedup=dedup_params(spec),
    )
    present = facts.filter(pl.col("chars").fill_null(0) > 0)
    if present.height == 0:
        return {}
    passed = present
    for name in spec.text.filters:
        passed = passed.filter(pl.col(name).is_null())
    languages = present["language"]
    inside = (
        languages.is_in(spec.text.languages).mean()
        if spec.text.languages
        else languages.value_counts(sort=True)["count"][0] / present.height
    )
    kept = kept_mask(facts, spec.text.languages, spec.text.filters)
    return {
        "near_duplicate_share": float(present["near_duplicate"].mean()),
        "pass_rate": passed.height / present.height,
        "language_purity": float(inside),
        "corpus_documents": int(kept.sum()),
    }
