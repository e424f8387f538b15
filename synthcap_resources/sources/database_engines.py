"""The two engines behind ``database.py``: catalog queries and value binding per engine.

Each engine connects with its own driver (psycopg, PyMySQL) for the small queries
(``information_schema``) and to bind values into the statement connectorx will run; a failed
connection is a :class:`SourceUnreachableError` whose message shows no credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pymysql

from synthcap_resources.sources.base import SourceUnreachableError
from synthcap_resources.sources.database_spec import DatabaseSpec
from synthcap_resources.sources.database_sql import (
    catalog_type,
    mysql_select,
    postgres_select,
    public_location,
    redact,
)

CONNECT_TIMEOUT_S = 10
Conditions = Sequence[tuple[str, str]]


class Postgres:
    COLUMNS = (
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = coalesce(%s, current_schema()) AND table_name = %s "
        "ORDER BY ordinal_position"
    )

    @contextmanager
    def connect(self, url: str, where: str) -> Iterator[psycopg.Connection]:
        try:
            conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        except psycopg.Error as exc:
            raise SourceUnreachableError(
                f"{where}: cannot connect to PostgreSQL at {public_location(url, None, '')}: "
                f"{redact(str(exc).strip(), url)}"
            ) from exc
        with conn:
            yield conn

    def columns(self, url: str, db: DatabaseSpec, where: str) -> dict[str, tuple[str, bool]]:
        with self.connect(url, where) as conn:
            found = conn.execute(self.COLUMNS, (db.schema_name, db.table)).fetchall()
        return {
            name: (catalog_type(kind), kind == "timestamp with time zone") for name, kind in found
        }

    def statement(
        self,
        url: str,
        columns: Sequence[str],
        db: DatabaseSpec,
        conditions: Conditions,
        params: Sequence[Any],
        where: str,
    ) -> str:
        """The SELECT with quoted identifiers and the values bound by the driver."""
        query = postgres_select(columns, db.schema_name, db.table, conditions)
        with self.connect(url, where) as conn:
            return psycopg.ClientCursor(conn).mogrify(query, params)


class MySQL:
    COLUMNS = (
        "SELECT column_name, data_type, column_type FROM information_schema.columns "
        "WHERE table_schema = coalesce(%s, database()) AND table_name = %s "
        "ORDER BY ordinal_position"
    )

    @contextmanager
    def connect(self, url: str, where: str) -> Iterator[pymysql.Connection]:
        parts = urlsplit(url)
        try:
            conn = pymysql.connect(
                host=parts.hostname or "localhost",
                port=parts.port or 3306,
                user=unquote(parts.username or ""),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/") or None,
                connect_timeout=CONNECT_TIMEOUT_S,
            )
        except pymysql.MySQLError as exc:
            raise SourceUnreachableError(
                f"{where}: cannot connect to MySQL/MariaDB at {public_location(url, None, '')}: "
                f"{redact(str(exc), url)}"
            ) from exc
        try:
            yield conn
        finally:
            conn.close()

    def columns(self, url: str, db: DatabaseSpec, where: str) -> dict[str, tuple[str, bool]]:
        with self.connect(url, where) as conn, conn.cursor() as cur:
            cur.execute(self.COLUMNS, (db.schema_name, db.table))
            found = cur.fetchall()
        return {name: (catalog_type(kind, full), False) for name, kind, full in found}

    def statement(
        self,
        url: str,
        columns: Sequence[str],
        db: DatabaseSpec,
        conditions: Conditions,
        params: Sequence[Any],
        where: str,
    ) -> str:
        """The SELECT with quoted identifiers and the values bound by the driver."""
        query = mysql_select(columns, db.schema_name, db.table, conditions)
        with self.connect(url, where) as conn, conn.cursor() as cur:
            return cur.mogrify(query, params)


def engine(name: str) -> Postgres | MySQL:
    return Postgres() if name == "postgresql" else MySQL()
