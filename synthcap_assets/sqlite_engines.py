"""Dagster's SQLite storage with one SQLAlchemy engine per database file, kept open.

Dagster's SQLite storages (the embedded default: runs, schedules, the event log's index and
one database per run) build a new SQLAlchemy engine for every operation, open one connection
with it, commit and close it (``NullPool``): about six connections per stored event. Each new
engine compiles its SQL afresh (SQLAlchemy's statement cache lives on the engine), and each
close of a database's last connection checkpoints its WAL and waits for the disk. Measured
here on a job shaped like the partition job with trivial bodies: most of a run's wall time was
that waiting, not CPU.

``pool_engines`` keeps one engine per database file (SQLAlchemy's default ``QueuePool``) for
every SQLite storage of the process, so connections and compiled statements are reused. What
is stored, and every transaction boundary, stays Dagster's: each operation still runs in its
own connection checkout and transaction, and other processes (the UI, the daemon, a second
demo worker) see each commit as before (SQLite's WAL serves readers and writers of several
processes). A database file that disappeared (``wipe``, a deleted run) or a run database
Dagster initializes again gets a fresh engine, and only the last ``ENGINE_CACHE_SIZE``
engines stay open, so a long-lived process does not collect open files, one per run.

Each run also gets a database of its own, which Dagster creates with its schema and stamps
with alembic's revision: about half a second here, most of it waiting for the disk, twice per
partition (the partition run and the readiness run). A new run database is instead a copy of
an empty one this process initialized once the same way (``_template``), then checked by
Dagster's own initialization as before; the file is the same, its creation is not waited for.

``SYNTHCAP_SQLITE_POOL=0`` keeps Dagster's engine per operation and its run database creation.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

POOL_ENV = "SYNTHCAP_SQLITE_POOL"
# runs, schedules, the event index and the run databases of the last few runs
ENGINE_CACHE_SIZE = 8
_ENGINES: OrderedDict[str, Engine] = OrderedDict()
_LOCK = threading.RLock()
_INSTALLED: list[bool] = []
_TEMPLATE: dict[str, str] = {}  # "path": an initialized, empty run database of this process
SQLITE_PREFIX = "sqlite:///"


class SqlitePoolError(RuntimeError):
    """Dagster's SQLite storage no longer has the methods ``pool_engines`` replaces."""


def _file_of(conn_string: str) -> str | None:
    """The database file of a ``sqlite:///`` URL; ``None`` for in-memory or URI forms."""
    if not conn_string.startswith(SQLITE_PREFIX) or "?" in conn_string:
        return None
    return conn_string[len(SQLITE_PREFIX) - 1 :]


def forget(conn_string: str) -> None:
    """Close and drop the cached engine of ``conn_string`` (its file is gone or re-created)."""
    with _LOCK:
        engine = _ENGINES.pop(conn_string, None)
    if engine is not None:
        engine.dispose()


def engine_for(conn_string: str, timeout: float) -> Engine:
    """The process's engine for ``conn_string``, created on first use; a cached engine whose
    database file no longer exists is replaced."""
    path = _file_of(conn_string)
    with _LOCK:
        engine = _ENGINES.get(conn_string)
        if engine is not None and path is not None and not os.path.exists(path):
            forget(conn_string)
            engine = None
        if engine is None:
            engine = create_engine(conn_string, connect_args={"timeout": timeout})
            _ENGINES[conn_string] = engine
            while len(_ENGINES) > ENGINE_CACHE_SIZE:
                _, oldest = _ENGINES.popitem(last=False)
                oldest.dispose()
        else:
            _ENGINES.move_to_end(conn_string)
        return engine


def cached_engines() -> list[str]:
    """The URLs of the engines this process keeps open (oldest first)."""
    with _LOCK:
        return list(_ENGINES)


