"""``raw_capture`` of a ``feed`` source from a loopback RSS feed: one row per entry, each
entry captured on one day only, and conditional requests (ETag, Last-Modified, 304).
(Atom and 429 handling: test_text_connectors.py.)"""

from __future__ import annotations

import datetime as dt

from synthcap_resources.sources.state import latest_cursor
from synthcap_tests.capture.text_sources.servers import capture, raw, serve_feed, text_spec

DAY1, DAY2, DAY3 = dt.date(2024, 11, 1), dt.date(2024, 11, 2), dt.date(2024, 11, 3)


def _spec(httpserver, path: str, **block) -> dict:
    return text_spec("markets_news", "feed", {"url": httpserver.url_for(path), **block})


def test_entries_deduplicated_across_days_with_conditional_requests(tmp_path, httpserver) -> None:
    feed = serve_feed(httpserver, "/markets/rss", "markets_rss_day{day}.xml")
    spec = _spec(httpserver, "/markets/rss")
    ok, lake, errors = capture(tmp_path, spec, DAY1)
    assert ok, errors
    day1 = raw(lake, "markets_news", DAY1).sort("published")
    assert day1["entry_id"].to_list() == ["emw-2024-11-01-0001", "emw-2024-11-01-0002"]
    first = day1.row(0, named=True)
    assert first["author"] == "Jane Rivera" and first["tags"] == "Earnings, Technology"
    assert first["published"] == dt.datetime(2024, 11, 1, 10, 15)  # UTC, stored zone-less
    assert day1["updated"].null_count() == 2  # RSS items carry no update time
    # content:encoded becomes the text, without markup or script; the summary is kept too.
    assert first["text"].startswith("Apple Inc. filed its annual report on Form 10-K")
    assert "<p>" not in first["text"] and "trackView" not in first["text"]
    assert first["summary"].startswith("Apple Inc. filed its Form 10-K on Friday")
    assert day1["text"][1].startswith("The 10-year yield rose to 4.38%")  # summary only
    assert feed.requests[-1].get("If-None-Match") is None

    # Day 2: the feed repeats both entries and adds one; only the new one lands.
    feed.day = 2
    ok, lake, errors = capture(tmp_path, spec, DAY2)
    assert ok, errors
    assert raw(lake, "markets_news", DAY2)["entry_id"].to_list() == ["emw-2024-11-02-0001"]
    assert feed.requests[-1]["If-None-Match"] == '"feed-v1"'  # the validators of day 1
    assert feed.requests[-1]["If-Modified-Since"] == "Fri, 01 Nov 2024 21:05:00 GMT"

    # Day 3: unchanged since day 2, the server answers 304 and nothing is captured.
    ok, lake, errors = capture(tmp_path, spec, DAY3)
    assert not ok and "not modified since the capture of 2024-11-02 (HTTP 304)" in errors
    assert feed.requests[-1]["If-None-Match"] == '"feed-v2"'
    assert lake.read_partition("raw/markets_news", {"_date": DAY3}) is None

    # Re-running day 1 asks unconditionally and captures day 1's entries again into day 1's
    # partition (replaced, not doubled); day 2's entry stays on day 2.
    ok, lake, errors = capture(tmp_path, spec, DAY1)
    assert ok, errors
    assert "If-None-Match" not in feed.requests[-1]
    assert sorted(raw(lake, "markets_news", DAY1)["entry_id"]) == [
        "emw-2024-11-01-0001",
        "emw-2024-11-01-0002",
    ]
    assert raw(lake, "markets_news", DAY2).height == 1
    seen = latest_cursor(lake, "markets_news")["seen"]
    assert seen == {
        "emw-2024-11-01-0001": "2024-11-01",
        "emw-2024-11-01-0002": "2024-11-01",
        "emw-2024-11-02-0001": "2024-11-02",
    }
