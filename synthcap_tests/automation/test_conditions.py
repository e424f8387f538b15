"""Declarative automation, evaluated tick by tick on a real instance: a capture that passes its
blocking checks pulls its downstream partition along; one that fails them does not; the
schedule only captures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg

from synthcap_assets.automation.conditions import OPTIONAL_DEPS, after_capture
from synthcap_assets.automation.schedules import daily_capture_job
from synthcap_assets.definitions import build_definitions
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_tests.automation.scenario import (
    DAY1,
    DAY2,
    SOURCE,
    scenario_definitions,
    write_sources,
)

CAPTURE = dg.AssetSelection.assets("raw_capture")
DOWNSTREAM = ("quality_report", "profile", "privacy_report", "drift_report", "readiness_score")


def _capture(defs: dg.Definitions, instance: dg.DagsterInstance, day: dt.date) -> None:
    job = dg.define_asset_job("capture", selection=CAPTURE).resolve(
        asset_graph=defs.resolve_asset_graph(), resource_defs=defs.resources
    )
    job.execute_in_process(
        partition_key=partition_key(SOURCE, day), instance=instance, raise_on_error=False
    )


def test_downstream_follows_a_capture_only_past_its_blocking_checks(tmp_path: Path) -> None:
    defs = scenario_definitions(str(tmp_path / "lake"), write_sources(tmp_path / "sources"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.total_requested == 0  # nothing captured yet
        _capture(defs, instance, DAY1)
        after_good = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=first.cursor
        )
        key = partition_key(SOURCE, DAY1)
        # Everything downstream is requested in one tick: quality_report's blocking check runs
        # in that same run and, should it fail, stops the assets below it there.
        for asset in DOWNSTREAM:
            assert after_good.get_requested_partitions(dg.AssetKey(asset)) == {key}, asset
        check = dg.AssetCheckKey(dg.AssetKey("quality_report"), "quality_score_meets_threshold")
        (check_result,) = [r for r in after_good.results if r.key == check]
        assert check_result.true_subset.size == 1
        _capture(defs, instance, DAY2)  # breaks its frozen contract
        after_bad = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=after_good.cursor
        )
        assert after_bad.total_requested == 0


def test_schedule_captures_only_and_every_downstream_asset_is_automated() -> None:
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def(daily_capture_job.name)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {"raw_capture"}
    schedule = defs.resolve_schedule_def("daily_capture_schedule")
    assert schedule.job_name == daily_capture_job.name
    for key in graph.get_all_asset_keys():
        condition = graph.get(key).automation_condition
        if key.to_user_string() == "raw_capture":
            assert condition is None
            assert graph.get(key).freshness_policy is not None
        else:
            assert condition is not None, key
            assert condition.get_label() == "after_capture_once_gates_pass"
    assert OPTIONAL_DEPS == {"drift_report": ["profile"]}
    assert "all_deps_blocking_checks_passed" in str(after_capture())
