"""Dagster wiring for capture: the ``raw_capture`` asset and its blocking checks.

Everything that decides what lands runs first and writes nothing (read, decode, conform, the
contract); then ``capture.commit`` commits the rows and, keyed to their Delta version, the
bookkeeping, undoing it all if any step fails.
"""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.commit import commit_capture
from synthcap_assets.capture.conform import POLARS_TYPES, add_capture_columns, conform
from synthcap_assets.capture.contract_store import (
    contract_metadata,
    plan_contract,
    refused_changes,
)
from synthcap_assets.columns import DATE_COLUMN, data_columns
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.lineage.recording import record_source_read
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.erasure import without_erased
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.base import DateWindow
from synthcap_resources.sources.registry import SourcesResource
from synthcap_resources.sources.state import latest_cursor


@dg.asset(
    partitions_def=source_date_partitions,
    group_name="capture",
    kinds={"delta", "polars"},
)
@emits_lineage
def raw_capture(
    context: dg.AssetExecutionContext,
    lakehouse: LakehouseResource,
    catalog: CatalogResource,
    sources: SourcesResource,
) -> dg.MaterializeResult:
    """The source's rows for the day, as captured, conformed to its declared schema, with
    ``_source``, ``_date`` and ``_captured_at`` added; stored in ``raw/<source>``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    where = f"source {source!r}, partition {day.isoformat()}"
    # Compliance first: a refused source raises here, with only its audit row written.
    decisions = sources.check_compliance(spec, day, lakehouse)
    batch = sources.connector(spec.kind).read(
        spec, DateWindow.of_day(day), latest_cursor(lakehouse, source)
    )
    for origin in batch.origins:
        record_source_read(origin)
    # The schema contract decides what may land (nothing is written until the data commit).
    delivered = conform(batch.rows, None, where)
    plan = plan_contract(lakehouse, spec, delivered, day)
    checked = plan.outcome
    kept, erased = without_erased(lakehouse, source, checked.rows)  # recorded erasures stay out
    if erased:
        context.log.info(f"{where}: {erased} rows left out by recorded erasures")
    rows = add_capture_columns(kept, source, day, dt.datetime.now(dt.UTC))
    rejected = [r for r in (batch.rejected, checked.rejected) if r is not None]
    written, state = commit_capture(lakehouse, source, day, rows, batch, plan, rejected)
    if written is None:
        context.log.info(f"{where}: batch {batch.transaction} was already committed")
        return dg.MaterializeResult(
            metadata={"dagster/row_count": 0, "already_committed": str(batch.transaction)}
        )
    context.log.info(f"{where}: captured {rows.height} rows into {written.uri}")
    undeclared = [
        c for c in data_columns(rows) if spec.declared_schema and c not in spec.declared_schema
    ]
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            rows,
            {
                "source_kind": spec.kind,
                "source_locations": batch.origins,
                "license": spec.license,
                "compliance": [f"{d.check}: {d.reason}" for d in decisions],
                "rows_quarantined": sum(r.height for r in rejected),
                **state,
                "columns": len(data_columns(rows)),
                "undeclared_columns": undeclared,
                **contract_metadata(checked),
                "preview": preview(rows),
            },
            descriptions=spec.columns,
        )
    )


def _raw_rows(context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource):
    source, day = source_and_day(context)
    return source, day, lakehouse.read_partition(raw_table(source), {DATE_COLUMN: day})


@dg.asset_check(asset=raw_capture, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def raw_capture_not_empty(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource
) -> dg.AssetCheckResult:
    """The captured partition holds at least one row."""
    source, day, rows = _raw_rows(context, lakehouse)
    count = 0 if rows is None else rows.height
    return dg.AssetCheckResult(
        passed=count > 0,
        metadata={"rows": count, "source": source, "date": day.isoformat()},
        description=None if count else f"no rows captured for {source} on {day}",
    )


def schema_mismatches(rows: pl.DataFrame, declared: dict[str, str]) -> list[str]:
    """Declared columns that are missing from ``rows`` or stored with another type."""
    problems = []
    for column, declared_type in declared.items():
        if column not in rows.columns:
            problems.append(f"{column}: missing")
        elif rows.schema[column] != POLARS_TYPES[declared_type]:
            problems.append(f"{column}: declared {declared_type}, stored {rows.schema[column]}")
    return problems


@dg.asset_check(asset=raw_capture, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def raw_capture_conforms_to_schema(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """Every declared column is present in the stored partition with its declared type, and
    the delivery made no change its contract refused (mode ``freeze``)."""
    source, day, rows = _raw_rows(context, lakehouse)
    spec = catalog.get(source)
    declared = spec.declared_schema or {}
    if rows is None:
        return dg.AssetCheckResult(passed=False, description=f"no rows for {source} on {day}")
    problems = schema_mismatches(rows, declared) + refused_changes(lakehouse, source, day)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "declared_columns": len(declared),
            "contract_mode": spec.contract.mode,
            "problems": dg.MetadataValue.json(problems),
            "observed": "; ".join(problems) or "conforms",
            "expected": f"conforms to the {'declared' if declared else 'inferred'} contract",
        },
        description="; ".join(problems) or None,
    )
