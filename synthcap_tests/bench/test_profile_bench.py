"""The profile benchmark: synthcap's statistics (sketch path within its stated bounds, exact mode
to the last bit) and the peers' agree with numpy/scipy on the bench table, and the smoke size of
``synthcap bench profile`` runs every peer and writes the documented JSON."""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from synthcap_assets.bench.data import (
    CATEGORICAL_COLUMNS,
    HIST_BINS,
    NUMERIC_COLUMNS,
    PROBS,
    make_table,
)
from synthcap_assets.bench.families import FAMILIES
from synthcap_assets.bench.floor import family_floors, memory_bandwidth
from synthcap_assets.bench.peers import duckdb_run, numpy_stats, polars_stats
from synthcap_assets.bench.synthcap_profile import exact_stats, synthcap_stats
from synthcap_assets.cli import main

PAIRS = list(itertools.combinations(range(len(NUMERIC_COLUMNS)), 2))


@pytest.fixture(scope="module")
def table():
    return make_table(30_000, seed=3)


@pytest.fixture(scope="module")
def reference(table):
    return numpy_stats(table)


def test_synthcap_statistics_match_numpy_and_polars(table, reference) -> None:
    ours, ref = synthcap_stats(table), reference
    pol = polars_stats(table)
    p = ours["profile"]
    np.testing.assert_array_equal(p.moments["count"], ref["moments"]["count"])
    np.testing.assert_allclose(p.moments["mean"], ref["moments"]["mean"], rtol=1e-9)
    # Shape statistics are shift-invariant: the reference subtracts the first value exactly
    # (Sterbenz) so that the 1e12-offset column does not lose its digits in numpy's mean.
    block = table.select(NUMERIC_COLUMNS).to_numpy()
    shifted = [c[~np.isnan(c)] - c[~np.isnan(c)][0] for c in block.T]
    np.testing.assert_allclose(p.moments["var"], [np.var(c, ddof=1) for c in shifted], rtol=1e-9)
    np.testing.assert_allclose(p.moments["skewness"], [stats.skew(c) for c in shifted], rtol=1e-7)
    np.testing.assert_allclose(
        p.moments["kurtosis"], [stats.kurtosis(c) for c in shifted], rtol=1e-7
    )
    np.testing.assert_array_equal(p.moments["zeros"], ref["moments"]["zeros"])
    np.testing.assert_array_equal(p.moments["negatives"], ref["moments"]["negatives"])
    for j, column in enumerate(block.T):
        values = np.sort(column[~np.isnan(column)])
        bound = p.rank_error[j] * values.size + 1
        for prob, q in zip(PROBS, p.quantiles[j], strict=True):
            rank = prob * (values.size - 1)
            lo, hi = np.searchsorted(values, q, "left"), np.searchsorted(values, q, "right")
            assert lo - bound <= rank <= hi + bound
        # Histograms come from the quantile summary: each bin within the stated count bound.
        exact, _ = np.histogram(values, p.hist_edges[j])
        slack = p.outliers["count_bound"][j] + 1
        assert p.hist_counts[j].size == HIST_BINS
        assert np.abs(p.hist_counts[j] - exact).max() <= slack
        assert p.distinct[j] == pytest.approx(ref["distinct"][j], rel=0.03)
    pearson = [ours["pearson"][i, k] for i, k in PAIRS]
    np.testing.assert_allclose(pearson, [ref["pearson"][i, k] for i, k in PAIRS], atol=1e-9)
    spearman = [ours["spearman"][i, k] for i, k in PAIRS]
    np.testing.assert_allclose(spearman, pol["spearman"][0].row(0), atol=5e-3)
    assert ours["cramers_v"] == pytest.approx(ref["cramers_v"], abs=1e-9)
    for i, c in enumerate(CATEGORICAL_COLUMNS):
        assert ours[f"{c}:distinct"] == ref["top_values"][f"{c}:distinct"]
        distinct, top = pol["top_values"][i]
        assert distinct == ours[f"{c}:distinct"]  # the peers count them with the top values
        assert [n for _, n in ours[f"{c}:top"]] == top["len"].to_list()


def test_exact_mode_is_numpy_to_the_last_bit(table, reference) -> None:
    """``--exact``: quantiles, histograms (edges and counts) and distinct counts equal numpy's
    bit for bit; Spearman equals scipy's rank correlation to rounding."""
    ours = exact_stats(table)
    block = table.select(NUMERIC_COLUMNS).to_numpy()
    columns = [c[~np.isnan(c)] for c in block.T]
    np.testing.assert_array_equal(ours["quantiles"], np.nanquantile(block, PROBS, axis=0).T)
    for (edges, counts), column in zip(ours["hist"], columns, strict=True):
        ref_counts, ref_edges = np.histogram(column, HIST_BINS)
        np.testing.assert_array_equal(edges, ref_edges)
        np.testing.assert_array_equal(counts, ref_counts)
    assert ours["distinct"] == [np.unique(c).size for c in columns]
    np.testing.assert_allclose(ours["spearman"], reference["spearman"], atol=1e-12)
    np.testing.assert_allclose(ours["pearson"], reference["pearson"], atol=1e-9)


