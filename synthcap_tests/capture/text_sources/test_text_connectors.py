"""The text connectors read directly (no Dagster run) against the loopback replays: Atom
entries, EDGAR document-type selection and empty days, retries of 429/5xx within the limits
then a failure naming source, partition and cause; and their pure parts (catalog blocks,
the Hub's split conventions, EDGAR's header index, HTML to text)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from werkzeug import Response

from synthcap_resources.catalog import CatalogError, SourceSpec, parse_spec
from synthcap_resources.sources.base import (
    DateWindow,
    EmptySourceError,
    SourceUnreachableError,
)
from synthcap_resources.sources.edgar_filings import EdgarFilingsConnector, header_documents
from synthcap_resources.sources.feeds import FeedConnector
from synthcap_resources.sources.hf_datasets import (
    HubFile,
    HuggingFaceConnector,
    card_globs,
    split_files,
)
from synthcap_resources.sources.http_client import HttpSettings, HttpStatusError
from synthcap_resources.sources.web_fetch import html_to_text
from synthcap_resources.sources.web_spec import HuggingFaceSpec
from synthcap_tests.capture.text_sources.servers import (
    FIXTURES,
    edgar_block,
    serve_edgar_filings,
    serve_feed,
    serve_hub,
    text_spec,
)
from synthcap_tests.http_fixtures import write_spec

DAY = DateWindow.of_day(dt.date(2024, 11, 1))


def _spec(tmp_path: Path, spec: dict) -> SourceSpec:
    return parse_spec(write_spec(tmp_path / "sources", spec))


def _settings(tmp_path: Path) -> HttpSettings:
    return HttpSettings(cache_dir=str(tmp_path / "cache"), state_dir=str(tmp_path / "state"))


def _hf(tmp_path, httpserver, **block) -> SourceSpec:
    endpoint = httpserver.url_for("/").rstrip("/")
    url = "hf://datasets/PolyAI/banking77/train"
    block = {"url": url, "endpoint": endpoint, **block}
    return _spec(tmp_path, text_spec("banking77", "huggingface", block))


def test_hub_429_retried_within_the_limit(tmp_path, httpserver) -> None:
    hub = serve_hub(httpserver)
    httpserver.clear_all_handlers()
    statuses: list[int] = []

    def limited(request):
        if "/revision/" in request.path and len(statuses) < 2:
            statuses.append(429)
            return Response('{"error": "rate limited"}', status=429, headers={"Retry-After": "7"})
        return hub.handle(request)

    httpserver.expect_request(re.compile(r"^/")).respond_with_handler(limited)
    waits: list[float] = []
    connector = HuggingFaceConnector(_settings(tmp_path), sleep=waits.append)
    batch = connector.read(_hf(tmp_path, httpserver, max_retry_after_seconds=5), DAY)
    assert batch.rows.height == 12
    assert waits == [5.0, 5.0]  # Retry-After honoured up to max_retry_after_seconds


def test_hub_persistent_5xx_fails_naming_source_partition_and_cause(tmp_path, httpserver) -> None:
    httpserver.expect_request(re.compile(r"^/")).respond_with_data("bad gateway", status=502)
    connector = HuggingFaceConnector(_settings(tmp_path), sleep=lambda _: None)
    with pytest.raises(SourceUnreachableError) as caught:
        connector.read(_hf(tmp_path, httpserver, max_retries=2), DAY)
    message = str(caught.value)
    assert message.startswith("source 'banking77', partition 2024-11-01: ")
    assert "/api/datasets/PolyAI/banking77/revision/main answered HTTP 502 3 time(s)" in message
    assert len(httpserver.log) == 3


def test_feed_429_retried_then_fails(tmp_path, httpserver) -> None:
    httpserver.expect_request("/markets/rss").respond_with_data("slow down", status=429)
    spec = _spec(
        tmp_path,
        text_spec("markets_news", "feed", {"url": httpserver.url_for("/markets/rss")}),
    )
    waits: list[float] = []
    with pytest.raises(SourceUnreachableError, match="answered HTTP 429 6 time.s.; gave up") as c:
        FeedConnector(_settings(tmp_path), sleep=waits.append).read(spec, DAY)
    assert str(c.value).startswith("source 'markets_news', partition 2024-11-01: ")
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]  # exponential backoff, max_retries 5


def test_atom_feed_entries(tmp_path, httpserver) -> None:
    serve_feed(httpserver, "/press/atom.xml", "regulator_atom.xml")
    spec = _spec(
        tmp_path, text_spec("press", "feed", {"url": httpserver.url_for("/press/atom.xml")})
    )
    batch = FeedConnector(_settings(tmp_path)).read(spec, DAY)
    rows = batch.rows.sort("entry_id")
    assert rows["entry_id"].to_list() == [
        "tag:regulator.example.gov,2024:press/2024-178",
        "tag:regulator.example.gov,2024:press/2024-179",
    ]
    first = rows.row(0, named=True)
    assert first["title"] == "Regulator adopts amendments to climate disclosure rules"
    assert first["updated"] == dt.datetime(2024, 11, 1, 19, 30, tzinfo=dt.UTC)  # from -04:00
    assert first["text"].startswith("Washington D.C., Nov. 1, 2024 — The Commission")
    assert rows["published"][1] is None and rows["text"][1].startswith("In fiscal year 2024")
    assert batch.cursor["etag"] == '"feed-v1"'
    assert set(batch.cursor["seen"].values()) == {"2024-11-01"}


def test_edgar_document_types_and_a_day_without_filings(tmp_path, httpserver) -> None:
    serve_edgar_filings(httpserver)
    base = httpserver.url_for("/").rstrip("/")
    connector = EdgarFilingsConnector(_settings(tmp_path))
    exhibits = _spec(
        tmp_path, text_spec("apple", "edgar_filings", edgar_block(base, document_types=["EX-*"]))
    )
    rows = connector.read(exhibits, DAY).rows
    assert rows["document_type"].to_list() == ["EX-21.1", "EX-31.1"]
    fetched = [r.path.rsplit("/", 1)[-1] for r, _ in httpserver.log]
    assert "aapl-20240928.htm" not in fetched and "aapl-20240928_g1.jpg" not in fetched
    # 2024-10-31 holds an 8-K of Apple and no 10-K.
    everything = _spec(tmp_path, text_spec("apple", "edgar_filings", edgar_block(base)))
    with pytest.raises(EmptySourceError, match="CIK 320193 filed no 10-K on 2024-10-31"):
        connector.read(everything, DateWindow.of_day(dt.date(2024, 10, 31)))


def test_hf_url_and_fields(tmp_path) -> None:
    hf = HuggingFaceSpec(url="hf://datasets/PolyAI/banking77@refs%2Fconvert%2Fparquet/default/test")
    assert (hf.dataset, hf.revision, hf.config, hf.split) == (
        "PolyAI/banking77",
        "refs/convert/parquet",
        "default",
        "test",
    )
    plain = HuggingFaceSpec(url="hf://datasets/PolyAI/banking77/train")
    assert (plain.revision, plain.config, plain.split) == ("main", None, "train")
    with pytest.raises(ValueError, match="is not hf://datasets/<owner>/<name>"):
        HuggingFaceSpec(url="hf://datasets/banking77")
    with pytest.raises(ValueError, match="disagree"):
        HuggingFaceSpec(url="hf://datasets/PolyAI/banking77/train", split="test")


def test_catalog_refuses_a_wrong_block_and_an_edgar_agent_without_contact(tmp_path) -> None:
    spec = text_spec("feedy", "feed", {"url": "https://example.com/rss"})
    spec["huggingface"] = {"dataset": "PolyAI/banking77"}
    with pytest.raises(CatalogError, match="a feed source cannot have a 'huggingface' block"):
        _spec(tmp_path, spec)
    block = edgar_block("https://data.sec.gov", user_agent="Example Corp")
    with pytest.raises(CatalogError, match="User-Agent with a contact e-mail"):
        _spec(tmp_path, text_spec("filings", "edgar_filings", block))
    with pytest.raises(CatalogError, match="a huggingface source needs a 'huggingface' block"):
        _spec(tmp_path, {**text_spec("hub", "feed", {}), "kind": "huggingface", "feed": None})


def test_split_files_follow_the_hubs_layouts() -> None:
    paths = [
        "README.md",
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
        "data/test-00000-of-00001.parquet",
        "data/training_notes.jsonl",
        "default/train/0000.parquet",
        "flights/train.jsonl",
        "restaurants/train.jsonl",
        "flights/test.jsonl",
    ]
    files = [HubFile(p, "oid", 1) for p in paths]

    def pick(**block) -> list[str]:
        return [f.path for f in split_files(files, HuggingFaceSpec(dataset="a/b", **block))]

    assert pick(split="test") == ["data/test-00000-of-00001.parquet"]
    assert pick(split="train", config="default") == ["default/train/0000.parquet"]
    assert pick(split="train", config="flights") == ["flights/train.jsonl"]
    assert pick(split="train", format="jsonl") == ["flights/train.jsonl", "restaurants/train.jsonl"]
    assert pick(split="train", data_files=["data/{split}-*"]) == [
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
    ]


def test_the_cards_configs_choose_the_files() -> None:
    info = json.loads((FIXTURES / "hub" / "banking77_revision.json").read_text())
    assert card_globs(info, None, "train") == ["data/train-*"]  # the config named default
    assert card_globs(info, "default", "test") == ["data/test-*"]
    assert card_globs(info, "other", "train") is None
    many = json.loads((FIXTURES / "hub" / "dialogues_revision.json").read_text())
    assert card_globs(many, None, "train") is None  # two configs, none the default
    assert card_globs(many, "restaurants", "train") == ["restaurants/train.jsonl"]
    assert card_globs({"cardData": {"configs": [{"data_files": "*.jsonl"}]}}, None, "train") == [
        "*.jsonl"
    ]
    files = [HubFile(p, "oid", 1) for p in ["data/train-0.parquet", "extra/train.parquet"]]
    hf = HuggingFaceSpec(dataset="a/b", split="train")
    assert [f.path for f in split_files(files, hf, ["data/train-*"])] == ["data/train-0.parquet"]
    assert len(split_files(files, hf, None)) == 2  # no card: the naming conventions


def test_edgar_reads_an_older_index_page_for_an_older_day(tmp_path, httpserver) -> None:
    serve_edgar_filings(httpserver)
    page = {
        "accessionNumber": ["0001193125-15-118890"],
        "filingDate": ["2015-04-01"],
        "reportDate": ["2014-12-31"],
        "form": ["10-K"],
        "primaryDocument": ["d10k.htm"],
    }
    httpserver.expect_request("/submissions/CIK0000320193-submissions-001.json").respond_with_json(
        page
    )
    base = httpserver.url_for("/").rstrip("/")
    spec = _spec(tmp_path, text_spec("apple", "edgar_filings", edgar_block(base)))
    connector = EdgarFilingsConnector(_settings(tmp_path))
    # The 2015 filing is found on the older page; its archive folder is not in the replay.
    with pytest.raises(HttpStatusError) as caught:
        connector.read(spec, DateWindow.of_day(dt.date(2015, 4, 1)))
    message = str(caught.value)
    assert message.startswith("source 'apple', partition 2015-04-01: filing header ")
    assert "000119312515118890/0001193125-15-118890-index-headers.html answered HTTP 404" in message


def test_header_documents_of_an_edgar_filing() -> None:
    markup = (FIXTURES / "edgar" / "0000320193-24-000123-index-headers.html").read_text()
    documents = header_documents(markup)
    assert [(d.type, d.sequence, d.filename) for d in documents] == [
        ("10-K", 1, "aapl-20240928.htm"),
        ("EX-21.1", 7, "a10-kexhibit2112024.htm"),
        ("EX-31.1", 9, "a10-kexhibit3112024.htm"),
        ("EX-101.SCH", 13, "aapl-20240928.xsd"),
        ("GRAPHIC", 18, "aapl-20240928_g1.jpg"),
        ("XML", 102, "FilingSummary.xml"),
    ]
    assert documents[3].description == "XBRL TAXONOMY EXTENSION SCHEMA DOCUMENT"
    assert documents[4].description == ""


def test_html_to_text() -> None:
    assert html_to_text("<p>One <b>bold</b> claim.</p>") == "One bold claim."
    assert html_to_text("Fish &amp; chips") == "Fish & chips"
    page = "<html><body><p>Kept.</p><script>dropped()</script><style>p{}</style></body></html>"
    assert html_to_text(page) == "Kept."
    xbrl = (
        '<html><body><div style="display:none"><ix:header>ctx-1 2023-10-01</ix:header></div>'
        '<p>Net sales were <ix:nonFraction name="us-gaap:Revenues">391,035</ix:nonFraction>'
        " million.</p></body></html>"
    )
    assert html_to_text(xbrl) == "Net sales were 391,035 million."
