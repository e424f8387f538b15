"""The lakehouse: Delta tables under one root (a local folder or ``s3://bucket/prefix``).

This is the only module that writes Delta tables. Layout under the root:

- ``raw/<source>``, ``features/<source>``, ``synthetic/<source>``: one table per source,
  partitioned by ``_date`` (sources differ in schema; new columns merge in).
- ``reports/<asset>``: one tidy table per report asset, partitioned by ``source`` and ``date``.
- ``state/<name>``, ``audit/<name>``: small bookkeeping tables (cursors, captured files,
  quarantine, alerts, compliance decisions, privacy budget, erasures), appended to.

Writing a partition is one Delta commit that replaces exactly that partition (predicate
overwrite): never the table, never another partition, never half a partition. A write can be
taken back with :meth:`LakehouseResource.undo_write` (a failed multi-table capture does so):
a Delta restore of the version before it when no other commit followed, else a row-level undo
of exactly its partition or rows.

On S3 (``s3://bucket/prefix``) delta-rs commits with conditional puts (``If-None-Match``), so
concurrent writers need no lock service: a commit that loses a race re-reads the log and tries
again, up to ``commit_retries`` times (delta-rs' default of 15 gave up under 8 concurrent
appenders). Two overwrites of the *same* partition cannot both win: the loser raises
:class:`ConcurrentWriteError`; inside a synthcap asset
(``write_retry.retries_lost_writes``) that becomes a Dagster ``RetryRequested`` and the step
runs again, while any other failure fails once.
Credentials and the endpoint come from ``storage_options`` or the environment
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ..., ``AWS_ALLOW_HTTP=true`` for a plain-HTTP store).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError
from pydantic import Field

DEFAULT_LAKE_ROOT = "lakehouse"
# Per-source table folders and the asset each belongs to (its SQL name is <asset>__<source>).
PER_SOURCE_TABLES = {
    "raw": "raw_capture",
    "features": "feature_set",
    "synthetic": "synthetic_sample",
}
REPORTS_FOLDER = "reports"
# Bookkeeping folders (ledgers, audit logs, cursors); a table's SQL name is <folder>__<name>.
BOOKKEEPING_FOLDERS = ("audit", "state")

PartitionValue = str | dt.date
# Each commit carries a unique id in its commit info, so a write learns its own version even
# when other writers commit to the same table right after it.
WRITE_ID_KEY = "synthcap.write_id"
HISTORY_LOOKBACK = 50
# Commit attempts against concurrent writers before a write gives up (delta-rs default: 15).
DEFAULT_COMMIT_RETRIES = 100


class LakehouseError(RuntimeError):
    """A Delta read or write failed; the message names the table and the partition."""


class ConcurrentWriteError(LakehouseError):
    """Another writer committed a conflicting change to the same partition first; nothing of
    this write was committed. Running the write again (a retry policy does) is safe."""


def _write_error(context: str, exc: Exception) -> LakehouseError:
    """The specific error for a failed Delta write: a lost race, or anything else."""
    if isinstance(exc, CommitFailedError):
        return ConcurrentWriteError(
            f"{context}: a concurrent writer changed the same data first; nothing was "
            f"committed, run it again: {exc}"
        )
    return LakehouseError(f"{context}: {exc}")


@dataclass(frozen=True)
class WriteResult:
    """What one partition write committed."""

    table: str
    uri: str
    version: int
    rows: int
    partition: dict[str, str]


def _rows_outside(df: pl.DataFrame, column: str, value: PartitionValue) -> int:
    """Rows of ``df`` whose ``column`` differs from the partition value (nulls not counted),
    compared as text; a Date column against a date, or a String one against text, directly
    (the same answer without formatting every row)."""
    dtype = df.schema[column]
    if (type(value) is dt.date and dtype == pl.Date) or (
        isinstance(value, str) and dtype == pl.String
    ):
        return int(df.select((pl.col(column) != pl.lit(value, dtype=dtype)).sum()).item() or 0)
    return df.filter(pl.col(column).cast(pl.Utf8) != _as_text(value)).height


def lake_root() -> str:
    """The lake root: ``SYNTHCAP_LAKE`` or ``./lakehouse``."""
    return os.environ.get("SYNTHCAP_LAKE", DEFAULT_LAKE_ROOT)


def raw_table(source: str) -> str:
    return f"raw/{source}"


def features_table(source: str) -> str:
    return f"features/{source}"


def synthetic_table(source: str) -> str:
    return f"synthetic/{source}"


def report_table(asset_name: str) -> str:
    return f"{REPORTS_FOLDER}/{asset_name}"


def _sql_literal(value: PartitionValue) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _as_text(value: PartitionValue) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


class LakehouseResource(dg.ConfigurableResource):
    """Delta tables under one root; every asset reads and writes through this resource."""

    root: str = DEFAULT_LAKE_ROOT
    storage_options: dict[str, str] = Field(default_factory=dict)
    commit_retries: int = DEFAULT_COMMIT_RETRIES

    @property
    def is_local(self) -> bool:
        return "://" not in self.root or self.root.startswith("file://")

    def uri(self, table: str) -> str:
        """The URI of ``table`` (a path relative to the root, e.g. ``raw/fx_prices``)."""
        if self.is_local:
            return str(Path(self.root.removeprefix("file://")).resolve() / table)
        return f"{self.root.rstrip('/')}/{table}"

    def _options(self) -> dict[str, str] | None:
        return self.storage_options or None

    def delta_table(self, table: str) -> DeltaTable | None:
        """The Delta table, or ``None`` when it has not been written yet."""
        try:
            return DeltaTable(self.uri(table), storage_options=self._options())
        except TableNotFoundError:
            return None

    def version(self, table: str) -> int | None:
        """The table's current Delta version, or ``None`` when it has not been written yet."""
        delta = self.delta_table(table)
        return None if delta is None else delta.version()

    def undo_write(
        self,
        table: str,
        before: int | None,
        written: int,
        *,
        partition: Mapping[str, PartitionValue] | None = None,
        appended: str | None = None,
    ) -> str:
        """Take back the write that made version ``written`` of ``table`` (``before``: the
        version it replaced, ``None`` when the write created the table); returns what was done.

        When ``written`` is still the latest version the table is restored to ``before`` (schema
        included) or, if the write created it, removed (a remote table is emptied instead).
        When other commits followed, only the write's own effect is undone: ``partition`` is
        put back as it was at ``before``; rows matching the SQL ``appended`` are deleted.
        A write under a Delta transaction id (:meth:`append_transaction`) must not be undone:
        its transaction stays recorded.
        """
        delta = self.delta_table(table)
        if delta is None:
            return f"{table}: absent, nothing to undo"
        try:
            if delta.version() == written:
                if before is None:
                    return self._drop(table, delta)
                delta.restore(before)
                return f"{table}: restored to version {before}"
            if partition is not None:
                return self._put_back(table, before, partition)
        except (DeltaError, OSError, ValueError) as exc:
            raise LakehouseError(f"{table}: undoing version {written} failed: {exc}") from exc
        if appended is not None:
            deleted = self.delete_where(table, appended)
            return f"{table}: deleted {deleted} appended row(s) [{appended}]"
        raise LakehouseError(
            f"{table}: version {written} is no longer the latest and names no partition or "
            "rows to undo"
        )

    def _drop(self, table: str, delta: DeltaTable) -> str:
        if self.is_local:
            shutil.rmtree(self.uri(table))
            return f"{table}: removed (created by the undone write)"
        delta.delete()
        return f"{table}: emptied (created by the undone write)"

    def _put_back(
        self, table: str, before: int | None, partition: Mapping[str, PartitionValue]
    ) -> str:
        predicate = " AND ".join(f"{col} = {_sql_literal(v)}" for col, v in partition.items())
        old = None
        if before is not None:
            past = DeltaTable(self.uri(table), version=before, storage_options=self._options())
            filters = [(col, "=", v) for col, v in partition.items()]
            arrow = past.to_pyarrow_table(filters=filters)
            old = pl.from_arrow(arrow) if arrow.num_rows else None
        if old is None:
            deleted = self.delete_where(table, predicate)
            return f"{table}: deleted the {deleted} row(s) of [{predicate}]"
        self.write_partition(table, old, partition)
        return f"{table}: [{predicate}] put back as of version {before}"

    def write_partition(
        self,
        table: str,
        df: pl.DataFrame,
        partition: Mapping[str, PartitionValue],
        *,
        read_version: int | None = None,
    ) -> WriteResult:
        """Replace the partition ``partition`` (column -> value) of ``table`` with ``df``.

        Every row of ``df`` must belong to that partition; columns new to the table merge in.
        ``read_version``: the table version ``df`` was computed from; when another writer has
        replaced the partition since, nothing is committed and ``ConcurrentWriteError`` says so
        (without it, the write applies to the latest version, as Delta's own retries do).
        """
        if not partition:
            raise ValueError(f"{table}: a partition write needs at least one partition column")
        for column, value in partition.items():
            if column not in df.columns:
                raise LakehouseError(f"{table}: partition column {column!r} missing from rows")
            wrong = _rows_outside(df, column, value)
            if wrong:
                raise LakehouseError(
                    f"{table}: {wrong} rows do not belong to partition {column}={_as_text(value)}"
                )
        predicate = " AND ".join(f"{col} = {_sql_literal(v)}" for col, v in partition.items())
        uri = self.uri(table)
        write_id = uuid.uuid4().hex
        try:
            target: str | DeltaTable = uri
            if read_version is not None:
                target = DeltaTable(uri, version=read_version, storage_options=self._options())
            write_deltalake(
                target,
                # to_arrow(): string views become large_string. Handing delta-rs polars' own
                # stream is faster but stores string_view in the Parquet files' Arrow schema,
                # and a table whose files mix string and string_view fails Arrow readers
                # (DuckDB's scan in `synthcap sql`).
                df.to_arrow(),
                mode="overwrite",
                predicate=predicate,
                partition_by=list(partition),
                schema_mode="merge",
                storage_options=self._options(),
                commit_properties=CommitProperties(
                    custom_metadata={WRITE_ID_KEY: write_id},
                    max_commit_retries=self.commit_retries,
                ),
            )
            version = self._version_of(uri, write_id)
        except (DeltaError, OSError, ValueError) as exc:
            raise _write_error(f"{table} [{predicate}]: Delta write failed", exc) from exc
        return WriteResult(
            table=table,
            uri=uri,
            version=version,
            rows=df.height,
            partition={k: _as_text(v) for k, v in partition.items()},
        )

    def read_partition(
        self, table: str, partition: Mapping[str, PartitionValue]
    ) -> pl.DataFrame | None:
        """The rows of one partition, or ``None`` when the table or the partition is absent."""
        delta = self.delta_table(table)
        if delta is None:
            return None
        filters = [(col, "=", v) for col, v in partition.items()]
        try:
            arrow = delta.to_pyarrow_table(filters=filters)
        except (DeltaError, ValueError) as exc:
            raise LakehouseError(f"{table} {dict(partition)}: Delta read failed: {exc}") from exc
        return pl.from_arrow(arrow) if arrow.num_rows else None

    def read_table(self, table: str) -> pl.DataFrame | None:
        """The whole table, or ``None`` when it has not been written yet."""
        delta = self.delta_table(table)
        return None if delta is None else pl.from_arrow(delta.to_pyarrow_table())

    def tables(self) -> dict[str, str]:
        """Every Delta table in the lake by its SQL name: ``<asset>``, ``<asset>__<source>``, or
        ``<folder>__<name>`` for the bookkeeping tables (``audit__compliance``)."""
        found: dict[str, str] = {}
        for folder, asset in PER_SOURCE_TABLES.items():
            for name in self._table_names(folder):
                found[f"{asset}__{name}"] = self.uri(f"{folder}/{name}")
        for name in self._table_names(REPORTS_FOLDER):
            found[name] = self.uri(f"{REPORTS_FOLDER}/{name}")
        for folder in BOOKKEEPING_FOLDERS:
            for name in self._table_names(folder):
                found[f"{folder}__{name}"] = self.uri(f"{folder}/{name}")
        return found

    def _table_names(self, folder: str) -> list[str]:
        """The Delta tables directly under ``folder`` (those with a ``_delta_log``), sorted."""
        if self.is_local:
            return sorted(p.parent.name for p in Path(self.uri(folder)).glob("*/_delta_log"))
        if not self.root.startswith("s3://"):
            raise LakehouseError(f"listing tables of {self.root}: only local and s3:// lakes")
        return _s3_table_names(self.uri(folder), self.storage_options)

    def append(
        self, table: str, df: pl.DataFrame, partition_by: list[str] | None = None
    ) -> WriteResult:
        """Append ``df`` to ``table`` (bookkeeping tables: state, audit, quarantine); a new
        table is partitioned by ``partition_by``."""
        return self._commit(table, df, mode="append", transactions=None, partition_by=partition_by)

    def append_transaction(
        self, table: str, df: pl.DataFrame, app_id: str, version: int, partition_by: list[str]
    ) -> WriteResult | None:
        """Append ``df`` exactly once: the commit carries the Delta transaction ``(app_id,
        version)``, and a version at or below the one already committed for ``app_id`` is
        skipped (returns ``None``). Stream capture commits this way before it acks the broker.
        """
        delta = self.delta_table(table)
        if delta is not None:
            done = delta.transaction_version(app_id)
            if done is not None and version <= done:
                return None
        return self._commit(
            table,
            df,
            mode="append",
            transactions=[Transaction(app_id, version)],
            partition_by=partition_by,
        )

    def committed_transaction(self, table: str, app_id: str) -> int | None:
        """The last transaction version committed for ``app_id`` on ``table``, if any."""
        delta = self.delta_table(table)
        return None if delta is None else delta.transaction_version(app_id)

    def delete_where(self, table: str, predicate: str) -> int:
        """Delete the rows of ``table`` matching the SQL ``predicate``; returns rows deleted."""
        delta = self.delta_table(table)
        if delta is None:
            return 0
        try:
            metrics = delta.delete(predicate)
        except (DeltaError, ValueError) as exc:
            raise LakehouseError(f"{table} [{predicate}]: Delta delete failed: {exc}") from exc
        return int(metrics.get("num_deleted_rows", 0))

    def vacuum(self, table: str) -> list[str]:
        """Remove every file no longer in the table's latest version (time travel ends here).

        Used after erasure and retention deletes, where old versions must not keep the rows.
        """
        delta = self.delta_table(table)
        if delta is None:
            return []
        try:
            return delta.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
        except (DeltaError, ValueError) as exc:
            raise LakehouseError(f"{table}: Delta vacuum failed: {exc}") from exc

    def _commit(
        self,
        table: str,
        df: pl.DataFrame,
        *,
        mode: str,
        transactions: list[Transaction] | None,
        partition_by: list[str] | None = None,
    ) -> WriteResult:
        uri = self.uri(table)
        write_id = uuid.uuid4().hex
        properties = CommitProperties(
            custom_metadata={WRITE_ID_KEY: write_id},
            app_transactions=transactions,
            max_commit_retries=self.commit_retries,
        )
        try:
            write_deltalake(
                uri,
                df.to_arrow(),
                mode=mode,
                partition_by=partition_by,
                schema_mode="merge",
                storage_options=self._options(),
                commit_properties=properties,
            )
            version = self._version_of(uri, write_id)
        except (DeltaError, OSError, ValueError) as exc:
            raise _write_error(f"{table}: Delta {mode} failed", exc) from exc
        return WriteResult(table=table, uri=uri, version=version, rows=df.height, partition={})

    def _version_of(self, uri: str, write_id: str) -> int:
        """The version the commit tagged ``write_id`` made (the latest if it is not found
        among the last ``HISTORY_LOOKBACK`` commits)."""
        delta = DeltaTable(uri, storage_options=self._options())
        for entry in delta.history(HISTORY_LOOKBACK):
            if entry.get(WRITE_ID_KEY) == write_id:
                return int(entry["version"])
        return delta.version()

    def purge_history(self, table: str) -> list[str]:
        """Make the latest version the only readable one: vacuum every older data file, then
        checkpoint and drop the older commit files (they keep column statistics of removed
        files, i.e. values), restoring the default log retention afterwards. For erasure."""
        removed = self.vacuum(table)
        delta = self.delta_table(table)
        if delta is None:
            return removed
        try:
            delta.alter.set_table_properties({"delta.logRetentionDuration": "interval 0 days"})
            delta = self.delta_table(table)
            delta.create_checkpoint()
            delta.cleanup_metadata()
            delta.alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})
        except (DeltaError, ValueError, OSError) as exc:
            raise LakehouseError(f"{table}: purging old versions failed: {exc}") from exc
        return removed


