"""The quality report of one captured partition: seven dimensions per column and for the table.

Completeness, uniqueness, validity, consistency (catalog rules), timeliness, accuracy (against
a reference, where one exists) and volume (row count, table only) are each a share in [0, 1];
a column's score is the mean of its applicable dimensions except uniqueness (a column
repeating values is not a defect), the table's score a weighted mean of the table-level
dimensions (weights per source). Missing means null, NaN, or a blank string, everywhere here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.quality.accuracy import accuracy, volume
from synthcap_assets.quality.consistency import consistency
from synthcap_assets.quality.rules import parse_rule
from synthcap_assets.quality.validity import (
    DECLARED_TYPES,
    as_declared,
    is_text,
    naive,
    parse_datetime_text,
    value_ok,
)

DIMENSIONS = (
    "completeness",
    "uniqueness",
    "validity",
    "consistency",
    "timeliness",
    "accuracy",
    "volume",
)
COLUMN_DIMENSIONS = ("completeness", "validity", "consistency", "timeliness", "accuracy")
COMPLETENESS_ALERT = 0.9
TABLE_ROW = "*"
REPORT_SCHEMA = {"column": pl.String, "dtype": pl.String} | {d: pl.Float64 for d in DIMENSIONS}
REPORT_SCHEMA["score"] = pl.Float64
_Dims = dict[str, dict[str, float | None]]
RULE_RESULTS_SCHEMA = {
    "rule": pl.String,
    "passed": pl.Int64,
    "failed": pl.Int64,
    "example": pl.String,
}


@dataclass(frozen=True)
class Reference:
    """A trusted copy of some of the source's values, joined on ``key`` for accuracy."""

    rows: pl.DataFrame
    key: tuple[str, ...]
    columns: tuple[str, ...] = ()
    tolerance: float = 1e-9


@dataclass(frozen=True)
class QualityResult:
    """``report``: per column plus a ``*`` table row; ``score`` in [0, 100]; rule outcomes."""

    report: pl.DataFrame
    score: float
    rule_results: pl.DataFrame
    failures: list[str]


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _show(value: object) -> str:
    text = "null" if value is None else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _resolve_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    resolved = dict.fromkeys(DIMENSIONS, 1.0)
    if weights is None:
        return resolved
    unknown = sorted(set(weights) - set(DIMENSIONS))
    if unknown:
        raise ValueError(
            f"unknown quality dimension(s) in weights: {', '.join(unknown)}; "
            f"use {', '.join(DIMENSIONS)}"
        )
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weight of {name!r} must be a finite number >= 0, got {weight}")
        resolved[name] = float(weight)
    return resolved


def _missing_as_null(df: pl.DataFrame) -> pl.DataFrame:
    """Blank strings and NaN become null, so every dimension sees one kind of missing."""
    fixes = []
    for name, dtype in df.schema.items():
        if dtype.is_float():
            fixes.append(pl.col(name).fill_nan(None))
        elif dtype == pl.String:
            fixes.append(pl.when(pl.col(name).str.strip_chars() != "").then(pl.col(name)))
    return df.with_columns(fixes) if fixes else df


def _validity(
    raw: pl.Series, clean: pl.Series, typed: pl.Series, declared: str | None, day: dt.date
) -> tuple[float | None, str | None]:
    present = clean.is_not_null()
    checked = int(present.sum())
    if checked == 0:
        return None, None
    ok = typed.is_not_null() & value_ok(typed, day).fill_null(False)
    bad = present & ~ok
    n_bad = int(bad.sum())
    if n_bad == 0:
        return 1.0, None
    example = _show(raw.filter(bad)[0])
    why = f"not a valid {declared}" if declared else "invalid"
    message = f"column {raw.name!r}: {n_bad} of {checked} values {why}, e.g. {example}"
    return 1 - n_bad / checked, message


def _timeliness(
    typed: pl.Series, day: dt.date, max_age_days: int | None
) -> tuple[float | None, str | None]:
    name = typed.name
    if is_text(typed.dtype):
        typed = parse_datetime_text(typed)
    if isinstance(typed.dtype, pl.Datetime):
        typed = naive(typed).dt.date()
    if typed.dtype != pl.Date:
        return None, f"time column {name!r} holds {typed.dtype}, not dates; timeliness skipped"
    dates = typed.drop_nulls()
    if dates.is_empty():
        return None, f"time column {name!r} has no readable timestamps"
    ok = dates <= day
    if max_age_days is not None:
        ok &= dates >= day - dt.timedelta(days=max_age_days)
    share = float(ok.mean())
    if share == 1.0:
        return share, None
    window = f"within {max_age_days} days before " if max_age_days is not None else "not after "
    example = _show(dates.filter(~ok)[0])
    stale = int((~ok).sum())
    where = f"{stale} of {len(dates)} timestamps not {window}{day}"
    return share, f"time column {name!r}: {where}, e.g. {example}"


