"""``raw_capture`` of http_api sources through Dagster's ``materialize()``: each preset example
(SEC EDGAR company facts and submissions, FRED, World Bank) against a loopback server
replaying the APIs' shapes; compliance refusals (license, robots.txt) write nothing but their
audit row; malformed records are quarantined."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.capture.quarantine import QUARANTINE_TABLE
from synthcap_assets.definitions import build_resources
from synthcap_assets.demo import step_errors
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.compliance import COMPLIANCE_TABLE
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.registry import SourcesResource
from synthcap_tests.http_fixtures import (
    http_spec,
    serve_edgar,
    serve_fred,
    serve_robots,
    serve_worldbank,
    write_spec,
)

DAY = dt.date(2024, 11, 1)


def _capture(tmp_path: Path, spec: dict, day: dt.date = DAY) -> tuple[bool, LakehouseResource, str]:
    sources = tmp_path / "sources"
    write_spec(sources, spec)
    lake = str(tmp_path / "lake")
    resources = build_resources(lake=lake, sources=str(sources))
    resources["sources"] = SourcesResource(
        cache_dir=str(tmp_path / "cache"), state_dir=str(tmp_path / "state")
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [spec["id"]])
        result = dg.materialize(
            [raw_capture],
            partition_key=partition_key(spec["id"], day),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        errors = " ".join(step_errors(result))
    return result.success, LakehouseResource(root=lake), errors


def _raw(lake: LakehouseResource, source: str) -> pl.DataFrame:
    return lake.read_partition(raw_table(source), {"_date": DAY})


def _base(httpserver) -> str:
    return httpserver.url_for("/").rstrip("/")


def test_sec_edgar_companyfacts_preset(tmp_path, httpserver) -> None:
    serve_robots(httpserver, "User-agent: *\nDisallow: /cgi-bin/\n")
    serve_edgar(httpserver)
    spec = http_spec(
        "apple_facts",
        {
            "preset": "sec_edgar_companyfacts",
            "base_url": _base(httpserver),
            "vars": {"cik": "0000320193"},
        },
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert ok, errors
    rows = _raw(lake, "apple_facts")
    # Only the facts filed on the partition's day: 1 dei + 2 AccountsPayable + 1 EPS.
    assert rows.height == 4
    assert set(rows["concept"]) == {
        "EntityCommonStockSharesOutstanding",
        "AccountsPayableCurrent",
        "EarningsPerShareBasic",
    }
    assert rows.filter(pl.col("concept") == "EarningsPerShareBasic")["val"].to_list() == [6.11]
    assert set(rows["filed"]) == {"2024-11-01"}
    # EDGAR's fair-access policy: every request carried the contact User-Agent.
    assert {r.headers["User-Agent"] for r, _ in httpserver.log} == {spec["http_api"]["user_agent"]}
    audit = lake.read_table(COMPLIANCE_TABLE)
    assert audit["decision"].to_list() == ["allowed", "allowed"]
    assert audit["check"].to_list() == ["license", "robots"]


def test_sec_edgar_submissions_preset(tmp_path, httpserver) -> None:
    serve_robots(httpserver)
    serve_edgar(httpserver)
    spec = http_spec(
        "apple_filings",
        {
            "preset": "sec_edgar_submissions",
            "base_url": _base(httpserver),
            "vars": {"cik": "0000320193"},
        },
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert ok, errors
    rows = _raw(lake, "apple_filings")
    assert sorted(rows["form"].to_list()) == ["10-K", "4"]
    assert set(rows["accessionNumber"]) == {"0000320193-24-000123", "0001140361-24-045372"}


def test_fred_preset_with_api_key_from_env(tmp_path, httpserver, monkeypatch) -> None:
    serve_robots(httpserver)
    serve_fred(httpserver)
    monkeypatch.setenv("FRED_API_KEY", "test-fred-key")
    spec = http_spec(
        "dgs10", {"preset": "fred", "base_url": _base(httpserver), "vars": {"series_id": "DGS10"}}
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert ok, errors
    rows = _raw(lake, "dgs10")
    assert rows.select("date", "value").rows() == [("2024-11-01", "4.38")]
    request = next(r for r, _ in httpserver.log if r.path == "/fred/series/observations")
    assert request.args["series_id"] == "DGS10"
    assert request.args["observation_start"] == request.args["observation_end"] == "2024-11-01"
    # The key went to the API, and nowhere in the lake.
    for table in (raw_table("dgs10"), COMPLIANCE_TABLE):
        assert "test-fred-key" not in lake.read_table(table).write_csv()


def test_fred_missing_marker_becomes_null_under_a_declared_float(
    tmp_path, httpserver, monkeypatch
) -> None:
    serve_robots(httpserver)
    serve_fred(httpserver)
    monkeypatch.setenv("FRED_API_KEY", "test-fred-key")
    holiday = dt.date(2024, 11, 11)  # the bond market is closed: FRED writes "."
    spec = http_spec(
        "dgs10",
        {"preset": "fred", "base_url": _base(httpserver), "vars": {"series_id": "DGS10"}},
        schema={
            "date": "date",
            "value": "float",
            "realtime_start": "date",
            "realtime_end": "date",
        },
    )
    ok, lake, errors = _capture(tmp_path, spec, holiday)
    assert ok, errors
    rows = lake.read_partition(raw_table("dgs10"), {"_date": holiday})
    assert rows.select("date", "value").rows() == [(holiday, None)]
    assert rows.schema["value"] == pl.Float64


def test_world_bank_preset_pages(tmp_path, httpserver) -> None:
    serve_robots(httpserver)
    serve_worldbank(httpserver)
    spec = http_spec(
        "gdp",
        {
            "preset": "world_bank",
            "base_url": _base(httpserver),
            "vars": {"country": "all", "indicator": "NY.GDP.MKTP.CD"},
            "pagination": {"page_size": 2},
        },
        license="CC-BY-4.0",
        terms_url="https://www.worldbank.org/en/about/legal/terms-of-use-for-datasets",
        attribution="The World Bank: World Development Indicators",
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert ok, errors
    rows = _raw(lake, "gdp")
    assert sorted(rows["countryiso3code"].to_list()) == ["FRA", "TUV", "USA"]
    assert rows["country_value"].null_count() == 0 and rows["value"].null_count() == 1
    pages = [r.args["page"] for r, _ in httpserver.log if r.path.startswith("/country/")]
    assert pages == ["1", "2"]
    assert lake.read_table(COMPLIANCE_TABLE)["attribution"][0].startswith("The World Bank")


def test_refused_license_fails_and_writes_only_its_audit_row(tmp_path, httpserver) -> None:
    serve_edgar(httpserver)
    spec = http_spec(
        "nd_data",
        {
            "preset": "sec_edgar_submissions",
            "base_url": _base(httpserver),
            "vars": {"cik": "0000320193"},
        },
        license="CC-BY-ND-4.0",
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert not ok
    assert "source 'nd_data', partition 2024-11-01: capture refused by license" in errors
    assert "refused for synthetic-data" in errors
    assert httpserver.log == []  # nothing was even requested
    assert lake.delta_table(raw_table("nd_data")) is None
    audit = lake.read_table(COMPLIANCE_TABLE)
    assert audit.select("check", "decision").rows() == [("license", "refused")]


def test_robots_disallow_refuses_the_capture(tmp_path, httpserver) -> None:
    serve_robots(
        httpserver, "User-agent: *\nAllow: /\nUser-agent: synthcap-tests\nDisallow: /submissions/\n"
    )
    serve_edgar(httpserver)
    spec = http_spec(
        "blocked",
        {
            "preset": "sec_edgar_submissions",
            "base_url": _base(httpserver),
            "vars": {"cik": "0000320193"},
        },
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert not ok
    assert "robots: " in errors and "disallows /submissions/CIK0000320193.json" in errors
    assert [r.path for r, _ in httpserver.log] == ["/robots.txt"]
    assert lake.delta_table(raw_table("blocked")) is None
    assert lake.read_table(COMPLIANCE_TABLE)["decision"].to_list() == ["allowed", "refused"]


def test_bad_records_are_quarantined_with_the_reason(tmp_path, httpserver) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/feed").respond_with_json(
        {"data": [{"id": 1, "v": 2.5}, "garbage", {"id": 2, "v": 1.0}]}
    )
    spec = http_spec(
        "feed", {"base_url": _base(httpserver), "path": "/feed", "records_path": "data"}
    )
    ok, lake, errors = _capture(tmp_path, spec)
    assert ok, errors
    assert _raw(lake, "feed")["id"].to_list() == [1, 2]
    quarantined = lake.read_table(QUARANTINE_TABLE)
    assert quarantined.select("source", "row", "reason").rows() == [
        ("feed", 2, "record 2 is a str, not an object")
    ]


@pytest.mark.parametrize("status", [404, 503])
def test_http_failures_write_no_partition(tmp_path, httpserver, status) -> None:
    serve_robots(httpserver)
    httpserver.expect_request("/feed").respond_with_data("no", status=status)
    block = {"base_url": _base(httpserver), "path": "/feed", "max_retries": 1, "backoff_seconds": 0}
    ok, lake, errors = _capture(tmp_path, http_spec("feed", block))
    assert not ok
    assert "source 'feed', partition 2024-11-01: " in errors and f"HTTP {status}" in errors
    assert lake.delta_table(raw_table("feed")) is None
