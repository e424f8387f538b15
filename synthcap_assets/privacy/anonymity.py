"""k-anonymity of a frame over its quasi-identifiers, before and after default generalisation.

An equivalence class is the set of records sharing one combination of quasi-identifier (QI)
values; null is a value of its own. ``k`` is the size of the smallest class: every record is
indistinguishable from at least ``k - 1`` others on its QIs. Conventions for degenerate input:
no QIs -> every record is in one class, so ``k = len(df)``; an empty frame -> ``k = 0``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from synthcap_assets.privacy.risk import class_sizes

__all__ = [
    "AGE_BAND_YEARS",
    "ZIP_PREFIX_DIGITS",
    "AnonymityResult",
    "assess_anonymity",
    "generalize",
    "k_anonymity",
    "unique_share",
]

AGE_BAND_YEARS = 5
ZIP_PREFIX_DIGITS = 3
GENERALIZABLE_TYPES = frozenset({"birth_date", "zip_code", "age"})


@dataclass(frozen=True)
class AnonymityResult:
    """k and the share of unique records, on the raw QIs and on their generalised form."""

    k: int
    k_generalized: int
    unique_share: float
    unique_share_generalized: float
    quasi_identifiers: list[str]


def _require_columns(df: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} {missing} not in the frame (columns: {', '.join(df.columns) or 'none'}); "
            "remove them from the source's quasi_identifiers or fix the column names"
        )


def _is_age_like(column: str, kind: str) -> bool:
    tokens = re.split(r"[^a-z0-9]+", column.lower())
    return kind == "age" or "age" in tokens


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


def generalize(df: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    """``df`` with each column in ``columns`` (column -> type) coarsened by its type.

    birth_date: date, datetime or ISO-date string -> year (Int32); zip_code -> its first
    three digits (String); age (type "age" or a numeric column named like "age") -> lower
    bound of its 5-year band (37 -> 35, Int64). Anything else, and other columns, unchanged.
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


def assess_anonymity(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], qi_types: Mapping[str, str]
) -> AnonymityResult:
    """k and unique share over ``quasi_identifiers``, raw and after :func:`generalize`.

    ``qi_types`` maps QIs to a type ("birth_date", "zip_code", "age", ...); QIs without an entry
    are generalised only if they look age-like, and otherwise kept as they are.
    """
    qis = list(quasi_identifiers)
    _require_columns(df, qis, "quasi-identifiers")
    generalized = generalize(df, {q: qi_types.get(q, "other") for q in qis})
    return AnonymityResult(
        k=k_anonymity(df, qis),
        k_generalized=k_anonymity(generalized, qis),
        unique_share=unique_share(df, qis),
        unique_share_generalized=unique_share(generalized, qis),
        quasi_identifiers=qis,
    )
