"""The one Definitions object: assets, checks, sensors, schedules and resources of synthcap."""

from __future__ import annotations

import dagster as dg

from synthcap_assets.automation.alerting import alert_sensor
from synthcap_assets.automation.conditions import automated, automated_checks, automation_sensor
from synthcap_assets.automation.freshness import stale_source_sensor
from synthcap_assets.automation.landing import landing_sensor
from synthcap_assets.automation.readiness_sensor import READINESS_SENSORS
from synthcap_assets.automation.retention import retention_job, retention_schedule
from synthcap_assets.automation.schedules import (
    daily_capture_job,
    daily_capture_schedule,
    daily_partition_job,
    readiness_job,
)
from synthcap_assets.automation.sensors import catalog_sensor
from synthcap_assets.automation.stream_sensor import stream_sensor
from synthcap_assets.capture.assets import (
    raw_capture,
    raw_capture_conforms_to_schema,
    raw_capture_not_empty,
)
from synthcap_assets.executor import executor_from_env
from synthcap_assets.features.assets import feature_set, feature_set_has_no_pii
from synthcap_assets.privacy.assets import privacy_report
from synthcap_assets.profile.assets import drift_report, drift_within_thresholds, profile
from synthcap_assets.quality.assets import (
    quality_metrics_within_history,
    quality_report,
    quality_score_meets_threshold,
)
from synthcap_assets.synthesis.assets import (
    synthetic_sample,
    synthetic_sample_has_no_pii,
    synthetic_sample_is_useful,
)
from synthcap_assets.synthesis.budget import privacy_budget, privacy_budget_available
from synthcap_assets.synthesis.readiness_asset import readiness_score
from synthcap_assets.text.assets import TEXT_ASSETS, TEXT_CHECKS
from synthcap_resources.alerts import AlertsResource
from synthcap_resources.catalog import CatalogResource, sources_dir
from synthcap_resources.distributed import DaskResource
from synthcap_resources.lakehouse import LakehouseResource, lake_root
from synthcap_resources.lineage import lineage_from_env
from synthcap_resources.sources.registry import sources_from_env

ASSETS = [
    raw_capture,
    quality_report,
    profile,
    privacy_report,
    drift_report,
    feature_set,
    *TEXT_ASSETS,
    privacy_budget,
    synthetic_sample,
    readiness_score,
]
CHECKS = [
    raw_capture_not_empty,
    raw_capture_conforms_to_schema,
    quality_score_meets_threshold,
    quality_metrics_within_history,
    drift_within_thresholds,
    feature_set_has_no_pii,
    *TEXT_CHECKS,
    privacy_budget_available,
    synthetic_sample_has_no_pii,
    synthetic_sample_is_useful,
]


def build_resources(lake: str | None = None, sources: str | None = None) -> dict[str, object]:
    """The resources, from arguments or ``SYNTHCAP_LAKE`` / ``SYNTHCAP_SOURCES``; lineage
    transports from the environment (see ``synthcap_resources.lineage.lineage_from_env``)."""
    root = lake or lake_root()
    return {
        "lakehouse": LakehouseResource(root=root),
        "catalog": CatalogResource(folder=sources or str(sources_dir())),
        "lineage": lineage_from_env(root),
        "alerts": AlertsResource.from_env(),
        "sources": sources_from_env(),
        # SYNTHCAP_DASK_ADDRESS: the profile asset's per-file split (in-process when unset).
        "dask": DaskResource.from_env(),
    }


def build_definitions(lake: str | None = None, sources: str | None = None) -> dg.Definitions:
    """synthcap's definitions over the given lake root and catalog folder."""
    return dg.Definitions(
        # Downstream assets and their checks follow a capture by declarative automation.
        assets=automated(ASSETS),
        asset_checks=automated_checks(CHECKS),
        jobs=[daily_partition_job, readiness_job, daily_capture_job, retention_job],
        schedules=[daily_capture_schedule, retention_schedule],
        sensors=[
            catalog_sensor,
            alert_sensor,
            stale_source_sensor,
            automation_sensor,
            landing_sensor,
            stream_sensor,
            *READINESS_SENSORS,
        ],
        resources=build_resources(lake, sources),
        # One process per run, steps in it: no per-step process paying the imports
        # (synthcap_assets/executor.py says why; SYNTHCAP_EXECUTOR picks another).
        executor=executor_from_env(),
    )


defs = build_definitions()
