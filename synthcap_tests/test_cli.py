"""The `synthcap` command: sources, sql and the demo itself, run as a user runs them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from synthcap_assets.cli import main
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, spec_files
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled

D1 = dt.date(2026, 11, 16)


def test_sources_lists_the_catalog(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = copy_bundled(tmp_path / "sources", "market_prices", "customers")
    assert main(["sources", "--folder", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "market_prices" in out and "customers" in out and "financial" in out


def test_sources_reports_an_invalid_spec(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = copy_bundled(tmp_path / "sources", "market_prices")
    (folder / "bad.yaml").write_text("id: bad\nkind: ftp\n")
    assert main(["sources", "--folder", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml" in out and "field 'kind'" in out and "market_prices" in out


def _small_lake(root: Path) -> LakehouseResource:
    lakehouse = LakehouseResource(root=str(root))
    report = pl.DataFrame(
        {
            "source": ["a", "a"],
            "date": [D1, D1],
            "column": ["x", "y"],
            "score": [81.5, 42.0],
            "notes": [["one", "two"], []],
        }
    )
    lakehouse.write_partition("reports/quality_report", report, {"source": "a", "date": D1})
    raw = pl.DataFrame({"_date": [D1], "_source": ["a"], "v": [1]})
    lakehouse.write_partition("raw/a", raw, {"_date": D1})
    return lakehouse


def test_sql_formats(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lake = str(_small_lake(tmp_path / "lake").root)
    query = (
        'select q."column", q.score, q.notes, r.v from quality_report q '
        "join raw_capture__a r on q.source = r._source order by 1"
    )
    assert main(["sql", "--lake", lake, "--format", "csv", query]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["column"], float(r["score"]), json.loads(r["notes"])) for r in rows] == [
        ("x", 81.5, ["one", "two"]),
        ("y", 42.0, []),
    ]
    assert main(["sql", "--lake", lake, "--format", "json", query]) == 0
    assert [r["score"] for r in json.loads(capsys.readouterr().out)] == [81.5, 42.0]
    assert main(["sql", "--lake", lake, query]) == 0
    assert "81.5" in capsys.readouterr().out


def test_sql_error_lists_the_tables(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lake = str(_small_lake(tmp_path / "lake").root)
    assert main(["sql", "--lake", lake, "select * from nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "quality_report" in err and "raw_capture__a" in err


def test_demo_from_an_empty_lake_and_instance(tmp_path: Path) -> None:
    """The README's main command, in a subprocess, from an empty folder."""
    env = {
        **os.environ,
        "SYNTHCAP_LAKE": str(tmp_path / "lake"),
        "SYNTHCAP_SOURCES": str(tmp_path / "sources"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    cli = [sys.executable, "-m", "synthcap_assets.cli"]
    demo = subprocess.run([*cli, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert f"DAGSTER_HOME={env['DAGSTER_HOME']} .venv/bin/synthcap ui" in demo.stdout
    query = "select source, date, score from readiness_score"
    out = subprocess.run(
        [*cli, "sql", "--format", "csv", query],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    bundled = {p.stem for p in spec_files(BUNDLED_SOURCES_DIR)}
    assert {r["source"] for r in rows} == bundled
    assert len(rows) == len({(r["source"], r["date"]) for r in rows}) == 3 * len(bundled)
    assert all(0 <= float(r["score"]) <= 100 for r in rows)
    lake = LakehouseResource(root=env["SYNTHCAP_LAKE"])
    tables = lake.tables()
    for source in bundled:
        for asset in ("raw_capture", "feature_set", "synthetic_sample"):
            assert f"{asset}__{source}" in tables
    reports = {"quality_report", "profile", "timeseries_profile", "privacy_report"}
    reports |= {"drift_report", "synthetic_utility", "readiness_score", "quarantine"}
    assert reports <= tables.keys()
    runs = list((tmp_path / "dagster_home").glob("**/runs.db")) + list(
        (tmp_path / "dagster_home").glob("**/runs/*.db")
    )
    assert runs, "the demo's runs are recorded in the SQLite instance"
