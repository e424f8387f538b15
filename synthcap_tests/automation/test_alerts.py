"""Alert sinks and the alert sensor against a real webhook receiver on loopback: payloads,
idempotency, Slack format, a receiver that is down (nothing lost, nothing doubled) and run
failures that are not blocking-check failures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from synthcap_assets.automation.alerting import alert_sensor
from synthcap_resources.alerts import (
    ALERTS_TABLE,
    WEBHOOK_FORMAT_ENV,
    WEBHOOK_URL_ENV,
    Alert,
    AlertDeliveryError,
    AlertsResource,
)
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.automation.webhook import WebhookReceiver

ALERT = Alert(
    key="check:r1:quality_report.q:2026-11-16|feed",
    kind="check_failed",
    severity="ERROR",
    message="check failed",
    occurred_at=dt.datetime(2026, 11, 17, 6, tzinfo=dt.UTC),
    source="feed",
    date="2026-11-16",
    check="quality_report.q",
    observed="71.5",
    expected=">= 80",
    run_id="r1",
    run_url="http://127.0.0.1:3000/runs/r1",
)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch):
    with WebhookReceiver() as receiver:
        monkeypatch.setenv(WEBHOOK_URL_ENV, receiver.url)
        yield receiver


def test_deliver_posts_json_once_and_records_it(hook, tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    alerts = AlertsResource()
    assert alerts.deliver(ALERT, lake) is True
    assert alerts.deliver(ALERT, lake) is False
    assert len(hook.calls) == 1
    path, body, key = hook.calls[0]
    assert key == ALERT.key and path == "/hooks/synthcap?token=secret"
    assert body["observed"] == "71.5" and body["expected"] == ">= 80"
    assert body["run_url"] == "http://127.0.0.1:3000/runs/r1"
    row = lake.read_table(ALERTS_TABLE).row(0, named=True)
    assert row["key"] == ALERT.key and row["sinks"] == "webhook,log,table"


def test_slack_format(hook, tmp_path: Path) -> None:
    alerts = AlertsResource(webhook_format="slack", table=False)
    assert alerts.deliver(ALERT, LakehouseResource(root=str(tmp_path / "lake")))
    (_, body, _) = hook.calls[0]
    assert body["text"].startswith(":red_circle: synthcap check failed: quality_report.q")
    assert "*observed*: 71.5" in body["blocks"][1]["text"]["text"]
    assert "<http://127.0.0.1:3000/runs/r1|open the run>" in body["text"]


def test_receiver_down_records_nothing(hook, tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    hook.status = 503
    with pytest.raises(AlertDeliveryError, match="HTTP Error 503"):
        AlertsResource().deliver(ALERT, lake)
    assert lake.read_table(ALERTS_TABLE) is None


@dg.asset
def fine() -> None:
    """Materializes."""


@dg.asset_check(asset=fine, blocking=False)
def fine_is_suspicious() -> dg.AssetCheckResult:
    """Fails as a warning."""
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"observed": "12 rows", "expected": "100 … 200 rows"},
    )


@dg.asset
def broken() -> None:
    """Fails."""
    raise ValueError("source 'feed', partition 2026-11-16: the API answered 500")


def _sense(defs: dg.Definitions, instance, cursor: str | None) -> tuple[str | None, str]:
    with dg.build_sensor_context(
        instance=instance,
        resources=defs.resources,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
    ) as context:
        result = defs.resolve_sensor_def("alert_sensor")(context)
        return context.cursor, result.skip_message


def test_sensor_waits_for_a_receiver_that_is_down(hook, tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    defs = dg.Definitions(
        assets=[fine, broken],
        asset_checks=[fine_is_suspicious],
        sensors=[alert_sensor],
        resources={"alerts": AlertsResource(), "lakehouse": lake},
    )
    with dg.instance_for_test() as instance:
        assert dg.materialize([fine, fine_is_suspicious], instance=instance).success
        failed = dg.materialize([broken], instance=instance, raise_on_error=False)
        assert not failed.success
        hook.status = 500
        cursor, message = _sense(defs, instance, None)
        assert message == "0 alert(s) delivered" and hook.calls == []
        hook.status = 200
        cursor, message = _sense(defs, instance, cursor)
        assert message == "2 alert(s) delivered"
        by_kind = {body["kind"]: body for body in hook.bodies()}
        assert by_kind["check_failed"]["severity"] == "WARN"
        assert by_kind["check_failed"]["observed"] == "12 rows"
        run = by_kind["run_failed"]
        assert run["run_id"] == failed.run_id and "the API answered 500" in run["observed"]
        assert _sense(defs, instance, cursor)[1] == "0 alert(s) delivered"
        assert len(hook.calls) == 2


def test_webhook_format_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEBHOOK_FORMAT_ENV, "slack")
    assert AlertsResource.from_env().webhook_format == "slack"
    monkeypatch.setenv(WEBHOOK_FORMAT_ENV, "teams")
    with pytest.raises(ValueError, match="SYNTHCAP_ALERT_WEBHOOK_FORMAT='teams'"):
        AlertsResource.from_env()
