"""Database sources: identifiers never reach SQL unquoted, values are bound, errors are clear,
and a numeric cursor neither skips nor repeats rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from synthcap_resources.catalog import CatalogError, SourceSpec, parse_spec
from synthcap_resources.sources.base import (
    DateWindow,
    EmptySourceError,
    SourceReadError,
    SourceUnreachableError,
)
from synthcap_resources.sources.database import DatabaseConnector
from synthcap_resources.sources.database_spec import DatabaseSpec
from synthcap_resources.sources.database_sql import (
    IdentifierError,
    mysql_select,
    postgres_select,
    quote_mysql,
)
from synthcap_tests.resources.capture_runs import write_spec
from synthcap_tests.services import require_service

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
SMALL = "synthcap_ids_small"


def _spec(**database) -> SourceSpec:
    return SourceSpec.model_validate(
        {
            "id": "ids",
            "title": "ids",
            "kind": "database",
            "start_date": "2026-11-01",
            "license": "CC0-1.0",
            "terms_url": "https://example.org",
            "domain": "tabular",
            "database": {"engine": "postgresql", "url_env": "SC_TEST_PG_URL", **database},
        }
    )


def test_injection_in_the_catalog_is_refused_with_the_field(tmp_path: Path):
    spec = {
        "id": "evil",
        "title": "evil",
        "kind": "database",
        "start_date": "2026-11-01",
        "domain": "tabular",
        "database": {
            "engine": "postgresql",
            "url_env": "SC_TEST_PG_URL",
            "table": "events; DROP TABLE events; --",
        },
    }
    path = write_spec(tmp_path, spec)
    with pytest.raises(CatalogError, match=r"field 'database\.table'"):
        parse_spec(path)
    spec["database"] = {**spec["database"], "table": "events", "columns": ['id", "x']}
    with pytest.raises(CatalogError, match=r"field 'database\.columns\.0'"):
        parse_spec(write_spec(tmp_path, spec))


def test_injection_that_bypasses_the_catalog_is_refused_before_any_sql(monkeypatch):
    monkeypatch.setenv("SC_TEST_PG_URL", "postgresql://nobody@127.0.0.1:1/none")
    spec = _spec(table="events")
    evil = DatabaseSpec.model_construct(**{**spec.database.__dict__, "table": 'x"; DROP TABLE y'})
    spec = spec.model_copy(update={"database": evil})
    # Refused by name before a connection is attempted (port 1 would be "unreachable").
    with pytest.raises(SourceReadError, match="not a plain SQL identifier") as caught:
        DatabaseConnector().read(spec, DateWindow.of_day(dt.date(2026, 11, 15)))
    assert not isinstance(caught.value, SourceUnreachableError)


def test_identifiers_are_quoted_by_each_engine():
    text = postgres_select(["id", "Amount$"], "public", "events", [("id", ">")]).as_string(None)
    assert text == 'SELECT "id", "Amount$" FROM "public"."events" WHERE "id" > %s'
    assert mysql_select(["id"], None, "events", [("ts", ">=")]) == (
        "SELECT `id` FROM `events` WHERE `ts` >= %s"
    )
    assert quote_mysql("a`b") == "`a``b`"
    with pytest.raises(IdentifierError, match="column 'a b'"):
        postgres_select(["a b"], None, "events", [])
    with pytest.raises(IdentifierError, match="table"):
        mysql_select(["id"], None, "t`; drop", [])


@pytest.fixture
def small_table(monkeypatch) -> str:
    require_service("127.0.0.1", 5432, "PostgreSQL")
    monkeypatch.setenv("SC_TEST_PG_URL", PG_URL)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {SMALL}")
        conn.execute(f"CREATE TABLE {SMALL} (id bigint PRIMARY KEY, label text)")
        conn.execute(f"INSERT INTO {SMALL} SELECT g, 'r' || g FROM generate_series(1, 100) g")
    return SMALL


def _add_rows(first: int, last: int) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {SMALL} SELECT g, 'r' || g "
            "FROM generate_series(%s::bigint, %s::bigint) g",
            (first, last),
        )


def test_numeric_cursor_reads_each_row_once(small_table):
    spec = _spec(table=small_table, mode="incremental", cursor_column="id")
    connector = DatabaseConnector()
    day1, day2 = (DateWindow.of_day(dt.date(2026, 11, d)) for d in (15, 16))
    first = connector.read(spec, day1)
    assert first.rows["id"].to_list() == list(range(1, 101))
    assert first.cursor == {"column": "id", "value": 100, "day": "2026-11-15", "from": None}
    _add_rows(101, 130)
    second = connector.read(spec, day2, first.cursor)
    assert second.rows["id"].to_list() == list(range(101, 131))
    # Re-capturing day 2 starts where day 2 started, late rows included.
    _add_rows(131, 135)
    again = connector.read(spec, day2, second.cursor)
    assert again.rows["id"].to_list() == list(range(101, 136))
    # Day 1 after day 2 would repeat rows: refused, naming the stored position.
    with pytest.raises(SourceReadError, match=r"id=135 were captured on 2026-11-16"):
        connector.read(spec, day1, again.cursor)
    with pytest.raises(EmptySourceError, match="holds no rows"):
        connector.read(spec, DateWindow.of_day(dt.date(2026, 11, 17)), again.cursor)


def test_discover_check_and_schema_change(small_table):
    connector = DatabaseConnector()
    spec = _spec(table=small_table)
    connector.check(spec)
    assert connector.discover(spec) == {"id": "int", "label": "str"}
    moved = _spec(table=small_table, columns=["id", "price"])
    with pytest.raises(SourceReadError, match=r"column\(s\) \['price'\] not in table"):
        connector.read(moved, DateWindow.of_day(dt.date(2026, 11, 15)))
    with pytest.raises(SourceReadError, match="table 'no_such_table' not found"):
        connector.check(_spec(table="no_such_table"))


def test_unreachable_server_and_missing_env_name_the_cause_not_the_secret(monkeypatch):
    monkeypatch.setenv("SC_TEST_PG_URL", "postgresql://app:s3cr3t-pw@127.0.0.1:1/db")
    spec = _spec(table="events")
    with pytest.raises(SourceUnreachableError, match="cannot connect to PostgreSQL") as caught:
        DatabaseConnector().read(spec, DateWindow.of_day(dt.date(2026, 11, 15)))
    assert "s3cr3t-pw" not in str(caught.value)
    assert "source 'ids', partition 2026-11-15" in str(caught.value)
    monkeypatch.delenv("SC_TEST_PG_URL")
    with pytest.raises(SourceUnreachableError, match="'SC_TEST_PG_URL'.*not set"):
        DatabaseConnector().check(spec)
