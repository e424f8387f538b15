"""Loopback replays (pytest-httpserver, a real HTTP server on 127.0.0.1) of the Hugging Face
Hub, SEC EDGAR's archives and news feeds, serving ``fixtures/text_sources/`` with each
service's URL layout, paging, redirects, auth answers and conditional requests; plus the
catalog specs of sources that point at them."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import dagster as dg
import polars as pl
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_tests.http_fixtures import FIXTURES as HTTP_FIXTURES
from synthcap_tests.http_fixtures import UA, write_spec
from synthcap_tests.resources.capture_runs import capture as run_capture
from synthcap_tests.resources.capture_runs import failure_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "text_sources"
HUB = FIXTURES / "hub"
TREE_PAGE = 3  # entries per listing page, so the fixtures' listings span pages


@dataclass
class Repo:
    """One dataset repository at one commit."""

    info: dict[str, Any]
    tree: list[dict[str, Any]]
    files: dict[str, bytes]
    token: str | None = None  # gated: only this bearer token may read

    @property
    def sha(self) -> str:
        return self.info["sha"]


def banking77() -> Repo:
    info = json.loads((HUB / "banking77_revision.json").read_text())
    tree = json.loads((HUB / "banking77_tree.json").read_text())
    files = {
        e["path"]: (HUB / f"banking77_{e['path'].split('/')[-1]}").read_bytes()
        for e in tree
        if e["path"].endswith(".parquet")
    }
    return Repo(info, tree, files)


def dialogues(token: str) -> Repo:
    info = json.loads((HUB / "dialogues_revision.json").read_text())
    tree = json.loads((HUB / "dialogues_tree.json").read_text())
    names = {
        "flights/train.jsonl": "dialogues_flights_train.jsonl",
        "flights/test.jsonl": "dialogues_flights_test.jsonl",
        "restaurants/train.jsonl": "dialogues_restaurants_train.jsonl",
    }
    return Repo(info, tree, {p: (HUB / n).read_bytes() for p, n in names.items()}, token)


@dataclass
class HubReplay:
    """The Hub's revision, tree and resolve endpoints over ``repos`` (id -> Repo); a repo's
    revision ``main`` (and its commit) resolve to ``repos[id]``; older commits stay readable."""

    server: HTTPServer
    repos: dict[str, Repo] = field(default_factory=dict)
    history: dict[tuple[str, str], Repo] = field(default_factory=dict)

    def publish(self, repo: Repo) -> None:
        self.repos[repo.info["id"]] = repo
        self.history[(repo.info["id"], repo.sha)] = repo

    def _repo(self, request: Request, dataset: str, revision: str | None) -> Repo | Response:
        repo = self.repos.get(dataset)
        if repo is not None and revision not in (None, "main", repo.sha):
            repo = self.history.get((dataset, revision))
        if repo is None:
            return _error(404, f"Repository Not Found for url: {request.url}.", "RepoNotFound")
        if repo.token and request.headers.get("Authorization") != f"Bearer {repo.token}":
            message = (
                f"Access to dataset {dataset} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in."
            )
            return _error(401, message, "GatedRepo")
        return repo

    def handle(self, request: Request) -> Response:
        path = unquote(request.path)
        if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/revision/(.+)", path):
            repo = self._repo(request, m[1], m[2])
            return repo if isinstance(repo, Response) else _json(repo.info)
        if m := re.fullmatch(r"/api/datasets/([^/]+/[^/]+)/tree/([^/]+)", path):
            repo = self._repo(request, m[1], m[2])
            if isinstance(repo, Response):
                return repo
            start = int(request.args.get("cursor", 0))
            page = repo.tree[start : start + TREE_PAGE]
            response = _json(page)
            if start + TREE_PAGE < len(repo.tree):
                nxt = self.server.url_for(request.path) + (
                    f"?recursive=true&expand=false&cursor={start + TREE_PAGE}"
                )
                response.headers["Link"] = f'<{nxt}>; rel="next"'
            return response
        if m := re.fullmatch(r"/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            repo = self._repo(request, m[1], m[2])
            if isinstance(repo, Response):
                return repo
            if m[3] not in repo.files:
                return _error(404, f"Entry Not Found for url: {request.url}.", "EntryNotFound")
            response = Response(status=302)
            response.headers["Location"] = f"/storage/{m[1]}/{repo.sha}/{m[3]}"
            response.headers["X-Repo-Commit"] = repo.sha
            return response
        if m := re.fullmatch(r"/storage/([^/]+/[^/]+)/([^/]+)/(.+)", path):
            repo = self.history.get((m[1], m[2]))
            if repo is None or m[3] not in repo.files:
                return Response("no such object", status=404)
            return Response(repo.files[m[3]], content_type="application/octet-stream")
        return _error(404, "Not Found", "NotFound")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, message: str, code: str) -> Response:
    response = _json({"error": message}, status)
    response.headers["X-Error-Code"] = code
    return response


def serve_hub(server: HTTPServer, *repos: Repo) -> HubReplay:
    hub = HubReplay(server)
    for repo in repos or (banking77(),):
        hub.publish(repo)
    server.expect_request(re.compile(r"^/(api/datasets|datasets|storage)/")).respond_with_handler(
        hub.handle
    )
    return hub


EDGAR_FOLDER = "/Archives/edgar/data/320193/000032019324000123"


def serve_edgar_filings(server: HTTPServer) -> None:
    """Apple's submissions index and its 10-K of 2024-11-01 (header index and documents);
    any other archive path answers 404 as EDGAR does."""
    server.expect_request("/submissions/CIK0000320193.json").respond_with_data(
        (HTTP_FIXTURES / "edgar_submissions.json").read_bytes(), content_type="application/json"
    )

    def archive(request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1]
        fixture = FIXTURES / "edgar" / name
        if not request.path.startswith(EDGAR_FOLDER + "/") or not fixture.is_file():
            return Response("<html><body>Not Found</body></html>", 404, content_type="text/html")
        return Response(fixture.read_bytes(), content_type="text/html")

    server.expect_request(re.compile(r"^/Archives/edgar/data/")).respond_with_handler(archive)


@dataclass
class FeedReplay:
    """A feed whose document changes with ``day``; ETag and Last-Modified follow it, and a
    request carrying the current ETag is answered 304."""

    fixture: str
    day: int = 1
    requests: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> bytes:
        name = self.fixture.format(day=self.day)
        return (FIXTURES / "feeds" / name).read_bytes()

    def handle(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        etag = f'"feed-v{self.day}"'
        modified = dt.datetime(2024, 11, self.day, 21, 5, tzinfo=dt.UTC)
        stamp = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag, "Last-Modified": stamp})
        response = Response(self.body(), content_type="application/rss+xml; charset=utf-8")
        response.headers.update({"ETag": etag, "Last-Modified": stamp})
        return response


def serve_feed(server: HTTPServer, path: str, fixture: str) -> FeedReplay:
    replay = FeedReplay(fixture)
    server.expect_request(path).respond_with_handler(replay.handle)
    return replay


def text_spec(source_id: str, kind: str, block: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A whole catalog spec (a dict) of a text source of ``kind`` around its block."""
    return {
        "id": source_id,
        "title": f"{source_id} (loopback replay)",
        "kind": kind,
        kind: block,
        "start_date": "2024-01-01",
        "license": "CC-BY-4.0",
        "terms_url": "https://example.com/terms",
        "domain": "text",
        "text_column": "text",
        **top,
    }


def edgar_block(base: str, **extra: Any) -> dict[str, Any]:
    return {
        "cik": "320193",
        "data_base_url": base,
        "archives_base_url": base,
        "user_agent": UA,
        **extra,
    }


def capture(
    tmp_path: Path, spec: dict[str, Any], day: dt.date
) -> tuple[bool, LakehouseResource, str]:
    """Materialize ``raw_capture`` of (spec, day) with a real Dagster instance; the lake
    persists under ``tmp_path`` between calls (and the HTTP state, by the folder's conftest)."""
    write_spec(tmp_path / "sources", spec)
    with dg.instance_for_test() as instance:
        result = run_capture(instance, tmp_path / "lake", tmp_path / "sources", spec["id"], day)
    return result.success, LakehouseResource(root=str(tmp_path / "lake")), failure_text(result)


def raw(lake: LakehouseResource, source: str, day: dt.date) -> pl.DataFrame:
    return lake.read_partition(raw_table(source), {"_date": day})
