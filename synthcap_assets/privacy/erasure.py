"""Right to erasure (GDPR art. 17, CCPA): delete a person's rows and every readable trace of them.

``synthcap erase --source S --where "<predicate>"``:

1. parses the predicate with a closed grammar over the raw table's own columns (below): it is
   user input and must never reach a SQL engine as text; the Delta delete predicate is rebuilt
   from the parsed tokens, identifiers double-quoted and strings re-escaped;
2. deletes the matching rows from ``raw/<source>``; the derived tables ``features/<source>``
   and ``synthetic/<source>`` lose every partition (day) that held a matching row, since a
   feature row or a synthetic sample of that day was computed from it (re-materialize those
   partitions to rebuild them without the rows); for a text source the erased rows' documents
   also leave ``reports/text_documents`` and ``state/text_signatures``
   (:mod:`synthcap_assets.text.erasure`), so no later day is matched against them;
3. purges history (vacuum, checkpoint, old commit files dropped): no earlier version that still
   holds the rows stays readable, and no commit file keeps their values in column statistics;
4. appends an audit row to ``audit/erasures`` (who, when, source, predicate, rows removed per
   table, partitions rebuilt), which is also the erasure list: ``raw_capture`` drops rows
   matching any recorded predicate of its source (:func:`without_erased`), so a later capture of
   the same file keeps them out. The stored predicate holds keyed tokens (:mod:`.tokens`) in
   place of its ``=`` / ``in`` literals, so the list does not itself keep the erased values;
   range bounds (``<``, ``>``) are kept as written.

The predicate grammar is in :mod:`.predicate`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass

import polars as pl

from synthcap_assets.columns import DATE_COLUMN, data_columns
from synthcap_assets.privacy.predicate import ErasureError, parse_predicate
from synthcap_assets.privacy.tokens import token_key
from synthcap_assets.text.erasure import erase_documents
from synthcap_resources.lakehouse import (
    LakehouseResource,
    features_table,
    raw_table,
    synthetic_table,
)

ERASURES_TABLE = "audit/erasures"


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure removed: rows per table, the days rebuilt, old data files vacuumed."""

    source: str
    predicate: str
    rows_removed: dict[str, int]
    partitions: list[str]
    files_removed: int


def erase(
    lakehouse: LakehouseResource,
    source: str,
    where: str,
    who: str | None = None,
    key: bytes | None = None,
) -> ErasureResult:
    """Carry out an erasure (module docs) and return what it removed. ``key`` tokenizes the
    literals the audit row keeps (default: :func:`.tokens.token_key`)."""
    key = token_key() if key is None else key
    raw = lakehouse.read_table(raw_table(source))
    if raw is None:
        raise ErasureError(f"source {source!r} has no raw table in {lakehouse.uri('')}")
    predicate = parse_predicate(where, data_columns(raw))
    matched = raw.filter(predicate.expr())
    days = sorted({str(d) for d in matched[DATE_COLUMN].to_list()})
    removed = {raw_table(source): lakehouse.delete_where(raw_table(source), predicate.sql())}
    for table in (features_table(source), synthetic_table(source)):
        dates = ", ".join(f"'{d}'" for d in days)
        removed[table] = (
            lakehouse.delete_where(table, f'"{DATE_COLUMN}" IN ({dates})') if days else 0
        )
    removed.update(erase_documents(lakehouse, source, matched, DATE_COLUMN))
    files = sum(len(lakehouse.purge_history(t)) for t in removed)
    audit = pl.DataFrame(
        {
            "erased_at": [dt.datetime.now(dt.UTC)],
            "who": [who or getpass.getuser()],
            "source": [source],
            "predicate": [predicate.tokenized(key).text()],
            "rows_removed": [json.dumps(removed)],
            "raw_rows_removed": [removed[raw_table(source)]],
            "partitions": [days],
        }
    )
    lakehouse.append(ERASURES_TABLE, audit)
    return ErasureResult(source, predicate.text(), removed, days, files)


def without_erased(
    lakehouse: LakehouseResource, source: str, rows: pl.DataFrame, key: bytes | None = None
) -> tuple[pl.DataFrame, int]:
    """``rows`` without those matching any recorded erasure of ``source``, and how many went.

    A recorded predicate naming a column these rows lack cannot match them and is skipped.
    """
    key = token_key() if key is None else key
    audit = lakehouse.read_table(ERASURES_TABLE)
    if audit is None:
        return rows, 0
    keep = rows
    for text in audit.filter(pl.col("source") == source)["predicate"].to_list():
        try:
            predicate = parse_predicate(text, keep.columns)
        except ErasureError:
            continue
        keep = keep.filter(~predicate.expr(key))
    return keep, rows.height - keep.height


__all__ = [
    "ERASURES_TABLE",
    "ErasureError",
    "ErasureResult",
    "erase",
    "parse_predicate",
    "without_erased",
]