def _column_dimensions(
    raw: pl.DataFrame,
    clean: pl.DataFrame,
    typed: pl.DataFrame,
    declared: Mapping[str, str],
    day: dt.date,
    failures: list[str],
) -> _Dims:
    """Completeness, uniqueness and validity of every column."""
    n = raw.height
    dims: _Dims = {}
    for c in raw.columns:
        missing = clean[c].null_count()
        completeness = 1 - missing / n
        uniqueness = clean[c].drop_nulls().n_unique() / (n - missing) if missing < n else None
        if completeness < COMPLETENESS_ALERT:
            first = int(clean[c].is_null().arg_true()[0])
            failures.append(
                f"column {c!r}: completeness {completeness:.2f} is below {COMPLETENESS_ALERT} "
                f"({missing} of {n} values missing, first at row {first})"
            )
        validity, message = _validity(raw[c], clean[c], typed[c], declared.get(c), day)
        if message:
            failures.append(message)
        dims[c] = dict.fromkeys(DIMENSIONS)
        dims[c].update(completeness=completeness, uniqueness=uniqueness, validity=validity)
    return dims


def assess_quality(
    df: pl.DataFrame,
    *,
    partition_date: dt.date,
    declared_schema: Mapping[str, str] | None = None,
    rules: Sequence[str] = (),
    time_column: str | None = None,
    max_age_days: int | None = None,
    key_columns: Sequence[str] = (),
    weights: Mapping[str, float] | None = None,
    reference: Reference | None = None,
    expected_rows: tuple[float | None, float | None] = (None, None),
) -> QualityResult:
    """Score ``df`` on seven quality dimensions; see the module docstring for definitions."""
    weight_of = _resolve_weights(weights)
    declared = dict(declared_schema or {})
    bad_types = {c: t for c, t in declared.items() if t not in DECLARED_TYPES}
    if bad_types:
        raise ValueError(
            f"declared schema has unknown type(s) {bad_types}; use {', '.join(DECLARED_TYPES)}"
        )
    columns = data_columns(df)
    raw = df.select(columns)
    n = df.height  # selecting no columns would report 0 rows
    absent_declared = [c for c in declared if c not in columns]
    parsed = [parse_rule(text, columns + absent_declared) for text in rules]
    failures = ["no rows"] if n == 0 else []
    failures += [] if columns else ["no data columns"]
    failures += [
        f"column {c!r}: declared in the schema but missing from the data" for c in absent_declared
    ]
    failures += [
        f"key column {c!r} is missing from the data" for c in key_columns if c not in columns
    ]
    dims: _Dims = {c: dict.fromkeys(DIMENSIONS) for c in columns}
    table: dict[str, float | None] = dict.fromkeys(DIMENSIONS)
    rule_rows = [(rule.text, 0, 0, None) for rule in parsed]
    if n > 0:
        clean = _missing_as_null(raw)
        typed = clean.with_columns(
            as_declared(clean[c], t) for c, t in declared.items() if c in columns
        )
        dims = _column_dimensions(raw, clean, typed, declared, partition_date, failures)
        table["completeness"] = _mean([dims[c]["completeness"] for c in columns])
        validities = [dims[c]["validity"] for c in columns] + [0.0] * len(absent_declared)
        table["validity"] = _mean(validities)
        keys = [c for c in key_columns if c in columns] if key_columns else columns
        if keys:
            table["uniqueness"] = raw.select(keys).n_unique() / n
        table["consistency"], rule_rows = consistency(parsed, typed, raw, dims, failures)
        if time_column is not None:
            message = f"time column {time_column!r} is missing from the data"
            if time_column in columns:
                share, message = _timeliness(typed[time_column], partition_date, max_age_days)
                dims[time_column]["timeliness"] = table["timeliness"] = share
            if message:
                failures.append(message)
        if reference is not None:
            found = accuracy(
                typed, reference.rows, reference.key, reference.columns, reference.tolerance
            )
            for c, share in found.columns.items():
                dims[c]["accuracy"] = share
            table["accuracy"] = found.table
            failures += found.failures
    table["volume"], message = volume(n, *expected_rows)
    if message:
        failures.append(message)

    rows = []
    for c in columns:
        column_mean = _mean([dims[c][d] for d in COLUMN_DIMENSIONS])
        score = 0.0 if column_mean is None else 100 * column_mean
        rows.append({"column": c, "dtype": str(raw.schema[c]), **dims[c], "score": score})
    weighted = [(weight_of[d], v) for d, v in table.items() if v is not None]
    total = sum(w for w, _ in weighted)
    table_score = 100 * sum(w * v for w, v in weighted) / total if total > 0 else 0.0
    rows.append({"column": TABLE_ROW, "dtype": "table", **table, "score": table_score})
    return QualityResult(
        report=pl.DataFrame(rows, schema=REPORT_SCHEMA, orient="row"),
        score=table_score,
        rule_results=pl.DataFrame(rule_rows, schema=RULE_RESULTS_SCHEMA, orient="row"),
        failures=failures,
    )
