"""The profile benchmark: synthcap's statistics agree with numpy/scipy on the bench table, and
the smoke size of ``synthcap bench profile`` runs every peer and writes the documented JSON."""

from __future__ import annotations

import itertools
import json
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
from synthcap_assets.bench.peers import numpy_stats, polars_stats
from synthcap_assets.bench.synthcap_profile import synthcap_stats
from synthcap_assets.cli import main


def test_synthcap_statistics_match_numpy_and_polars() -> None:
    df = make_table(30_000, seed=3)
    ours, ref, pol = synthcap_stats(df), numpy_stats(df), polars_stats(df)
    p = ours["profile"]
    np.testing.assert_array_equal(p.moments["count"], ref["count"])
    np.testing.assert_allclose(p.moments["mean"], ref["mean"], rtol=1e-9)
    # Shape statistics are shift-invariant: the reference subtracts the first value exactly
    # (Sterbenz) so that the 1e12-offset column does not lose its digits in numpy's mean.
    block = df.select(NUMERIC_COLUMNS).to_numpy()
    shifted = [c[~np.isnan(c)] - c[~np.isnan(c)][0] for c in block.T]
    np.testing.assert_allclose(p.moments["var"], [np.var(c, ddof=1) for c in shifted], rtol=1e-9)
    np.testing.assert_allclose(p.moments["skewness"], [stats.skew(c) for c in shifted], rtol=1e-7)
    np.testing.assert_allclose(
        p.moments["kurtosis"], [stats.kurtosis(c) for c in shifted], rtol=1e-7
    )
    np.testing.assert_array_equal(p.moments["zeros"], ref["zeros"])
    np.testing.assert_array_equal(p.moments["negatives"], ref["negatives"])
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
    pairs = list(itertools.combinations(range(len(NUMERIC_COLUMNS)), 2))
    pearson = [ours["pearson"][i, k] for i, k in pairs]
    np.testing.assert_allclose(pearson, [ref["pearson"][i, k] for i, k in pairs], atol=1e-9)
    spearman = [ours["spearman"][i, k] for i, k in pairs]
    np.testing.assert_allclose(spearman, pol["spearman"], atol=5e-3)
    assert ours["cramers_v"] == pytest.approx(ref["cramers_v"], abs=1e-9)
    for c in CATEGORICAL_COLUMNS:
        assert ours[f"{c}:distinct"] == ref[f"{c}:distinct"]
        top = pol[f"{c}:top"]
        assert [n for _, n in ours[f"{c}:top"]] == top["count"].to_list()


def test_bench_profile_smoke_size_writes_the_documented_json(tmp_path: Path) -> None:
    out = tmp_path / "profile.json"
    tools = ["synthcap", "polars", "duckdb", "numpy"]
    assert main(["bench", "profile", "--rows", "5000", "--tools", *tools, "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["bench"] == "profile" and document["rows"] == 5000
    assert [r["tool"] for r in document["results"]] == tools
    for result in document["results"]:
        assert result["seconds"] > 0 and result["peak_mb"] >= 0
        assert result["ratio"] == pytest.approx(
            result["seconds"] / document["results"][0]["seconds"]
        )
    assert document["results"][0]["ratio"] == 1.0
