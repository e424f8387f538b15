"""The bar: a delivery that breaks its frozen contract ends with its bad rows in quarantine, a
failed blocking check, no downstream partition and exactly one alert at the webhook; a failed
non-blocking anomaly check also alerts once; restarting the sensor sends nothing again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_assets.capture.quarantine import QUARANTINE_TABLE
from synthcap_resources.alerts import ALERTS_TABLE, WEBHOOK_URL_ENV
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.automation.scenario import (
    BROKEN_ROWS,
    DAY1,
    DAY2,
    SOURCE,
    run_day,
    scenario_definitions,
    seed_metric_history,
    write_sources,
)
from synthcap_tests.automation.webhook import WebhookReceiver


class Scenario:
    def __init__(self, root: Path, instance: dg.DagsterInstance, hook: WebhookReceiver):
        self.lakehouse = LakehouseResource(root=str(root / "lake"))
        self.defs = scenario_definitions(self.lakehouse.root, write_sources(root / "sources"))
        self.instance = instance
        self.hook = hook
        seed_metric_history(self.lakehouse)
        self.results = {day: run_day(self.defs, instance, day) for day in (DAY1, DAY2)}

    def sense(self, cursor: str | None) -> tuple[str | None, str]:
        """One alert-sensor tick from ``cursor``: the new cursor and the skip message."""
        with dg.build_sensor_context(
            instance=self.instance,
            resources=self.defs.resources,
            cursor=cursor,
            repository_def=self.defs.get_repository_def(),
        ) as context:
            result = self.defs.resolve_sensor_def("alert_sensor")(context)
            return context.cursor, result.skip_message


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with WebhookReceiver() as hook, dg.instance_for_test() as instance:
        mp = pytest.MonkeyPatch()
        mp.setenv(WEBHOOK_URL_ENV, hook.url)
        try:
            yield Scenario(tmp_path_factory.mktemp("bar"), instance, hook)
        finally:
            mp.undo()


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _capture_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("raw_capture")
    ]
    return event.materialization.metadata


def test_broken_frozen_contract_is_quarantined_and_blocks_downstream(scenario) -> None:
    first, second = scenario.results[DAY1], scenario.results[DAY2]
    assert first.success and _materialized(first) == {"raw_capture", "quality_report", "profile"}
    failed = [c for c in second.get_asset_check_evaluations() if not c.passed]
    assert [c.check_name for c in failed] == ["raw_capture_conforms_to_schema"]
    assert "volume" not in failed[0].description  # rows were refused, the column is unchanged
    assert "rows_rejected refused by the frozen contract" in failed[0].description
    assert _materialized(second) == {"raw_capture"}
    first_meta = _capture_metadata(first)
    assert first_meta["contract_mode"].value == "freeze"
    assert first_meta["contract_origin"].value == f"inferred {DAY1}"
    second_meta = _capture_metadata(second)
    assert second_meta["contract_origin"].value == "frozen v1"
    assert second_meta["rows_rejected_by_contract"].value == len(BROKEN_ROWS)
    assert second_meta["contract_violations"].value == [
        f"{len(BROKEN_ROWS)} of 600 rows break the frozen contract"
    ]
    report = scenario.lakehouse.read_table("reports/quality_report")
    assert set(report["date"]) == {DAY1}  # no downstream partition for day 2
    quarantine = scenario.lakehouse.read_table(QUARANTINE_TABLE).filter(pl.col("date") == DAY2)
    assert sorted(quarantine["row"].to_list()) == list(BROKEN_ROWS)
    assert set(quarantine["reason"]) == {"column 'volume': 'lots' is not a valid int"}
    assert json.loads(quarantine["record"][0])["volume"] == "lots"


def test_each_failed_check_alerts_exactly_once_and_restarts_send_nothing(scenario) -> None:
    cursor, message = scenario.sense(None)
    assert message == "2 alert(s) delivered"
    bodies = sorted(scenario.hook.bodies(), key=lambda b: b["date"])
    assert len(bodies) == 2
    anomaly, contract = bodies
    assert anomaly["check"] == "quality_report.quality_metrics_within_history"
    assert anomaly["severity"] == "WARN" and anomaly["source"] == SOURCE
    assert anomaly["date"] == DAY1.isoformat()
    assert "row count = 600" in anomaly["observed"] and "robust z" in anomaly["expected"]
    assert contract["check"] == "raw_capture.raw_capture_conforms_to_schema"
    assert contract["severity"] == "ERROR" and contract["date"] == DAY2.isoformat()
    assert "refused by the frozen contract" in contract["observed"]
    run_id = scenario.results[DAY2].run_id
    assert contract["run_id"] == run_id and contract["run_url"].endswith(f"/runs/{run_id}")
    assert all(key and key.startswith("check:") for _, _, key in scenario.hook.calls)
    assert all(path.startswith("/hooks/synthcap?token=") for path, _, _ in scenario.hook.calls)
    # The same daemon ticks again, then a restarted one that lost its cursor: nothing resent.
    assert scenario.sense(cursor)[1] == "0 alert(s) delivered"
    assert scenario.sense(None)[1] == "0 alert(s) delivered"
    assert len(scenario.hook.calls) == 2
    table = scenario.lakehouse.read_table(ALERTS_TABLE)
    assert table.height == 2 and set(table["sinks"]) == {"webhook,log,table"}
