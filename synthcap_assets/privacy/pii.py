"""PII detection: which columns of a captured frame hold personal data, and what to do with them.

Each data column is classified, in this order of precedence:

1. a catalog hint (``hints``: column -> PII type) always wins;
2. value patterns with validators (:mod:`.pii_patterns`: Luhn for cards, mod-97 for IBANs,
   ``ipaddress`` for IPs, shape rules for emails, phones and US SSNs): the type whose
   recogniser matches the largest share of non-null values, if that share is >= 0.5;
3. the column name, for what patterns cannot find reliably: person names and street
   addresses by name alone; zip codes and birth dates by name plus a value check (5-digit
   codes; dates implying an age of 0-120 at the partition day);
4. free text (string columns whose values mostly contain spaces) is searched for emails,
   phones, cards, SSNs, IPs and IBANs embedded anywhere: ``pii_type`` then names the most
   frequent kind found and ``match_share`` is the share of rows containing any kind. Such a
   column is only a direct identifier (dropped) when at least half its rows carry PII;
   otherwise it is reported with ``handling`` "keep" so the leak is visible but the text
   remains usable for counts.

``handling`` is "drop" for direct identifiers and for columns hinted as "other" (declared
personal data of unknown shape cannot be generalised), "generalize" for quasi-identifiers and
"keep" otherwise; the catalog may set it per column (``privacy.columns``: drop, tokenize,
generalize, or keep with a reason), which wins. ``handling_reason`` says why, in words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.privacy.pii_patterns import (
    TEXT_FINDERS,
    VALUE_MATCHERS,
    iban_valid,
    is_gender_like,
    luhn_valid,
    name_suggests,
    zip_valid,
)
from synthcap_resources.catalog import PII_TYPES  # the catalog owns the hint vocabulary

__all__ = [
    "PII_TYPES",
    "REPORT_SCHEMA",
    "detect_pii",
    "iban_valid",
    "luhn_valid",
    "pii_columns",
    "scan_values_for_pii",
]

DIRECT_IDENTIFIER_TYPES = frozenset(
    {"person_name", "email", "phone", "card_number", "national_id", "iban", "address", "ip_address"}
)
QUASI_IDENTIFIER_TYPES = frozenset({"birth_date", "zip_code"})
MIN_MATCH_SHARE = 0.5
# A name is a good but not certain signal; a name whose values contradict it is weak.
NAME_ONLY_CONFIDENCE = 0.6
NAME_CONTRADICTED_CONFIDENCE = 0.3

REPORT_SCHEMA = pl.Schema(
    {
        "column": pl.String,
        "pii_type": pl.String,
        "detected_by": pl.String,
        "match_share": pl.Float64,
        "confidence": pl.Float64,
        "direct_identifier": pl.Boolean,
        "quasi_identifier": pl.Boolean,
        "handling": pl.String,
        "handling_reason": pl.String,
    }
)
HANDLINGS = ("drop", "tokenize", "generalize", "keep")


def _is_string(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def _string_values(series: pl.Series) -> list[str]:
    return series.drop_nulls().cast(pl.String).to_list()


def _share(values: Sequence[str], test) -> float | None:
    if not values:
        return None
    return sum(1 for v in values if test(v)) / len(values)


def _pattern_shares(series: pl.Series) -> dict[str, float]:
    """Share of non-null values each whole-value recogniser accepts (types that apply only)."""
    if _is_string(series.dtype):
        values = _string_values(series)
        kinds = VALUE_MATCHERS
    elif series.dtype.is_integer():
        # Integers can only hold card numbers among the pattern types.
        values = _string_values(series)
        kinds = {"card_number": luhn_valid}
    else:
        return {}
    if not values:
        return {}
    return {kind: _share(values, test) or 0.0 for kind, test in kinds.items()}


def _birth_share(series: pl.Series, on: dt.date) -> float | None:
    """Share of values that are dates (or years) implying an age of 0-120 on ``on``."""
    values = series.drop_nulls()
    if values.is_empty():
        return None
    if series.dtype.is_integer():
        return values.is_between(on.year - 120, on.year).mean()
    if isinstance(series.dtype, pl.Datetime):
        dates = values.dt.date()
    elif series.dtype == pl.Date:
        dates = values
    elif _is_string(series.dtype):
        dates = values.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    else:
        return None
    frame = pl.DataFrame({"d": dates})
    not_yet = (pl.col("d").dt.month().cast(pl.Int32) * 100 + pl.col("d").dt.day()) > (
        on.month * 100 + on.day
    )
    age = on.year - pl.col("d").dt.year().cast(pl.Int32) - not_yet.cast(pl.Int32)
    ok = frame.select(age.is_between(0, 120).fill_null(False)).to_series()
    return ok.mean()


def _zip_share(series: pl.Series) -> float | None:
    if series.dtype.is_integer():
        values = series.drop_nulls()
        return None if values.is_empty() else values.is_between(0, 99_999).mean()
    if _is_string(series.dtype):
        return _share(_string_values(series), zip_valid)
    return None


def _type_share(series: pl.Series, kind: str, on: dt.date) -> float | None:
    if kind == "birth_date":
        return _birth_share(series, on)
    if kind == "zip_code":
        return _zip_share(series)
    if kind in VALUE_MATCHERS:
        return _pattern_shares(series).get(kind)
    return None


def _is_free_text(values: Sequence[str]) -> bool:
    spaced = sum(1 for v in values if re.search(r"\s", v.strip()))
    return bool(values) and spaced / len(values) >= 0.5


def _embedded(values: Sequence[str]) -> tuple[str, float] | None:
    """Most frequent kind of PII inside free text and the share of values holding any."""
    if not values:
        return None
    counts = dict.fromkeys(TEXT_FINDERS, 0)
    rows_with_any = 0
    for value in values:
        found = [kind for kind, find in TEXT_FINDERS.items() if find(value)]
        rows_with_any += bool(found)
        for kind in found:
            counts[kind] += 1
    if not rows_with_any:
        return None
    dominant = max(counts, key=lambda k: counts[k])
    return dominant, rows_with_any / len(values)


def _classify(
    series: pl.Series, hint: str | None, on: dt.date
) -> tuple[str | None, str | None, float | None, float, bool]:
    """(pii_type, detected_by, match_share, confidence, is_direct) for one column."""
    if hint is not None:
        share = _type_share(series, hint, on)
        by = "hint+pattern" if share is not None and share >= MIN_MATCH_SHARE else "hint"
        return hint, by, share, 1.0, hint in DIRECT_IDENTIFIER_TYPES

    shares = _pattern_shares(series)
    best = max(shares, key=lambda k: shares[k], default=None)  # ties: dict (priority) order
    if best is not None and shares[best] >= MIN_MATCH_SHARE:
        return best, "pattern", shares[best], shares[best], True

    suggested = name_suggests(series.name)
    if suggested in ("person_name", "address") and (
        _is_string(series.dtype) or series.dtype == pl.Null
    ):
        return suggested, "name", None, NAME_ONLY_CONFIDENCE, True
    if suggested in ("zip_code", "birth_date"):
        share = _type_share(series, suggested, on)
        if share is not None and share >= MIN_MATCH_SHARE:
            return suggested, "pattern", share, share, False
        return suggested, "name", share, NAME_CONTRADICTED_CONFIDENCE, False

    if _is_string(series.dtype):
        values = _string_values(series)
        found = _embedded(values) if _is_free_text(values) else None
        if found is not None:
            kind, share = found
            return kind, "pattern", share, share, share >= MIN_MATCH_SHARE
    return None, None, None, max(shares.values(), default=0.0), False


def detect_pii(
    df: pl.DataFrame,
    *,
    hints: Mapping[str, str] | None = None,
    quasi_identifiers: Sequence[str] = (),
    partition_date: dt.date | None = None,
    sample_rows: int = 5000,
    handling: Mapping[str, tuple[str, str]] | None = None,
) -> pl.DataFrame:
    """One row per data column of ``df`` saying whether and how it holds PII.

    ``hints`` (column -> one of :data:`PII_TYPES`) come from the catalog; hints for columns the
    frame lacks are ignored. ``partition_date`` is the day ages are computed at (default today).
    At most ``sample_rows`` rows (a seeded random sample) are inspected. For a column with no
    PII, ``confidence`` is the highest share any value pattern reached. ``handling`` (column ->
    (handling, reason), from the catalog) overrides the default handling. Schema:
    :data:`REPORT_SCHEMA`.
    """
    overrides = dict(handling or {})
    wrong = {c: h for c, (h, _) in overrides.items() if h not in HANDLINGS}
    if wrong:
        raise ValueError(f"unknown handling {wrong}; use one of {', '.join(HANDLINGS)}")
    hints = dict(hints or {})
    bad = {c: t for c, t in hints.items() if t not in PII_TYPES}
    if bad:
        raise ValueError(f"unknown PII type in hints {bad}; use one of {', '.join(PII_TYPES)}")
    if sample_rows < 1:
        raise ValueError(f"sample_rows must be at least 1, got {sample_rows}")
    on = partition_date or dt.date.today()
    sample = df.sample(sample_rows, seed=0) if df.height > sample_rows else df
    quasi = set(quasi_identifiers)

    rows = []
    for column in data_columns(df):
        kind, by, share, confidence, direct = _classify(sample[column], hints.get(column), on)
        is_quasi = column in quasi or kind in QUASI_IDENTIFIER_TYPES or is_gender_like(column)
        if column in overrides:
            chosen, reason = overrides[column]
            reason = f"catalog: {reason}" if reason else "catalog"
        elif direct or kind == "other":
            chosen, reason = "drop", "direct identifier" if direct else "declared personal data"
        elif is_quasi:
            chosen, reason = "generalize", "quasi-identifier: coarsened to protect k-anonymity"
        else:
            chosen, reason = "keep", "no PII" if kind is None else "PII in few rows: kept, watched"
        rows.append(
            {
                "column": column,
                "pii_type": kind,
                "detected_by": by,
                "match_share": share,
                "confidence": min(1.0, max(0.0, confidence)),
                "direct_identifier": direct,
                "quasi_identifier": is_quasi,
                "handling": chosen,
                "handling_reason": reason,
            }
        )
    return pl.DataFrame(rows, schema=REPORT_SCHEMA)


def handled_columns(report: pl.DataFrame, allow: Sequence[str]) -> list[str]:
    """PII columns of a report whose handling is not in ``allow``: what a derived table must
    not hold as is (``allow=("keep",)`` for synthesis; features also allow tokenize/generalize)."""
    pii = pl.col("pii_type").is_not_null() | pl.col("direct_identifier").fill_null(False)
    return report.filter(pii & ~pl.col("handling").is_in(list(allow)))["column"].to_list()


def pii_columns(report: pl.DataFrame) -> list[str]:
    """Columns of a :func:`detect_pii` report that hold PII and must be dropped."""
    dropped = report.filter(pl.col("pii_type").is_not_null() & (pl.col("handling") == "drop"))
    return dropped["column"].to_list()


def scan_values_for_pii(series: pl.Series) -> dict[str, float]:
    """PII type -> share of non-null values containing that kind of PII anywhere in them.

    Covers the pattern-detectable kinds (email, phone, card_number, national_id, ip_address,
    iban); every key is present, 0.0 for an empty or all-null series.
    """
    values = _string_values(series) if series.dtype != pl.Null else []
    if not values:
        return dict.fromkeys(TEXT_FINDERS, 0.0)
    return {kind: _share(values, find) or 0.0 for kind, find in TEXT_FINDERS.items()}
