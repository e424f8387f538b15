"""Schema contracts: what a source's delivery must look like before it may land.

A contract is the source's columns with their catalog types (``str``, ``int``, ...) and the
columns that must never be null. It comes from the catalog's declared ``schema``, or, for a
source that declares none, is inferred from its first capture and frozen in the lake
(``state/contracts``; see ``contract_store``). :func:`apply_contract` compares a delivery with
its contract (pure: frames in, frames out) and, by the source's contract mode:

- ``evolve``: new columns are accepted and recorded, removed columns recorded (they land as
  nulls); a retyped column (every value unreadable as its type: Delta cannot retype a column
  without rewriting the table) or a value that does not fit its column's type stops the
  capture before anything is written, naming the column, a row and the value.
- ``freeze``: every change is refused: new columns are not stored, rows whose values break the
  contract go to quarantine, and the blocking schema check fails.
- ``discard_rows``: non-conforming rows go to quarantine, new columns are dropped; the rest
  flows on.

Values are cast with the quality report's :func:`as_declared`, then validated with a pandera
schema (types and not-null), whose failure cases name the offending rows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from synthcap_assets.capture.conform import POLARS_TYPES, SchemaConformError, conform
from synthcap_assets.capture.quarantine import REASON_COLUMN, ROW_COLUMN
from synthcap_assets.quality.validity import as_declared

if TYPE_CHECKING:
    import pandera.polars as pa

# Why rows break the contract, by 0-based row: only rows with a reason have an entry, so a
# clean delivery of a million rows costs no per-row Python object.
Reasons = dict[int, list[str]]
MODES = ("evolve", "freeze", "discard_rows")
CHANGES_SCHEMA = {
    "column": pl.Utf8,
    "change": pl.Utf8,  # added, removed, retyped, rows_rejected
    "expected": pl.Utf8,
    "observed": pl.Utf8,
    "action": pl.Utf8,  # accepted, recorded, refused, dropped, quarantined
}
_INFERRED = [
    (lambda d: d == pl.Boolean, "bool"),
    (lambda d: d.is_integer(), "int"),
    (lambda d: d.is_float() or d.is_decimal(), "float"),
    (lambda d: d == pl.Date, "date"),
    (lambda d: isinstance(d, pl.Datetime), "datetime"),
]


class ContractViolationError(SchemaConformError):
    """A delivery breaks its contract in a way its mode does not absorb."""


@dataclass(frozen=True)
class Contract:
    """Columns and catalog types a delivery must have; where the contract came from."""

    columns: dict[str, str]
    not_null: tuple[str, ...] = ()
    origin: str = "declared"

    def to_json(self) -> str:
        return json.dumps({"columns": self.columns, "not_null": list(self.not_null)})

    @classmethod
    def from_json(cls, text: str, origin: str) -> Contract:
        raw = json.loads(text)
        return cls(columns=dict(raw["columns"]), not_null=tuple(raw["not_null"]), origin=origin)


@dataclass(frozen=True)
class ContractOutcome:
    """``rows``: what may land; ``rejected``: rows for quarantine (``_reason``, ``_row``);
    ``changes``: schema changes found; ``violations``: why the schema check must fail;
    ``contract``: the contract after this delivery (changed only by ``evolve``)."""

    rows: pl.DataFrame
    rejected: pl.DataFrame
    changes: pl.DataFrame
    violations: list[str]
    contract: Contract
    mode: str
    notes: list[str] = field(default_factory=list)


def infer_type(series: pl.Series) -> str:
    """The catalog type of ``series``' polars dtype (text and anything else: ``str``)."""
    return next((name for test, name in _INFERRED if test(series.dtype)), "str")


def infer_contract(df: pl.DataFrame, origin: str) -> Contract:
    """A contract describing ``df`` as it is: every column, its type, nulls allowed."""
    return Contract(columns={c: infer_type(df[c]) for c in df.columns}, origin=origin)


def pandera_schema(contract: Contract) -> pa.DataFrameSchema:
    """The pandera schema of ``contract``: each column with its polars type and nullability."""
    import pandera.polars as pa  # imported where it validates: it pulls in hypothesis (~0.7 s)

    columns = {
        name: pa.Column(POLARS_TYPES[kind], nullable=name not in contract.not_null, required=False)
        for name, kind in contract.columns.items()
    }
    return pa.DataFrameSchema(columns, strict=False, name="contract")


