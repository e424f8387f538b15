"""The service guard: an absent service skips a test, or fails it when ``CI`` is set."""

from __future__ import annotations

import socket

import pytest

from synthcap_tests.services import free_port, require_service, service_reachable


def test_absent_service_skips_locally_and_fails_under_ci(monkeypatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=rf"Nothing not reachable at 127.0.0.1:{port}"):
        require_service("127.0.0.1", port, "Nothing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set, so the real service is required"):
        require_service("127.0.0.1", port, "Nothing")


def test_present_service_passes(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert service_reachable("127.0.0.1", port)
        require_service("127.0.0.1", port, "listener")  # returns: no skip, no failure
