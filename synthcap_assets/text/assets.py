"""Dagster wiring for text sources: the ``text_profile`` asset and the text gates.

``text_profile`` (text sources only; others get a skip) computes the day's document facts
(:mod:`.facts`) and writes, in this order, ``reports/text_documents`` (one row per document:
signals, failing rule per filter, language, PII types, duplicate facts; never the text),
``reports/text_profile`` (tidy counts per column) and ``state/text_signatures`` (band keys and
shingle sets, so later days are checked against this one without re-reading it). Each write
replaces the (source, date) partition, so a re-run after a failure leaves no mix.

Checks, thresholds from the catalog's ``text:`` block: duplicate share, language purity, filter
pass rate (warnings), and on ``feature_set`` (the clean corpus) the planted-literal gate:
no catalog canary and no email address of the day's raw text appears in the corpus
(blocking).
"""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows, without_meta
from synthcap_assets.features.assets import feature_set
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.metadata import written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_assets.text.day import (
    SIGNATURES,
    TEXT_DOCUMENTS,
    TEXT_PROFILE,
    day_facts,
    is_text_source,
)
from synthcap_assets.text.facts import headline
from synthcap_assets.text.facts import text_profile as profile_rows
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource, features_table, report_table


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="profile",
    kinds={"delta", "polars", "jax"},
)
@emits_lineage
def text_profile(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """Text profile of a text source's day: documents, lengths, language mix with confidence,
    scripts, non-printable, mojibake, profanity, PII per type, exact and near duplicates (within
    the day and against earlier days), and datatrove's quality rules per document."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    if not is_text_source(spec):
        return dg.MaterializeResult(metadata={"skipped": f"{source} is not a text source"})
    rows = without_meta(captured_rows(lakehouse, source, day))
    facts, signatures = day_facts(lakehouse, spec, rows, day)
    partition = {"source": source, "date": day}
    lakehouse.write_partition(
        report_table(TEXT_DOCUMENTS),
        as_report_rows(facts.with_columns(pl.lit(spec.text_column).alias("column")), source, day),
        partition,
    )
    profile = as_report_rows(profile_rows(facts, spec.text_column, spec.text.filters), source, day)
    written = lakehouse.write_partition(report_table(TEXT_PROFILE), profile, partition)
    lakehouse.write_partition(SIGNATURES, as_report_rows(signatures, source, day), partition)
    summary = headline(profile)
    context.log.info(f"{source} {day}: text {summary}")
    return dg.MaterializeResult(metadata=written_metadata(written, profile, summary))


def _profile_of(
    lakehouse: LakehouseResource, catalog: CatalogResource, context: dg.AssetCheckExecutionContext
) -> tuple[SourceSpec, dict[str, float] | None]:
    source, day = source_and_day(context)
    spec = catalog.get(source)
    if not is_text_source(spec):
        return spec, None
    return spec, headline(report_rows(lakehouse, TEXT_PROFILE, source, day))


def _skip(spec: SourceSpec) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, description=f"{spec.id} is not a text source")


def _warn(passed: bool, description: str, **metadata: float | str) -> dg.AssetCheckResult:
    """A warning-severity result of a text gate."""
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description,
    )


@dg.asset_check(asset=text_profile, blocking=False, partitions_def=source_date_partitions)
@emits_check_lineage
def text_duplicate_share_within(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """Exact plus near duplicates within the day at most ``text.max_duplicate_share``."""
    spec, h = _profile_of(lakehouse, catalog, context)
    if h is None:
        return _skip(spec)
    limit = spec.text.max_duplicate_share
    return _warn(
        h["duplicate_share"] <= limit,
        f"duplicates {h['duplicate_share']:.1%} (limit {limit:.0%})",
        duplicate_share=h["duplicate_share"],
        limit=limit,
        seen_before_share=h["seen_before_share"],
    )


def _purity(lakehouse: LakehouseResource, spec: SourceSpec, day: dt.date) -> tuple[float, str]:
    """Share of documents in the allowed languages (or in the top language without a list)."""
    profile = report_rows(lakehouse, TEXT_PROFILE, spec.id, day)
    n = float(profile.filter(pl.col("metric") == "documents")["value"].sum())
    langs = profile.filter(pl.col("metric") == "language")
    if spec.text.languages:
        inside = float(langs.filter(pl.col("key").is_in(spec.text.languages))["value"].sum())
        return (inside / n if n else 1.0), f"in {', '.join(spec.text.languages)}"
    top = langs.sort("value", descending=True)
    if not top.height:
        return 1.0, "no documents"
    return (float(top["value"][0]) / n if n else 1.0), f"in the top language {top['key'][0]}"


@dg.asset_check(asset=text_profile, blocking=False, partitions_def=source_date_partitions)
@emits_check_lineage
def text_language_purity(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """At least ``text.min_language_purity`` of the documents in the allowed languages."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    if not is_text_source(spec):
        return _skip(spec)
    purity, where = _purity(lakehouse, spec, day)
    limit = spec.text.min_language_purity
    return _warn(
        purity >= limit, f"{purity:.1%} of documents {where} (floor {limit:.0%})",
        purity=purity, limit=limit,
    )  # fmt: skip


@dg.asset_check(asset=text_profile, blocking=False, partitions_def=source_date_partitions)
@emits_check_lineage
def text_filter_pass_rate(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """At least ``text.min_pass_rate`` of the documents pass every gating filter."""
    spec, h = _profile_of(lakehouse, catalog, context)
    if h is None:
        return _skip(spec)
    limit = spec.text.min_pass_rate
    gates = ", ".join(spec.text.filters) or "no gating filter"
    return _warn(
        h["pass_rate"] >= limit,
        f"{h['pass_rate']:.1%} pass {gates} (floor {limit:.0%})",
        pass_rate=h["pass_rate"],
        limit=limit,
        filters=gates,
    )


def planted_literals(raw: pl.Series, canaries: list[str]) -> list[str]:
    """The literals that must not reach the corpus: the catalog's canaries (planted on
    purpose) and every email address of the raw text, found by a loose regex of its own rather
    than the redactor's validated finders."""
    loose = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    found = raw.cast(pl.String).str.extract_all(loose).explode().drop_nulls().unique()
    return sorted(set(canaries) | set(found.to_list()))


@dg.asset_check(asset=feature_set, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def text_corpus_has_no_planted_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No catalog canary and no PII-shaped literal of the day's raw text is in the corpus."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    if not is_text_source(spec):
        return _skip(spec)
    corpus = lakehouse.read_partition(features_table(source), {DATE_COLUMN: day})
    raw = captured_rows(lakehouse, source, day)[spec.text_column]
    literals = planted_literals(raw, spec.text.canaries)
    if corpus is None:
        return dg.AssetCheckResult(passed=True, description="empty corpus: nothing can leak")
    strings = [c for c, t in corpus.schema.items() if t == pl.String]
    leaked = sorted(
        {
            lit
            for c in strings
            for lit in literals
            if corpus[c].str.contains(lit, literal=True).any()
        }
    )
    return dg.AssetCheckResult(
        passed=not leaked,
        metadata={"literals_checked": len(literals), "leaked": len(leaked)},
        description=(f"{len(leaked)} planted literal(s) reached the corpus" if leaked
                     else f"none of {len(literals)} planted literals in the corpus"),
    )  # fmt: skip


TEXT_ASSETS = [text_profile]
TEXT_CHECKS = [
    text_duplicate_share_within,
    text_language_purity,
    text_filter_pass_rate,
    text_corpus_has_no_planted_pii,
]
