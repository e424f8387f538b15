"""A text source's day, shared by ``text_profile`` and the clean corpus in ``feature_set``:
the document facts of the day's text column, checked against the kept signatures of every
earlier day of the source (``state/text_signatures``)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from synthcap_assets.text.dedup import DedupParams
from synthcap_assets.text.facts import document_facts
from synthcap_assets.text.signals import QualityRules
from synthcap_resources.catalog import Domain, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource

TEXT_PROFILE = "text_profile"
TEXT_DOCUMENTS = "text_documents"
SIGNATURES = "state/text_signatures"


class TextColumnError(KeyError):
    """The catalog's text_column is not among the captured columns."""


def is_text_source(spec: SourceSpec) -> bool:
    return spec.domain is Domain.text and bool(spec.text_column)


def dedup_params(spec: SourceSpec) -> DedupParams:
    t = spec.text
    return DedupParams(
        shingle=t.shingle, k=t.shingle_size, bands=t.bands, rows=t.rows, min_jaccard=t.min_jaccard
    )


def signature_history(
    lakehouse: LakehouseResource, source: str, day: dt.date
) -> pl.DataFrame | None:
    """The kept signatures of ``source`` from every day before ``day`` (None if none)."""
    delta = lakehouse.delta_table(SIGNATURES)
    if delta is None:
        return None
    arrow = delta.to_pyarrow_table(filters=[("source", "=", source), ("date", "<", day)])
    return pl.from_arrow(arrow) if arrow.num_rows else None


def day_facts(
    lakehouse: LakehouseResource, spec: SourceSpec, rows: pl.DataFrame, day: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(document facts, signature rows) of the day's text column, against the history."""
    column = spec.text_column
    if column not in rows.columns:
        raise TextColumnError(
            f"source {spec.id!r}, partition {day}: text_column {column!r} is not in the "
            f"captured columns ({', '.join(rows.columns)}); fix text_column in the catalog"
        )
    return document_facts(
        rows[column],
        rules=QualityRules.from_overrides(spec.text.filter_params),
        dedup=dedup_params(spec),
        history=signature_history(lakehouse, spec.id, day),
    )
