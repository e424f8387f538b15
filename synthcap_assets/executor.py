"""The executor of every job in the code location (UI launches, sensors, schedules, backfills).

Default: ``in_process_executor``, one process per run with its steps in it. The partition job
is a chain (capture, quality, profile, privacy, drift, features, budget, synthesis) with
little to run side by side on a 2-core machine, and with Dagster's default multiprocess
executor each step was a fresh Python process paying the imports (JAX, Dagster, polars, torch:
5-25 s between steps), so a partition launched from the UI took minutes where the demo (one
process, ``execute_in_process``) takes seconds. Runs still go side by side, up to the run
coordinator's ``max_concurrent_runs``.

``SYNTHCAP_EXECUTOR`` picks another: ``multiprocess`` (Dagster's default: a fresh process per
step, isolated, paying the imports each time) or ``celery`` (``dagster_celery``'s executor,
for the production deployment in ``infra/``). A forkserver with synthcap preloaded is not
offered: a step forked from a process that has imported JAX hung in its first kernel (measured
here: the profile step made no progress for 5 minutes; XLA's thread pools do not survive a
fork).

Dagster's SQLite storage (the embedded default) opens a connection per event it stores and
commits each one; at SQLite's default ``synchronous=FULL`` every commit and every last close
waits for the disk (15.5 ms a connection measured here, loaded; about 200 a partition).
``sqlite_sync`` sets ``synchronous=NORMAL`` on every SQLite connection of the process instead:
SQLite's advice for WAL databases (Dagster's are WAL): no corruption on a crash, only the last
transactions can be lost on a power cut (6.8 ms; ``SYNTHCAP_SQLITE_SYNC`` = ``FULL``/``OFF``
picks another; the Postgres storage of the production deployment is not touched). It also keeps
one engine per SQLite database open instead of one per operation
(``synthcap_assets.sqlite_engines``; ``SYNTHCAP_SQLITE_POOL=0`` turns that off).
"""

from __future__ import annotations

import os
import sqlite3

import dagster as dg

from synthcap_assets.sqlite_engines import pool_engines

EXECUTORS = ("in_process", "multiprocess", "celery")
SQLITE_SYNC_ENV = "SYNTHCAP_SQLITE_SYNC"
SQLITE_SYNC_MODES = ("NORMAL", "FULL", "OFF")
_SQLITE_SYNC_INSTALLED: list[str] = []


class ExecutorChoiceError(ValueError):
    """``SYNTHCAP_EXECUTOR`` names no executor synthcap knows."""


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor ``SYNTHCAP_EXECUTOR`` names (default ``in_process``)."""
    sqlite_sync()  # every process that loads the code location writes events through it
    choice = os.environ.get("SYNTHCAP_EXECUTOR", "in_process").strip().lower()
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "multiprocess":
        return dg.multiprocess_executor
    if choice == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    raise ExecutorChoiceError(f"SYNTHCAP_EXECUTOR={choice!r} is not one of {', '.join(EXECUTORS)}")


def sqlite_sync() -> str:
    """Set ``PRAGMA synchronous`` (``SYNTHCAP_SQLITE_SYNC``, default ``NORMAL``) on every SQLite
    connection SQLAlchemy opens in this process (Dagster's run, event and schedule storage);
    installed once per process, with the engines kept per database file
    (``sqlite_engines.pool_engines``). Returns the mode."""
    mode = os.environ.get(SQLITE_SYNC_ENV, "NORMAL").strip().upper() or "NORMAL"
    if mode not in SQLITE_SYNC_MODES:
        raise ExecutorChoiceError(
            f"{SQLITE_SYNC_ENV}={mode!r} is not one of {', '.join(SQLITE_SYNC_MODES)}"
        )
    pool_engines()
    if _SQLITE_SYNC_INSTALLED:
        _SQLITE_SYNC_INSTALLED[0] = mode
        return mode
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def on_connect(connection: object, _record: object) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute(f"PRAGMA synchronous={_SQLITE_SYNC_INSTALLED[0]}")

    event.listen(Engine, "connect", on_connect)
    _SQLITE_SYNC_INSTALLED.append(mode)
    return mode
