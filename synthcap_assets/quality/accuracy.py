"""Accuracy (values against a trusted reference) and volume (row count against expectations).

Accuracy joins the delivery with a reference frame on key columns and, per compared column,
counts the share of joined values that agree: numbers within a relative ``tolerance``,
everything else by its text. Rows without a reference match and pairs with a null side are not
compared (completeness and coverage are other questions). Volume is 1 inside the expected row
range ``[low, high]``, ``n / low`` below it and ``high / n`` above it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

_REF = "__reference"


@dataclass(frozen=True)
class AccuracyResult:
    """Per compared column: share of agreeing values; the table share; failure messages."""

    columns: dict[str, float]
    table: float | None
    failures: list[str]


def _show(value: object) -> str:
    text = "null" if value is None else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _agree(left: pl.Expr, right: pl.Expr, numeric: bool, tolerance: float) -> pl.Expr:
    if numeric:
        scale = pl.max_horizontal(right.cast(pl.Float64).abs(), pl.lit(1.0))
        return (left.cast(pl.Float64) - right.cast(pl.Float64)).abs() <= tolerance * scale
    return left.cast(pl.Utf8).str.strip_chars() == right.cast(pl.Utf8).str.strip_chars()


def accuracy(
    df: pl.DataFrame,
    reference: pl.DataFrame,
    key: Sequence[str],
    columns: Sequence[str] = (),
    tolerance: float = 1e-9,
) -> AccuracyResult:
    """Agreement of ``df`` with ``reference`` joined on ``key`` (see the module docstring).

    ``columns``: the columns to compare (default: every non-key column both frames share).
    """
    missing = [c for c in key if c not in df.columns or c not in reference.columns]
    if missing:
        raise ValueError(f"accuracy key column(s) {missing} missing from the data or reference")
    shared = [c for c in df.columns if c in reference.columns and c not in key]
    compared = [c for c in (columns or shared) if c in shared]
    failures = []
    absent = [c for c in columns if c not in shared]
    if absent:
        failures.append(f"accuracy: column(s) {absent} not in both the data and the reference")
    keyed = [pl.col(k).cast(pl.Utf8) for k in key]
    left = df.with_columns(keyed)
    right = reference.select(*keyed, *[pl.col(c).alias(c + _REF) for c in compared])
    joined = left.join(right.unique(subset=list(key), keep="first"), on=list(key), how="inner")
    per_column: dict[str, float] = {}
    agreeing = total = 0
    for c in compared:
        both = joined.filter(pl.col(c).is_not_null() & pl.col(c + _REF).is_not_null())
        if both.is_empty():
            continue
        numeric = both[c].dtype.is_numeric() and both[c + _REF].dtype.is_numeric()
        ok = both.select(_agree(pl.col(c), pl.col(c + _REF), numeric, tolerance)).to_series()
        n_ok = int(ok.sum())
        per_column[c] = n_ok / both.height
        agreeing, total = agreeing + n_ok, total + both.height
        if n_ok < both.height:
            row = both.filter(~ok).row(0, named=True)
            at = ", ".join(f"{k}={_show(row[k])}" for k in key)
            failures.append(
                f"column {c!r}: {both.height - n_ok} of {both.height} values differ from the "
                f"reference, e.g. {at}: {_show(row[c])} vs reference {_show(row[c + _REF])}"
            )
    unmatched = df.height - joined.height
    if unmatched:
        failures.append(f"accuracy: {unmatched} of {df.height} rows have no reference row")
    return AccuracyResult(per_column, agreeing / total if total else None, failures)


def volume(n: int, low: float | None, high: float | None) -> tuple[float | None, str | None]:
    """The volume dimension of ``n`` rows against ``[low, high]`` (either bound optional)."""
    if low is None and high is None:
        return None, None
    if low is not None and n < low:
        share = n / low if low > 0 else 1.0
        return share, f"volume: {n} rows, fewer than the expected minimum {_fmt(low)}"
    if high is not None and n > high:
        return high / n, f"volume: {n} rows, more than the expected maximum {_fmt(high)}"
    return 1.0, None


def _fmt(value: float) -> str:
    return str(int(value)) if math.isfinite(value) and value == int(value) else f"{value:.1f}"


def expected_rows_from_history(counts: Sequence[int]) -> tuple[float | None, float | None]:
    """Without catalog bounds: half to twice the median of at least three past row counts."""
    if len(counts) < 3:
        return None, None
    ordered = sorted(counts)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return median / 2, median * 2
