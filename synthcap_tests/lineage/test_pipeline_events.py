"""OpenLineage events of a real run: one source × two days on a real Dagster instance.

Day one runs with a loopback HTTP receiver up, day two with it down; then it comes back and the
queued events are flushed. Every event is checked against the spec, and its facets against the
Delta tables themselves and against numpy on the raw rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import numpy as np
import pytest
from deltalake import DeltaTable

from synthcap_assets.definitions import ASSETS, CHECKS, build_resources
from synthcap_assets.lineage.cli import lineage_command, read_events
from synthcap_assets.lineage.events import lineage_run_id
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.lineage import Delivery, LineageResource, event_key
from synthcap_tests.conftest import copy_bundled
from synthcap_tests.lineage.receiver import LineageReceiver
from synthcap_tests.lineage.schemas import validate_event

SOURCE = "market_prices"
DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17))
JOBS = {a.key.to_user_string() for a in ASSETS} | {
    f"{c.check_key.asset_key.to_user_string()}.{c.check_key.name}" for c in CHECKS
}


@dataclass
class Run:
    lakehouse: LakehouseResource
    lineage: LineageResource
    sources: Path
    results: dict[dt.date, dg.ExecuteInProcessResult]
    receiver: LineageReceiver
    received_day_one: list[dict]
    queued_while_down: dict[str, int]
    received_while_down: int
    flushed: Delivery
    flushed_again: Delivery

    @property
    def events(self) -> list[dict]:
        return read_events(self.lineage.events_path())

    def day_events(self, day: dt.date) -> list[dict]:
        run_id = self.results[day].run_id
        return [e for e in self.events if e["run"]["facets"]["parent"]["run"]["runId"] == run_id]

    def completed(self, day: dt.date, job: str) -> dict:
        (event,) = [
            e
            for e in self.day_events(day)
            if e["job"]["name"] == job and e["eventType"] == "COMPLETE"
        ]
        return event


# Every asset and check of a partition in one run, readiness_score included (the project's
# daily_partition_job leaves readiness_score to a run of its own), so that one Dagster run
# holds every lineage event of a day.
EVERY_ASSET_JOB = dg.define_asset_job("every_asset_job", selection=dg.AssetSelection.all())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("lineage_run")
    sources = copy_bundled(root / "sources", SOURCE)
    lake = str(root / "lake")
    receiver = LineageReceiver().start()
    lineage = LineageResource(
        lake=lake, transports=["file", "http"], url=receiver.url, retries=0, cooldown_s=0
    )
    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[EVERY_ASSET_JOB],
        resources={**build_resources(lake, str(sources)), "lineage": lineage},
    )
    job = defs.resolve_job_def(EVERY_ASSET_JOB.name)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])

        def execute(day: dt.date) -> dg.ExecuteInProcessResult:
            key = partition_key(SOURCE, day)
            return job.execute_in_process(partition_key=key, instance=instance)

        first = execute(DAYS[0])
        received_day_one = list(receiver.events)
        receiver.stop()
        second = execute(DAYS[1])
        queued, received_while_down = lineage.pending(), len(receiver.events)
        receiver.start()
        try:
            yield Run(
                lakehouse=LakehouseResource(root=lake),
                lineage=lineage,
                sources=sources,
                results={DAYS[0]: first, DAYS[1]: second},
                receiver=receiver,
                received_day_one=received_day_one,
                queued_while_down=queued,
                received_while_down=received_while_down,
                flushed=lineage.flush(),
                flushed_again=lineage.flush(),
            )
        finally:
            receiver.stop()


def test_every_event_of_the_run_validates_against_the_spec(run: Run) -> None:
    assert all(result.success for result in run.results.values())
    assert len(run.events) == 2 * 2 * len(JOBS)
    for event in run.events:
        validate_event(event)


def test_each_job_starts_once_then_completes_once_under_its_dagster_run(run: Run) -> None:
    for day, result in run.results.items():
        by_run: dict[str, list[dict]] = defaultdict(list)
        for event in run.day_events(day):
            by_run[event["run"]["runId"]].append(event)
        assert {events[0]["job"]["name"] for events in by_run.values()} == JOBS
        for run_id, events in by_run.items():
            assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
            assert run_id == lineage_run_id(result.run_id, events[0]["job"]["name"])
            facets = events[1]["run"]["facets"]
            assert facets["parent"]["job"]["name"] == EVERY_ASSET_JOB.name
            assert facets["nominalTime"]["nominalStartTime"] == f"{day}T00:00:00Z"
            next_day = day + dt.timedelta(days=1)
            assert facets["nominalTime"]["nominalEndTime"] == f"{next_day}T00:00:00Z"
            assert facets["processing_engine"]["version"] == dg.__version__


def _delta_path(run: Run, output: dict) -> str:
    assert output["namespace"] == Path(run.lakehouse.uri("")).as_uri()
    return run.lakehouse.uri(output["name"])


def _typed(column: str, value: str) -> object:
    return dt.date.fromisoformat(value) if column in ("date", "_date") else value


def test_outputs_match_the_delta_tables_they_describe(run: Run) -> None:
    checked = 0
    for day in DAYS:
        for event in run.day_events(day):
            if event["eventType"] != "COMPLETE":
                continue
            for output in event["outputs"]:
                version = int(output["facets"]["version"]["datasetVersion"])
                table = DeltaTable(_delta_path(run, output), version=version)
                (partition,) = output["outputFacets"]["subset"]["outputCondition"]["partitions"]
                filters = [(k, "=", v) for k, v in partition["dimensions"].items()]
                typed = [(k, op, _typed(k, v)) for k, op, v in filters]
                stats = output["outputFacets"]["outputStatistics"]
                assert table.to_pyarrow_table(filters=typed).num_rows == stats["rowCount"]
                files = [
                    urlsplit(uri).path for uri in table.file_uris(file_pruning_predicate=filters)
                ]
                assert stats["fileCount"] == len(files) >= 1
                assert stats["size"] == sum(os.path.getsize(f) for f in files)
                written = [f["name"] for f in output["facets"]["schema"]["fields"]]
                assert set(written) <= {f.name for f in table.schema().fields}
                checked += 1
    # synthetic_sample also writes synthetic_utility and synthetic_outcome; text_profile writes
    # nothing for a source that is not text (market_prices)
    assert checked == 2 * (len(ASSETS) + 2 - 1)


def test_raw_versions_are_the_commits_of_each_day(run: Run) -> None:
    versions = [
        run.completed(day, "raw_capture")["outputs"][0]["facets"]["version"]["datasetVersion"]
        for day in DAYS
    ]
    assert versions == ["0", "1"]
    assert run.lakehouse.delta_table(raw_table(SOURCE)).version() == 1


def test_profile_publishes_metrics_matching_numpy_on_the_raw_rows(run: Run) -> None:
    day = DAYS[1]
    (raw_input,) = run.completed(day, "profile")["inputs"]
    assert raw_input["name"] == raw_table(SOURCE)
    metrics = raw_input["inputFacets"]["dataQualityMetrics"]
    rows = run.lakehouse.read_partition(raw_table(SOURCE), {"_date": day})
    assert metrics["rowCount"] == rows.height
    for column in ("close", "volume"):
        values = rows[column].cast(float).drop_nulls().to_numpy()
        got = metrics["columnMetrics"][column]
        assert got["nullCount"] == rows[column].null_count()
        assert got["distinctCount"] == np.unique(values).size
        assert got["min"] == pytest.approx(values.min()) and got["max"] == pytest.approx(
            values.max()
        )
        assert got["quantiles"]["0.5"] == pytest.approx(np.median(values), rel=1e-9)
    assert metrics["columnMetrics"]["ticker"]["distinctCount"] == rows["ticker"].n_unique()


def _input_fields(output: dict, column: str) -> list[tuple]:
    fields = output["facets"]["columnLineage"]["fields"][column]["inputFields"]
    return [(f["name"], f["field"], f["transformations"][0]["description"]) for f in fields]


def test_column_lineage_of_features_and_synthetic_columns(run: Run) -> None:
    (features,) = run.completed(DAYS[0], "feature_set")["outputs"]
    assert _input_fields(features, "close__z") == [
        (raw_table(SOURCE), "close", "feature extraction")
    ]
    assert _input_fields(features, "ticker") == [(raw_table(SOURCE), "ticker", "copied")]
    synthetic = next(
        o
        for o in run.completed(DAYS[0], "synthetic_sample")["outputs"]
        if o["name"].startswith("synthetic/")
    )
    lineage = synthetic["facets"]["columnLineage"]["fields"]
    assert "close" in lineage
    for column, derivation in lineage.items():
        (field,) = derivation["inputFields"]
        assert (field["name"], field["field"]) == (raw_table(SOURCE), column)
        assert field["transformations"][0]["description"] == "DP synthesis (MST)"
        assert field["transformations"][0]["masking"] is True


def _partitions(dataset: dict) -> list[dict]:
    return dataset["inputFacets"]["subset"]["inputCondition"]["partitions"]


def test_inputs_are_the_partitions_actually_read(run: Run) -> None:
    assert run.completed(DAYS[0], "drift_report")["inputs"] == []  # no reference the first day
    # drift_report compares the day's captured rows with the previous day's captured rows.
    inputs = run.completed(DAYS[1], "drift_report")["inputs"]
    assert {i["name"] for i in inputs} == {raw_table(SOURCE)}
    read = [_partitions(i)[0]["dimensions"] for i in inputs]
    assert sorted(read, key=str) == [{"_date": str(DAYS[0])}, {"_date": str(DAYS[1])}]
    feature_inputs = {i["name"] for i in run.completed(DAYS[1], "feature_set")["inputs"]}
    assert feature_inputs == {raw_table(SOURCE), "reports/privacy_report"}
    (source_file,) = run.completed(DAYS[1], "raw_capture")["inputs"]
    spec = parse_spec(run.sources / f"{SOURCE}.yaml")
    assert (source_file["namespace"], source_file["name"]) == (
        "file",
        spec.resolve_location(DAYS[1]),
    )


def test_checks_are_assertions_on_the_dataset_they_checked(run: Run) -> None:
    for day, result in run.results.items():
        evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
        assert len(evaluations) == len(CHECKS)
        for name, evaluation in evaluations.items():
            asset = evaluation.asset_key.to_user_string()
            event = run.completed(day, f"{asset}.{name}")
            (checked,) = event["inputs"]
            expected = raw_table(SOURCE) if asset == "raw_capture" else None
            assert checked["name"] == (expected or checked["name"])
            (assertion,) = checked["inputFacets"]["dataQualityAssertions"]["assertions"]
            assert assertion["assertion"] == name
            assert assertion["success"] is evaluation.passed
            # "error" where the check blocks what follows, "warn" where it only reports
            blocking = {spec.name: spec.blocking for c in CHECKS for spec in c.check_specs}
            assert assertion["severity"] == ("error" if blocking[name] else "warn")
            if name in ("drift_within_thresholds", "quality_metrics_within_history"):
                assert assertion["severity"] == "warn", name
            (test,) = event["run"]["facets"]["testRun"]["tests"]
            assert test["status"] == ("pass" if evaluation.passed else "fail")
    names = {e["inputs"][0]["name"] for e in run.day_events(DAYS[0]) if "." in e["job"]["name"]}
    assert names == {
        raw_table(SOURCE),
        "reports/quality_report",
        "reports/drift_report",
        "reports/privacy_budget",
        "reports/text_profile",  # the text gates judge it (they pass: not a text source)
        f"features/{SOURCE}",
        f"synthetic/{SOURCE}",
    }


def test_catalog_owner_and_description_reach_the_source_tables(run: Run) -> None:
    spec = parse_spec(run.sources / f"{SOURCE}.yaml")
    (raw,) = run.completed(DAYS[0], "raw_capture")["outputs"]
    assert raw["facets"]["ownership"]["owners"] == [{"name": spec.owner, "type": "MAINTAINER"}]
    assert spec.title in raw["facets"]["documentation"]["description"]
    (profile,) = run.completed(DAYS[0], "profile")["outputs"]
    assert "ownership" not in profile["facets"]  # a report table holds every source
    assert profile["facets"]["documentation"]["description"].startswith("Statistical profile")


def test_the_receiver_got_day_one_in_order(run: Run) -> None:
    assert run.received_day_one == run.day_events(DAYS[0])
    assert all(e["job"]["namespace"] == "synthcap" for e in run.received_day_one)


def test_events_queued_while_the_receiver_was_down_arrive_in_order_exactly_once(run: Run) -> None:
    assert all(result.success for result in run.results.values())
    assert run.received_while_down == len(run.received_day_one)
    assert run.queued_while_down == {"http": len(run.day_events(DAYS[1]))}
    assert run.flushed.delivered == len(run.day_events(DAYS[1])) and not run.flushed.queued
    assert run.flushed_again.delivered == 0
    assert run.receiver.events == run.events
    assert len({event_key(e) for e in run.receiver.events}) == len(run.receiver.events)


def _lineage(run: Run, capsys, table: str, column: str | None = None) -> tuple[int, str]:
    args = argparse.Namespace(
        table=table, column=column, lake=run.lakehouse.root, events=None, flush=False
    )
    code = lineage_command(args)
    return code, capsys.readouterr().out


def test_cli_prints_upstream_and_downstream_tables_and_columns(run: Run, capsys) -> None:
    code, out = _lineage(run, capsys, "feature_set__market_prices")
    upstream, downstream = out.split("downstream:")
    assert code == 0 and out.startswith(f"features/{SOURCE}\n")
    assert f"  {raw_table(SOURCE)}  [feature_set]" in upstream
    assert "reports/privacy_report  [feature_set]" in upstream
    assert "bundled" not in upstream and "2026-11-16.csv" in upstream  # the source file, 2 hops
    assert "(none)" in downstream
    code, out = _lineage(run, capsys, f"features/{SOURCE}", "close__z")
    upstream, downstream = out.split("downstream:")
    assert f"{raw_table(SOURCE)}.close  [feature extraction]" in upstream
    code, out = _lineage(run, capsys, raw_table(SOURCE), "close")
    downstream = out.split("downstream:")[1]
    assert f"features/{SOURCE}.close__z" in downstream
    assert f"synthetic/{SOURCE}.close  [DP synthesis (MST)]" in downstream
    assert _lineage(run, capsys, "nowhere/at_all")[0] == 1
