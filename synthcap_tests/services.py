"""Real services for tests: skip with a clear reason when absent, fail when ``CI`` is set.

Tests that need Redis, PostgreSQL, MariaDB, NATS, MQTT, ... call
``require_service(host, port, name)`` first. On a developer machine without the service the
test is skipped, naming the service and address; under ``CI`` (env var set to anything
non-empty) the same absence is a failure, because CI must exercise the real thing.
"""

from __future__ import annotations

import os
import socket

import pytest


def service_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(host: str, port: int, name: str) -> None:
    """Skip the calling test when ``name`` at ``host:port`` is down; fail instead under CI."""
    if service_reachable(host, port):
        return
    reason = f"{name} not reachable at {host}:{port}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the real service is required)")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago (for local fake servers)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
