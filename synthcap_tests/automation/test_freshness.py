"""Freshness per source: the policy from its schedule, known staleness answers, and the sensor
alerting a stale source once per missed deadline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synthcap_assets.automation.freshness import (
    freshness_policy_for,
    stale_since,
    stale_source_sensor,
)
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION
from synthcap_resources.alerts import WEBHOOK_URL_ENV
from synthcap_resources.catalog import parse_spec
from synthcap_tests.automation.scenario import SOURCE, write_sources
from synthcap_tests.automation.webhook import WebhookReceiver

UTC = dt.UTC


def _spec(tmp_path: Path, **changes):
    folder = write_sources(tmp_path / "sources")
    path = folder / f"{SOURCE}.yaml"
    spec = yaml.safe_load(path.read_text())
    spec.update(changes)
    path.write_text(yaml.safe_dump(spec))
    return folder, parse_spec(path)


def test_policy_and_staleness_known_answers(tmp_path: Path) -> None:
    _, daily = _spec(tmp_path)
    policy = freshness_policy_for(daily)
    assert policy.deadline_cron == "0 6 * * *"
    assert policy.lower_bound_delta == dt.timedelta(days=1)
    now = dt.datetime(2026, 11, 22, 7, tzinfo=UTC)
    tick = dt.datetime(2026, 11, 22, 6, tzinfo=UTC)
    assert stale_since(policy, dt.datetime(2026, 11, 21, 7, tzinfo=UTC), now) is None
    assert stale_since(policy, dt.datetime(2026, 11, 21, 5, tzinfo=UTC), now) == tick
    assert stale_since(policy, None, now) == tick
    _, hourly = _spec(tmp_path, schedule="15 * * * *")
    assert freshness_policy_for(hourly).lower_bound_delta == dt.timedelta(hours=1)


def test_sensor_alerts_a_stale_source_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder, _ = _spec(tmp_path)
    resources = build_resources(str(tmp_path / "lake"), str(folder))
    defs = dg.Definitions(sensors=[stale_source_sensor], resources=resources)
    sensor = defs.resolve_sensor_def("stale_source_sensor")
    with WebhookReceiver() as hook, dg.instance_for_test() as instance:
        monkeypatch.setenv(WEBHOOK_URL_ENV, hook.url)

        def tick() -> str:
            with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
                return sensor(ctx).skip_message

        assert tick() == "no enabled, registered source"
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        assert tick() == f"stale: {SOURCE}"
        assert tick() == f"stale: {SOURCE}"
        (body,) = hook.bodies()  # the second tick found the alert already delivered
        assert body["kind"] == "stale_source" and body["source"] == SOURCE
        assert body["key"].startswith(f"stale:{SOURCE}:")
        assert body["observed"].startswith("no capture since")
