"""``synthcap bench synth`` at a tiny size: all three tools run, the JSON has the shared shape,
real package tables load as shipped, and a case synthcap refuses is shown and counted."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_assets.bench.synth import TOOLS, _from_smartnoise, _mean_row, compare, run_case
from synthcap_assets.bench.synth_cases import REAL_TABLES, BenchCaseError, load_case, real_case
from synthcap_assets.cli import main

KEYS = {"tool", "case", "epsilon", "seconds", "column_shapes", "pair_trends", "dcr_ratio"}


def test_bench_synth_writes_rows_of_the_shared_shape(tmp_path: Path, capsys) -> None:
    out = tmp_path / "synth.json"
    args = ["bench", "synth", "--tables", "market_prices", "--synthesizers", "mst"]
    code = main([*args, "--epsilons", "3", "--rows", "150", "--repeats", "1", "--json", str(out)])
    assert code == 0
    document = json.loads(out.read_text())
    assert document["bench"] == "synth"
    rows = document["rows"]
    assert [r["tool"] for r in rows] == list(TOOLS)
    for row in rows:
        assert set(row) >= KEYS | {"utility", "counted_columns"}
        assert row["case"] == "market_prices/mst" and row["epsilon"] == 3.0 and row["seconds"] > 0
        assert row["repeats"] == 1
    ours = rows[0]
    assert 0 < ours["column_shapes"] <= 1 and 0 < ours["pair_trends"] <= 1
    assert ours["dcr_ratio"] > 0 and ours["rows"] == 120  # 150 rows, 20% held out
    assert set(ours["columns"]) <= set(ours["counted_columns"])
    printed = capsys.readouterr().out
    assert "market_prices/mst" in printed and "smartnoise+public" in printed
    assert "against smartnoise+public: synthcap's column-shape score is higher in" in printed


def test_real_tables_load_as_their_package_ships_them() -> None:
    from vega_datasets import local_data

    case = real_case("cars")
    shipped = local_data.cars()
    assert case.frame.height == len(shipped) == 406 and case.origin == "real"
    assert case.frame["Horsepower"].mean() == pytest.approx(shipped["Horsepower"].mean())
    assert case.counted == case.frame.columns
    low, high = case.bounds["Horsepower"]  # declared public bounds hold the shipped values
    assert low <= shipped["Horsepower"].min() and shipped["Horsepower"].max() <= high
    assert set(REAL_TABLES) >= {"seattle_weather", "seattle_temps", "cars", "airports", "fair"}
    with pytest.raises(BenchCaseError, match="nope"):
        load_case("nope")


def test_a_refused_case_is_shown_with_the_smartnoise_rows_beside_it() -> None:
    cars = real_case("cars", rows=40)
    keep = ["Name", "Origin"]  # an identifier and one category: under two usable columns
    case = replace(
        cars,
        frame=cars.frame.select(keep),
        profile=cars.profile.filter(pl.col("column").is_in(keep)),
        bounds={},
        categories={},
        counted=keep,
    )
    rows = run_case(case, "mst", 0.5)
    assert [r["tool"] for r in rows] == list(TOOLS)
    ours = rows[0]
    assert ours["error"] and ours["column_shapes"] is None and ours["columns"] == []
    for theirs in rows[1:]:
        assert theirs["columns"], theirs  # every usable column was offered to smartnoise
        assert ("error" in theirs) == (theirs["column_shapes"] is None)
    produced = sum(r["column_shapes"] is not None for r in rows[1:2])
    assert compare([_mean_row([r]) for r in rows]) == (0, 0, 0, produced)


def test_compare_counts_wins_only_where_both_tools_produced_a_sample() -> None:
    rows = [
        {"case": "a/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.8},
        {"case": "a/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": 0.7},
        {"case": "b/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.6},
        {"case": "b/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": 0.9},
        {"case": "c/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": 0.6},
        {"case": "c/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": None},
        {"case": "d/mst", "epsilon": 1.0, "tool": "synthcap", "column_shapes": None},
        {"case": "d/mst", "epsilon": 1.0, "tool": "smartnoise", "column_shapes": 0.5},
        {"case": "d/mst", "epsilon": 1.0, "tool": "smartnoise+public", "column_shapes": 0.6},
    ]
    assert compare(rows) == (1, 2, 1, 1)
    assert compare(rows, "smartnoise+public") == (0, 0, 0, 1)


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


def test_a_missing_smartnoise_date_reads_back_as_null() -> None:
    """smartnoise writes a date it left empty as NaN (cars' Year did, 49 of 325): the bench
    reads it as null instead of failing the whole run on the cast."""
    like = pl.DataFrame({"day": pl.Series([1, 2], dtype=pl.Date)})
    back = _from_smartnoise(pd.DataFrame({"day": [np.nan, 17000.4]}), like)
    assert back["day"].to_list() == [None, dt.date(2016, 7, 18)]
