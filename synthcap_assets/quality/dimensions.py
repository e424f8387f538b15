"""The quality report of one captured partition: five dimensions per column and for the table.

Completeness, uniqueness, validity, consistency (catalog rules) and timeliness are each a share
in [0, 1]; a column's score is the mean of its applicable dimensions except uniqueness (a
column repeating values is not a defect), the table's score a weighted mean of the table-level
dimensions. Missing means null, NaN, or a blank string, everywhere in this module.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.quality.rules import Rule, RuleError, parse_rule
from synthcap_assets.quality.validity import (
    DECLARED_TYPES,
    as_declared,
    is_text,
    naive,
    parse_datetime_text,
    value_ok,
)

DIMENSIONS = ("completeness", "uniqueness", "validity", "consistency", "timeliness")
COLUMN_DIMENSIONS = ("completeness", "validity", "consistency", "timeliness")
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


def _check_rule(rule: Rule, typed: pl.DataFrame, raw: pl.DataFrame) -> tuple[pl.Series, str | None]:
    """Per row: passes ``rule``; plus a rendering of the first failing row's values."""
    try:
        passed = typed.select(rule.expr.alias("passed")).to_series()
    except pl.exceptions.PolarsError as exc:
        detail = str(exc).splitlines()[0]
        raise RuleError(f"rule {rule.text!r} cannot be checked on this data: {detail}") from exc
    failing = raw.select(rule.columns).filter(~passed)
    if failing.height == 0:
        return passed, None
    return passed, ", ".join(f"{c}={_show(v)}" for c, v in failing.row(0, named=True).items())


def _consistency(
    parsed: Sequence[Rule], typed: pl.DataFrame, raw: pl.DataFrame, dims: _Dims, failures: list[str]
) -> tuple[float | None, list[tuple[str, int, int, str | None]]]:
    """Table consistency, one result row per rule; fills per-column consistency in ``dims``."""
    n = typed.height
    outcomes: dict[int, pl.Series] = {}
    rows: list[tuple[str, int, int, str | None]] = []
    for i, rule in enumerate(parsed):
        absent = [c for c in rule.columns if c not in typed.columns]
        if absent:
            # Validity already counts the missing declared column; the rule is left out here.
            why = f"column {absent[0]!r} is missing from the data"
            failures.append(f"rule {rule.text!r} cannot be checked: {why}")
            rows.append((rule.text, 0, 0, None))
            continue
        passed, example = _check_rule(rule, typed, raw)
        outcomes[i] = passed
        n_pass = int(passed.sum())
        rows.append((rule.text, n_pass, n - n_pass, example))
        if n_pass < n:
            failures.append(
                f"rule {rule.text!r} failed for {n - n_pass} of {n} rows, e.g. {example}"
            )
    if not outcomes:
        return None, rows
    for column in dims:
        involved = [s for i, s in outcomes.items() if column in parsed[i].columns]
        if involved:
            frame = pl.DataFrame({str(i): s for i, s in enumerate(involved)})
            dims[column]["consistency"] = float(
                frame.select(pl.all_horizontal(pl.all())).mean().item()
            )
    every = pl.DataFrame({str(i): s for i, s in outcomes.items()})
    return float(every.select(pl.all_horizontal(pl.all())).mean().item()), rows


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
) -> QualityResult:
    """Score ``df`` on five quality dimensions; see the module docstring for definitions."""
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
        table["consistency"], rule_rows = _consistency(parsed, typed, raw, dims, failures)
        if time_column is not None:
            message = f"time column {time_column!r} is missing from the data"
            if time_column in columns:
                share, message = _timeliness(typed[time_column], partition_date, max_age_days)
                dims[time_column]["timeliness"] = table["timeliness"] = share
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
