"""The ``feed`` connector: an RSS or Atom feed read with feedparser, one row per entry.

- Each entry id (``id``/``guid``, else the link, else a hash of title and date) is captured
  once: the cursor maps every id to the day it was captured, so a later day keeps only
  entries no other day holds, and a re-run of a day captures that day's entries again into
  its partition (which is replaced, never doubled). Ids are forgotten ``remember_days``
  after their capture unless the feed still lists them.
- Requests are conditional: the ``ETag`` and ``Last-Modified`` of the last capture go out as
  ``If-None-Match`` / ``If-Modified-Since`` when a later day is read; ``304 Not Modified``
  means nothing new (:class:`EmptySourceError`). A re-run of a day asks unconditionally.
- Summaries and contents (HTML, sanitized by feedparser) become text (``web_fetch``); the
  ``text`` column holds the content, else the summary, else the title.

A day's partition therefore holds the entries first seen when that day was captured, which
for a daily schedule are the entries published since the day before.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from typing import Any

import feedparser
import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
)
from synthcap_resources.sources.http_client import HttpSession, MalformedResponseError
from synthcap_resources.sources.web_fetch import WebConnector, fetch, html_to_text
from synthcap_resources.sources.web_spec import FeedSpec

FEED_SCHEMA = {
    "entry_id": pl.Utf8,
    "title": pl.Utf8,
    "link": pl.Utf8,
    "author": pl.Utf8,
    "published": pl.Datetime("us", "UTC"),
    "updated": pl.Datetime("us", "UTC"),
    "summary": pl.Utf8,
    "content": pl.Utf8,
    "text": pl.Utf8,
    "tags": pl.Utf8,
    "feed_title": pl.Utf8,
    "feed_url": pl.Utf8,
}


def _when(entry: Any, key: str) -> dt.datetime | None:
    # dict.get: FeedParserDict.get answers a missing updated_parsed with published_parsed.
    parsed = dict.get(entry, f"{key}_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)


def entry_id(entry: Any) -> str:
    """The entry's id, else its link, else a hash of its title and date."""
    found = entry.get("id") or entry.get("link")
    if found:
        return str(found)
    basis = f"{entry.get('title', '')}|{entry.get('published', entry.get('updated', ''))}"
    return "sha1:" + hashlib.sha1(basis.encode("utf-8")).hexdigest()


def entry_row(entry: Any, feed: Any, url: str) -> dict[str, Any]:
    """One row of ``FEED_SCHEMA`` for a feedparser entry."""
    summary = html_to_text(entry.get("summary", "") or "")
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    content = "\n\n".join(t for t in (html_to_text(c) for c in contents) if t)
    title = html_to_text(entry.get("title", "") or "")
    return {
        "entry_id": entry_id(entry),
        "title": title or None,
        "link": entry.get("link"),
        "author": entry.get("author"),
        "published": _when(entry, "published"),
        "updated": _when(entry, "updated"),
        "summary": summary or None,
        "content": content or None,
        "text": content or summary or title or None,
        "tags": ", ".join(t.get("term", "") for t in entry.get("tags", []) or []) or None,
        "feed_title": feed.get("title"),
        "feed_url": url,
    }


def parse_feed(body: bytes, content_type: str | None, url: str, where: str) -> list[dict]:
    """The rows of a feed document; a document feedparser cannot read as a feed fails."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers)
    if parsed.bozo and not parsed.entries:
        raise MalformedResponseError(
            f"{where}: {url} is not an RSS or Atom feed: {parsed.get('bozo_exception')}"
        )
    if not parsed.get("version") and not parsed.entries:
        raise MalformedResponseError(f"{where}: {url} is not an RSS or Atom feed")
    return [entry_row(e, parsed.feed, url) for e in parsed.entries]


class FeedConnector(WebConnector):
    """Reads ``feed`` sources; one request per read."""

    kind = "feed"

    def _session(self, spec: SourceSpec, where: str) -> HttpSession:
        feed: FeedSpec = self.block(spec)
        return self.session(spec.id, feed.http_api(feed.url, cache=False), where)

    def check(self, spec: SourceSpec) -> None:
        feed: FeedSpec = self.block(spec)
        with self._session(spec, f"source {spec.id!r}") as session:
            fetch(session, feed.url, "feed")

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        """The entries no other day captured; conditional when a later day is read."""
        feed: FeedSpec = self.block(spec)
        where = window.where(spec.id)
        day = window.day.isoformat()
        cursor = cursor or {}
        seen: dict[str, str] = dict(cursor.get("seen", {}))
        headers = {}
        last_day = cursor.get("day")
        if last_day and last_day < day:
            if cursor.get("etag"):
                headers["If-None-Match"] = cursor["etag"]
            if cursor.get("last_modified"):
                headers["If-Modified-Since"] = cursor["last_modified"]
        with self._session(spec, where) as session:
            response = fetch(session, feed.url, "feed", headers=headers)
        if response.status_code == 304:
            raise EmptySourceError(
                f"{where}: {feed.url} not modified since the capture of {last_day} "
                "(HTTP 304): no new entries"
            )
        rows = parse_feed(response.content, response.headers.get("content-type"), feed.url, where)
        listed = {r["entry_id"] for r in rows}
        fresh, kept = [], set()
        for row in rows:
            key = row["entry_id"]
            if seen.get(key, day) == day and key not in kept:
                fresh.append(row)
                kept.add(key)
        if not fresh:
            raise EmptySourceError(
                f"{where}: {feed.url} lists {len(rows)} entries, none new "
                "(every one was captured on another day)"
            )
        seen.update(dict.fromkeys(kept, day))
        horizon = (window.day - dt.timedelta(days=feed.remember_days)).isoformat()
        seen = {k: d for k, d in seen.items() if d >= horizon or k in listed}
        return CaptureBatch(
            rows=pl.DataFrame(fresh, schema=FEED_SCHEMA),
            origins=[feed.url],
            cursor={
                "day": max(day, last_day or day),
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
                "seen": seen,
            },
        )
