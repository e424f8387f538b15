"""End to end on a real Dagster instance and real Delta tables: two sources × two days.

Runs the partition job in process against a temporary SQLite instance (`instance_for_test`)
and a temporary lake, then checks the lake, re-materialization, blocking checks and bad input.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from synthcap_assets.automation.schedules import daily_partition_job, readiness_job
from synthcap_assets.automation.sensors import CatalogSensorError
from synthcap_assets.capture.conform import conform
from synthcap_assets.definitions import ASSETS, CHECKS, build_definitions
from synthcap_assets.demo import step_errors
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.files import read_source_file
from synthcap_tests.conftest import copy_bundled

SOURCES = ("market_prices", "customers")
DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17))
REPORTS = ("quality_report", "profile", "privacy_report", "drift_report", "readiness_score")


class Lake:
    """A lake, a catalog and an instance, with a way to run one partition."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.sources = copy_bundled(root / "sources", *SOURCES)
        self.lakehouse = LakehouseResource(root=str(root / "lake"))
        self.instance = instance

    def run(self, source: str, day: dt.date) -> PartitionResults:
        """The partition run, then (when the capture landed) its readiness run, as
        ``synthcap materialize`` runs them."""
        if source not in self.instance.get_dynamic_partitions(SOURCE_DIMENSION):
            self.instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
        defs = build_definitions(lake=self.lakehouse.root, sources=str(self.sources))
        results = []
        for job in (daily_partition_job, readiness_job):
            results.append(
                defs.resolve_job_def(job.name).execute_in_process(
                    partition_key=partition_key(source, day),
                    instance=self.instance,
                    raise_on_error=False,
                )
            )
            if "raw_capture" not in _materialized(results[0]):
                break
        return PartitionResults(results)


class PartitionResults:
    """A partition's runs read as one result: success of all, their events together."""

    def __init__(self, results: list[dg.ExecuteInProcessResult]) -> None:
        self.results = results
        self.success = all(r.success for r in results)

    def get_asset_materialization_events(self) -> list:
        return [e for r in self.results for e in r.get_asset_materialization_events()]

    def get_asset_check_evaluations(self) -> list:
        return [e for r in self.results for e in r.get_asset_check_evaluations()]

    def get_step_failure_events(self) -> list:
        return [e for r in self.results for e in r.get_step_failure_events()]


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, dict]]:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path_factory.mktemp("pipeline"), instance)
        results = {(s, d): lake.run(s, d) for d in DAYS for s in SOURCES}
        yield lake, results


def _materialized(result: dg.ExecuteInProcessResult | PartitionResults) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_definitions_load_and_hold_every_asset_and_check() -> None:
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {a.key.to_user_string() for a in ASSETS}
    assert len(ASSETS) == 10 and len(CHECKS) == 13  # text_profile and 4 text checks
    assert all(a.partitions_def is not None for a in ASSETS)


USEFUL_CHECK = "synthetic_sample_is_useful"


def _held_only_by_the_usefulness_gate(result: PartitionResults) -> bool:
    """Every run succeeded, or the one thing that failed is the sample's usefulness verdict
    (small bundled days at epsilon 1 may honestly fall under the utility floor)."""
    failed = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    failed.discard("drift_within_thresholds")  # a warning, never blocks
    steps = {e.step_key for e in result.get_step_failure_events()}
    return result.success or (
        failed == {USEFUL_CHECK} and steps == {f"synthetic_sample_{USEFUL_CHECK}"}
    )


def test_every_partition_materializes_every_asset(demo_lake) -> None:
    lake, results = demo_lake
    outcomes = lake.lakehouse.read_table("reports/synthetic_outcome")
    for (source, day), result in results.items():
        key = (source, day)
        assert _held_only_by_the_usefulness_gate(result), key
        assert _materialized(result) == {a.key.to_user_string() for a in ASSETS}, key
        blocking = [
            c
            for c in result.get_asset_check_evaluations()
            if c.check_name not in ("drift_within_thresholds", USEFUL_CHECK)
        ]
        assert blocking and all(c.passed for c in blocking), key
        # The usefulness verdict is the one the outcome row records.
        (verdict,) = [
            c for c in result.get_asset_check_evaluations() if c.check_name == USEFUL_CHECK
        ]
        (outcome,) = outcomes.filter(pl.col("source") == source, pl.col("date") == day).rows(
            named=True
        )
        assert verdict.passed == outcome["passed"], (key, outcome["problems"])
    # market_prices (600 rows a day, declared bounds) makes a useful sample every day.
    assert all(r.success for (s, _), r in results.items() if s == "market_prices")


def test_report_tables_hold_one_partition_per_run(demo_lake) -> None:
    lake, _ = demo_lake
    for report in REPORTS:
        table = lake.lakehouse.read_table(f"reports/{report}")
        pairs = set(table.select("source", "date").unique().iter_rows())
        assert pairs == {(s, d) for s in SOURCES for d in DAYS}, report
    readiness = lake.lakehouse.read_table("reports/readiness_score")
    assert readiness.height == len(SOURCES) * len(DAYS)
    assert readiness["score"].is_between(0, 100).all()


