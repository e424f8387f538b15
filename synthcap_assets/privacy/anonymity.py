"""k-anonymity of a frame over its quasi-identifiers, before and after default generalisation.

An equivalence class is the set of records sharing one combination of quasi-identifier (QI)
values; null is a value of its own. ``k`` is the size of the smallest class: every record is
indistinguishable from at least ``k - 1`` others on its QIs. Conventions for degenerate input:
no QIs -> every record is in one class, so ``k = len(df)``; an empty frame -> ``k = 0``.

An attacker is assumed to know up to :data:`MAX_COMBINATION` (3) of a person's QIs: the report
gives k and the unique share of the worst combination of that many (k shrinks and the unique
share grows as columns are added, so the worst combination is one of exactly
``min(3, number of QIs)`` columns: fewest k, then most unique records).

Generalization, by QI type (:func:`generalize`): birth date -> year; zip code -> its first 3
digits; age -> lower bound of a 5-year band; event time -> the hour (timestamps) or the month
(dates, and timestamps that are all midnight); latitude/longitude -> 2 decimals (about 1 km);
gender, places and declared QIs of no known type ("category") keep their values, except a
value held by fewer than :data:`RARE_ROWS` (5) rows, which is suppressed (null), so a rare
value cannot single someone out. ``sex`` therefore stays as it is (still a QI, counted in k)
when every category holds 5 rows or more.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from synthcap_assets.privacy.quasi import is_age_column, tokens
from synthcap_assets.privacy.risk import HIGH_RISK_K, class_sizes

__all__ = [
    "AGE_BAND_YEARS",
    "ZIP_PREFIX_DIGITS",
    "AnonymityResult",
    "assess_anonymity",
    "generalize",
    "k_anonymity",
    "unique_share",
    "worst_combination",
]

AGE_BAND_YEARS = 5
ZIP_PREFIX_DIGITS = 3
MAX_COMBINATION = 3
RARE_ROWS = HIGH_RISK_K
COORDINATE_DECIMALS = 2
SUPPRESSED_TYPES = frozenset({"gender", "geography", "category"})
GENERALIZABLE_TYPES = frozenset({"birth_date", "zip_code", "age", "event_time"}) | SUPPRESSED_TYPES


@dataclass(frozen=True)
class AnonymityResult:
    """k and the share of unique records, on the raw QIs and on their generalised form."""

    k: int
    k_generalized: int
    unique_share: float
    unique_share_generalized: float
    quasi_identifiers: list[str]
    # The worst combination of up to MAX_COMBINATION QIs, raw and generalized.
    combination: list[str] = field(default_factory=list)
    combination_generalized: list[str] = field(default_factory=list)


def _require_columns(df: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} {missing} not in the frame (columns: {', '.join(df.columns) or 'none'}); "
            "remove them from the source's quasi_identifiers or fix the column names"
        )


def _is_age_like(column: str, kind: str) -> bool:
    return kind == "age" or (kind in ("other", "category") and is_age_column(column))


def _is_text(dtype: pl.DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def _birth_year(column: str, dtype: pl.DataType) -> pl.Expr | None:
    col = pl.col(column)
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return col.dt.year()
    if _is_text(dtype):
        return col.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).dt.year()
    return None  # integers are already years; anything else is left as it is


def _zip_prefix(column: str, dtype: pl.DataType) -> pl.Expr | None:
    col = pl.col(column)
    if dtype.is_integer():
        # An integer zip lost its leading zeros: 2134 is "02134".
        return col.cast(pl.String).str.zfill(5).str.slice(0, ZIP_PREFIX_DIGITS)
    if _is_text(dtype):
        return col.cast(pl.String).str.strip_chars().str.slice(0, ZIP_PREFIX_DIGITS)
    return None


def _age_band(column: str, dtype: pl.DataType) -> pl.Expr | None:
    if not dtype.is_numeric():
        return None
    value = pl.col(column).cast(pl.Float64).fill_nan(None)
    return ((value / AGE_BAND_YEARS).floor() * AGE_BAND_YEARS).cast(pl.Int64)


def _event_time(df: pl.DataFrame, column: str) -> pl.Expr | None:
    """Timestamps to the hour; dates, and timestamps that are all midnight, to the month."""
    dtype = df.schema[column]
    if isinstance(dtype, pl.Datetime):
        times = df[column].drop_nulls()
        midnight = times.is_empty() or bool((times.dt.truncate("1d") == times).all())
        return pl.col(column).dt.truncate("1mo" if midnight else "1h")
    if dtype == pl.Date:
        return pl.col(column).dt.truncate("1mo")
    return None


def _suppressed(column: str, dtype: pl.DataType) -> pl.Expr:
    """Coordinates rounded; any other value held by fewer than RARE_ROWS rows made null."""
    if dtype.is_float() and {"lat", "latitude", "lon", "lng", "longitude"} & set(tokens(column)):
        return pl.col(column).round(COORDINATE_DECIMALS)
    col = pl.col(column)
    return pl.when(col.count().over(col) >= RARE_ROWS).then(col)


def generalize(df: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    """``df`` with each column in ``columns`` (column -> type) coarsened by its type.

    birth_date: date, datetime or ISO-date string -> year (Int32); zip_code -> its first
    three digits (String); age (type "age", or a numeric column named like "age" typed
    "other") -> lower bound of its 5-year band (37 -> 35, Int64); event_time -> the hour
    (datetimes) or the month (dates); gender, geography, category -> values held by fewer than
    5 rows suppressed to null (coordinates rounded to 2 decimals). Anything else ("other"),
    and columns not named, unchanged.
    """
    _require_columns(df, list(columns), "columns to generalize")
    exprs = []
    for column, kind in columns.items():
        dtype = df.schema[column]
        if kind == "birth_date":
            expr = _birth_year(column, dtype)
        elif kind == "zip_code":
            expr = _zip_prefix(column, dtype)
        elif _is_age_like(column, kind):
            expr = _age_band(column, dtype)
        elif kind == "event_time":
            expr = _event_time(df, column)
        elif kind in SUPPRESSED_TYPES:
            expr = _suppressed(column, dtype)
        else:
            expr = None
        if expr is not None:
            exprs.append(expr.alias(column))
    return df.with_columns(exprs) if exprs else df


def _class_sizes(df: pl.DataFrame, quasi_identifiers: Sequence[str]) -> pl.Series:
    """Per record, the size of its equivalence class (group counts by the JAX kernel on the
    encoded QI combinations, see :mod:`.risk`)."""
    return pl.Series("size", class_sizes(df, list(quasi_identifiers)))


def k_anonymity(df: pl.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """Smallest equivalence-class size over ``quasi_identifiers`` (see module conventions)."""
    _require_columns(df, quasi_identifiers, "quasi-identifiers")
    if df.height == 0:
        return 0
    if not quasi_identifiers:
        return df.height
    return int(_class_sizes(df, quasi_identifiers).min())


def unique_share(df: pl.DataFrame, quasi_identifiers: Sequence[str]) -> float:
    """Share of records whose QI combination no other record has (0.0 for an empty frame)."""
    _require_columns(df, quasi_identifiers, "quasi-identifiers")
    if df.height == 0:
        return 0.0
    if not quasi_identifiers:
        return 1.0 if df.height == 1 else 0.0
    return float((_class_sizes(df, quasi_identifiers) == 1).mean())


def worst_combination(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], size: int = MAX_COMBINATION
) -> tuple[list[str], int, float]:
    """(columns, k, unique share) of the combination of ``min(size, len(QIs))`` QIs with the
    smallest k, ties broken by the larger unique share, then by QI order."""
    qis = list(quasi_identifiers)
    _require_columns(df, qis, "quasi-identifiers")
    if not qis or df.height == 0:
        return [], k_anonymity(df, qis), unique_share(df, qis)
    worst: tuple[list[str], int, float] | None = None
    for combo in itertools.combinations(qis, min(size, len(qis))):
        sizes = _class_sizes(df, combo)
        k, unique = int(sizes.min()), float((sizes == 1).mean())
        if worst is None or (k, -unique) < (worst[1], -worst[2]):
            worst = (list(combo), k, unique)
    return worst


def assess_anonymity(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], qi_types: Mapping[str, str]
) -> AnonymityResult:
    """k and unique share of the worst combination of up to 3 ``quasi_identifiers``, raw and
    after :func:`generalize` (see the module doc).

    ``qi_types`` maps QIs to a type ("birth_date", "zip_code", "age", "gender", ...); QIs
    without an entry are generalised only if they look age-like, and otherwise kept as they are.
    """
    qis = list(quasi_identifiers)
    _require_columns(df, qis, "quasi-identifiers")
    generalized = generalize(df, {q: qi_types.get(q, "other") for q in qis})
    combination, k, unique = worst_combination(df, qis)
    combination_g, k_g, unique_g = worst_combination(generalized, qis)
    return AnonymityResult(
        k=k,
        k_generalized=k_g,
        unique_share=unique,
        unique_share_generalized=unique_g,
        quasi_identifiers=qis,
        combination=combination,
        combination_generalized=combination_g,
    )
