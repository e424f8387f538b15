"""PII detection: which columns of a captured frame hold personal data, and what to do with them.

Each data column is classified, in this order of precedence:

1. a catalog hint (``hints``: column -> PII type) always wins (the user declared it);
2. value patterns with validators (:mod:`.pii_patterns`: Luhn for cards, mod-97 for IBANs,
   ``ipaddress`` for IPs, shape rules for emails, phones and US SSNs): the type whose
   recogniser matches the largest share of non-null values, if that share is >= 0.5;
3. the column name, confirmed by the values (a header alone never flags): person names when
   at least half the values look like names (:mod:`.names`: Faker's first- and last-name
   lists, honorifics), street addresses when at least half hold a house number or a street
   word, zip codes (5-digit codes) and birth dates (an age of 0-120 at the partition day);
4. free text (string columns whose values mostly contain spaces) is searched for emails,
   phones, cards, SSNs, IPs, IBANs, cued names, street addresses and birth dates embedded
   anywhere: ``pii_shares`` gives each type found with the share of rows holding it,
   ``pii_type`` names the most frequent and ``match_share`` is the share of rows holding any.

Quasi-identifiers (:mod:`.quasi`) are sought only when the rows describe people (``subject``
"person"): ages, birth dates, zip codes, gender, places, and event times when a place is
present; their ``pii_type`` names the QI type. Declared ``quasi_identifiers`` always count.

``handling`` is "drop" for direct identifiers and for columns hinted as "other" (declared
personal data of unknown shape cannot be generalised), "redact" for free text whose PII share
exceeds :data:`FEW_PII_SHARE` (1% of rows; at or below it the text is kept and watched, and
every text path redacts it anyway), "generalize" for quasi-identifiers and "keep" otherwise;
the catalog may set it per column (``privacy.columns``: drop, tokenize, generalize, redact, or
keep with a reason), which wins. ``handling_reason`` says why, in words.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.privacy.names import NAME_SHARE, person_name_share
from synthcap_assets.privacy.pii_patterns import (
    TEXT_FINDERS,
    VALUE_MATCHERS,
    address_valid,
    iban_valid,
    luhn_valid,
    name_suggests,
    zip_valid,
)
from synthcap_assets.privacy.quasi import SUBJECTS, has_place, quasi_type
from synthcap_resources.catalog import PII_TYPES  # the catalog owns the hint vocabulary

__all__ = [
    "FEW_PII_SHARE",
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
# Free text with PII in at most this share of rows is kept (and watched); above it, redacted.
FEW_PII_SHARE = 0.01
# A column name whose values contradict it is a weak signal.
NAME_CONTRADICTED_CONFIDENCE = 0.3

REPORT_SCHEMA = pl.Schema(
    {
        "column": pl.String,
        "pii_type": pl.String,
        "detected_by": pl.String,
        "match_share": pl.Float64,
        "pii_shares": pl.String,
        "confidence": pl.Float64,
        "direct_identifier": pl.Boolean,
        "quasi_identifier": pl.Boolean,
        "handling": pl.String,
        "handling_reason": pl.String,
    }
)
HANDLINGS = ("drop", "tokenize", "generalize", "redact", "keep")


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
    if kind == "person_name" and _is_string(series.dtype):
        return person_name_share(_string_values(series), series.name)
    if kind == "address" and _is_string(series.dtype):
        return _share(_string_values(series), address_valid)
    return None


def _is_free_text(values: Sequence[str]) -> bool:
    spaced = sum(1 for v in values if re.search(r"\s", v.strip()))
    return bool(values) and spaced / len(values) >= 0.5


def _embedded(values: Sequence[str]) -> tuple[dict[str, float], float]:
    """Each kind of PII found inside free text -> the share of values holding it (kinds found
    only), and the share of values holding any."""
    if not values:
        return {}, 0.0
    counts = dict.fromkeys(TEXT_FINDERS, 0)
    rows_with_any = 0
    for value in values:
        found = [kind for kind, find in TEXT_FINDERS.items() if find(value)]
        rows_with_any += bool(found)
        for kind in found:
            counts[kind] += 1
    shares = {kind: round(n / len(values), 6) for kind, n in counts.items() if n}
    return shares, rows_with_any / len(values)


@dataclass
class _Finding:
    kind: str | None = None
    by: str | None = None
    share: float | None = None
    confidence: float = 0.0
    direct: bool = False
    shares: dict[str, float] | None = None
    text: bool = False
    note: str | None = None


def _name_checked(series: pl.Series, suggested: str) -> _Finding:
    """A name-suggested person name or address, confirmed (or not) by the values."""
    values = _string_values(series)
    if suggested == "person_name":
        share = person_name_share(values, series.name)
        threshold = NAME_SHARE
    else:
        share = _share(values, address_valid)
        threshold = MIN_MATCH_SHARE
    if share is not None and share >= threshold:
        return _Finding(suggested, "name+pattern", share, share, True)
    seen = "no values" if share is None else f"only {share:.0%} of values"
    note = f"name suggests {suggested}, but {seen} look like one"
    confidence = min(share or 0.0, NAME_CONTRADICTED_CONFIDENCE)
    return _Finding(share=share, confidence=confidence, note=note)


def _classify(series: pl.Series, hint: str | None, on: dt.date, person: bool) -> _Finding:
    """What one column holds (see the module doc for the order of precedence)."""
    if hint is not None:
        share = _type_share(series, hint, on)
        by = "hint+pattern" if share is not None and share >= MIN_MATCH_SHARE else "hint"
        return _Finding(hint, by, share, 1.0, hint in DIRECT_IDENTIFIER_TYPES)

    shares = _pattern_shares(series)
    best = max(shares, key=lambda k: shares[k], default=None)  # ties: dict (priority) order
    if best is not None and shares[best] >= MIN_MATCH_SHARE:
        return _Finding(best, "pattern", shares[best], shares[best], True)

    suggested = name_suggests(series.name)
    if suggested in ("person_name", "address") and _is_string(series.dtype):
        return _name_checked(series, suggested)
    if suggested in ("zip_code", "birth_date") and person:
        share = _type_share(series, suggested, on)
        if share is not None and share >= MIN_MATCH_SHARE:
            return _Finding(suggested, "pattern", share, share, False)
        return _Finding(suggested, "name", share, NAME_CONTRADICTED_CONFIDENCE, False)

    if _is_string(series.dtype):
        values = _string_values(series)
        found, share = _embedded(values) if _is_free_text(values) else ({}, 0.0)
        if found:
            kind = max(found, key=lambda k: found[k])
            return _Finding(kind, "pattern", share, share, False, found, text=True)
    return _Finding(confidence=max(shares.values(), default=0.0))


def _default_handling(found: _Finding, is_quasi: bool) -> tuple[str, str]:
    if found.direct or found.kind == "other":
        return "drop", "direct identifier" if found.direct else "declared personal data"
    if found.text and found.share is not None and found.share > FEW_PII_SHARE:
        return "redact", (
            f"free text with PII in {found.share:.1%} of rows (more than "
            f"{FEW_PII_SHARE:.0%}): redacted to typed placeholders"
        )
    if is_quasi:
        return "generalize", "quasi-identifier: coarsened to protect k-anonymity"
    if found.kind is None:
        return "keep", found.note or "no PII"
    if found.text:
        return "keep", f"PII in few rows (at most {FEW_PII_SHARE:.0%}): kept, watched"
    return "keep", f"{found.kind}: not an identifier of the rows' subject: kept"


def detect_pii(
    df: pl.DataFrame,
    *,
    hints: Mapping[str, str] | None = None,
    quasi_identifiers: Sequence[str] = (),
    partition_date: dt.date | None = None,
    sample_rows: int = 5000,
    handling: Mapping[str, tuple[str, str]] | None = None,
    subject: str = "person",
) -> pl.DataFrame:
    """One row per data column of ``df`` saying whether and how it holds PII.

    ``hints`` (column -> one of :data:`PII_TYPES`) come from the catalog; hints for columns the
    frame lacks are ignored. ``partition_date`` is the day ages are computed at (default today).
    At most ``sample_rows`` rows (a seeded random sample) are inspected. For a column with no
    PII, ``confidence`` is the highest share any value pattern reached. ``handling`` (column ->
    (handling, reason), from the catalog) overrides the default handling. ``subject`` (person,
    entity or none) decides whether quasi-identifiers are sought (people only; declared
    ``quasi_identifiers`` always count). Schema: :data:`REPORT_SCHEMA`.
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
    if subject not in SUBJECTS:
        raise ValueError(f"unknown subject {subject!r}; use one of {', '.join(SUBJECTS)}")
    on = partition_date or dt.date.today()
    sample = df.sample(sample_rows, seed=0) if df.height > sample_rows else df
    declared = set(quasi_identifiers)
    person = subject == "person"
    columns = data_columns(df)
    place = has_place(df, columns)

    rows = []
    for column in columns:
        found = _classify(sample[column], hints.get(column), on, person)
        qi_kind = None
        if (person or column in declared) and found.kind is None and not found.note:
            qi_kind = quasi_type(sample[column], place)
        if qi_kind is not None:
            found = _Finding(qi_kind, "name+pattern", None, 1.0, False)
        hinted_quasi = hints.get(column) in QUASI_IDENTIFIER_TYPES  # declared: any subject
        is_quasi = (
            column in declared
            or hinted_quasi
            or (person and (found.kind in QUASI_IDENTIFIER_TYPES or qi_kind is not None))
        )
        if column in overrides:
            chosen, reason = overrides[column]
            reason = f"catalog: {reason}" if reason else "catalog"
        else:
            chosen, reason = _default_handling(found, is_quasi)
        rows.append(
            {
                "column": column,
                "pii_type": found.kind,
                "detected_by": found.by,
                "match_share": found.share,
                "pii_shares": None if found.shares is None else json.dumps(found.shares),
                "confidence": min(1.0, max(0.0, found.confidence)),
                "direct_identifier": found.direct,
                "quasi_identifier": is_quasi,
                "handling": chosen,
                "handling_reason": reason,
            }
        )
    return pl.DataFrame(rows, schema=REPORT_SCHEMA)


def personal(report: pl.DataFrame) -> pl.Expr:
    """Rows of a report about personal data: a PII type, a direct or a quasi-identifier."""
    flags = pl.col("pii_type").is_not_null() | pl.col("direct_identifier").fill_null(False)
    if "quasi_identifier" in report.columns:
        flags = flags | pl.col("quasi_identifier").fill_null(False)
    return flags & (pl.col("column") != "*")


def handled_columns(report: pl.DataFrame, allow: Sequence[str]) -> list[str]:
    """Personal-data columns of a report whose handling is not in ``allow``: what a derived
    table must not hold (``allow=("keep",)`` for raw copies; features also allow tokenize,
    generalize and redact, samples generalize: see ``privacy.handling``)."""
    wanted = personal(report) & ~pl.col("handling").is_in(list(allow))
    return report.filter(wanted)["column"].to_list()


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
