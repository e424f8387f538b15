"""A text source's per-document tables under the right to erasure.

``reports/text_documents`` (one row of facts per document, never the text) and
``state/text_signatures`` (band keys and shingle hashes kept so later days are checked against
the day) hold a row per document. When rows of a text source are erased
(:func:`synthcap_assets.privacy.erasure.erase`), their documents leave both tables: each erased
row's text is redacted and normalized exactly as the text profile did it, and the rows of the
same (source, date) with the same exact-duplicate key (64-bit BLAKE2b of the normalized text)
are deleted. Documents of that day with the same normalized text go too, whoever sent them:
they are the same text. Day-level counts in ``reports/text_profile`` hold no document and stay.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from synthcap_assets.privacy.redact import redact_text
from synthcap_assets.text.day import SIGNATURES, TEXT_DOCUMENTS
from synthcap_assets.text.dedup import exact_keys, normalize_all
from synthcap_resources.lakehouse import LakehouseResource, report_table

__all__ = ["DOCUMENT_TABLES", "erase_documents"]

DOCUMENT_TABLES = (report_table(TEXT_DOCUMENTS), SIGNATURES)


def _text_columns(lakehouse: LakehouseResource, source: str) -> list[str]:
    """The text column(s) the text profile used for ``source`` (from ``text_documents``)."""
    delta = lakehouse.delta_table(report_table(TEXT_DOCUMENTS))
    if delta is None:
        return []
    arrow = delta.to_pyarrow_table(columns=["column"], filters=[("source", "=", source)])
    return sorted(set(arrow.column("column").to_pylist()) - {None})


def _predicate(source: str, keys_by_day: dict[dt.date, set[int]]) -> str:
    """SQL for the rows of ``source`` whose (date, exact_key) is listed; keys are int64, the
    dates ISO strings, so nothing user-written enters the text."""
    esc = source.replace("'", "''")
    per_day = [
        f"(date = '{day.isoformat()}' AND exact_key IN ({', '.join(map(str, sorted(keys)))}))"
        for day, keys in sorted(keys_by_day.items())
    ]
    return f"source = '{esc}' AND ({' OR '.join(per_day)})"


def erase_documents(
    lakehouse: LakehouseResource, source: str, matched: pl.DataFrame, date_column: str
) -> dict[str, int]:
    """Delete the documents of the erased ``matched`` raw rows (``date_column`` their day) from
    the per-document text tables; rows removed per table (empty for a non-text source)."""
    keys_by_day: dict[dt.date, set[int]] = {}
    for column in _text_columns(lakehouse, source):
        if column not in matched.columns:
            continue
        redacted = redact_text(matched[column].cast(pl.String))
        keys = exact_keys(normalize_all(redacted.to_list()))
        for day, key in zip(matched[date_column].to_list(), keys.tolist(), strict=True):
            keys_by_day.setdefault(day, set()).add(int(key))
    if not keys_by_day:
        return {}
    predicate = _predicate(source, keys_by_day)
    return {table: lakehouse.delete_where(table, predicate) for table in DOCUMENT_TABLES}
