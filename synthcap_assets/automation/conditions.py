"""Declarative automation: downstream assets of a partition follow its capture on their own.

The daily schedule only captures (``raw_capture`` and its checks). Every other asset carries
:func:`after_capture`: it materializes a partition when an upstream partition of it updated
(or it is newly missing), no dependency is missing or in progress, and every blocking check
of its dependencies passed — so a partition whose capture failed its schema or emptiness
check, or whose quality report failed its threshold, goes no further. Unlike
``AutomationCondition.eager()`` it considers every date, not only the latest (captures and
backfills land on past days), and ``drift_report`` does not wait for the previous day's
profile, which a source's first day never has.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence

import dagster as dg

AUTOMATION_SENSOR = "synthcap_automation_sensor"
# Dependencies that may be missing without holding an asset back: (asset, dependency).
OPTIONAL_DEPS = {"drift_report": ["profile"]}
CAPTURE_ASSET = "raw_capture"
DAILY_CRON = "0 6 * * *"


def after_capture(optional_deps: Sequence[str] = ()) -> dg.AutomationCondition:
    """Materialize after an upstream update once every upstream blocking check passed."""
    AC = dg.AutomationCondition
    missing = AC.any_deps_missing()
    if optional_deps:
        missing = missing.ignore(dg.AssetSelection.assets(*optional_deps))
    return (
        (AC.newly_missing() | AC.any_deps_updated()).since_last_handled()
        & ~missing
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & AC.all_deps_blocking_checks_passed()
    ).with_label("after_capture_once_gates_pass")


def capture_freshness() -> dg.FreshnessPolicy:
    """``raw_capture`` as a whole: captured at least once per day by the 06:00 deadline."""
    return dg.FreshnessPolicy.cron(deadline_cron=DAILY_CRON, lower_bound_delta=dt.timedelta(days=1))


def _automate(spec: dg.AssetSpec) -> dg.AssetSpec:
    name = spec.key.to_user_string()
    if name == CAPTURE_ASSET:
        return spec.replace_attributes(freshness_policy=capture_freshness())
    return spec.replace_attributes(automation_condition=after_capture(OPTIONAL_DEPS.get(name, ())))


def automated(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """``assets`` with the automation conditions and freshness policy above."""
    return list(dg.map_asset_specs(_automate, list(assets)))


def check_condition() -> dg.AutomationCondition:
    """A check runs whenever its asset partition updates (in the same run when both are
    requested together), on every date."""
    AC = dg.AutomationCondition
    return AC.eager().without(AC.in_latest_time_window()).with_label("with_its_asset")


def automated_checks(checks: Iterable[dg.AssetChecksDefinition]) -> list[dg.AssetChecksDefinition]:
    """``checks`` of automated assets with :func:`check_condition`; ``raw_capture``'s checks
    stay as they are (they run in the capture job itself).

    Dagster has no public way to set a condition on an existing check definition, so the
    definition is rebuilt from its attributes with the condition in each check spec.
    """
    out = []
    for checks_def in checks:
        attrs = checks_def.get_attributes_dict()
        specs = attrs["check_specs_by_output_name"]
        if all(spec.asset_key.to_user_string() == CAPTURE_ASSET for spec in specs.values()):
            out.append(checks_def)
            continue
        attrs["check_specs_by_output_name"] = {
            name: spec._replace(automation_condition=check_condition())
            for name, spec in specs.items()
        }
        out.append(type(checks_def)(**attrs))
    return out


automation_sensor = dg.AutomationConditionSensorDefinition(
    AUTOMATION_SENSOR,
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=int(os.environ.get("SYNTHCAP_AUTOMATION_INTERVAL_S", "30")),
    description="Materializes downstream partitions after a capture once blocking checks pass.",
)
