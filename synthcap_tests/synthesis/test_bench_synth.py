"""``synthcap bench synth`` at a tiny size: both tools run and the JSON has the shared shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthcap_assets.bench.synth import _mean_row, compare
from synthcap_assets.cli import main

KEYS = {"tool", "case", "epsilon", "seconds", "column_shapes", "pair_trends", "dcr_ratio"}


def test_bench_synth_writes_rows_of_the_shared_shape(tmp_path: Path, capsys) -> None:
    out = tmp_path / "synth.json"
    args = ["bench", "synth", "--tables", "market_prices", "--synthesizers", "mst"]
    code = main([*args, "--epsilons", "3", "--rows", "150", "--repeats", "2", "--json", str(out)])
    assert code == 0
    document = json.loads(out.read_text())
    assert document["bench"] == "synth"
    rows = document["rows"]
    assert [r["tool"] for r in rows] == ["synthcap", "smartnoise"]
    for row in rows:
        assert set(row) >= KEYS
        assert row["case"] == "market_prices/mst" and row["epsilon"] == 3.0 and row["seconds"] > 0
        assert row["repeats"] == 2
    ours = rows[0]
    assert 0 < ours["column_shapes"] <= 1 and 0 < ours["pair_trends"] <= 1
    assert ours["dcr_ratio"] > 0 and ours["rows"] == 120  # 150 rows, 20% held out
    printed = capsys.readouterr().out
    assert "market_prices/mst" in printed and "column-shape score is higher in" in printed


def test_compare_counts_wins_only_where_both_tools_produced_a_sample() -> None:
    rows = [
        {"case": "a/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.8},
        {"case": "a/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": 0.7},
        {"case": "b/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.6},
        {"case": "b/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": 0.9},
        {"case": "c/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.6},
        {"case": "c/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": None},
    ]
    assert compare(rows) == (1, 2, 1)


def test_mean_row_averages_the_runs_that_produced_a_sample() -> None:
    base = {"tool": "smartnoise", "case": "a/mst", "epsilon": 1.0}
    runs = [
        base | {"seconds": 1.0, "column_shapes": 0.5, "pair_trends": 0.2, "dcr_ratio": 1.0},
        base
        | {"seconds": 2.0, "column_shapes": None, "pair_trends": None, "dcr_ratio": None}
        | {"error": "no bounds"},
        base | {"seconds": 3.0, "column_shapes": 0.7, "pair_trends": 0.4, "dcr_ratio": 3.0},
    ]
    row = _mean_row(runs)
    assert row["seconds"] == 2.0 and row["repeats"] == 3 and row["failed_runs"] == 1
    assert row["column_shapes"] == 0.6 and row["dcr_ratio"] == 2.0
    assert row["pair_trends"] == pytest.approx(0.3)
    assert "error" not in row
    failed = _mean_row([runs[1], runs[1]])
    assert failed["column_shapes"] is None and failed["error"] == "no bounds"
