"""The one Definitions object: assets, checks, sensors, schedules and resources of synthcap."""

from __future__ import annotations

import dagster as dg

from synthcap_assets.automation.schedules import daily_capture_schedule, daily_partition_job
from synthcap_assets.automation.sensors import catalog_sensor
from synthcap_assets.capture.assets import (
    raw_capture,
    raw_capture_conforms_to_schema,
    raw_capture_not_empty,
)
from synthcap_assets.features.assets import feature_set, feature_set_has_no_pii
from synthcap_assets.privacy.assets import privacy_report
from synthcap_assets.profile.assets import drift_report, drift_within_thresholds, profile
from synthcap_assets.quality.assets import quality_report, quality_score_meets_threshold
from synthcap_assets.synthesis.assets import (
    readiness_score,
    synthetic_sample,
    synthetic_sample_has_no_pii,
)
from synthcap_resources.catalog import CatalogResource, sources_dir
from synthcap_resources.lakehouse import LakehouseResource, lake_root

ASSETS = [
    raw_capture,
    quality_report,
    profile,
    privacy_report,
    drift_report,
    feature_set,
    synthetic_sample,
    readiness_score,
]
CHECKS = [
    raw_capture_not_empty,
    raw_capture_conforms_to_schema,
    quality_score_meets_threshold,
    drift_within_thresholds,
    feature_set_has_no_pii,
    synthetic_sample_has_no_pii,
]


def build_resources(lake: str | None = None, sources: str | None = None) -> dict[str, object]:
    """The resources, from arguments or ``SYNTHCAP_LAKE`` / ``SYNTHCAP_SOURCES``."""
    return {
        "lakehouse": LakehouseResource(root=lake or lake_root()),
        "catalog": CatalogResource(folder=sources or str(sources_dir())),
    }


def build_definitions(lake: str | None = None, sources: str | None = None) -> dg.Definitions:
    """synthcap's definitions over the given lake root and catalog folder."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[daily_partition_job],
        schedules=[daily_capture_schedule],
        sensors=[catalog_sensor],
        resources=build_resources(lake, sources),
    )


defs = build_definitions()
