"""Where contracts live and how ``raw_capture`` applies one (lake I/O beside ``contracts``).

- ``state/contracts``: one row per contract version of a source that declares no schema
  (inferred on the first capture, then frozen; ``evolve`` appends a new version).
- ``reports/schema_changes``: per (source, date), the schema changes found in that delivery
  and what the contract mode did with each; the schema check and the quality report read it.

:func:`plan_contract` decides before any write (reads only); :func:`store_contract` and
:func:`write_schema_changes` run after the data commit (``capture.commit``), each row keyed to
the Delta version of ``raw/<source>`` that commit made (``raw_version``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from synthcap_assets.capture.contracts import (
    CHANGES_SCHEMA,
    Contract,
    ContractOutcome,
    apply_contract,
    infer_contract,
)
from synthcap_resources.catalog import SourceSpec
from synthcap_resources.lakehouse import LakehouseResource, WriteResult, report_table

CONTRACTS_TABLE = "state/contracts"
SCHEMA_CHANGES = "schema_changes"
SCHEMA_CHANGES_TABLE = report_table(SCHEMA_CHANGES)


def stored_contract(lakehouse: LakehouseResource, source: str) -> Contract | None:
    """The latest stored contract of ``source``, or ``None`` if it has none yet."""
    table = lakehouse.read_table(CONTRACTS_TABLE)
    if table is None:
        return None
    mine = table.filter(pl.col("source") == source).sort("version")
    if mine.is_empty():
        return None
    last = mine.row(-1, named=True)
    return Contract.from_json(last["contract"], origin=f"frozen v{last['version']}")


def store_contract(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    contract: Contract,
    version: int,
    raw_version: int | None = None,
) -> WriteResult:
    """Append ``contract`` as version ``version`` of ``source``'s contract."""
    row = pl.DataFrame(
        {
            "source": [source],
            "version": [version],
            "date": [day],
            "contract": [contract.to_json()],
            "stored_at": [dt.datetime.now(dt.UTC)],
            "raw_version": [raw_version],
        },
        schema_overrides={"raw_version": pl.Int64},
    )
    return lakehouse.append(CONTRACTS_TABLE, row)


def contract_for(
    lakehouse: LakehouseResource, spec: SourceSpec, rows: pl.DataFrame, day: dt.date
) -> tuple[Contract, bool]:
    """The source's contract and whether it was just inferred from ``rows`` (first capture)."""
    if spec.declared_schema:
        declared = dict(spec.declared_schema)
        return Contract(columns=declared, not_null=tuple(spec.contract.not_null)), False
    stored = stored_contract(lakehouse, spec.id)
    if stored is not None:
        return Contract(stored.columns, tuple(spec.contract.not_null), stored.origin), False
    inferred = infer_contract(rows, origin=f"inferred {day.isoformat()}")
    return Contract(inferred.columns, tuple(spec.contract.not_null), inferred.origin), True


def write_schema_changes(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    outcome: ContractOutcome,
    raw_version: int | None = None,
) -> WriteResult:
    """Replace the (source, day) partition of ``reports/schema_changes``."""
    changes = outcome.changes.select(
        pl.lit(source, dtype=pl.Utf8).alias("source"),
        pl.lit(day, dtype=pl.Date).alias("date"),
        *CHANGES_SCHEMA,
        pl.lit(outcome.mode, dtype=pl.Utf8).alias("mode"),
        pl.lit(raw_version, dtype=pl.Int64).alias("raw_version"),
    )
    return lakehouse.write_partition(
        SCHEMA_CHANGES_TABLE, changes, {"source": source, "date": day.isoformat()}
    )


@dataclass(frozen=True)
class ContractPlan:
    """What one delivery does to its source's contract, decided before any write:
    ``outcome`` (rows that may land, rejects, changes) and ``store_version``, the version
    number under which the new or evolved contract is stored after the data commit (``None``:
    nothing to store)."""

    outcome: ContractOutcome
    store_version: int | None


def plan_contract(
    lakehouse: LakehouseResource, spec: SourceSpec, rows: pl.DataFrame, day: dt.date
) -> ContractPlan:
    """Apply the source's contract to one delivery inside ``raw_capture``, before any write
    (reads only). Raises ``ContractViolationError`` / ``SchemaConformError`` when the mode
    does not absorb the delivery (``evolve``: a retyped column or a value that does not fit)."""
    where = f"source {spec.id!r}, partition {day.isoformat()}"
    contract, inferred = contract_for(lakehouse, spec, rows, day)
    outcome = apply_contract(rows, contract, spec.contract.mode, where)
    store_version = None
    if not spec.declared_schema and (inferred or outcome.contract != contract):
        table = lakehouse.read_table(CONTRACTS_TABLE)
        versions = 0 if table is None else table.filter(pl.col("source") == spec.id).height
        store_version = versions + 1
    return ContractPlan(outcome=outcome, store_version=store_version)


def contract_metadata(outcome: ContractOutcome) -> dict[str, object]:
    """The contract's part of ``raw_capture``'s materialization metadata."""
    return {
        "contract_mode": outcome.mode,
        "contract_origin": outcome.contract.origin,
        "schema_changes": [dict(r) for r in outcome.changes.iter_rows(named=True)],
        "contract_violations": outcome.violations,
        "rows_rejected_by_contract": outcome.rejected.height,
    }


def schema_changes(lakehouse: LakehouseResource, source: str, day: dt.date) -> pl.DataFrame:
    """The schema changes recorded for (source, day); empty if none (or not captured)."""
    rows = lakehouse.read_partition(SCHEMA_CHANGES_TABLE, {"source": source, "date": day})
    empty = pl.DataFrame(schema={**CHANGES_SCHEMA, "mode": pl.Utf8, "raw_version": pl.Int64})
    return empty if rows is None else rows.drop("source", "date")


def refused_changes(lakehouse: LakehouseResource, source: str, day: dt.date) -> list[str]:
    """The changes of (source, day)'s delivery that its frozen contract refused, as text."""
    refused = schema_changes(lakehouse, source, day).filter(pl.col("action") == "refused")
    return [
        f"{r['column']}: {r['change']} refused by the frozen contract "
        f"(expected {r['expected'] or 'nothing'}, observed {r['observed'] or 'nothing'})"
        for r in refused.iter_rows(named=True)
    ]
