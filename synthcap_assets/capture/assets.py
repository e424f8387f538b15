"""Dagster wiring for capture: the ``raw_capture`` asset and its blocking checks."""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.conform import POLARS_TYPES, add_capture_columns, conform
from synthcap_assets.columns import DATE_COLUMN, data_columns
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.files import read_source_file


@dg.asset(
    partitions_def=source_date_partitions,
    group_name="capture",
    kinds={"delta", "polars"},
)
def raw_capture(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """The source's rows for the day, as captured, conformed to its declared schema, with
    ``_source``, ``_date`` and ``_captured_at`` added; stored in ``raw/<source>``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    where = f"source {source!r}, partition {day.isoformat()}"
    rows = conform(read_source_file(spec, day), spec.declared_schema, where)
    rows = add_capture_columns(rows, source, day, dt.datetime.now(dt.UTC))
    written = lakehouse.write_partition(raw_table(source), rows, {DATE_COLUMN: day})
    context.log.info(f"{where}: captured {rows.height} rows into {written.uri}")
    undeclared = [
        c for c in data_columns(rows) if spec.declared_schema and c not in spec.declared_schema
    ]
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            rows,
            {
                "source_location": spec.resolve_location(day),
                "license": spec.license,
                "columns": len(data_columns(rows)),
                "undeclared_columns": undeclared,
                "preview": preview(rows),
            },
        )
    )


def _raw_rows(context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource):
    source, day = source_and_day(context)
    return source, day, lakehouse.read_partition(raw_table(source), {DATE_COLUMN: day})


@dg.asset_check(asset=raw_capture, blocking=True, partitions_def=source_date_partitions)
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
def raw_capture_conforms_to_schema(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """Every declared column is present in the stored partition with its declared type."""
    source, day, rows = _raw_rows(context, lakehouse)
    declared = catalog.get(source).declared_schema
    if rows is None:
        return dg.AssetCheckResult(passed=False, description=f"no rows for {source} on {day}")
    if not declared:
        return dg.AssetCheckResult(
            passed=True, metadata={"declared_columns": 0}, description="no declared schema"
        )
    problems = schema_mismatches(rows, declared)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"declared_columns": len(declared), "problems": dg.MetadataValue.json(problems)},
        description="; ".join(problems) or None,
    )
