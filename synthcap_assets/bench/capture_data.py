"""Data for the capture benchmark and the database tests: one table shape, three homes.

``events`` rows: ``id`` (bigint), ``updated_at`` (UTC timestamp, ten days from 2026-11-10, a
row every 0.864 s per million rows), ``customer`` (text), ``amount`` (double, 5% null),
``qty`` (int), ``active`` (bool), ``note`` (text, 1 in 7 null). The same rows are made as a
CSV file (polars), a PostgreSQL table and a MariaDB/MySQL table (server-side generation:
``generate_series`` / the ``seq_1_to_N`` sequence engine), so every tool reads equal bytes.
A table that already holds exactly ``rows`` rows is reused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import psycopg
import pymysql
from psycopg import sql

FIRST_DAY = dt.date(2026, 11, 10)
DAYS = 10
SECONDS = DAYS * 86_400


def events_frame(rows: int) -> pl.DataFrame:
    """The ``events`` rows in memory (the same values the SQL generators produce)."""
    g = pl.int_range(1, rows + 1, eager=True, dtype=pl.Int64).alias("id")
    start = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=dt.UTC)
    return pl.DataFrame(g).with_columns(
        (pl.lit(start) + pl.duration(seconds=pl.col("id") % SECONDS)).alias("updated_at"),
        pl.format("c{}", pl.col("id") % 5000).alias("customer"),
        pl.when(pl.col("id") % 20 == 0)
        .then(None)
        .otherwise((pl.col("id") % 1000) * 1.25)
        .alias("amount"),
        (pl.col("id") % 50).cast(pl.Int32).alias("qty"),
        (pl.col("id") % 3 == 0).alias("active"),
        pl.when(pl.col("id") % 7 == 0)
        .then(None)
        .otherwise(pl.format("note {}", pl.col("id") % 97))
        .alias("note"),
    )


def write_csv(path: Path, rows: int) -> Path:
    """The ``events`` rows as a CSV file at ``path`` (reused when it has ``rows`` rows)."""
    if path.exists() and pl.scan_csv(path).select(pl.len()).collect().item() == rows:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    events_frame(rows).write_csv(path)
    return path


PG_CREATE = """
CREATE TABLE {table} (
  id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, customer varchar(32) NOT NULL,
  amount double precision, qty integer NOT NULL, active boolean NOT NULL, note text
)"""
PG_FILL = """
INSERT INTO {table}
SELECT g, timestamptz '2026-11-10 00:00:00+00' + (g %% 864000) * interval '1 second',
       'c' || (g %% 5000), CASE WHEN g %% 20 = 0 THEN NULL ELSE (g %% 1000) * 1.25 END,
       (g %% 50)::int, g %% 3 = 0, CASE WHEN g %% 7 = 0 THEN NULL ELSE 'note ' || (g %% 97) END
FROM generate_series(1, %s) AS g"""


def ensure_postgres_table(url: str, table: str, rows: int) -> None:
    """``table`` in the PostgreSQL database at ``url`` with exactly ``rows`` event rows."""
    name = sql.Identifier(table)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (table,))
        try:
            exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]
            if exists:
                count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone()
                if count[0] == rows:
                    return
                conn.execute(sql.SQL("DROP TABLE {}").format(name))
            conn.execute(sql.SQL(PG_CREATE).format(table=name))
            conn.execute(sql.SQL(PG_FILL).format(table=name), (rows,))
            conn.execute(sql.SQL("CREATE INDEX ON {} (updated_at)").format(name))
            conn.execute(sql.SQL("ANALYZE {}").format(name))
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (table,))


MYSQL_CREATE = """
CREATE TABLE `{table}` (
  id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL, customer varchar(32) NOT NULL,
  amount double, qty int NOT NULL, active boolean NOT NULL, note text, KEY (updated_at)
)"""
MYSQL_FILL = """
INSERT INTO `{table}`
SELECT seq, timestamp '2026-11-10 00:00:00' + interval (seq % 864000) second,
       concat('c', seq % 5000), if(seq % 20 = 0, NULL, (seq % 1000) * 1.25), seq % 50,
       seq % 3 = 0, if(seq % 7 = 0, NULL, concat('note ', seq % 97))
FROM seq_1_to_{rows}"""


def ensure_mariadb_table(conn: pymysql.Connection, table: str, rows: int) -> None:
    """``table`` (a plain identifier) in MariaDB with exactly ``rows`` event rows (uses
    MariaDB's sequence engine, so MySQL proper is not supported here)."""
    if not table.isidentifier():
        raise ValueError(f"not a plain table name: {table!r}")
    with conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 120)", (table,))
        try:
            cur.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = database() AND table_name = %s",
                (table,),
            )
            if cur.fetchone()[0]:
                cur.execute(f"SELECT count(*) FROM `{table}`")
                if cur.fetchone()[0] == rows:
                    return
                cur.execute(f"DROP TABLE `{table}`")
            cur.execute(MYSQL_CREATE.format(table=table))
            cur.execute(MYSQL_FILL.format(table=table, rows=int(rows)))
            conn.commit()
        finally:
            cur.execute("SELECT RELEASE_LOCK(%s)", (table,))
