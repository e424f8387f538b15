"""``raw_capture`` of ``edgar_filings`` sources from a loopback EDGAR (submissions index,
filing header index, documents): one text row per document with its metadata, inline XBRL
read as text, EDGAR's User-Agent on every request, a day's filings once, and 5xx retried then
failing with source, partition and cause."""

from __future__ import annotations

import datetime as dt

from werkzeug import Response

from synthcap_tests.capture.text_sources.servers import (
    capture,
    edgar_block,
    raw,
    serve_edgar_filings,
    text_spec,
)
from synthcap_tests.http_fixtures import UA

DAY = dt.date(2024, 11, 1)


def _spec(httpserver, **extra) -> dict:
    base = httpserver.url_for("/").rstrip("/")
    return text_spec(
        "apple_10k",
        "edgar_filings",
        edgar_block(base, **extra),
        license="LicenseRef-PublicDomain",
        subject="entity",
    )


def test_10k_documents_as_text_one_row_each(tmp_path, httpserver) -> None:
    serve_edgar_filings(httpserver)
    ok, lake, errors = capture(tmp_path, _spec(httpserver), DAY)
    assert ok, errors
    rows = raw(lake, "apple_10k", DAY).sort("sequence")
    # The 10-K and its two HTML exhibits; the XBRL schema, image and XML are not text.
    assert rows["document"].to_list() == [
        "aapl-20240928.htm",
        "a10-kexhibit2112024.htm",
        "a10-kexhibit3112024.htm",
    ]
    assert rows["document_type"].to_list() == ["10-K", "EX-21.1", "EX-31.1"]
    assert rows["sequence"].to_list() == [1, 7, 9]
    assert rows["is_primary"].to_list() == [True, False, False]
    first = rows.row(0, named=True)
    assert first["cik"] == "0000320193" and first["company"] == "Apple Inc."
    assert first["accession_number"] == "0000320193-24-000123" and first["form"] == "10-K"
    assert first["filing_date"] == DAY and first["report_date"] == dt.date(2024, 9, 28)
    # UTC; the inferred contract stores datetimes without a zone, as for every source.
    assert first["accepted_at"] == dt.datetime(2024, 11, 1, 6, 1, 36)
    assert first["url"].endswith("/Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm")
    text = first["text"]
    # Inline XBRL facts kept (the table's figures, the registrant), the hidden header,
    # styles and scripts gone.
    assert "Apple Inc." in text and "391,035" in text and "Item 1A." in text
    assert "c-1" not in text and "must not appear" not in text and "font-family" not in text
    assert "Braeburn Capital, Inc." in rows["text"][1]
    # SEC fair access: every request carried the contact User-Agent.
    assert {r.headers["User-Agent"] for r, _ in httpserver.log} == {UA}

    # A re-run of the day replaces its partition: the same three documents, not six.
    ok, lake, errors = capture(tmp_path, _spec(httpserver), DAY)
    assert ok, errors
    assert raw(lake, "apple_10k", DAY).height == 3


def test_5xx_retried_then_fails_naming_source_partition_and_cause(tmp_path, httpserver) -> None:
    serve_edgar_filings(httpserver)
    httpserver.clear_all_handlers()
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        return Response("Service Unavailable", status=503)

    httpserver.expect_request("/submissions/CIK0000320193.json").respond_with_handler(flaky)
    spec = _spec(httpserver, backoff_seconds=0, max_retries=3)
    ok, lake, errors = capture(tmp_path, spec, DAY)
    assert not ok and calls["n"] == 4  # the first try and three retries
    assert "source 'apple_10k', partition 2024-11-01" in errors
    assert "/submissions/CIK0000320193.json answered HTTP 503 4 time(s); gave up" in errors
    assert lake.read_partition("raw/apple_10k", {"_date": DAY}) is None