def test_fair_peers_agree_with_numpy(table, reference) -> None:
    """polars (one collect_all, ranks once per column) and DuckDB (one query per family, one
    sort per column for Spearman) compute the same numbers as the numpy/scipy reference."""
    ref_q = np.nanquantile(table.select(NUMERIC_COLUMNS).to_numpy(), PROBS, axis=0).T
    ref_spearman = [reference["spearman"][i, k] for i, k in PAIRS]
    pol = polars_stats(table, exact=True)
    quantiles = np.array([pol["quantiles"][0][c][0].to_list() for c in NUMERIC_COLUMNS])
    np.testing.assert_allclose(quantiles, ref_q, rtol=1e-12)
    np.testing.assert_allclose(pol["spearman"][0].row(0), ref_spearman, atol=1e-12)
    # Every tool's distinct family counts the numeric columns, and only those.
    assert list(pol["distinct"][0].row(0)) == reference["distinct"]
    assert pol["cramers_v"] == pytest.approx(reference["cramers_v"], abs=1e-12)
    duck = duckdb_run(table, exact=True).families
    np.testing.assert_allclose(duck["quantiles"].run()[0], ref_q, rtol=1e-9)
    np.testing.assert_allclose(duck["spearman"].run()[0], ref_spearman, atol=1e-12)
    assert list(duck["distinct"].run()[0]) == reference["distinct"]
    top = duck["top_values"].run()
    assert {(r[0], r[3]) for r in top} == {
        (c, reference["top_values"][f"{c}:distinct"]) for c in CATEGORICAL_COLUMNS
    }
    assert duck["cramers_v"].run() == pytest.approx(reference["cramers_v"], abs=1e-12)
    approx = duckdb_run(table).families
    assert approx["quantiles"].accuracy == approx["distinct"].accuracy == "approximate"
    assert duck["quantiles"].accuracy == duck["distinct"].accuracy == "exact"


def test_floor_is_bytes_over_the_measured_bandwidth() -> None:
    bandwidth = memory_bandwidth(megabytes=64, repeats=2)
    assert 1e8 < bandwidth < 1e13  # 0.1 GB/s .. 10 TB/s: a reading, not a guess
    floors = family_floors(8_000_000, 1_000_000, bandwidth)
    assert set(floors) == set(FAMILIES)
    assert floors["moments"] == pytest.approx(8_000_000 / bandwidth)
    assert floors["top_values"] == pytest.approx(1_000_000 / bandwidth)


def test_bench_profile_smoke_size_writes_the_documented_json(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    tools = ["synthcap", "synthcap-exact", "polars", "duckdb", "duckdb-exact", "numpy"]
    assert main(["bench", "profile", "--rows", "5000", "--tools", *tools, "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["bench"] == "profile" and document["rows"] == 5000
    assert [r["tool"] for r in document["results"]] == tools
    for result in document["results"]:
        assert set(result) >= {"tool", "accuracy", "seconds", "peak_mb", "ratio", "families"}
        assert result["seconds"] > 0 and result["peak_mb"] >= 0
        assert result["ratio"] == pytest.approx(
            result["seconds"] / document["results"][0]["seconds"]
        )
        assert set(result["families"]) == set(FAMILIES)
        for family in result["families"].values():
            assert family["seconds"] > 0 and family["accuracy"] in ("exact", "approximate")
        classes = {f["accuracy"] for f in result["families"].values()}
        assert result["accuracy"] == ("exact" if classes == {"exact"} else "approximate")
    rows = {r["tool"]: r for r in document["results"]}
    assert rows["synthcap"]["ratio"] == 1.0
    assert rows["synthcap"]["accuracy"] == rows["duckdb"]["accuracy"] == "approximate"
    assert rows["synthcap-exact"]["accuracy"] == rows["duckdb-exact"]["accuracy"] == "exact"
    assert document["floor"]["bandwidth_gb_s"] > 0
    assert set(document["floor"]["synthcap_fraction"]) == set(FAMILIES)
    assert document["targets"]["whole"]["peer"] in tools
    assert {"quantiles", "distinct"} <= set(document["targets"])  # DuckDB approximates these


@pytest.mark.slow
def test_ydata_profiling_runs_in_an_environment_of_its_own(tmp_path: Path) -> None:
    """Makes ``.bench_envs/ydata`` the first time (pip, minutes), then profiles a small table."""
    from synthcap_assets.bench.ydata_env import env_dir, run_ydata

    result = run_ydata(2_000)
    assert result["seconds"] > 0 and result["accuracy"] == "exact"
    assert Path(result["python"]).is_relative_to(env_dir())
    assert os.path.realpath(result["python"]) != os.path.realpath(sys.executable)
