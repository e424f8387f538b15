"""Per-source request rate limits, shared by every worker process.

A sliding-window log per limit group (a source, or a group such as all of sec.gov): a
request is admitted when fewer than ``n`` requests were admitted in the last window. With a
Redis URL (``SYNTHCAP_REDIS_URL``) the log is a Redis sorted set, so every process on every
host draws from one budget; without Redis it is a SQLite file in the local state folder, so
the processes of one host still share it.

Why our own and not pyrate-limiter's ``RedisBucket``: that bucket stamps each request with the
*client's* clock before the call and counts the log only up to the caller's own stamp, so
when two workers' calls reach Redis out of order the later-stamped one is not counted by the
earlier one; our 4-process test saw 11 admissions in one second against a limit of 10.
Here the check-and-insert is one Lua script that reads Redis's own clock (``TIME``) and counts
every entry younger than the window, so admissions are ordered by one clock, atomically. The
SQLite fallback does the same inside one ``BEGIN IMMEDIATE`` transaction (the host's clock,
read after the write lock is held).

Margin: a request reaches the server a little after it is admitted (scheduling, connection
set-up, network); two requests admitted just over a window apart can arrive just under one.
The window is therefore ``LIMIT_MARGIN`` (20 %, i.e. 200 ms of jitter absorbed per second)
longer than the declared rate implies, so the server never sees more than ``n`` in any
second. Sources such as SEC EDGAR block a client for minutes when it exceeds the limit:
throughput is the cheaper loss.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LIMIT_MARGIN = 1.2
MAX_WAIT_SECONDS = 600.0
log = logging.getLogger(__name__)

# KEYS[1]: the log; ARGV: limit, window (µs), member. Returns {1, 0} when admitted, else
# {0, µs until the oldest entry leaves the window}.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""


class RateLimitError(RuntimeError):
    """A request could not get a slot under its source's rate limit in time."""


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: float


def rate_for(per_second: float) -> Rate:
    """The window admitting ``per_second`` requests per second, with the margin."""
    limit = max(1, math.floor(per_second))
    return Rate(limit, limit / per_second * LIMIT_MARGIN)


class Window(Protocol):
    def try_admit(self) -> float | None:
        """``None`` when admitted, else the seconds to wait before trying again."""


class RedisWindow:
    def __init__(self, url: str, key: str, rate: Rate) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.client.ping()
        self.script = self.client.register_script(_ADMIT)
        self.key, self.rate = key, rate

    def try_admit(self) -> float | None:
        window_us = int(self.rate.window * 1_000_000)
        admitted, wait_us = self.script(
            keys=[self.key], args=[self.rate.limit, window_us, uuid.uuid4().hex]
        )
        return None if int(admitted) else max(int(wait_us), 0) / 1_000_000


class SqliteWindow:
    def __init__(self, path: Path, group: str, rate: Rate) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(
            path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS admitted (grp TEXT NOT NULL, at REAL NOT NULL)"
        )
        self.group, self.rate, self.lock = group, rate, threading.Lock()

    def try_admit(self) -> float | None:
        with self.lock:
            cursor = self.connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                start = now - self.rate.window
                cursor.execute(
                    "DELETE FROM admitted WHERE grp = ? AND at <= ?", (self.group, start)
                )
                count, oldest = cursor.execute(
                    "SELECT count(*), min(at) FROM admitted WHERE grp = ?", (self.group,)
                ).fetchone()
                if count < self.rate.limit:
                    cursor.execute("INSERT INTO admitted VALUES (?, ?)", (self.group, now))
                    return None
                return max(oldest + self.rate.window - now, 0.0)
            finally:
                cursor.execute("COMMIT")


_windows: dict[tuple[str, float, str | None, str], Window] = {}
_windows_lock = threading.Lock()


def window_for(group: str, per_second: float, redis_url: str | None, state_dir: str) -> Window:
    """The shared window of ``group`` (one per process), in Redis when configured.

    A configured Redis that cannot be reached falls back to the local window with a
    warning: the host's processes stay within the limit, other hosts are not counted.
    """
    key = (group, per_second, redis_url, state_dir)
    with _windows_lock:
        if key not in _windows:
            rate = rate_for(per_second)
            window: Window | None = None
            if redis_url:
                try:
                    window = RedisWindow(redis_url, f"synthcap:ratelimit:{group}", rate)
                except Exception as exc:  # redis: ConnectionError, TimeoutError, AuthError...
                    log.warning(
                        "rate limit %s: Redis unreachable (%s); using the local limiter",
                        group,
                        type(exc).__name__,
                    )
            if window is None:
                window = SqliteWindow(Path(state_dir) / "ratelimit.sqlite", group, rate)
            _windows[key] = window
        return _windows[key]


def acquirer(
    group: str, per_second: float | None, redis_url: str | None, state_dir: str
) -> Callable[[], None]:
    """A function that blocks until one more request of ``group`` may go out (no-op when
    the source declares no limit)."""
    if per_second is None:
        return lambda: None
    window = window_for(group, per_second, redis_url, state_dir)

    def acquire() -> None:
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        while (wait := window.try_admit()) is not None:
            if time.monotonic() + wait > deadline:
                raise RateLimitError(
                    f"rate limit {group} ({per_second}/s): no slot within {MAX_WAIT_SECONDS}s"
                )
            time.sleep(wait + 0.001)

    return acquire
