"""``synthcap bench capture`` at smoke size: the command runs, prints its table and writes the
JSON shape the issue fixes (figures themselves belong to the benchmark, not to tests)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from synthcap_assets.cli import main
from synthcap_tests.services import require_service

SMOKE_ROWS = 20_000


def test_bench_capture_smoke_writes_the_results_json(tmp_path: Path, capsys):
    require_service("127.0.0.1", 5432, "PostgreSQL")
    require_service("127.0.0.1", 4222, "NATS JetStream")
    out = tmp_path / "capture.json"
    assert main(["bench", "capture", "--rows", str(SMOKE_ROWS), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ratio = tool seconds / synthcap seconds" in printed
    document = json.loads(out.read_text())
    assert document["bench"] == "capture" and document["rows"] == SMOKE_ROWS
    rows = {(r["tool"], r["case"]): r for r in document["results"]}
    for (tool, case), result in rows.items():
        assert set(result) >= {"tool", "case", "seconds", "rows_per_s", "peak_mb", "ratio"}
        assert result["rows"] == SMOKE_ROWS, (tool, case)
        assert result["seconds"] > 0 and result["rows_per_s"] > 0
        assert result["ratio"] == pytest.approx(
            result["seconds"] / rows[("synthcap", case)]["seconds"]
        )
    expected = {("synthcap", "csv"), ("synthcap", "postgres"), ("synthcap", "nats")}
    if importlib.util.find_spec("dlt") is None:
        assert set(rows) == expected
        assert "not installed" in document["skipped"]["dlt"]
        pytest.skip("dlt is not installed (pip install -e '.[bench]'): its rows were skipped")
    assert set(rows) == expected | {("dlt", "csv"), ("dlt", "postgres")}
