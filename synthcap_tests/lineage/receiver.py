"""A Marquez-like lineage receiver on loopback: a real ``http.server`` in a thread.

``POST /api/v1/lineage`` appends the JSON body to ``events`` (and the Authorization header to
``auth``) and answers 201, or ``status`` when a test sets it. One request at a time, so the list
is in arrival order.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

ENDPOINT = "/api/v1/lineage"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LineageReceiver:
    """Start, stop and restart on one port; what arrived stays across restarts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.events: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.status = 201
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LineageReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != ENDPOINT:
                    self.send_response(404)
                elif receiver.status >= 400:
                    self.send_response(receiver.status)
                else:
                    receiver.events.append(json.loads(body))
                    receiver.auth.append(self.headers.get("Authorization"))
                    self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
