"""The lake on S3 (moto's server in its own process): a partition materialized end to end on an
``s3://`` lake, then read back through ``synthcap sql`` and ``LakehouseResource.tables()``; the
whole demo on an ``s3://`` lake is the slow variant."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from synthcap_assets.cli import main
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled
from synthcap_tests.infra.conftest import LAKE_BUCKET, materialize_day, sample_rows

SOURCE, DAY = "customers", dt.date(2026, 11, 16)


def test_partition_on_s3_lake_then_sql(
    s3_env: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    lake = f"s3://{LAKE_BUCKET}/{tmp_path.name}"
    sources = copy_bundled(tmp_path / "sources", SOURCE)
    with dg.instance_for_test() as instance:
        assert materialize_day(instance, lake, sources, SOURCE, DAY).success
    tables = LakehouseResource(root=lake).tables()
    assert tables[f"raw_capture__{SOURCE}"] == f"{lake}/raw/{SOURCE}"
    assert {"quality_report", "profile", "quality_metrics"} <= set(tables)
    assert not any(uri.startswith("/") for uri in tables.values())  # nothing landed locally
    assert not (tmp_path / "lakehouse").exists()

    capsys.readouterr()
    code = main(
        [
            "sql",
            "--lake",
            lake,
            "--format",
            "json",
            "select q.source, cast(q.date as varchar) as date, q.score, "
            f"(select count(*) from raw_capture__{SOURCE}) as captured, "
            "(select count(*) from profile) as profiled "
            "from quality_report q where q.\"column\" = '*'",
        ]
    )
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(rows) == 1 and rows[0]["source"] == SOURCE and rows[0]["date"] == DAY.isoformat()
    assert 0 <= rows[0]["score"] <= 100
    assert rows[0]["captured"] == sample_rows(SOURCE, DAY)
    header = (
        (Path(__file__).parents[2] / "synthcap_assets/sample_sources/data")
        .joinpath(SOURCE, f"{DAY}.csv")
        .read_text()
        .splitlines()[0]
    )
    assert rows[0]["profiled"] == len(header.split(","))  # one profile row per column


@pytest.mark.slow
def test_demo_on_s3_lake(s3_env: str, tmp_path: Path) -> None:
    """``synthcap demo --lake s3://...``: every bundled source and day, then ``synthcap sql``."""
    lake = f"s3://{LAKE_BUCKET}/demo-{tmp_path.name}"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "synthcap_assets.cli"]
    demo = subprocess.run(
        [*cli, "demo", "--lake", lake, "--sources", str(tmp_path / "sources")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    sql = subprocess.run(
        [*cli, "sql", "--lake", lake, "--format", "json", "select source from readiness_score"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert sql.returncode == 0, sql.stderr
    sources = {row["source"] for row in json.loads(sql.stdout)}
    assert sources == {spec.stem for spec in BUNDLED_SOURCES_DIR.glob("*.yaml")}
