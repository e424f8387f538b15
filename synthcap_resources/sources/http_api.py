"""The ``http_api`` connector: a declarative REST source read one date window at a time.

The catalog block (``http_spec.py``, presets for SEC EDGAR, FRED and World Bank) says where
to call, how to page, how to authenticate and where the records are; this module walks the
pages through an :class:`HttpSession` (rate limit, retries, cache, User-Agent) and turns the
records into rows.

dlt's ``rest_api`` source covers similar ground, but it owns its own pipeline state,
schema evolution and destinations; here a read must return one window's rows to
``raw_capture`` (which conforms, quarantines and commits them), with the lake-wide Redis
rate limit and secrets read by name. The same features are therefore covered directly, in
small modules: pagination, auth, records, session.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.ratelimit import acquirer
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
    SourceReadError,
)
from synthcap_resources.sources.http_client import (
    HttpSession,
    HttpSettings,
    MalformedResponseError,
)
from synthcap_resources.sources.http_pagination import (
    PageRequest,
    first_request,
    next_request,
)
from synthcap_resources.sources.http_records import (
    RecordsShapeError,
    extract_records,
    records_to_frames,
)
from synthcap_resources.sources.http_spec import HttpApiSpec
from synthcap_resources.sources.schema_types import catalog_types


def endpoint(api: HttpApiSpec) -> str:
    """The endpoint URL with ``vars`` filled into the path (no query string)."""
    return api.base_url.rstrip("/") + "/" + api.path.format(**api.vars).lstrip("/")


def window_values(window: DateWindow) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "last_day": window.end - dt.timedelta(days=1),
        "day": window.day,
    }


def request_params(api: HttpApiSpec, window: DateWindow) -> dict[str, str]:
    """The query parameters of the first page: the spec's, then the window's."""
    params = {k: v.format(**api.vars) for k, v in api.params.items()}
    values = window_values(window)
    params.update({k: v.format(**values) for k, v in api.window_params.items()})
    return params


def limit_group(spec: SourceSpec) -> str:
    return spec.http_api.rate_limit_group or spec.id


class HttpApiConnector:
    """Reads ``http_api`` sources; one :class:`HttpSession` per read."""

    def __init__(
        self, settings: HttpSettings | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings or HttpSettings()
        self.sleep = sleep  # between retries; tests record the waits instead of sleeping

    def session(self, spec: SourceSpec, where: str) -> HttpSession:
        api = spec.http_api
        acquire = acquirer(
            limit_group(spec),
            api.rate_limit_per_second,
            self.settings.redis_url,
            self.settings.state_dir,
        )
        return HttpSession(api, where, self.settings, acquire, self.sleep)

    def check(self, spec: SourceSpec) -> None:
        """One request to the endpoint; raises :class:`SourceUnreachableError` when the host
        cannot be reached or keeps failing (an error status is a reachable host)."""
        with self.session(spec, f"source {spec.id!r}") as session:
            session.get(endpoint(spec.http_api), {})

    def discover(self, spec: SourceSpec) -> dict[str, str]:
        """Columns and catalog types of the start date's records."""
        return catalog_types(self.read(spec, DateWindow.of_day(spec.start_date)).rows)

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        """Every page of the window; records outside a ``window_field`` window are skipped,
        records that are not objects come back as rejected rows."""
        api, where = spec.http_api, window.where(spec.id)
        request: PageRequest | None = first_request(
            api.pagination, endpoint(api), request_params(api, window)
        )
        records: list[Any] = []
        pages = 0
        with self.session(spec, where) as session:
            while request is not None:
                pages += 1
                if pages > api.pagination.max_pages:
                    raise SourceReadError(
                        f"{where}: more than {api.pagination.max_pages} pages "
                        f"(pagination.max_pages); refusing a partial capture"
                    )
                body, response = session.get_json(request.url, request.params)
                try:
                    page = extract_records(body, api.records_path, api.records_format)
                except RecordsShapeError as exc:
                    raise MalformedResponseError(
                        f"{where}: page {pages} of {endpoint(api)}: {exc}"
                    ) from exc
                records.extend(page)
                request = next_request(
                    api.pagination, request, body, len(page), _next_link(response)
                )
        bounds = (window.start.date(), window.end.date()) if api.window_field else None
        rows, rejected = records_to_frames(records, api.window_field, bounds, api.null_values)
        if rows.height == 0 and rejected is None:
            raise EmptySourceError(
                f"{where}: {endpoint(api)} returned no records for the window ({pages} page(s))"
            )
        return CaptureBatch(
            rows=rows if rows.width else pl.DataFrame(),
            origins=[endpoint(api)],
            rejected=rejected,
        )


def _next_link(response: httpx.Response) -> str | None:
    link = response.links.get("next")
    return link.get("url") if link else None
