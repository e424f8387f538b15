"""A text source's day, shared by ``text_profile`` and the clean corpus in ``feature_set``:
the document facts of the day's text column, checked against the kept signatures of every
earlier day of the source (``state/text_signatures``).

Both assets of a partition run ask for the same facts in one process; the last few results
are kept (:data:`_RECENT`), keyed by the source, day, text, parameters and a digest of the
history they were checked against, so the second ask computes nothing (a changed input is a
new key). Days with more than :data:`CACHE_MAX_SHINGLES` shingles are not kept: memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import OrderedDict

import polars as pl

from synthcap_assets.text.dedup import DedupParams
from synthcap_assets.text.facts import document_facts
from synthcap_assets.text.signals import QualityRules
from synthcap_resources.catalog import Domain, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource

TEXT_PROFILE = "text_profile"
TEXT_DOCUMENTS = "text_documents"
SIGNATURES = "state/text_signatures"
CACHE_MAX_SHINGLES = 5_000_000
_RECENT: OrderedDict[tuple, tuple[pl.DataFrame, pl.DataFrame]] = OrderedDict()
_KEEP = 2


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
    rules = QualityRules.from_overrides(spec.text.filter_params)
    params = dedup_params(spec)
    history = signature_history(lakehouse, spec.id, day)
    key = (spec.id, day, _digest(rows[column]), rules, params, _history_digest(history))
    if key in _RECENT:
        return _RECENT[key]
    found = document_facts(rows[column], rules=rules, dedup=params, history=history)
    if found[1]["shingles"].list.len().sum() <= CACHE_MAX_SHINGLES:
        _RECENT[key] = found
        while len(_RECENT) > _KEEP:
            _RECENT.popitem(last=False)
    return found


def _digest(texts: pl.Series) -> str:
    """A digest of the texts in order (nulls included)."""
    h = hashlib.blake2b(digest_size=16)
    for text in texts.cast(pl.String).to_list():
        h.update(b"\x00" if text is None else b"\x01" + text.encode() + b"\xff")
    return h.hexdigest()


def _history_digest(history: pl.DataFrame | None) -> tuple[int, int] | None:
    """Which earlier documents the history holds: row count and a hash of (date, doc, key)."""
    if history is None:
        return None
    rows = history.select("date", "doc", "exact_key").hash_rows()
    return history.height, int(rows.sum())