def test_raw_rows_match_the_source_files(demo_lake) -> None:
    lake, _ = demo_lake
    for source in SOURCES:
        spec = parse_spec(lake.sources / f"{source}.yaml")
        for day in DAYS:
            raw = lake.lakehouse.read_partition(raw_table(source), {"_date": day})
            expected = read_source_file(spec, day)
            assert raw.select(expected.columns).equals(conform(expected, spec.declared_schema, ""))
            assert set(raw["_source"]) == {source} and set(raw["_date"]) == {day}
            assert raw["_captured_at"].null_count() == 0


def test_first_day_has_no_drift_reference_and_second_day_compares(demo_lake) -> None:
    lake, _ = demo_lake
    drift = lake.lakehouse.read_table("reports/drift_report")
    first = drift.filter(pl.col("date") == DAYS[0])
    assert set(first["kind"]) == {"no_reference"}
    second = drift.filter(pl.col("date") == DAYS[1], pl.col("source") == "market_prices")
    assert second.height >= 5 and second["psi"].is_not_null().any()


def test_no_pii_column_reaches_features_or_synthetic(demo_lake) -> None:
    lake, _ = demo_lake
    pii = {"name", "email", "phone", "address", "birth_date", "card_number", "zip"}
    generalized = {"birth_date", "zip"}  # quasi-identifiers: they flow on coarsened only
    synthetic = lake.lakehouse.read_table("synthetic/customers")
    if "birth_date" in synthetic.columns:  # a year of birth, never a date
        assert synthetic["birth_date"].dtype.is_integer()
        assert synthetic["birth_date"].drop_nulls().is_between(1900, 2026).all()
    if "zip" in synthetic.columns:  # a 3-digit prefix, never a whole postcode
        assert synthetic["zip"].drop_nulls().str.len_chars().max() <= 3
    for table in ("features/customers", "synthetic/customers"):
        frame = lake.lakehouse.read_table(table)
        allowed = generalized
        columns = set(frame.columns)
        assert not columns & (pii - allowed), table
        derived = [c for c in columns if c.startswith(tuple(f"{p}__" for p in pii))]
        assert {c.split("__")[0] for c in derived} <= allowed, table
        for column in derived:  # a birth year has a few dozen values, a birth date hundreds
            per_day = frame.group_by("_date").agg(pl.col(column).n_unique().alias("n"))
            assert per_day["n"].max() <= 100, column


def test_rematerializing_a_partition_leaves_one_copy_and_others_untouched(demo_lake) -> None:
    lake, _ = demo_lake
    tables = [raw_table(s) for s in SOURCES] + [f"reports/{r}" for r in REPORTS]
    before = {t: lake.lakehouse.read_table(t) for t in tables}
    assert _held_only_by_the_usefulness_gate(lake.run("customers", DAYS[1]))
    for table, old in before.items():
        new = lake.lakehouse.read_table(table)
        key = "_date" if table.startswith("raw/") else "date"
        src = "_source" if table.startswith("raw/") else "source"
        redone = (pl.col(src) == "customers") & (pl.col(key) == DAYS[1])
        assert new.filter(redone).height == old.filter(redone).height, table
        untouched_old = old.filter(~redone).sort(pl.all())
        untouched_new = new.filter(~redone).select(old.columns).sort(pl.all())
        assert untouched_new.equals(untouched_old), table


