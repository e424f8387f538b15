"""Loopback replays of SEC EDGAR, FRED and World Bank (pytest-httpserver, a real HTTP server
on 127.0.0.1), serving the reconstructed shapes in ``fixtures/http/`` with the APIs' own
pagination, plus helpers to write http_api catalog specs that point at the server."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "http"
UA = "synthcap-tests/0.1 (data-team@example.com)"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def serve_robots(server: HTTPServer, text: str | None = None) -> None:
    """``/robots.txt``: ``text`` or, when None, 404 (RFC 9309: no restrictions)."""
    if text is None:
        server.expect_request("/robots.txt").respond_with_data("not found", status=404)
    else:
        server.expect_request("/robots.txt").respond_with_data(text, content_type="text/plain")


def serve_edgar(server: HTTPServer, cik: str = "0000320193") -> None:
    server.expect_request(f"/api/xbrl/companyfacts/CIK{cik}.json").respond_with_json(
        fixture("edgar_companyfacts.json")
    )
    server.expect_request(f"/submissions/CIK{cik}.json").respond_with_json(
        fixture("edgar_submissions.json")
    )


def _fred(request: Request) -> Response:
    body = fixture("fred_observations.json")
    if request.args.get("api_key") != "test-fred-key":
        message = "Bad Request.  The value for variable api_key is not registered."
        error = {"error_code": 400, "error_message": message}
        return Response(json.dumps(error), status=400, content_type="application/json")
    start, end = request.args["observation_start"], request.args["observation_end"]
    observations = [o for o in body["observations"] if start <= o["date"] <= end]
    offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100000))
    body.update(
        observation_start=start,
        observation_end=end,
        count=len(observations),
        offset=offset,
        limit=limit,
        observations=observations[offset : offset + limit],
    )
    return Response(json.dumps(body), content_type="application/json")


def serve_fred(server: HTTPServer) -> None:
    server.expect_request("/fred/series/observations").respond_with_handler(_fred)


def _worldbank(request: Request) -> Response:
    meta, records = fixture("worldbank_indicator.json")
    records = [r for r in records if r["date"] == request.args.get("date", r["date"])]
    page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 50))
    pages = math.ceil(len(records) / per_page)
    meta.update(page=page, pages=pages, per_page=per_page, total=len(records))
    chunk = records[(page - 1) * per_page : page * per_page]
    return Response(json.dumps([meta, chunk or None]), content_type="application/json")


def serve_worldbank(server: HTTPServer) -> None:
    server.expect_request("/country/all/indicator/NY.GDP.MKTP.CD").respond_with_handler(_worldbank)


def http_spec(source_id: str, http_api: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A whole http_api catalog spec (a dict) around the ``http_api`` block."""
    return {
        "id": source_id,
        "title": f"{source_id} (loopback replay)",
        "kind": "http_api",
        "http_api": {"user_agent": UA, **http_api},
        "start_date": "2024-01-01",
        "license": "LicenseRef-PublicDomain",
        "terms_url": "https://www.sec.gov/privacy#security",
        "domain": "financial",
        **top,
    }


def write_spec(folder: Path, spec: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec['id']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
