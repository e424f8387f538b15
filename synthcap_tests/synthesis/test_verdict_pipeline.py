"""Verdicts on a real Dagster instance and real Delta tables: a refused synthesis and a sample
under its utility floor each fail the blocking usefulness check, the partition run ends, the
readiness sensor asks for a readiness run, and that run writes the row, capped and saying why;
a missing upstream report makes its component unknown instead of costing the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from synthcap_assets.automation.readiness_sensor import readiness_after_failure
from synthcap_assets.automation.schedules import daily_partition_job, readiness_job
from synthcap_assets.definitions import build_definitions
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.synthesis.readiness import SAMPLE_CAP
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled

DAY = dt.date(2026, 11, 16)


class Lake:
    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.sources = copy_bundled(root / "sources", "customers", "market_prices")
        self.lakehouse = LakehouseResource(root=str(root / "lake"))
        self.instance = instance

    def defs(self) -> dg.Definitions:
        return build_definitions(lake=self.lakehouse.root, sources=str(self.sources))

    def run(self, job: str, source: str) -> dg.ExecuteInProcessResult:
        if source not in self.instance.get_dynamic_partitions(SOURCE_DIMENSION):
            self.instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
        return (
            self.defs()
            .resolve_job_def(job)
            .execute_in_process(
                partition_key=partition_key(source, DAY),
                instance=self.instance,
                raise_on_error=False,
            )
        )

    def row(self, table: str, source: str) -> dict:
        rows = self.lakehouse.read_partition(f"reports/{table}", {"source": source, "date": DAY})
        assert rows is not None and rows.height == 1, table
        return rows.row(0, named=True)


def _tiny_source(lake: Lake) -> None:
    """30 rows of (id, amount, kind): too few for epsilon 1 to reveal any column's domain."""
    spec = yaml.safe_load((lake.sources / "customers.yaml").read_text())
    for key in ("schema", "pii", "quasi_identifiers"):
        spec.pop(key, None)
    spec["privacy"] = {"epsilon": 1.0}
    spec["quality"] = {"threshold": 0}
    spec.update(id="tiny", location="tiny/{date}.csv", subject="entity")
    (lake.sources / "tiny.yaml").write_text(yaml.safe_dump(spec))
    rng = np.random.default_rng(0)
    frame = pl.DataFrame(
        {
            "id": [f"T{i:03d}" for i in range(30)],
            "amount": rng.gamma(2.0, 30.0, 30).round(2),
            "kind": rng.choice(["a", "b", "c"], 30),
        }
    )
    (lake.sources / "tiny").mkdir(exist_ok=True)
    frame.write_csv(lake.sources / "tiny" / f"{DAY}.csv")


def _demanding_prices(lake: Lake) -> None:
    """market_prices as bundled, but asking a utility no DP sample reaches."""
    path = lake.sources / "market_prices.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["privacy"]["utility_floor"] = 0.995
    path.write_text(yaml.safe_dump(spec))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    with dg.instance_for_test() as instance:
        lake = Lake(tmp_path_factory.mktemp("verdicts"), instance)
        _tiny_source(lake)
        _demanding_prices(lake)
        yield lake


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def _ledger_spend(lake: Lake, source: str, run_id: str) -> float:
    ledger = pl.read_delta(lake.lakehouse.uri("audit/privacy_budget"))
    mine = ledger.filter((pl.col("source") == source) & (pl.col("run_id") == run_id))
    return float(mine["epsilon"].sum())


def _sensor_request(lake: Lake, result: dg.ExecuteInProcessResult) -> dg.RunRequest:
    run = lake.instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name=readiness_after_failure.name,
        dagster_event=failure,
        dagster_instance=lake.instance,
        dagster_run=run,
        resources={"lakehouse": lake.lakehouse},
    )
    request = readiness_after_failure(context)
    assert isinstance(request, dg.RunRequest), request
    return request


def test_a_refused_synthesis_fails_its_check_and_still_gets_a_readiness_row(lake: Lake) -> None:
    result = lake.run(daily_partition_job.name, "tiny")
    assert not result.success  # the blocking usefulness check failed
    checks = _checks(result)
    assert checks["synthetic_sample_is_useful"] is False
    assert checks["synthetic_sample_has_no_pii"] is True  # no sample, nothing to leak
    outcome = lake.row("synthetic_outcome", "tiny")
    assert outcome["status"] == "refused" and outcome["reason"]
    assert outcome["passed"] is False
    dropped = {d["column"] for d in outcome["dropped"]}
    assert dropped == {"id", "amount", "kind"}  # nothing synthesized: every column says why
    assert lake.lakehouse.read_partition("synthetic/tiny", {"_date": DAY}) is None
    # write-ahead ledger: what the outcome says was spent is what the ledger holds for the run
    assert outcome["spent_epsilon"] == pytest.approx(_ledger_spend(lake, "tiny", result.run_id))

    request = _sensor_request(lake, result)
    assert request.partition_key == str(partition_key("tiny", DAY))
    assert request.run_key == f"readiness:{result.run_id}"
    scored = lake.run(readiness_job.name, "tiny")
    assert scored.success
    row = lake.row("readiness_score", "tiny")
    assert row["synthesis"] == "refused" and row["score"] <= SAMPLE_CAP
    assert row["utility"] == 0.0
    advice = row["recommendations"]
    assert f"synthesis refused: {outcome['reason']}" in advice
    assert all(a in advice for a in outcome["actions"])
    assert all(
        any(r.startswith(f"column {c} is not in the sample") for r in advice) for c in dropped
    )
    assert any(u.startswith("volume: delivery size unknown: 0 of 3 days") for u in row["unknown"])


def test_a_missing_report_makes_its_component_unknown_not_the_row(lake: Lake) -> None:
    lake.lakehouse.delete_where("reports/quality_report", "source = 'tiny'")
    lake.lakehouse.delete_where("reports/synthetic_outcome", "source = 'tiny'")
    assert lake.run(readiness_job.name, "tiny").success
    row = lake.row("readiness_score", "tiny")
    assert row["quality"] is None and row["utility"] is None and row["score"] <= SAMPLE_CAP
    unknown = " ".join(row["unknown"])
    assert "quality: quality_report has no rows" in unknown
    assert "utility: synthetic_sample recorded no outcome" in unknown


def test_a_sample_under_its_utility_floor_fails_its_check_and_scores_capped(lake: Lake) -> None:
    result = lake.run(daily_partition_job.name, "market_prices")
    assert not result.success
    assert _checks(result)["synthetic_sample_is_useful"] is False
    outcome = lake.row("synthetic_outcome", "market_prices")
    assert outcome["status"] == "sample" and outcome["sample_rows"] > 0
    assert 0 < outcome["utility"] < 0.995
    assert any("< floor 0.995" in p for p in outcome["problems"])
    assert lake.lakehouse.read_partition("synthetic/market_prices", {"_date": DAY}) is not None
    spent = _ledger_spend(lake, "market_prices", result.run_id)
    assert outcome["spent_epsilon"] == pytest.approx(spent) == pytest.approx(3.0)  # all of it
    _sensor_request(lake, result)
    assert lake.run(readiness_job.name, "market_prices").success
    row = lake.row("readiness_score", "market_prices")
    assert row["synthesis"] == "sample" and row["score"] <= SAMPLE_CAP
    assert row["utility"] == pytest.approx(100 * outcome["utility"])
    assert any("sample fails its check: utility" in r for r in row["recommendations"])
