"""Dagster wiring for privacy: the ``privacy_report`` asset."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows, without_meta
from synthcap_assets.lineage.hooks import emits_lineage
from synthcap_assets.metadata import REPORT_COLUMN_DOCS, frame_table, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.anonymity import assess_anonymity, generalize
from synthcap_assets.privacy.checks import pii_leaks
from synthcap_assets.privacy.handling import apply_handling
from synthcap_assets.privacy.pii import detect_pii, handled_columns, personal
from synthcap_assets.privacy.risk import assess_risk
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, report_table

PRIVACY_REPORT = "privacy_report"
PII_TABLE_COLUMNS = (
    "column",
    "pii_type",
    "detected_by",
    "match_share",
    "confidence",
    "direct_identifier",
    "quasi_identifier",
    "handling",
    "handling_reason",
)


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="privacy",
    kinds={"delta", "polars"},
)
@emits_lineage
def privacy_report(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """PII found in the day's capture, one row per column (type, share matched, share per type
    in free text, confidence, direct or quasi identifier, handling and why), plus a ``*`` row
    with the k-anonymity and unique share of the worst combination of up to three
    quasi-identifiers (sought for people only: the catalog's ``subject``), raw and generalized,
    naming both combinations, the per-record re-identification risk (max, mean, share above
    1/5) and the l-diversity of the catalog's sensitive columns, both after generalization."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    rows = without_meta(captured_rows(lakehouse, source, day))
    pii = detect_pii(
        rows,
        hints=spec.pii,
        quasi_identifiers=spec.quasi_identifiers,
        partition_date=day,
        handling={c: (h.handling, h.reason) for c, h in spec.privacy.columns.items()},
        subject=spec.subject,
    )
    quasi = pii.filter(pl.col("quasi_identifier"))
    qi_types = {r["column"]: r["pii_type"] or "category" for r in quasi.iter_rows(named=True)}
    anonymity = assess_anonymity(rows, list(qi_types), qi_types)
    sensitive = spec.privacy.sensitive_columns
    # Risk on the generalized rows over the worst combination: its max is 1 / k_generalized.
    risk = assess_risk(generalize(rows, qi_types), anonymity.combination_generalized, sensitive)
    diversity = [v for v in risk.l_diversity.values() if v is not None]
    table_row = pl.DataFrame(
        {
            "column": ["*"],
            "k_anonymity": [anonymity.k],
            "k_anonymity_generalized": [anonymity.k_generalized],
            "unique_share": [anonymity.unique_share],
            "unique_share_generalized": [anonymity.unique_share_generalized],
            "quasi_identifiers": [", ".join(anonymity.quasi_identifiers)],
            "qi_combination": [", ".join(anonymity.combination)],
            "qi_combination_generalized": [", ".join(anonymity.combination_generalized)],
            "max_record_risk": [risk.max_risk],
            "mean_record_risk": [risk.mean_risk],
            "high_risk_share": [risk.high_risk_share],
            "l_diversity": [min(diversity) if diversity else None],
            "sensitive_columns": [", ".join(sensitive)],
        },
        schema_overrides={"l_diversity": pl.Int64},
    )
    report = as_report_rows(pl.concat([pii, table_row], how="diagonal_relaxed"), source, day)
    written = lakehouse.write_partition(
        report_table(PRIVACY_REPORT), report, {"source": source, "date": day}
    )
    direct = pii.filter(pl.col("direct_identifier"))["column"].to_list()
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {
                "pii": frame_table(
                    pii.select([c for c in PII_TABLE_COLUMNS if c in pii.columns]),
                    REPORT_COLUMN_DOCS,
                ),
                "pii_columns": pii.filter(pl.col("pii_type").is_not_null())["column"].to_list(),
                "direct_identifiers": direct,
                "quasi_identifiers": anonymity.quasi_identifiers,
                "qi_combination": anonymity.combination,
                "k_anonymity": anonymity.k,
                "k_anonymity_generalized": anonymity.k_generalized,
                "unique_share": anonymity.unique_share,
                "mean_record_risk": risk.mean_risk,
                "high_risk_share": risk.high_risk_share,
                "l_diversity": risk.l_diversity,
            },
        )
    )


def columns_to_drop(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    hinted: list[str],
    allow: Sequence[str] = ("keep",),
) -> list[str]:
    """Columns never copied downstream as they are: the catalog's PII hints and detected PII,
    except those whose handling is in ``allow`` (``keep`` for synthesis; features also take
    tokenized and generalized columns, see ``privacy.handling``)."""
    report = report_rows(lakehouse, PRIVACY_REPORT, source, day)
    allowed = set(report.filter(pl.col("handling").is_in(list(allow)))["column"].to_list())
    return sorted((set(hinted) - allowed) | set(handled_columns(report, allow)))


def pii_handling(lakehouse: LakehouseResource, source: str, day: dt.date) -> pl.DataFrame:
    """The privacy report's column, pii_type and handling rows of the day's personal-data
    columns (PII, direct and quasi-identifiers)."""
    report = report_rows(lakehouse, PRIVACY_REPORT, source, day)
    return report.filter(personal(report)).select("column", "pii_type", "handling")


@dataclass(frozen=True)
class HandledRows:
    """A capture as a derived table may use it: ``rows`` with excluded columns gone and the
    rest treated; ``treated`` says what was done per column, ``excluded`` lists what left."""

    rows: pl.DataFrame
    treated: dict[str, str]
    excluded: list[str]


def handled_rows(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    captured: pl.DataFrame,
    hinted: list[str],
    allow: Sequence[str],
    key: bytes,
) -> HandledRows:
    """``captured`` (data columns) with every personal-data column whose handling is not in
    ``allow`` removed and the others treated by :func:`.handling.apply_handling`, per the day's
    privacy report: the one way to the frame features (``FEATURE_HANDLINGS``) and samples
    (``SAMPLE_HANDLINGS``) are built from, so generalized columns flow on generalized only."""
    excluded = columns_to_drop(lakehouse, source, day, hinted, allow)
    handled = pii_handling(lakehouse, source, day).filter(~pl.col("column").is_in(excluded))
    rows, treated = apply_handling(
        captured.drop([c for c in excluded if c in captured.columns]),
        dict(zip(handled["column"], handled["handling"], strict=True)),
        dict(zip(handled["column"], handled["pii_type"], strict=True)),
        key,
    )
    gone = sorted(set(excluded) | (set(captured.columns) - set(rows.columns)))
    return HandledRows(rows, treated, gone)


def no_pii_check(
    context: dg.AssetCheckExecutionContext,
    lakehouse: LakehouseResource,
    catalog: CatalogResource,
    table_of: Callable[[str], str],
    allow: Sequence[str] = ("keep",),
) -> dg.AssetCheckResult:
    """The check behind every no-PII gate: the derived partition holds no PII column or value
    (columns whose handling is in ``allow`` may stay, treated)."""
    source, day = source_and_day(context)
    derived = lakehouse.read_partition(table_of(source), {DATE_COLUMN: day})
    if derived is None:
        return dg.AssetCheckResult(passed=False, description=f"no rows for {source} on {day}")
    leaks = pii_leaks(
        derived,
        columns_to_drop(lakehouse, source, day, catalog.get(source).pii_columns, allow),
    )
    return dg.AssetCheckResult(
        passed=not leaks,
        metadata={"leaks": dg.MetadataValue.json(leaks), "columns": derived.width},
        description="; ".join(leaks) or "no PII",
    )