def _s3_table_names(folder_uri: str, options: Mapping[str, str]) -> list[str]:
    """The Delta tables directly under the S3 folder ``folder_uri``: sub-folders that hold a
    ``_delta_log/`` entry. Endpoint and keys from ``options`` (delta-rs' ``AWS_*`` keys) or
    the environment, as boto3 reads them."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = folder_uri.removeprefix("s3://").partition("/")
    prefix = prefix.rstrip("/") + "/"
    lower = {k.lower(): v for k, v in options.items()}
    client = boto3.client(
        "s3",
        endpoint_url=lower.get("aws_endpoint_url") or lower.get("endpoint_url"),
        aws_access_key_id=lower.get("aws_access_key_id"),
        aws_secret_access_key=lower.get("aws_secret_access_key"),
        region_name=lower.get("aws_region"),
    )
    names = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for entry in page.get("CommonPrefixes", []):
                sub = entry["Prefix"]
                log = client.list_objects_v2(Bucket=bucket, Prefix=f"{sub}_delta_log/", MaxKeys=1)
                if log.get("KeyCount", 0):
                    names.append(sub[len(prefix) :].rstrip("/"))
    except (BotoCoreError, ClientError) as exc:
        raise LakehouseError(f"listing tables under {folder_uri} failed: {exc}") from exc
    return sorted(names)