def test_failed_blocking_check_stops_downstream(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        spec_path = lake.sources / "customers.yaml"
        spec = yaml.safe_load(spec_path.read_text())
        spec["quality"]["threshold"] = 100  # the bundled rule "phone not null" fails for ~5%
        spec_path.write_text(yaml.safe_dump(spec))
        result = lake.run("customers", DAYS[0])
        failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
        assert "quality_score_meets_threshold" in failed
        assert set(failed) <= {"quality_score_meets_threshold", USEFUL_CHECK}
        assert "quality_report" in _materialized(result)
        assert not result.results[0].success  # the blocked partition run
        # The readiness run after the blocked partition run still writes the day's row.
        assert "readiness_score" in _materialized(result)
        readiness = lake.lakehouse.read_table("reports/readiness_score")
        assert readiness.filter(pl.col("source") == "customers").height == 1


def _feed(lake: Lake, like: str, source_id: str, text: str) -> None:
    """A new source shaped like bundled ``like`` whose first day's file holds ``text``."""
    spec = yaml.safe_load((lake.sources / f"{like}.yaml").read_text())
    spec.update(id=source_id, location="feed/{date}.csv")
    (lake.sources / f"{source_id}.yaml").write_text(yaml.safe_dump(spec))
    (lake.sources / "feed").mkdir(exist_ok=True)
    (lake.sources / "feed" / f"{DAYS[0]}.csv").write_text(text)


def test_malformed_file_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        _feed(
            lake, "customers", "broken_feed", 'customer_id,name\nC1,Ann\nC2,"unterminated\nC3,x\n'
        )
        result = lake.run("broken_feed", DAYS[0])
        assert not result.success
        message = " ".join(step_errors(result))
        assert "source 'broken_feed', partition 2026-11-16" in message
        assert lake.lakehouse.delta_table(raw_table("broken_feed")) is None
        assert _materialized(result) == set()


def test_wrong_type_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        prices = parse_spec(lake.sources / "market_prices.yaml").resolve_location(DAYS[0])
        lines = Path(prices).read_text().splitlines()
        header, first = lines[0].split(","), lines[1].split(",")
        first[header.index("volume")] = "lots"
        lines[1] = ",".join(first)
        _feed(lake, "market_prices", "bad_prices", "\n".join(lines) + "\n")
        result = lake.run("bad_prices", DAYS[0])
        message = " ".join(step_errors(result))
        assert "column 'volume' declared int" in message and "'lots'" in message
        assert lake.lakehouse.delta_table(raw_table("bad_prices")) is None


def test_bad_spec_fails_its_own_runs_only(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        (lake.sources / "oops.yaml").write_text("id: oops\ntitle: x\nkind: file\n")
        result = lake.run("oops", DAYS[0])
        message = " ".join(step_errors(result))
        assert "oops.yaml" in message and "field 'license'" in message
        assert lake.run("market_prices", DAYS[0]).success


def test_sensor_registers_new_sources_and_reports_bad_specs(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        (lake.sources / "oops.yaml").write_text("id: oops\n")
        defs = build_definitions(lake=lake.lakehouse.root, sources=str(lake.sources))
        sensor = defs.resolve_sensor_def("catalog_sensor")
        context = dg.build_sensor_context(instance=instance, resources=defs.resources)
        # The valid specs are registered first, then the tick fails naming the bad file.
        with pytest.raises(CatalogSensorError, match="oops.yaml"):
            sensor(context)
        assert sorted(instance.get_dynamic_partitions(SOURCE_DIMENSION)) == sorted(SOURCES)
        (lake.sources / "oops.yaml").unlink()
        again = sensor(dg.build_sensor_context(instance=instance, resources=defs.resources))
        assert not again.dynamic_partitions_requests
        assert again.skip_reason.skip_message == "no new sources"


def test_schedule_requests_yesterday_for_registered_enabled_sources(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path, instance)
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["market_prices"])
        defs = build_definitions(lake=lake.lakehouse.root, sources=str(lake.sources))
        schedule = defs.resolve_schedule_def("daily_capture_schedule")
        context = dg.build_schedule_context(
            instance=instance,
            resources=defs.resources,
            scheduled_execution_time=dt.datetime(2026, 11, 19, 6, tzinfo=dt.UTC),
        )
        requests = schedule(context)
        assert [r.partition_key for r in requests] == [
            partition_key("market_prices", dt.date(2026, 11, 18))
        ]


def test_range_profile_from_day_profiles_equals_a_direct_profile(
    demo_lake: tuple[Lake, dict], capsys: pytest.CaptureFixture
) -> None:
    from synthcap_assets.cli import main
    from synthcap_assets.profile.cli import range_profile
    from synthcap_assets.profile.stats import profile_frame

    lake, _ = demo_lake
    merged, days = range_profile(lake.lakehouse, "customers", DAYS[0], DAYS[1])
    assert days == list(DAYS)
    raw = pl.concat(
        [lake.lakehouse.read_partition(raw_table("customers"), {"_date": d}) for d in DAYS],
        how="diagonal_relaxed",
    )
    direct = {r["column"]: r for r in profile_frame(raw).iter_rows(named=True)}
    for row in merged.iter_rows(named=True):
        want = direct[row["column"]]
        assert (row["count"], row["nulls"]) == (want["count"], want["nulls"])
        if want["distinct_exact"]:
            assert row["distinct"] == want["distinct"]
        if want["mean"] is not None:
            assert row["mean"] == pytest.approx(want["mean"], rel=1e-9)
            assert row["min"] == want["min"] and row["max"] == want["max"]
    assert (
        main(
            [
                "profile",
                "--source",
                "customers",
                "--from",
                str(DAYS[0]),
                "--to",
                str(DAYS[1]),
                "--lake",
                lake.lakehouse.root,
                "--format",
                "json",
            ]
        )
        == 0
    )
    printed = {r["column"]: r for r in json.loads(capsys.readouterr().out)}
    assert printed.keys() == direct.keys()
    assert all(printed[c]["count"] == direct[c]["count"] for c in printed)
    missing = ["profile", "--source", "nope", "--from", "2026-11-16", "--to", "2026-11-17"]
    assert main([*missing, "--lake", lake.lakehouse.root]) == 1
