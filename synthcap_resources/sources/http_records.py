"""From a JSON body to records, and from records to rows: pure logic for ``http_api``.

- ``rows``: the value at ``records_path`` is a list of objects (FRED ``observations``,
  World Bank's second element).
- ``columns``: an object of parallel arrays, one per field (SEC submissions'
  ``filings.recent``).
- ``edgar_facts``: SEC company facts, ``facts.<taxonomy>.<concept>.units.<unit>[...]``,
  flattened to one row per fact with cik, entity, taxonomy, concept, label and unit.

A record that is not an object becomes a rejected row with its reason (for the quarantine);
nested objects are flattened one level (``country_id``), deeper values and lists kept as JSON
text, so that a table never gets a struct column by surprise.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import polars as pl

ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"
_MISSING = object()


class RecordsShapeError(ValueError):
    """The body does not have the shape the source's spec declares (the API changed?)."""


def _step(value: Any, key: str) -> Any:
    if isinstance(value, list) and key.lstrip("-").isdigit():
        index = int(key)
        return value[index] if -len(value) <= index < len(value) else _MISSING
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    return _MISSING


def dig(body: Any, path: str | None) -> Any:
    """The value at dotted ``path`` in ``body`` (list indexes are numbers), or ``None``."""
    value = _locate(body, path)
    return None if value is _MISSING else value


def _locate(body: Any, path: str | None) -> Any:
    value = body
    for key in (path or "").split(".") if path else []:
        value = _step(value, key)
        if value is _MISSING:
            return _MISSING
    return value


def _describe(body: Any) -> str:
    if isinstance(body, dict):
        return "an object with keys " + ", ".join(sorted(body)[:8])
    if isinstance(body, list):
        return f"a list of {len(body)}"
    return f"a {type(body).__name__}"


def _columns_to_records(value: Any, path: str | None) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        raise RecordsShapeError(f"expected an object of arrays at {path!r}, got {_describe(value)}")
    lengths = {k: len(v) for k, v in value.items() if isinstance(v, list)}
    if len(set(lengths.values())) > 1:
        raise RecordsShapeError(f"arrays at {path!r} differ in length: {lengths}")
    columns = {k: v for k, v in value.items() if isinstance(v, list)}
    count = next(iter(lengths.values()), 0)
    return [{k: v[i] for k, v in columns.items()} for i in range(count)]


def _edgar_facts(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("facts"), dict):
        raise RecordsShapeError(f"expected SEC company facts, got {_describe(body)}")
    records = []
    for taxonomy, concepts in body["facts"].items():
        for concept, detail in concepts.items():
            for unit, facts in (detail.get("units") or {}).items():
                for fact in facts:
                    records.append(
                        {
                            "cik": body.get("cik"),
                            "entity_name": body.get("entityName"),
                            "taxonomy": taxonomy,
                            "concept": concept,
                            "label": detail.get("label"),
                            "unit": unit,
                            **fact,
                            "val": None if fact.get("val") is None else float(fact["val"]),
                        }
                    )
    return records


def extract_records(body: Any, records_path: str | None, records_format: str) -> list[Any]:
    """The records of one page; ``[]`` for an explicit null (an empty page)."""
    if records_format == "edgar_facts":
        return _edgar_facts(body)
    value = _locate(body, records_path)
    if value is _MISSING:
        raise RecordsShapeError(f"no {records_path!r} in the response ({_describe(body)})")
    if value is None:
        return []
    if records_format == "columns":
        return _columns_to_records(value, records_path)
    if not isinstance(value, list):
        raise RecordsShapeError(f"expected a list at {records_path!r}, got {_describe(value)}")
    return value


def _scalar(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _flat(record: dict[str, Any], null_values: frozenset[str]) -> dict[str, Any]:
    """One level of nesting becomes ``parent_child`` columns (World Bank's ``country.id`` ->
    ``country_id``); deeper values and lists are kept as JSON text; ``null_values`` become
    None."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update({f"{key}_{k}": _scalar(v) for k, v in value.items()})
        else:
            flat[key] = _scalar(value)
    return {k: None if isinstance(v, str) and v in null_values else v for k, v in flat.items()}


def _day_of(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def records_to_frames(
    records: list[Any],
    window_field: str | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    null_values: Sequence[str] = (),
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Rows from the records (only those whose ``window_field`` day is in ``[start, end)``
    when given; values in ``null_values`` as nulls) and the rejected ones with ``_row`` and
    ``_reason``."""
    missing = frozenset(null_values)
    good, bad = [], []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            reason = f"record {number} is a {type(record).__name__}, not an object"
            bad.append({"raw": json.dumps(record), ROW_COLUMN: number, REASON_COLUMN: reason})
            continue
        if window_field and window:
            day = _day_of(record.get(window_field))
            if day is None:
                value = record.get(window_field)
                reason = f"record {number}: {window_field!r} is not a date: {value!r}"
                bad.append({"raw": json.dumps(record), ROW_COLUMN: number, REASON_COLUMN: reason})
                continue
            if not window[0] <= day < window[1]:
                continue
        good.append(_flat(record, missing))
    try:
        rows = pl.from_dicts(good, infer_schema_length=None) if good else pl.DataFrame()
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        # Types that differ between records (a number here, text there): keep all as text.
        as_text = [{k: None if v is None else str(v) for k, v in r.items()} for r in good]
        rows = pl.from_dicts(as_text, infer_schema_length=None)
    return rows, (pl.DataFrame(bad) if bad else None)
