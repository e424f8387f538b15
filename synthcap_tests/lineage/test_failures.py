"""Failures: a failed asset emits FAIL with its error; a broken lineage setup never fails assets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import ASSETS, CHECKS, build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.lineage import LineageResource
from synthcap_tests.conftest import copy_bundled
from synthcap_tests.lineage.schemas import validate_event
from synthcap_tests.lineage.test_transport import _file_events

DAY = dt.date(2026, 11, 16)
capture_job = dg.define_asset_job("capture_job", selection=[raw_capture])


def _run(tmp_path: Path, source: str, lineage: LineageResource) -> dg.ExecuteInProcessResult:
    sources = copy_bundled(tmp_path / "sources", "market_prices")
    if source != "market_prices":
        spec = (sources / "market_prices.yaml").read_text()
        spec = spec.replace("id: market_prices", f"id: {source}")
        spec = spec.replace("bundled://data/market_prices/{date}.csv", "feed/{date}.csv")
        (sources / f"{source}.yaml").write_text(spec)
        (sources / "feed").mkdir()
        (sources / "feed" / f"{DAY}.csv").write_text('date,ticker\n2026-11-16,"unterminated\n')
    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[capture_job],
        resources={**build_resources(lineage.lake, str(sources)), "lineage": lineage},
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
        result = defs.resolve_job_def("capture_job").execute_in_process(
            partition_key=partition_key(source, DAY), instance=instance, raise_on_error=False
        )
        result.logs = [e.user_message for e in instance.all_logs(result.run_id)]
        return result


def test_a_failed_asset_emits_fail_with_its_error_and_stack(tmp_path: Path) -> None:
    lineage = LineageResource(lake=str(tmp_path / "lake"))
    result = _run(tmp_path, "broken_feed", lineage)
    assert not result.success
    events = _file_events(lineage)
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("raw_capture", "START"),
        ("raw_capture", "FAIL"),
    ]
    for event in events:
        validate_event(event)
    error = events[1]["run"]["facets"]["errorMessage"]
    assert "source 'broken_feed', partition 2026-11-16" in error["message"]
    assert "raw_capture" in error["stackTrace"] and error["programmingLanguage"] == "python"
    assert events[1]["outputs"] == []  # nothing was written


@pytest.mark.parametrize("transports", [["file"], ["http"]])
def test_a_broken_lineage_setup_never_fails_an_asset(tmp_path: Path, transports) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("the outbox cannot live here")
    lineage = LineageResource(
        lake=str(tmp_path / "lake"),
        transports=transports,
        url="http://127.0.0.1:9",
        state_dir=str(blocker / "lineage"),
    )
    result = _run(tmp_path, "market_prices", lineage)
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "raw_capture"
    }
    assert sum("lineage event not emitted" in message for message in result.logs) == 6
