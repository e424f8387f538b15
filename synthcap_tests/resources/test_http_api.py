"""The http_api connector against a real HTTP server on loopback (pytest-httpserver): every
pagination type, every auth type, retries (429 + Retry-After, 500s), timeouts, malformed
JSON, an empty page, 4xx, an unreachable host, changed shapes and the HTTP cache."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from synthcap_resources.catalog import parse_spec
from synthcap_resources.sources.base import DateWindow, EmptySourceError, SourceUnreachableError
from synthcap_resources.sources.http_api import HttpApiConnector
from synthcap_resources.sources.http_auth import SecretMissingError
from synthcap_resources.sources.http_client import (
    HttpSettings,
    HttpStatusError,
    MalformedResponseError,
    parse_retry_after,
)
from synthcap_tests.http_fixtures import UA, http_spec, write_spec
from synthcap_tests.services import free_port

DAY = dt.date(2024, 11, 1)
WINDOW = DateWindow.of_day(DAY)
ITEMS = [{"id": i, "name": f"item {i}"} for i in range(1, 8)]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def connector(tmp_path: Path, waits: list[float]) -> HttpApiConnector:
    settings = HttpSettings(cache_dir=str(tmp_path / "cache"), state_dir=str(tmp_path / "state"))
    return HttpApiConnector(settings, sleep=waits.append)


def _spec(tmp_path: Path, server: HTTPServer, **api):
    block = {"base_url": server.url_for("/").rstrip("/"), "path": "/items", **api}
    return parse_spec(write_spec(tmp_path / "sources", http_spec("items", block)))


def _ids(batch) -> list[int]:
    return batch.rows["id"].to_list()


def test_page_number_with_total_pages(tmp_path, httpserver, connector) -> None:
    def handler(request: Request) -> Response:
        page, size = int(request.args["page"]), int(request.args["per_page"])
        body = {"meta": {"pages": 3}, "data": ITEMS[(page - 1) * size : page * size]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    spec = _spec(
        tmp_path,
        httpserver,
        records_path="data",
        pagination={
            "type": "page_number",
            "param": "page",
            "size_param": "per_page",
            "page_size": 3,
            "path": "meta.pages",
        },
    )
    batch = connector.read(spec, WINDOW)
    assert _ids(batch) == list(range(1, 8))
    assert len(httpserver.log) == 3


def test_offset_stops_at_the_total(tmp_path, httpserver, connector) -> None:
    def handler(request: Request) -> Response:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        body = {"count": len(ITEMS), "results": ITEMS[offset : offset + limit]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    spec = _spec(
        tmp_path,
        httpserver,
        records_path="results",
        pagination={
            "type": "offset",
            "param": "offset",
            "size_param": "limit",
            "page_size": 2,
            "path": "count",
        },
    )
    assert _ids(connector.read(spec, WINDOW)) == list(range(1, 8))
    assert [r.args["offset"] for r, _ in httpserver.log] == ["0", "2", "4", "6"]


def test_cursor_pagination(tmp_path, httpserver, connector) -> None:
    def handler(request: Request) -> Response:
        start = int(request.args.get("after", 0))
        chunk = ITEMS[start : start + 3]
        nxt = str(start + 3) if start + 3 < len(ITEMS) else None
        return Response(json.dumps({"items": chunk, "next": nxt}), content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    spec = _spec(
        tmp_path,
        httpserver,
        records_path="items",
        pagination={"type": "cursor", "param": "after", "path": "next"},
    )
    assert _ids(connector.read(spec, WINDOW)) == list(range(1, 8))


def test_link_header_and_next_url(tmp_path, httpserver, connector) -> None:
    def linked(request: Request) -> Response:
        page = int(request.args.get("p", 1))
        headers = {"Link": f'</items?p={page + 1}>; rel="next"'} if page < 3 else {}
        body = json.dumps(ITEMS[(page - 1) * 3 : page * 3])
        return Response(body, content_type="application/json", headers=headers)

    httpserver.expect_request("/items").respond_with_handler(linked)
    spec = _spec(tmp_path, httpserver, pagination={"type": "link_header"})
    assert _ids(connector.read(spec, WINDOW)) == list(range(1, 8))

    def in_body(request: Request) -> Response:
        page = int(request.args.get("p", 1))
        body = {
            "data": ITEMS[(page - 1) * 4 : page * 4],
            "links": {"next": f"/more?p={page + 1}" if page < 2 else None},
        }
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/more").respond_with_handler(in_body)
    spec = _spec(
        tmp_path,
        httpserver,
        path="/more",
        records_path="data",
        pagination={"type": "next_url", "path": "links.next"},
    )
    assert _ids(connector.read(spec, WINDOW)) == list(range(1, 8))


def test_an_empty_page_ends_pagination_cleanly(tmp_path, httpserver, connector) -> None:
    pages = {"1": ITEMS[:3], "2": ITEMS[3:6], "3": []}
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: Response(
            json.dumps({"data": pages[r.args["page"]]}), content_type="application/json"
        )
    )
    spec = _spec(
        tmp_path,
        httpserver,
        records_path="data",
        pagination={"type": "page_number", "param": "page", "size_param": "n", "page_size": 3},
    )
    assert _ids(connector.read(spec, WINDOW)) == list(range(1, 7))
    assert len(httpserver.log) == 3


def test_window_params_user_agent_and_vars(tmp_path, httpserver, connector) -> None:
    httpserver.expect_request("/series/DGS10", headers={"User-Agent": UA}).respond_with_json(ITEMS)
    spec = _spec(
        tmp_path,
        httpserver,
        path="/series/{series}",
        vars={"series": "DGS10"},
        window_params={"from": "{start:%Y-%m-%d}", "to": "{last_day:%Y-%m-%d}", "y": "{day:%Y}"},
    )
    connector.read(spec, WINDOW)
    request = httpserver.log[0][0]
    assert dict(request.args) == {"from": "2024-11-01", "to": "2024-11-01", "y": "2024"}


def test_429_honours_retry_after(tmp_path, httpserver, connector, waits) -> None:
    httpserver.expect_oneshot_request("/items").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "3"}
    )
    httpserver.expect_oneshot_request("/items").respond_with_data(
        "busy", status=503, headers={"Retry-After": "Fri, 01 Nov 2024 00:00:00 GMT"}
    )
    httpserver.expect_request("/items").respond_with_json(ITEMS)
    batch = connector.read(_spec(tmp_path, httpserver, backoff_seconds=0.5), WINDOW)
    assert _ids(batch) == list(range(1, 8))
    # 3 s from the 429's header; a past HTTP date means "now" (0 s), not the backoff.
    assert waits == [3.0, 0.0]


def test_retry_after_parsing() -> None:
    now = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Fri, 01 Nov 2024 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_500s_are_retried_with_exponential_backoff(tmp_path, httpserver, connector, waits) -> None:
    for _ in range(3):
        httpserver.expect_oneshot_request("/items").respond_with_data("oops", status=500)
    httpserver.expect_request("/items").respond_with_json(ITEMS)
    batch = connector.read(_spec(tmp_path, httpserver, backoff_seconds=0.25), WINDOW)
    assert batch.rows.height == 7
    assert waits == [0.25, 0.5, 1.0]


def test_persistent_503_gives_up_naming_source_and_partition(tmp_path, httpserver, connector):
    httpserver.expect_request("/items").respond_with_data("down", status=503)
    spec = _spec(tmp_path, httpserver, max_retries=2, backoff_seconds=0.01)
    with pytest.raises(
        SourceUnreachableError, match=r"source 'items', partition 2024-11-01: .*HTTP 503 3 time"
    ):
        connector.read(spec, WINDOW)
    assert len(httpserver.log) == 3


def test_timeouts_are_retried_then_fail_clearly(tmp_path, httpserver, connector) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(slow)
    spec = _spec(tmp_path, httpserver, timeout_seconds=0.2, max_retries=1, backoff_seconds=0)
    with pytest.raises(
        SourceUnreachableError, match=r"partition 2024-11-01: .* timed out after 0.2s \(2 attempt"
    ):
        connector.read(spec, WINDOW)


def test_malformed_json_fails_clearly(tmp_path, httpserver, connector) -> None:
    httpserver.expect_request("/items").respond_with_data(
        '{"data": [1, 2', content_type="application/json"
    )
    with pytest.raises(
        MalformedResponseError, match=r"source 'items', partition 2024-11-01: .* malformed JSON"
    ):
        connector.read(_spec(tmp_path, httpserver), WINDOW)


def test_client_errors_fail_at_once(tmp_path, httpserver, connector, waits) -> None:
    httpserver.expect_request("/items").respond_with_data("nope", status=404)
    with pytest.raises(
        HttpStatusError, match=r"partition 2024-11-01: .*/items answered HTTP 404 NOT FOUND"
    ):
        connector.read(_spec(tmp_path, httpserver), WINDOW)
    assert waits == [] and len(httpserver.log) == 1


def test_unreachable_host(tmp_path, connector) -> None:
    block = {
        "base_url": f"http://127.0.0.1:{free_port()}",
        "path": "/x",
        "max_retries": 1,
        "backoff_seconds": 0,
    }
    spec = parse_spec(write_spec(tmp_path / "sources", http_spec("gone", block)))
    with pytest.raises(
        SourceUnreachableError, match=r"source 'gone', partition 2024-11-01: cannot reach"
    ):
        connector.read(spec, WINDOW)


def test_changed_shape_and_bad_records(tmp_path, httpserver, connector) -> None:
    httpserver.expect_request("/items").respond_with_json({"results": ITEMS})
    with pytest.raises(
        MalformedResponseError, match=r"no 'data' in the response \(an object with keys results\)"
    ):
        connector.read(_spec(tmp_path, httpserver, records_path="data"), WINDOW)
    httpserver.expect_request("/mixed").respond_with_json([ITEMS[0], [1, 2], "x", ITEMS[1]])
    batch = connector.read(_spec(tmp_path, httpserver, path="/mixed"), WINDOW)
    assert _ids(batch) == [1, 2]
    assert batch.rejected["_row"].to_list() == [2, 3]
    assert batch.rejected["_reason"][0] == "record 2 is a list, not an object"


def test_window_field_keeps_the_window_and_empty_window_is_an_error(
    tmp_path, httpserver, connector
):
    rows = [
        {"id": 1, "filed": "2024-11-01"},
        {"id": 2, "filed": "2024-10-31"},
        {"id": 3, "filed": "2024-11-01T18:00:00"},
    ]
    httpserver.expect_request("/items").respond_with_json(rows)
    spec = _spec(tmp_path, httpserver, window_field="filed")
    assert _ids(connector.read(spec, WINDOW)) == [1, 3]
    with pytest.raises(
        EmptySourceError, match="partition 2024-10-30: .* no records for the window"
    ):
        connector.read(spec, DateWindow.of_day(dt.date(2024, 10, 30)))


AUTH_CASES = {
    "api_key_header": (
        {"name": "X-Api-Key", "env": {"key": "T_KEY"}},
        {"T_KEY": "k-123"},
        lambda r: r.headers.get("X-Api-Key") == "k-123",
    ),
    "api_key_query": (
        {"name": "api_key", "env": {"key": "T_KEY"}},
        {"T_KEY": "k-123"},
        lambda r: r.args.get("api_key") == "k-123",
    ),
    "bearer": (
        {"env": {"token": "T_TOKEN"}},
        {"T_TOKEN": "tok"},
        lambda r: r.headers.get("Authorization") == "Bearer tok",
    ),
    "basic": (
        {"env": {"username": "T_USER", "password": "T_PASS"}},
        {"T_USER": "u", "T_PASS": "p"},
        lambda r: r.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:p").decode(),
    ),
}


@pytest.mark.parametrize("kind", sorted(AUTH_CASES))
def test_auth_types(kind, tmp_path, httpserver, connector, monkeypatch) -> None:
    block, env, accepts = AUTH_CASES[kind]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    httpserver.expect_request("/items").respond_with_handler(
        lambda r: Response(json.dumps(ITEMS), status=200 if accepts(r) else 401)
    )
    spec = _spec(tmp_path, httpserver, auth={"type": kind, **block})
    assert connector.read(spec, WINDOW).rows.height == 7
    for name in env:
        monkeypatch.delenv(name)
    with pytest.raises(SecretMissingError, match=r"environment variable 'T_\w+' .* is not set"):
        connector.read(spec, WINDOW)


def test_oauth2_client_credentials(tmp_path, httpserver, connector, monkeypatch) -> None:
    monkeypatch.setenv("T_CLIENT_ID", "cid")
    monkeypatch.setenv("T_CLIENT_SECRET", "csecret")
    basic = "Basic " + base64.b64encode(b"cid:csecret").decode()
    httpserver.expect_request(
        "/token",
        method="POST",
        headers={"Authorization": basic},
        data="grant_type=client_credentials",
    ).respond_with_json({"access_token": "AT-1", "token_type": "Bearer", "expires_in": 3600})
    httpserver.expect_request("/items", headers={"Authorization": "Bearer AT-1"}).respond_with_json(
        ITEMS
    )
    auth = {
        "type": "oauth2_client",
        "token_url": httpserver.url_for("/token"),
        "env": {"client_id": "T_CLIENT_ID", "client_secret": "T_CLIENT_SECRET"},
    }
    assert connector.read(_spec(tmp_path, httpserver, auth=auth), WINDOW).rows.height == 7


def test_api_key_never_appears_in_errors(tmp_path, httpserver, connector, monkeypatch) -> None:
    monkeypatch.setenv("T_KEY", "super-secret-value")
    httpserver.expect_request("/items").respond_with_data("forbidden", status=403)
    spec = _spec(
        tmp_path,
        httpserver,
        auth={"type": "api_key_query", "name": "api_key", "env": {"key": "T_KEY"}},
    )
    with pytest.raises(HttpStatusError) as error:
        connector.read(spec, WINDOW)
    assert "super-secret-value" not in str(error.value)
    assert "api_key=%2A%2A%2A" in str(error.value) and "T_KEY" in str(error.value)


def test_cache_reuses_what_the_server_allows(tmp_path, httpserver, connector) -> None:
    httpserver.expect_request("/items").respond_with_json(
        ITEMS, headers={"Cache-Control": "max-age=600"}
    )
    httpserver.expect_request("/fresh").respond_with_json(
        ITEMS, headers={"Cache-Control": "no-store"}
    )
    cached, uncached = _spec(tmp_path, httpserver), _spec(tmp_path, httpserver, path="/fresh")
    for _ in range(2):
        assert connector.read(cached, WINDOW).rows.height == 7
        assert connector.read(uncached, WINDOW).rows.height == 7
    paths = [r.path for r, _ in httpserver.log]
    assert paths.count("/items") == 1 and paths.count("/fresh") == 2


def test_check_and_discover(tmp_path, httpserver, connector) -> None:
    httpserver.expect_request("/items").respond_with_json(ITEMS)
    spec = _spec(tmp_path, httpserver)
    connector.check(spec)
    assert connector.discover(spec) == {"id": "int", "name": "str"}
    block = {"base_url": f"http://127.0.0.1:{free_port()}", "max_retries": 0}
    gone = parse_spec(write_spec(tmp_path / "sources", http_spec("gone", block)))
    with pytest.raises(SourceUnreachableError, match=r"source 'gone': cannot reach"):
        connector.check(gone)
