"""The SQL a database source sends, built without string interpolation of catalog values.

Identifiers are checked against the plain-identifier pattern and then quoted by each engine's
own rules (``psycopg.sql.Identifier`` for PostgreSQL, backticks with doubled backticks for
MySQL/MariaDB); values travel as parameters through the driver's own client-side binding
(``mogrify``), because connectorx, which does the fast columnar read, takes only SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from psycopg import sql

from synthcap_resources.sources.database_spec import is_identifier

# information_schema data types -> catalog types; anything not listed reads as text.
_INT = {"smallint", "integer", "bigint", "int", "mediumint", "tinyint", "year", "serial"}
_FLOAT = {"real", "double precision", "double", "float", "numeric", "decimal"}
_BOOL = {"boolean", "bool", "bit"}
_DATETIME = {
    "timestamp",
    "timestamp without time zone",
    "timestamp with time zone",
    "datetime",
}
TEMPORAL_TYPES = ("date", "datetime")


class IdentifierError(ValueError):
    """A schema, table or column name from the catalog is not a plain SQL identifier."""


def checked(name: str, what: str) -> str:
    """``name`` when it is a plain identifier; raises :class:`IdentifierError` otherwise."""
    if not isinstance(name, str) or not is_identifier(name):
        raise IdentifierError(
            f"{what} {name!r} is not a plain SQL identifier (letters, digits, '_', '$'); "
            "refused before any query is sent"
        )
    return name


def catalog_type(data_type: str, column_type: str = "") -> str:
    """The catalog type (``str``, ``int``, ...) of an information_schema column type."""
    data_type, column_type = data_type.lower(), column_type.lower()
    if column_type.startswith("tinyint(1)") or data_type in _BOOL:
        return "bool"
    if data_type in _INT:
        return "int"
    if data_type in _FLOAT:
        return "float"
    if data_type == "date":
        return "date"
    if data_type in _DATETIME:
        return "datetime"
    return "str"


def quote_mysql(name: str) -> str:
    """A MySQL/MariaDB quoted identifier: backticks, inner backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


def postgres_select(
    columns: Sequence[str], schema: str | None, table: str, conditions: Sequence[tuple[str, str]]
) -> sql.Composed:
    """``SELECT cols FROM schema.table WHERE col op %s AND ...`` with quoted identifiers."""
    target = sql.Identifier(checked(table, "table"))
    if schema:
        target = sql.SQL("{}.{}").format(sql.Identifier(checked(schema, "schema")), target)
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(checked(c, "column")) for c in columns), target
    )
    if conditions:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(
            sql.SQL("{} {} %s").format(sql.Identifier(checked(c, "column")), sql.SQL(_op(op)))
            for c, op in conditions
        )
    return query


def mysql_select(
    columns: Sequence[str], schema: str | None, table: str, conditions: Sequence[tuple[str, str]]
) -> str:
    """The same statement for MySQL/MariaDB, with ``%s`` placeholders for pymysql."""
    target = quote_mysql(checked(table, "table"))
    if schema:
        target = f"{quote_mysql(checked(schema, 'schema'))}.{target}"
    text = f"SELECT {', '.join(quote_mysql(checked(c, 'column')) for c in columns)} FROM {target}"
    if conditions:
        text += " WHERE " + " AND ".join(
            f"{quote_mysql(checked(c, 'column'))} {_op(op)} %s" for c, op in conditions
        )
    return text


def _op(op: str) -> str:
    if op not in (">=", "<", ">"):
        raise ValueError(f"unsupported comparison {op!r}")
    return op


def window_bounds(
    window_start: dt.datetime, window_end: dt.datetime, cursor_type: str, timezone_aware: bool
) -> tuple[Any, Any]:
    """The parameters bounding a day's window for a cursor column of ``cursor_type``.

    Naive timestamp columns (MySQL ``DATETIME``, PostgreSQL ``timestamp``) hold UTC by
    convention, so they are compared with naive UTC bounds; dates with dates.
    """
    if cursor_type == "date":
        return window_start.date(), window_end.date()
    if timezone_aware:
        return window_start, window_end
    return window_start.replace(tzinfo=None), window_end.replace(tzinfo=None)


def redact(text: str, url: str) -> str:
    """``text`` with the connection URL and its password replaced by ``***``."""
    parts = urlsplit(url)
    text = text.replace(url, "***")
    if parts.password:
        text = text.replace(parts.password, "***")
    return text


def public_location(url: str, schema: str | None, table: str) -> str:
    """Where the rows came from, without credentials: ``postgresql://host:port/db/schema.table``."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}/{schema + '.' if schema else ''}{table}"
