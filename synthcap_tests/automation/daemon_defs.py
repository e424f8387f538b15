"""The code location the daemon test loads: synthcap's real capture and quality assets, checks,
automation conditions, automation sensor and alert sensor, without the slower stages."""

from __future__ import annotations

import dagster as dg

from synthcap_assets.automation.alerting import alert_sensor
from synthcap_assets.automation.conditions import automated, automated_checks, automation_sensor
from synthcap_assets.capture.assets import (
    raw_capture,
    raw_capture_conforms_to_schema,
    raw_capture_not_empty,
)
from synthcap_assets.definitions import build_resources
from synthcap_assets.quality.assets import (
    quality_metrics_within_history,
    quality_report,
    quality_score_meets_threshold,
)

defs = dg.Definitions(
    assets=automated([raw_capture, quality_report]),
    asset_checks=automated_checks(
        [
            raw_capture_not_empty,
            raw_capture_conforms_to_schema,
            quality_score_meets_threshold,
            quality_metrics_within_history,
        ]
    ),
    sensors=[automation_sensor, alert_sensor],
    resources=build_resources(),
)
