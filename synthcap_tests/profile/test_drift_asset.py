"""The drift_report asset on a real Dagster instance and a real Delta lake: it compares the
day's captured rows with the previous day's captured rows (not a profile), says "no
reference" on the first day, and its check warns on a planted shift.

Three days of a real table (``cars`` from ``vega_datasets``: car-model names, missing values)
are captured from CSV files by ``raw_capture``: day 1 and day 2 are random halves, day 3 is
day 2 with ``Horsepower`` moved by one standard deviation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.profile.assets import drift_report, drift_within_thresholds
from synthcap_assets.profile.drift import drift_between, drift_thresholds
from synthcap_resources.catalog import DriftSpec
from synthcap_resources.lakehouse import LakehouseResource, raw_table, report_table
from synthcap_resources.sources.registry import SourcesResource
from synthcap_tests.profile.real_tables import random_halves, real_table

SOURCE = "cars"
DAYS = [dt.date(2026, 12, 1) + dt.timedelta(days=i) for i in range(3)]
SPEC = """\
id: cars
title: cars (real table from vega_datasets)
kind: file
location: {folder}/{{date}}.csv
format: csv
start_date: 2026-12-01
license: BSD-3-Clause
terms_url: https://github.com/altair-viz/vega_datasets
domain: tabular
subject: entity
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakehouseResource, list]:
    root = tmp_path_factory.mktemp("drift_asset")
    folder, sources = root / "data", root / "sources"
    folder.mkdir()
    sources.mkdir()
    first, second = random_halves(real_table("cars").drop("Year"), seed=5)
    moved = second.with_columns(pl.col("Horsepower") + second["Horsepower"].std())
    for day, frame in zip(DAYS, (first, second, moved), strict=True):
        frame.write_csv(Path(folder) / f"{day}.csv")
    (sources / "cars.yaml").write_text(SPEC.format(folder=folder))
    resources = build_resources(lake=str(root / "lake"), sources=str(sources))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    results = []
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        for day in DAYS:
            results.append(
                dg.materialize(
                    [raw_capture, drift_report, drift_within_thresholds],
                    partition_key=partition_key(SOURCE, day),
                    resources=resources,
                    instance=instance,
                )
            )
    return LakehouseResource(root=str(root / "lake")), results


def _drift(lakehouse: LakehouseResource, day: dt.date) -> pl.DataFrame:
    rows = lakehouse.read_partition(report_table("drift_report"), {"source": SOURCE, "date": day})
    return rows.drop("source", "date")


def test_first_day_has_no_reference(runs) -> None:
    lakehouse, results = runs
    assert all(r.success for r in results)
    first = _drift(lakehouse, DAYS[0])
    assert first["kind"].to_list() == ["no_reference"]
    assert f"no captured rows for {DAYS[0] - dt.timedelta(days=1)}" in first["detail"][0]


def test_drift_is_computed_from_both_days_captured_rows(runs) -> None:
    lakehouse, results = runs
    for before, day in zip(DAYS, DAYS[1:], strict=False):
        rows = [lakehouse.read_partition(raw_table(SOURCE), {"_date": d}) for d in (before, day)]
        expected = drift_between(rows[1], rows[0], thresholds=drift_thresholds(DriftSpec()))
        stored = _drift(lakehouse, day).select(expected.columns)
        assert stored.sort("column").equals(expected.sort("column")), day
    second = {r["column"]: r for r in _drift(lakehouse, DAYS[1]).iter_rows(named=True)}
    assert second["Name"]["method"] == "identifier" and second["Name"]["drifted"] is False
    assert second["Horsepower"]["drifted"] is False
    third = {r["column"]: r for r in _drift(lakehouse, DAYS[2]).iter_rows(named=True)}
    assert third["Horsepower"]["drifted"] is True and third["Horsepower"]["method"] == "ks"


def test_the_drift_check_warns_on_the_planted_shift(runs) -> None:
    _, results = runs
    (check,) = results[2].get_asset_check_evaluations()
    assert check.check_name == "drift_within_thresholds" and not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert "Horsepower" in check.metadata["drifted_columns"].value
