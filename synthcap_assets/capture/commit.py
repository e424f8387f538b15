"""Commit one capture: the rows first, then the bookkeeping keyed to their Delta version.

Everything that decides what lands (parsing, decoding, the contract) runs before this module
is called and writes nothing. Then, in order, each step only after the one before succeeded:

1. the rows: one Delta commit replacing the (source, date) partition of ``raw/<source>``;
   a stream batch (``CaptureBatch.transaction``) is appended under its Delta transaction id
   instead, so a replayed batch lands once;
2. the contract version (``state/contracts``, when it is new or evolved) and the partition's
   schema changes (``reports/schema_changes``);
3. the quarantine partition;
4. the cursor (``state/cursors``) and the files read (``state/captured_files``);
5. ``CaptureBatch.on_committed`` (e.g. the broker ack).

Every bookkeeping row carries ``raw_version``, the version step 1 committed. A failure at any
step of a file, API or database capture undoes the steps already made, newest first
(:class:`CaptureWrites`: a Delta restore, or a row-level undo when another run committed to the
table since), so every table reads as before the run and a re-run starts clean. A stream
batch is never undone: its transaction id stays recorded, so instead its bookkeeping is
idempotent and written again when the unacked batch is redelivered (the quarantine under the
same transaction id), and the ack comes last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from synthcap_assets.capture.contract_store import (
    CONTRACTS_TABLE,
    SCHEMA_CHANGES_TABLE,
    ContractPlan,
    store_contract,
    write_schema_changes,
)
from synthcap_assets.capture.quarantine import (
    QUARANTINE_TABLE,
    append_quarantine,
    write_quarantine,
)
from synthcap_assets.columns import DATE_COLUMN
from synthcap_resources.lakehouse import (
    LakehouseResource,
    PartitionValue,
    WriteResult,
    raw_table,
)
from synthcap_resources.sources.base import CaptureBatch
from synthcap_resources.sources.state import (
    CAPTURED_FILES_TABLE,
    CURSORS_TABLE,
    record_captured_files,
    store_cursor,
)


class CaptureCommitError(RuntimeError):
    """A capture failed after its data commit; the message says what was undone."""


@dataclass
class _Made:
    table: str
    before: int | None
    written: int
    partition: Mapping[str, PartitionValue] | None
    appended: str | None


@dataclass
class CaptureWrites:
    """The writes of one capture, remembered so that a later failure can undo them all."""

    lakehouse: LakehouseResource
    undoable: bool = True
    made: list[_Made] = field(default_factory=list)

    def write(
        self,
        table: str,
        do: Callable[[], WriteResult | None],
        *,
        partition: Mapping[str, PartitionValue] | None = None,
        appended: str | None = None,
    ) -> WriteResult | None:
        """Run ``do`` (one commit to ``table``) and remember how to take it back: by
        ``partition`` (a partition replace) or the SQL ``appended`` (the rows it added)."""
        result = do()
        if result is not None and self.undoable:
            # Delta versions are consecutive: the table as it was is the version just before.
            before = result.version - 1 if result.version > 0 else None
            self.made.append(_Made(table, before, result.version, partition, appended))
        return result

    def undo(self) -> list[str]:
        """Undo every remembered write, newest first; returns what was done to each table."""
        done = []
        for made in reversed(self.made):
            done.append(
                self.lakehouse.undo_write(
                    made.table,
                    made.before,
                    made.written,
                    partition=made.partition,
                    appended=made.appended,
                )
            )
        self.made.clear()
        return done


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def commit_rows(
    lakehouse: LakehouseResource, source: str, day: dt.date, rows: pl.DataFrame, batch: CaptureBatch
) -> WriteResult | None:
    """Write the rows; ``None`` when a stream transaction was already committed."""
    if batch.transaction is None:
        return lakehouse.write_partition(raw_table(source), rows, {DATE_COLUMN: day})
    app_id, version = batch.transaction
    return lakehouse.append_transaction(
        raw_table(source), rows, app_id, version, partition_by=[DATE_COLUMN]
    )


def after_commit(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    batch: CaptureBatch,
    raw_version: int | None = None,
    writes: CaptureWrites | None = None,
) -> dict[str, Any]:
    """Store the cursor and the captured files, then run ``on_committed``; returns metadata."""
    writes = writes or CaptureWrites(lakehouse, undoable=False)
    keyed = f"source = {_quote(source)} AND raw_version = {raw_version}"
    metadata: dict[str, Any] = {}
    if batch.cursor is not None:
        cursor = batch.cursor
        writes.write(
            CURSORS_TABLE,
            lambda: store_cursor(lakehouse, source, day, cursor, raw_version),
            appended=keyed,
        )
        metadata["cursor"] = batch.cursor
    if batch.files:
        files = batch.files
        writes.write(
            CAPTURED_FILES_TABLE,
            lambda: record_captured_files(lakehouse, source, day, files, raw_version),
            appended=keyed,
        )
        metadata["files_captured"] = len(batch.files)
    if batch.on_committed is not None:
        batch.on_committed()
    return metadata


def commit_capture(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    rows: pl.DataFrame,
    batch: CaptureBatch,
    plan: ContractPlan,
    rejected: list[pl.DataFrame],
) -> tuple[WriteResult | None, dict[str, Any]]:
    """Steps 1-5 above; the data's write result (``None``: a stream batch already committed)
    and the state metadata. On a failure the steps made are undone and
    :class:`CaptureCommitError` names the step's error and what was undone."""
    stream = batch.transaction is not None
    writes = CaptureWrites(lakehouse, undoable=not stream)
    where = {"source": source, "date": day.isoformat()}
    try:
        written = writes.write(
            raw_table(source),
            lambda: commit_rows(lakehouse, source, day, rows, batch),
            partition={DATE_COLUMN: day},
        )
        raw_version = None if written is None else written.version
        if plan.store_version is not None:
            version = plan.store_version
            writes.write(
                CONTRACTS_TABLE,
                lambda: store_contract(
                    lakehouse, source, day, plan.outcome.contract, version, raw_version
                ),
                appended=f"source = {_quote(source)} AND version = {version}",
            )
        writes.write(
            SCHEMA_CHANGES_TABLE,
            lambda: write_schema_changes(lakehouse, source, day, plan.outcome, raw_version),
            partition=where,
        )
        if stream:
            append_quarantine(lakehouse, source, day, rejected, transaction=batch.transaction)
        else:
            writes.write(
                QUARANTINE_TABLE,
                lambda: write_quarantine(lakehouse, source, day, rejected, raw_version),
                partition=where,
            )
        state = after_commit(lakehouse, source, day, batch, raw_version, writes)
    except Exception as exc:  # any step's failure: undo the steps made, then fail the capture
        undone = writes.undo()
        what = "; ".join(undone) if undone else "nothing had been written"
        if stream and not undone:
            what = "the batch stays unacked and its bookkeeping is redone on redelivery"
        raise CaptureCommitError(
            f"source {source!r}, partition {day.isoformat()}: capture failed ({exc}); "
            f"undone: {what}"
        ) from exc
    return written, state