def _changes_frame(rows: list[tuple[str, str, str | None, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=CHANGES_SCHEMA, orient="row")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _cast_problems(
    df: pl.DataFrame, contract: Contract
) -> tuple[pl.DataFrame, dict[str, str], Reasons]:
    """Cast present contract columns; return the typed frame, retyped columns (name ->
    observed type) and per-row reasons for values that do not fit."""
    reasons: Reasons = defaultdict(list)
    retyped: dict[str, str] = {}
    typed = []
    for name in df.columns:
        kind = contract.columns.get(name)
        if kind is None or df[name].dtype == POLARS_TYPES[kind]:
            # Already the declared type: the conversion is the identity, nothing fails it.
            typed.append(df[name])
            continue
        cast = as_declared(df[name], kind).cast(POLARS_TYPES[kind])
        bad = df[name].is_not_null() & cast.is_null()
        n_bad = int(bad.sum())
        present = int(df[name].is_not_null().sum())
        if n_bad and n_bad == present:
            retyped[name] = infer_type(df[name])
        for i in bad.arg_true().to_list():
            reasons[i].append(f"column {name!r}: {_show(df[name][i])} is not a valid {kind}")
        typed.append(cast)
    return pl.DataFrame(typed), retyped, reasons


def _pandera_problems(typed: pl.DataFrame, contract: Contract, reasons: Reasons) -> None:
    """Add pandera's failure cases (wrong type, null in a not-null column) to ``reasons``."""
    from pandera.errors import SchemaErrors

    try:
        pandera_schema(contract).validate(typed, lazy=True)
    except SchemaErrors as errors:
        cases = pl.DataFrame(errors.failure_cases)
        for case in cases.iter_rows(named=True):
            index = case.get("index")
            if index is None:  # a column-level failure (type): every row of it is affected
                continue
            check = str(case.get("check"))
            why = "is null" if "not_nullable" in check else f"fails {check}"
            reasons[int(index)].append(f"column {case.get('column')!r} {why}")


def apply_contract(df: pl.DataFrame, contract: Contract, mode: str, where: str) -> ContractOutcome:
    """Hold ``df`` (one delivery, source columns only) to ``contract`` under ``mode``.

    ``where`` names the source and partition for messages.
    """
    if mode not in MODES:
        raise ValueError(f"{where}: unknown contract mode {mode!r}; use {', '.join(MODES)}")
    added = [c for c in df.columns if c not in contract.columns]
    removed = [c for c in contract.columns if c not in df.columns]
    typed, retyped, reasons = _cast_problems(df, contract)
    if mode != "evolve":  # evolve re-checks types and nulls itself, raising at the first
        _pandera_problems(typed, contract, reasons)
    # A removed column is a reason on every row, after the row's own.
    every = [f"column {name!r} is missing" for name in removed if mode != "evolve"]
    action = {"evolve": "accepted", "freeze": "refused", "discard_rows": "dropped"}[mode]
    changes = [(c, "added", None, infer_type(df[c]), action) for c in added]
    changes += [
        (c, "removed", contract.columns[c], None, "recorded" if mode == "evolve" else action)
        for c in removed
    ]
    changes += [(c, "retyped", contract.columns[c], t, action) for c, t in retyped.items()]
    index = list(range(df.height)) if every else sorted(i for i, r in reasons.items() if r)
    n_bad = len(index)
    if n_bad and mode != "evolve":
        handled = "refused" if mode == "freeze" else "quarantined"
        changes.append(("*", "rows_rejected", "0 rows", f"{n_bad} of {df.height} rows", handled))
    if mode == "evolve":
        return _evolve(df, contract, added, retyped, changes, where)
    mask = np.zeros(df.height, dtype=bool)
    mask[index] = True
    bad = pl.Series(mask, dtype=pl.Boolean)
    keep = [c for c in typed.columns if c in contract.columns]
    rejected = df.filter(bad).with_columns(
        pl.Series(REASON_COLUMN, ["; ".join(reasons.get(i, []) + every) for i in index], pl.Utf8),
        pl.Series(ROW_COLUMN, [i + 1 for i in index], dtype=pl.Int64),
    )
    violations = []
    if mode == "freeze":
        violations = [
            f"column {c!r} {kind} (frozen contract)" for c, kind, *_ in changes if c != "*"
        ]
        if rejected.height:
            violations.append(f"{rejected.height} of {df.height} rows break the frozen contract")
    return ContractOutcome(
        rows=typed.filter(~bad).select(keep),
        rejected=rejected,
        changes=_changes_frame(changes),
        violations=violations,
        contract=contract,
        mode=mode,
    )


def _evolve(
    df: pl.DataFrame,
    contract: Contract,
    added: Sequence[str],
    retyped: Mapping[str, str],
    changes: list,
    where: str,
) -> ContractOutcome:
    """Evolve: a retyped column or a value that does not fit raises; new columns evolve."""
    if retyped:
        name, observed = next(iter(retyped.items()))
        row = int(df[name].is_not_null().arg_true()[0])
        raise ContractViolationError(
            f"{where}: column {name!r} is {contract.columns[name]} in the contract but this "
            f"delivery holds {observed} values, e.g. row {row + 1}: {df[name][row]!r}; Delta "
            "cannot retype a column without rewriting the table, so nothing was written (fix "
            "the delivery, or deliver the new values under a new column name)"
        )
    enforced = {c: t for c, t in contract.columns.items() if c in df.columns}
    rows = conform(df, enforced, where)
    nulls = [c for c in contract.not_null if c in rows.columns and rows[c].null_count()]
    if nulls:
        first = int(rows[nulls[0]].is_null().arg_true()[0])
        raise ContractViolationError(
            f"{where}: column {nulls[0]!r} must not be null but is, e.g. row {first + 1}"
        )
    columns = dict(contract.columns)
    columns.update({c: infer_type(df[c]) for c in added})
    evolved = Contract(columns=columns, not_null=contract.not_null, origin=contract.origin)
    return ContractOutcome(
        rows=rows,
        rejected=df.clear().with_columns(
            pl.lit(None, dtype=pl.Utf8).alias(REASON_COLUMN),
            pl.lit(None, dtype=pl.Int64).alias(ROW_COLUMN),
        ),
        changes=_changes_frame(changes),
        violations=[],
        contract=evolved,
        mode="evolve",
    )
