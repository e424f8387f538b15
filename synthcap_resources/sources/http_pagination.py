"""Pagination of ``http_api`` sources: from one page's answer, the next request or the end.

Pure logic (no I/O). Every type stops on an empty page, so an API that answers an extra
empty page ends the read cleanly instead of failing it:

- ``page_number``: ``param`` counts pages from ``start``; stops at the total page count
  found at ``path`` (World Bank: ``0.pages``) or on a short page.
- ``offset``: ``param`` advances by the records received; stops at the total at ``path``
  (FRED: ``count``) or on a short page.
- ``cursor``: the next cursor sits at ``path`` in the body; stops when it is absent.
- ``link_header``: follows ``Link: <...>; rel="next"`` (RFC 8288).
- ``next_url``: the next URL sits at ``path`` in the body (absolute or relative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from synthcap_resources.sources.http_records import dig
from synthcap_resources.sources.http_spec import HttpPaginationSpec


@dataclass(frozen=True)
class PageRequest:
    url: str
    params: dict[str, str] = field(default_factory=dict)


def first_request(pagination: HttpPaginationSpec, url: str, params: dict[str, str]) -> PageRequest:
    """The first page's request: the base parameters plus page size and first page/offset."""
    params = dict(params)
    if pagination.size_param and pagination.page_size:
        params[pagination.size_param] = str(pagination.page_size)
    if pagination.type == "page_number":
        params[pagination.param] = str(pagination.start)
    elif pagination.type == "offset":
        params[pagination.param] = "0"
    return PageRequest(url, params)


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _short(pagination: HttpPaginationSpec, count: int) -> bool:
    return bool(pagination.page_size) and count < pagination.page_size


def next_request(
    pagination: HttpPaginationSpec,
    request: PageRequest,
    body: Any,
    count: int,
    next_link: str | None = None,
) -> PageRequest | None:
    """The request of the page after ``request`` (which returned ``count`` records), or
    ``None`` when that was the last page."""
    kind = pagination.type
    if kind == "none" or count == 0:
        return None
    if kind == "page_number":
        page = int(request.params[pagination.param])
        total = _as_int(dig(body, pagination.path)) if pagination.path else None
        if (total is not None and page >= total) or (total is None and _short(pagination, count)):
            return None
        return PageRequest(request.url, {**request.params, pagination.param: str(page + 1)})
    if kind == "offset":
        offset = int(request.params[pagination.param]) + count
        total = _as_int(dig(body, pagination.path)) if pagination.path else None
        if (total is not None and offset >= total) or (total is None and _short(pagination, count)):
            return None
        return PageRequest(request.url, {**request.params, pagination.param: str(offset)})
    if kind == "cursor":
        cursor = dig(body, pagination.path)
        if cursor in (None, ""):
            return None
        return PageRequest(request.url, {**request.params, pagination.param: str(cursor)})
    if kind == "link_header":
        return PageRequest(urljoin(request.url, next_link), {}) if next_link else None
    target = dig(body, pagination.path)  # next_url
    if not target:
        return None
    return PageRequest(urljoin(request.url, str(target)), {})
