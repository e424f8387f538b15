"""What the web text connectors (``huggingface``, ``edgar_filings``, ``feed``) share: one
:class:`HttpSession` per read, built from their catalog block with the source's rate limit
(``ratelimit.py``, Redis when configured), and HTML turned into text.

HTML to text is trafilatura's (it keeps headings, paragraphs and tables as text, drops
scripts, styles and navigation). A fragment such as a feed summary is wrapped in a page
first, as trafilatura reads some bare fragments as empty. Inline XBRL filings wrap facts in
``ix:`` elements that trafilatura would drop, and carry a hidden ``ix:header`` of
machine-readable contexts, so those elements are unwrapped and the header removed first.
"""

from __future__ import annotations

import html as html_lib
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import trafilatura

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.ratelimit import acquirer
from synthcap_resources.sources.base import DateWindow, SourceReadError
from synthcap_resources.sources.http_auth import redact
from synthcap_resources.sources.http_client import HttpSession, HttpSettings, HttpStatusError
from synthcap_resources.sources.http_spec import HttpApiSpec
from synthcap_resources.sources.schema_types import catalog_types

_IX_HEADER = re.compile(r"<ix:header\b.*?</ix:header>", re.I | re.S)
_IX_TAG = re.compile(r"</?ix:[^>]*>", re.I)
_TAG = re.compile(r"<[A-Za-z!/?][^>]*>")
_DOCUMENT = re.compile(r"<(html|body)\b", re.I)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML document or fragment (plain text passes through)."""
    if not _TAG.search(markup):
        return html_lib.unescape(markup).strip()
    markup = _IX_TAG.sub("", _IX_HEADER.sub("", markup))
    if not _DOCUMENT.search(markup):  # a fragment (a feed summary): lxml parses it as a page
        markup = f"<html><body>{markup}</body></html>"
    text = trafilatura.extract(
        markup, include_tables=True, include_comments=False, favor_recall=True, deduplicate=False
    )
    if text is None:  # too little for trafilatura's extractor: every text node, no boilerplate cut
        text = trafilatura.html2txt(markup, clean=True)
    return text.strip()


class WebConnector:
    """Base of the web text connectors: settings, the catalog block of the connector's
    ``kind``, the session of one read, ``discover`` from the start date's rows."""

    kind = ""

    def __init__(
        self, settings: HttpSettings | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings or HttpSettings()
        self.sleep = sleep  # between retries; tests record the waits instead of sleeping

    def block(self, spec: SourceSpec) -> Any:
        """The spec's block of this connector's kind."""
        found = getattr(spec, self.kind, None) if self.kind else None
        if found is None:
            raise SourceReadError(f"source {spec.id!r}: a {spec.kind} source, not {self.kind}")
        return found

    def discover(self, spec: SourceSpec) -> dict[str, str]:
        """Columns and catalog types of the start date's rows (``read`` is each kind's)."""
        return catalog_types(self.read(spec, DateWindow.of_day(spec.start_date)).rows)

    def session(self, source_id: str, api: HttpApiSpec, where: str) -> HttpSession:
        acquire = acquirer(
            api.rate_limit_group or source_id,
            api.rate_limit_per_second,
            self.settings.redis_url,
            self.settings.state_dir,
        )
        return HttpSession(api, where, self.settings, acquire, self.sleep)


def fetch(
    session: HttpSession,
    url: str,
    what: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    hint: str = "",
) -> httpx.Response:
    """GET ``url`` (retried on 429/5xx); any other error status raises
    :class:`HttpStatusError` naming the source, partition, ``what`` was fetched and ``hint``.
    ``headers`` (e.g. a feed's validators) are set on the session's client for this request
    only, as ``HttpSession.get`` takes none of its own."""
    if headers:
        session.client.headers.update(headers)
    try:
        response = session.get(url, params)
    finally:
        for name in headers or {}:
            session.client.headers.pop(name, None)
    if response.status_code >= 400:
        shown = redact(response.request.url, session.api.auth)
        raise HttpStatusError(
            f"{session.where}: {what} {shown} answered HTTP {response.status_code} "
            f"{response.reason_phrase}{hint}"
        )
    return response
