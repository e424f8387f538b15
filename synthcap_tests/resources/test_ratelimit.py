"""Rate limits shared across processes: 4 worker processes read one paginated source limited
to 10 requests/s, through the real connector, against a loopback HTTP server that records
when each request arrives; no 1-second window may hold more than 10 of them. Runs with the
real Redis on this machine (shared limiter) and with the local SQLite fallback."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import multiprocessing as mp
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from synthcap_resources.ratelimit import rate_for
from synthcap_tests.http_fixtures import http_spec, write_spec
from synthcap_tests.services import require_service

WORKERS, PAGES, LIMIT = 4, 8, 10
REDIS_URL = "redis://127.0.0.1:6379/0"


class _Recorder(BaseHTTPRequestHandler):
    arrivals: list[float] = []
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        with self.lock:
            self.arrivals.append(time.monotonic())
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        body = json.dumps({"pages": PAGES, "data": [{"page": page}]}).encode()
        self.send_response(404 if self.path.startswith("/robots.txt") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def _worker(spec_path: str, redis_url: str | None, state_dir: str, barrier, results) -> None:
    from synthcap_resources.catalog import parse_spec
    from synthcap_resources.sources.base import DateWindow
    from synthcap_resources.sources.http_api import HttpApiConnector
    from synthcap_resources.sources.http_client import HttpSettings

    spec = parse_spec(Path(spec_path))
    connector = HttpApiConnector(HttpSettings(redis_url=redis_url, state_dir=state_dir))
    barrier.wait(timeout=120)  # every process imported and ready: start together
    try:
        batch = connector.read(spec, DateWindow.of_day(dt.date(2024, 11, 1)))
    except Exception:  # report the worker's failure to the test, whatever it is
        results.put(traceback.format_exc())
        raise
    results.put(batch.rows.height)


def _max_in_any_second(arrivals: list[float]) -> int:
    times = sorted(arrivals)
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


@pytest.mark.parametrize("backend", ["redis", "local"])
def test_four_processes_never_exceed_ten_per_second(backend: str, tmp_path: Path) -> None:
    redis_url = None
    if backend == "redis":
        require_service("127.0.0.1", 6379, "Redis")
        redis_url = REDIS_URL
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.arrivals = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        block = {
            "base_url": f"http://127.0.0.1:{server.server_address[1]}",
            "path": "/pages",
            "records_path": "data",
            "pagination": {"type": "page_number", "param": "page", "path": "pages"},
            "rate_limit_per_second": LIMIT,
            "rate_limit_group": f"test-{uuid.uuid4().hex[:8]}",
            "cache": False,
        }
        spec_path = write_spec(tmp_path / "sources", http_spec("limited", block))
        ctx = mp.get_context("spawn")
        barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
        args = (str(spec_path), redis_url, str(tmp_path / "state"), barrier, results)
        workers = [ctx.Process(target=_worker, args=args) for _ in range(WORKERS)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=180) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert outcomes == [PAGES] * WORKERS, outcomes
        assert [w.exitcode for w in workers] == [0] * WORKERS
    finally:
        server.shutdown()
    assert len(_Recorder.arrivals) == WORKERS * PAGES
    spread = max(_Recorder.arrivals) - min(_Recorder.arrivals)
    busiest = _max_in_any_second(_Recorder.arrivals)
    assert busiest <= LIMIT, f"{busiest} requests in one second ({spread:.2f}s in all)"


def test_rate_conversion_keeps_a_margin() -> None:
    ten = rate_for(10)
    assert ten.limit == 10 and ten.window > 1.0
    half = rate_for(0.5)
    assert half.limit == 1 and half.window >= 2.0
    assert _max_in_any_second([0.0, 0.5, 0.99, 1.0, 1.2]) == 4  # [0.5, 1.5) holds 4
