"""``synthcap bench capture`` at smoke size: the command runs, prints its table and writes the
JSON shape the issue fixes (figures themselves belong to the benchmark, not to tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthcap_assets.bench.capture import _median_run
from synthcap_assets.cli import main
from synthcap_tests.services import require_service

SMOKE_ROWS = 20_000


def test_bench_capture_smoke_writes_the_results_json(tmp_path: Path, capsys):
    require_service("127.0.0.1", 5432, "PostgreSQL")
    require_service("127.0.0.1", 4222, "NATS JetStream")
    out = tmp_path / "capture.json"
    command = ["bench", "capture", "--rows", str(SMOKE_ROWS), "--repeats", "1", "--json", str(out)]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert "ratio = tool seconds / synthcap seconds" in printed
    document = json.loads(out.read_text())
    assert document["bench"] == "capture" and document["rows"] == SMOKE_ROWS
    rows = {(r["tool"], r["case"], r["backend"]): r for r in document["results"]}
    synthcap = {case: r for (tool, case, _), r in rows.items() if tool == "synthcap"}
    for (tool, case, backend), result in rows.items():
        assert set(result) >= {"tool", "case", "backend", "seconds", "rows_per_s", "peak_mb"}
        assert result["rows"] == SMOKE_ROWS, (tool, case, backend)
        assert result["runs"] == [result["seconds"]]
        assert result["cpu_runs"] == [result["cpu_seconds"]] and result["cpu_seconds"] > 0
        assert result["seconds"] > 0 and result["rows_per_s"] > 0
        assert result["ratio"] == pytest.approx(result["seconds"] / synthcap[case]["seconds"])
    # dlt is in the dev extra, so CI runs its rows: ConnectorX and pyarrow for PostgreSQL, its
    # filesystem source's DuckDB reader and a pyarrow-read Arrow table for CSV.
    assert set(rows) == {
        ("synthcap", "csv", "polars"),
        ("synthcap", "postgres", "connectorx"),
        ("synthcap", "nats", "nats-py"),
        ("dlt", "csv", "read_csv_duckdb"),
        ("dlt", "csv", "pyarrow.csv"),
        ("dlt", "postgres", "connectorx"),
        ("dlt", "postgres", "pyarrow"),
    }
    for case in ("csv", "postgres"):
        fastest = min(
            (r for (tool, c, _), r in rows.items() if tool == "dlt" and c == case),
            key=lambda r: r["seconds"],
        )
        assert document["targets"][case]["backend"] == fastest["backend"]
        assert document["targets"][case]["ratio"] == pytest.approx(fastest["ratio"])


def test_a_row_reports_the_median_run_and_the_largest_peak() -> None:
    runs = [
        {"tool": "dlt", "seconds": 3.0, "peak_mb": 10.0},
        {"tool": "dlt", "seconds": 1.0, "peak_mb": 30.0},
        {"tool": "dlt", "seconds": 2.0, "peak_mb": 20.0},
    ]
    row = _median_run(runs)
    assert row["seconds"] == 2.0 and row["peak_mb"] == 30.0
    assert row["runs"] == [3.0, 1.0, 2.0]
