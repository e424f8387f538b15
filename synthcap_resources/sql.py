"""The SQL door to the lake: DuckDB over the Delta tables, registered as Arrow datasets.

Each report table is named after its asset (``readiness_score``) and each per-source table
``<asset>__<source>`` (``raw_capture__market_prices``). No DuckDB extension is downloaded:
delta-rs reads the files, local or on S3 (``s3://`` lakes use the lakehouse's storage options
or the ``AWS_*`` environment), and DuckDB scans the Arrow datasets it hands over.
"""

from __future__ import annotations

import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource
from deltalake import DeltaTable

from synthcap_resources.lakehouse import LakehouseResource


class LakeQueryError(ValueError):
    """A SQL query over the lake failed; the message lists the tables that exist."""


def query_lake(lakehouse: LakehouseResource, query: str) -> pl.DataFrame:
    """Run DuckDB SQL ``query`` over every Delta table of the lake."""
    tables = lakehouse.tables()
    duck = DuckDBResource(database=":memory:")
    with duck.get_connection() as conn:
        for name, uri in tables.items():
            delta = DeltaTable(uri, storage_options=lakehouse.storage_options or None)
            conn.register(name, delta.to_pyarrow_dataset())
        try:
            return conn.sql(query).pl()
        except duckdb.Error as exc:
            known = ", ".join(sorted(tables)) or "none yet — run `synthcap demo`"
            raise LakeQueryError(f"{exc}\ntables in {lakehouse.root}: {known}") from exc
