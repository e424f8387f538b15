"""What a user opens in the UI after a run, read back from a real Dagster instance's event log:
per-column metadata tables (profile, drift, quality, privacy, readiness), column descriptions
from the catalog, checks that say what they know, and the visual report file.

Two days of the bundled ``customers`` source (512 and 487 rows, with PII) run through every
report asset except the synthesis (slow; the report of a day without a synthesis must say
so), then the readiness run writes the report. Numbers in the tables are compared with an
independent numpy computation over the bundled CSV.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from synthcap_assets.automation.schedules import readiness_job
from synthcap_assets.definitions import ASSETS, CHECKS, build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, lake_start_date, partition_key
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, load_catalog
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.report_files import REPORTS_ENV
from synthcap_tests.conftest import copy_bundled

SOURCE = "customers"
DAY1, DAY2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)
REPORT_ASSETS = ("raw_capture", "quality_report", "profile", "privacy_report", "drift_report")
CSV = BUNDLED_SOURCES_DIR / "data" / SOURCE / f"{DAY2}.csv"


class Runs:
    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.root = root
        self.instance = instance
        self.sources = copy_bundled(root / "sources", SOURCE)
        self.lake = str(root / "lake")
        self.checks: dict[tuple[str, dt.date], dg.AssetCheckEvaluation] = {}

    def metadata(self, asset: str, day: dt.date = DAY2) -> dict:
        records = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(asset), asset_partitions=[str(partition_key(SOURCE, day))]
            ),
            limit=1,
        ).records
        assert records, f"no {asset} materialization for {day}"
        return records[0].asset_materialization.metadata


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    mp = pytest.MonkeyPatch()
    with dg.instance_for_test() as instance:
        r = Runs(tmp_path_factory.mktemp("meta"), instance)
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        selection = dg.AssetSelection.assets(*REPORT_ASSETS)
        job = dg.define_asset_job("report_inputs", selection=selection)
        defs = dg.Definitions(
            assets=ASSETS,
            asset_checks=CHECKS,
            jobs=[job, readiness_job],
            resources=build_resources(r.lake, str(r.sources)),
        )
        for day in (DAY1, DAY2):
            result = defs.resolve_job_def("report_inputs").execute_in_process(
                partition_key=partition_key(SOURCE, day), instance=instance
            )
            assert result.success
            for evaluation in result.get_asset_check_evaluations():
                r.checks[(evaluation.check_name, day)] = evaluation
        mp.setenv(REPORTS_ENV, "on")
        readiness = defs.resolve_job_def(readiness_job.name).execute_in_process(
            partition_key=partition_key(SOURCE, DAY2), instance=instance
        )
        assert readiness.success
        mp.undo()
        yield r


def _records(value: dg.TableMetadataValue) -> dict[str, dict]:
    return {rec.data["column"]: rec.data for rec in value.records}


def test_profile_event_holds_a_per_column_table_matching_numpy(runs: Runs) -> None:
    meta = runs.metadata("profile")
    table = meta["columns"]
    assert isinstance(table, dg.TableMetadataValue)
    names = [c.name for c in table.schema.columns]
    assert names[:8] == ["column", "type", "nulls", "null_share", "distinct", "mean", "p50", "min"]
    rows = _records(table)
    spec = load_catalog(runs.sources)[SOURCE]
    assert set(rows) == set(spec.declared_schema)
    csv = pl.read_csv(CSV, schema_overrides={c: pl.String for c in ("zip", "card_number", "phone")})
    value = csv["lifetime_value"].to_numpy().astype(np.float64)
    assert rows["lifetime_value"]["mean"] == pytest.approx(float(np.mean(value)), rel=1e-3)
    low, high = np.quantile(value, [0.49, 0.51])
    assert low <= rows["lifetime_value"]["p50"] <= high
    phone_nulls = csv["phone"].null_count()
    assert phone_nulls > 0 and rows["phone"]["nulls"] == phone_nulls
    assert rows["phone"]["null_share"] == pytest.approx(phone_nulls / csv.height, abs=1e-4)
    assert rows["email"]["description"] == spec.columns["email"]
    # Rates, not column counts, are the numbers Dagster plots per partition.
    assert meta["mean_null_share"].value == pytest.approx(
        np.mean([csv[c].null_count() / csv.height for c in csv.columns]), abs=1e-4
    )
    assert "numeric_columns" not in meta
    schema = {c.name: c.description for c in meta["dagster/column_schema"].schema.columns}
    assert schema["nulls"] and schema["distinct"]


def test_capture_column_schema_carries_the_catalog_descriptions(runs: Runs) -> None:
    spec = load_catalog(runs.sources)[SOURCE]
    schema = runs.metadata("raw_capture")["dagster/column_schema"].schema
    described = {c.name: c.description for c in schema.columns}
    assert described["lifetime_value"] == spec.columns["lifetime_value"]
    assert all(described[c] for c in spec.declared_schema)


def test_drift_event_is_a_per_column_table_agreeing_with_the_lake(runs: Runs) -> None:
    meta = runs.metadata("drift_report")
    rows = _records(meta["columns"])
    lake = LakehouseResource(root=runs.lake)
    stored = lake.read_partition("reports/drift_report", {"source": SOURCE, "date": DAY2})
    assert set(rows) == set(stored["column"])
    for row in stored.iter_rows(named=True):
        assert rows[row["column"]]["drifted"] == row["drifted"]
        assert rows[row["column"]]["method"] == row["method"]
    drifted = int(stored["drifted"].fill_null(False).sum())
    assert meta["drifted_share"].value == pytest.approx(drifted / stored.height)
    assert meta["drifted"].value == f"{drifted} of {stored.height} columns"


def test_quality_and_privacy_events_hold_dimension_scores_and_the_pii_table(runs: Runs) -> None:
    quality = runs.metadata("quality_report")
    lake = LakehouseResource(root=runs.lake)
    report = lake.read_partition("reports/quality_report", {"source": SOURCE, "date": DAY2})
    table = report.filter(pl.col("column") == "*").row(0, named=True)
    assert quality["completeness_score"].value == pytest.approx(100 * table["completeness"], 1e-3)
    assert len(quality["dimensions"].records) == report.height
    assert isinstance(quality["failures"], dg.MarkdownMetadataValue)
    privacy = _records(runs.metadata("privacy_report")["pii"])
    assert privacy["email"]["pii_type"] == "email" and privacy["email"]["direct_identifier"]
    assert privacy["card_number"]["handling"] is not None


def test_history_check_says_it_had_nothing_to_judge_and_names_the_partition(runs: Runs) -> None:
    first = runs.checks[("quality_metrics_within_history", DAY1)]
    second = runs.checks[("quality_metrics_within_history", DAY2)]
    assert first.passed and first.description == f"{SOURCE} {DAY1}: no history yet: 0 of 3 days"
    assert second.description == f"{SOURCE} {DAY2}: no history yet: 1 of 3 days"
    assert second.metadata["metrics_judged"].value == 0
    drift = runs.checks[("drift_within_thresholds", DAY2)]
    assert drift.description.startswith(f"{SOURCE} {DAY2}: ")


def test_readiness_event_points_at_a_report_that_says_what_is_missing(runs: Runs) -> None:
    meta = runs.metadata("readiness_score")
    breakdown = meta["breakdown"].records[0].data
    assert set(breakdown) == {"quality", "privacy", "drift", "utility", "volume"}
    path = Path(meta["report"].value)
    assert path.is_file() and path.name == f"{DAY2}.html" and path.parent.name == SOURCE
    html = path.read_text()
    assert 10_000 < len(html.encode()) <= 2_000_000
    # Self-contained: no script, nothing fetched (only XML namespace names hold a URL).
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert not re.search(r"https?://(?!www\.w3\.org/)", html)
    # No synthesis ran: its section says so instead of drawing nothing.
    assert "synthetic_outcome has no rows for customers on 2026-11-17" in html
    # A distribution per column but those whose values are personal or one per row, and an
    # overlay per drifted column; no value of a PII column is written into the page.
    charts = re.findall(r'data-chart="([^"]+)"', html)
    spec = load_catalog(runs.sources)[SOURCE]
    shown = {"birth_date", "signup_channel", "lifetime_value", "orders"}  # state: geography
    assert {c.removeprefix("distribution:") for c in charts if "distribution:" in c} == shown
    csv = pl.read_csv(CSV, infer_schema=False)
    for column in ("name", "email", "phone", "card_number", "customer_id", "address"):
        leaked = [v for v in csv[column].drop_nulls().to_list() if v in html]
        assert leaked == [], column
    assert set(spec.pii) <= set(spec.declared_schema)
    drift = LakehouseResource(root=runs.lake).read_partition(
        "reports/drift_report", {"source": SOURCE, "date": DAY2}
    )
    drifted = drift.filter(pl.col("drifted").fill_null(False))["column"].to_list()
    assert {f"drift:{c}" for c in drifted} <= set(charts)
    assert html.count("<svg") == len(charts)


def test_the_date_dimension_starts_at_the_catalogs_earliest_start_date(tmp_path: Path) -> None:
    folder = copy_bundled(tmp_path / "sources", "customers", "market_prices")
    early = (
        (folder / "market_prices.yaml")
        .read_text()
        .replace("start_date: 2026-11-16", "start_date: 2025-03-02")
    )
    (folder / "market_prices.yaml").write_text(early)
    (folder / "broken.yaml").write_text("id: broken\nstart_date: 2001-01-01\n")
    assert lake_start_date(folder) == "2025-03-02"  # invalid specs do not count
    assert lake_start_date(folder, override="2026-01-05") == "2026-01-05"
    assert lake_start_date(tmp_path / "nothing") == "2024-01-01"


def test_report_command_rewrites_the_report_and_refuses_an_uncaptured_day(
    runs: Runs, capsys: pytest.CaptureFixture
) -> None:
    from synthcap_assets.cli import main

    path = Path(runs.metadata("readiness_score")["report"].value)
    path.unlink()
    where = ["--lake", runs.lake, "--sources", str(runs.sources)]
    assert main(["report", "--source", SOURCE, "--date", str(DAY2), *where]) == 0
    assert f"report of {SOURCE} {DAY2}: {path}" in " ".join(capsys.readouterr().out.split())
    assert path.is_file() and "<svg" in path.read_text()
    assert main(["report", "--source", SOURCE, "--date", "2026-11-20", *where]) == 2
    assert "nothing captured" in " ".join(capsys.readouterr().err.split())
