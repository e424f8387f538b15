"""Database sources against the real PostgreSQL and MariaDB of this machine.

One 1M-row ``events`` table per server (created once, reused while it holds 1M rows); each
capture goes through ``raw_capture`` with the definitions' resources over a temporary lake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pymysql
import pytest

from synthcap_assets.bench.capture_data import ensure_mariadb_table, ensure_postgres_table
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.state import latest_cursor
from synthcap_tests.resources.capture_runs import capture, failure_text, write_spec
from synthcap_tests.services import require_service

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MY_URL = "mysql://root:@127.0.0.1:3306/test"
TABLE = "synthcap_events_1m"
ROWS = 1_000_000
DAY = dt.date(2026, 11, 15)
WINDOW = (dt.datetime(2026, 11, 15, tzinfo=dt.UTC), dt.datetime(2026, 11, 16, tzinfo=dt.UTC))


def _spec(source: str, engine: str, env: str, **database) -> dict:
    return {
        "id": source,
        "title": f"{engine} events",
        "kind": "database",
        "start_date": "2026-11-01",
        "domain": "tabular",
        "database": {"engine": engine, "url_env": env, "table": TABLE, **database},
    }


@pytest.fixture(scope="module")
def postgres() -> str:
    require_service("127.0.0.1", 5432, "PostgreSQL")
    ensure_postgres_table(PG_URL, TABLE, ROWS)
    return PG_URL


@pytest.fixture(scope="module")
def mariadb() -> Iterator[pymysql.Connection]:
    require_service("127.0.0.1", 3306, "MariaDB")
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database="test")
    ensure_mariadb_table(conn, TABLE, ROWS)
    yield conn
    conn.close()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _stored_rows(lake: Path, source: str, day: dt.date) -> int:
    rows = LakehouseResource(root=str(lake)).read_partition(raw_table(source), {"_date": day})
    return 0 if rows is None else rows.height


def test_postgres_full_table_of_1m_rows(postgres, instance, tmp_path, monkeypatch):
    monkeypatch.setenv("SC_TEST_PG_URL", postgres)
    write_spec(tmp_path / "sources", _spec("pg_events", "postgresql", "SC_TEST_PG_URL"))
    result = capture(instance, tmp_path / "lake", tmp_path / "sources", "pg_events", DAY)
    assert result.success, failure_text(result)
    with psycopg.connect(postgres) as conn:
        expected = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    assert expected == ROWS
    assert _stored_rows(tmp_path / "lake", "pg_events", DAY) == expected
    # The connection URL is nowhere in the run's metadata.
    metadata = str(result.get_asset_materialization_events()[0].materialization.metadata)
    assert "postgresql://postgres@" not in metadata


def test_mariadb_incremental_day_and_cursor(mariadb, instance, tmp_path, monkeypatch):
    monkeypatch.setenv("SC_TEST_MY_URL", MY_URL)
    spec = _spec("my_events", "mysql", "SC_TEST_MY_URL", mode="incremental")
    spec["database"]["cursor_column"] = "updated_at"
    write_spec(tmp_path / "sources", spec)
    result = capture(instance, tmp_path / "lake", tmp_path / "sources", "my_events", DAY)
    assert result.success, failure_text(result)
    with mariadb.cursor() as cur:
        cur.execute(
            f"SELECT count(*), max(updated_at) FROM {TABLE} "
            "WHERE updated_at >= %s AND updated_at < %s",
            [w.replace(tzinfo=None) for w in WINDOW],
        )
        expected, high = cur.fetchone()
    assert 0 < expected < ROWS
    assert _stored_rows(tmp_path / "lake", "my_events", DAY) == expected
    cursor = latest_cursor(LakehouseResource(root=str(tmp_path / "lake")), "my_events")
    assert cursor["value"] == high.isoformat() and cursor["day"] == DAY.isoformat()


def test_postgres_cursor_advances_only_after_the_commit(postgres, instance, tmp_path, monkeypatch):
    monkeypatch.setenv("SC_TEST_PG_URL", postgres)
    spec = _spec("pg_incr", "postgresql", "SC_TEST_PG_URL", mode="incremental")
    spec["database"]["cursor_column"] = "updated_at"
    write_spec(tmp_path / "sources", spec)
    lake = tmp_path / "lake"
    # A file where the raw table's folder should be: the Delta commit fails.
    (lake / "raw").mkdir(parents=True)
    (lake / "raw" / "pg_incr").write_text("not a table")
    failed = capture(instance, lake, tmp_path / "sources", "pg_incr", DAY)
    assert not failed.success
    assert latest_cursor(LakehouseResource(root=str(lake)), "pg_incr") is None

    (lake / "raw" / "pg_incr").unlink()
    done = capture(instance, lake, tmp_path / "sources", "pg_incr", DAY)
    assert done.success, failure_text(done)
    with psycopg.connect(postgres) as conn:
        expected, high = conn.execute(
            f"SELECT count(*), max(updated_at) FROM {TABLE} "
            "WHERE updated_at >= %s AND updated_at < %s",
            WINDOW,
        ).fetchone()
    assert _stored_rows(lake, "pg_incr", DAY) == expected
    cursor = latest_cursor(LakehouseResource(root=str(lake)), "pg_incr")
    assert dt.datetime.fromisoformat(cursor["value"]) == high
