"""Dagster's SQLite storage on kept engines (``synthcap_assets.sqlite_engines``): the same
databases as Dagster's own engine per operation (schema, alembic stamp, every event committed
and visible to another connection at once), far fewer connections, and a wiped storage never
writes to a file that is gone."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from synthcap_assets.executor import sqlite_sync
from synthcap_assets.sqlite_engines import ENGINE_CACHE_SIZE, cached_engines, pool_engines


@pytest.fixture(autouse=True)
def pooled() -> None:
    sqlite_sync()  # installs the kept engines, as every process loading the definitions does
    assert pool_engines()


def _entry(run_id: str, n: int) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level="INFO",
        user_message=f"step {n}",
        run_id=run_id,
        timestamp=1_700_000_000.0 + n,
        step_key=f"step_{n}",
        job_name="a_job",
        dagster_event=None,  # a log message of the step: stored in the run's database
    )


def _schema(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str]]]:
    with sqlite3.connect(path) as conn:
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
        stamp = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    return tables, stamp


def test_run_databases_match_dagsters_own_and_commit_every_event(tmp_path: Path) -> None:
    storage = SqliteEventLogStorage(str(tmp_path / "events"))
    connects: list[object] = []

    def count(_dbapi: object, _record: object) -> None:
        connects.append(_dbapi)

    event.listen(Engine, "connect", count)
    try:
        run_ids = [uuid.uuid4().hex for _ in range(3)]
        for run_id in run_ids:
            for n in range(20):
                storage.store_event(_entry(run_id, n))
                # Committed at once: a connection of its own (another process's) sees it.
                with sqlite3.connect(storage.path_for_shard(run_id)) as other:
                    assert other.execute("SELECT COUNT(*) FROM event_logs").fetchone()[0] == n + 1
    finally:
        event.remove(Engine, "connect", count)
    # Dagster's own engines opened a connection per operation (60 events: 60 or more);
    # kept engines open one per database, plus the template's and one per run's first check.
    assert len(connects) <= 3 * len(run_ids) + 2, len(connects)
    for run_id in run_ids:
        assert [
            r.event_log_entry.user_message for r in storage.get_records_for_run(run_id).records
        ] == [f"step {n}" for n in range(20)]
    # Dagster's own initialization of a new run database, on an engine per operation.
    reference = SqliteEventLogStorage(str(tmp_path / "reference"))
    path = Path(reference.path_for_shard("ref"))
    engine = create_engine(reference.conn_string_for_shard("ref"), poolclass=NullPool)
    reference._initdb(engine)
    engine.dispose()
    assert _schema(Path(storage.path_for_shard(run_ids[0]))) == _schema(path)


def test_a_wiped_storage_writes_to_its_new_files(tmp_path: Path) -> None:
    storage = SqliteEventLogStorage(str(tmp_path / "events"))
    run_id = uuid.uuid4().hex
    storage.store_event(_entry(run_id, 0))
    storage.wipe()  # deletes the run's database file under its kept engine
    assert not Path(storage.path_for_shard(run_id)).exists()
    storage.store_event(_entry(run_id, 1))
    records = storage.get_records_for_run(run_id).records
    assert [r.event_log_entry.user_message for r in records] == ["step 1"]
    assert Path(storage.path_for_shard(run_id)).exists()


def test_a_real_instance_keeps_few_engines_open(tmp_path: Path) -> None:
    @dg.asset
    def one() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"n": 1})

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for _ in range(ENGINE_CACHE_SIZE + 2):  # a run database per run
            assert dg.materialize([one], instance=instance).success
        records = instance.fetch_materializations(one.key, limit=100).records
        assert len(records) == ENGINE_CACHE_SIZE + 2
    assert len(cached_engines()) <= ENGINE_CACHE_SIZE
