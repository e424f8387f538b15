"""A webhook receiver on loopback: a real ``http.server`` in a thread that records each POST."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebhookReceiver:
    """``calls``: (path, JSON body, Idempotency-Key header) per POST; answers ``status``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: list[tuple[str, dict[str, Any], str | None]] = []
        self.status = 200
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/synthcap?token=secret"

    def bodies(self) -> list[dict[str, Any]]:
        return [body for _, body, _ in self.calls]

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status < 400:
                    key = self.headers.get("Idempotency-Key")
                    receiver.calls.append((self.path, json.loads(body), key))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
