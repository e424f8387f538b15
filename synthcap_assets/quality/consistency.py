"""Consistency: the catalog's rules checked row by row, per rule, per column and for the table.

Each rule's outcome is a row of the rule results (passed, failed, an example of the failing
values by column name); a column's consistency is the share of rows passing every rule that
involves it, the table's the share passing all rules.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from synthcap_assets.quality.rules import Rule, RuleError

_Dims = dict[str, dict[str, float | None]]


def _show(value: object) -> str:
    text = "null" if value is None else repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


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


def consistency(
    parsed: Sequence[Rule], typed: pl.DataFrame, raw: pl.DataFrame, dims: _Dims, failures: list[str]
) -> tuple[float | None, list[tuple[str, int, int, str | None]]]:
    """Table consistency, one result row per rule; fills per-column consistency in ``dims``
    and appends failure messages to ``failures``."""
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