def _template(storage: Any, timeout: float) -> str | None:
    """An empty run database initialized by Dagster's own ``_initdb`` once per process, its
    WAL folded in (the engine closed), to copy for each new run; ``None`` if that failed."""
    with _LOCK:
        if "path" not in _TEMPLATE:
            folder = tempfile.mkdtemp(prefix="synthcap-run-db-")
            atexit.register(shutil.rmtree, folder, True)
            path = os.path.join(folder, "template.db")
            engine = create_engine(
                f"{SQLITE_PREFIX}{path}", poolclass=NullPool, connect_args={"timeout": timeout}
            )
            storage._initdb(engine)
            engine.dispose()  # the last connection's close checkpoints the WAL into the file
            _TEMPLATE["path"] = "" if os.path.exists(path + "-wal") else path
        return _TEMPLATE["path"] or None


def prepare_run_template(storage: Any) -> None:
    """Make the empty run database new runs' databases are copied from now, before any run
    (a run worker waiting for its run); nothing unless ``storage`` is a SQLite event log
    storage and the cached engines are in use."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

    if isinstance(storage, SqliteEventLogStorage) and pool_engines():
        _template(storage, SQLITE_BUSY_TIMEOUT_SECONDS)


def _create_from_template(storage: Any, path: str, timeout: float) -> None:
    """Create the run database ``path`` as a copy of the template; a file another process
    created meanwhile is left as it is (link, not rename, so it is never replaced)."""
    template = _template(storage, timeout)
    if template is None or os.path.exists(path):
        return
    staging = f"{path}.{uuid.uuid4().hex}.tmp"  # not *.db: Dagster's globs never see it
    shutil.copyfile(template, staging)
    try:
        with contextlib.suppress(FileExistsError):  # another process linked it first: theirs
            os.link(staging, path)
    finally:
        os.unlink(staging)


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def pool_engines() -> bool:
    """Replace the per-operation engines of Dagster's SQLite run, schedule and event log
    storage by cached ones (see the module docstring), once per process; returns whether the
    cached engines are in use (``SYNTHCAP_SQLITE_POOL=0``: not)."""
    if os.environ.get(POOL_ENV, "1").strip() in ("0", "false", "no", "off"):
        return False
    with _LOCK:
        if _INSTALLED:
            return True
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
            INDEX_SHARD_NAME,
            SqliteEventLogStorage,
        )
        from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
        from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import (
            SqliteScheduleStorage,
        )
        from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

        storages = (SqliteRunStorage, SqliteScheduleStorage)
        missing = [c.__name__ for c in storages if not callable(getattr(c, "connect", None))]
        if not all(
            hasattr(SqliteEventLogStorage, name)
            for name in ("_connect", "_initdb", "conn_string_for_shard", "path_for_shard")
        ):
            missing.append("SqliteEventLogStorage._connect")
        if missing:
            raise SqlitePoolError(
                f"this Dagster's SQLite storage lacks {', '.join(missing)}; set {POOL_ENV}=0 "
                "to run with Dagster's own engines"
            )

        @contextmanager
        def event_log_connect(self: Any, shard: str) -> Iterator[Connection]:
            # Dagster's own _connect, with the engine kept: the same lock, the same first-use
            # initialization per shard, one transaction per checkout.
            with self._db_lock:
                conn_string = self.conn_string_for_shard(shard)
                if shard not in self._initialized_dbs:
                    forget(conn_string)  # a wiped or new shard: no connection to an old file
                    if shard != INDEX_SHARD_NAME:
                        path = self.path_for_shard(shard)
                        _create_from_template(self, path, SQLITE_BUSY_TIMEOUT_SECONDS)
                    engine = engine_for(conn_string, SQLITE_BUSY_TIMEOUT_SECONDS)
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                engine = engine_for(conn_string, SQLITE_BUSY_TIMEOUT_SECONDS)
                with _transaction(engine) as conn:
                    yield conn

        @contextmanager
        def storage_connect(self: Any) -> Iterator[Connection]:
            with _transaction(engine_for(self._conn_string, SQLITE_BUSY_TIMEOUT_SECONDS)) as conn:
                yield conn

        SqliteEventLogStorage._connect = event_log_connect
        for storage in storages:
            storage.connect = storage_connect
        _INSTALLED.append(True)
        return True
