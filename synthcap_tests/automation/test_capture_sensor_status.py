"""The capture sensors (landing, stream) start stopped on a new instance unless
``SYNTHCAP_CAPTURE_SENSORS=running``; the reactive sensors stay running."""

from __future__ import annotations

import dagster as dg
import pytest

from synthcap_assets.automation.landing import (
    CAPTURE_SENSORS_ENV,
    CaptureSensorsSettingError,
    capture_sensor_status,
)


def test_capture_sensors_start_stopped_and_the_reactive_ones_running() -> None:
    from synthcap_assets.definitions import defs

    status = {s.name: s.default_status for s in defs.sensors}
    assert status["landing_sensor"] == dg.DefaultSensorStatus.STOPPED
    assert status["stream_sensor"] == dg.DefaultSensorStatus.STOPPED
    for name in ("catalog_sensor", "alert_sensor", "synthcap_automation_sensor"):
        assert status[name] == dg.DefaultSensorStatus.RUNNING, name


def test_the_setting_turns_them_on_and_rejects_other_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CAPTURE_SENSORS_ENV, "Running")
    assert capture_sensor_status() == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv(CAPTURE_SENSORS_ENV, "stopped")
    assert capture_sensor_status() == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv(CAPTURE_SENSORS_ENV, "on")
    with pytest.raises(CaptureSensorsSettingError, match="'stopped'"):
        capture_sensor_status()
