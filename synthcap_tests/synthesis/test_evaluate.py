"""Evaluation metrics: known answers on crafted tables, and independent float64 references
(numpy/scipy) on random data."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import mannwhitneyu

from synthcap_assets.synthesis.evaluate import (
    auc,
    contingency_similarity,
    correlation_similarity,
    encode_rows,
    evaluate,
    pair_trends,
    privacy_metrics,
    summary,
)


def _frame(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pl.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(size=n),
            "c": rng.choice(["a", "b", "c"], n),
        }
    )


def test_correlation_similarity_matches_numpy() -> None:
    real, synth = _frame(300, 1), _frame(300, 2).with_columns(pl.col("y") * -1)
    r1 = np.corrcoef(real["x"], real["y"])[0, 1]
    r2 = np.corrcoef(synth["x"], synth["y"])[0, 1]
    assert correlation_similarity(real, synth, "x", "y") == pytest.approx(1 - abs(r1 - r2) / 2)
    assert correlation_similarity(real, real, "x", "y") == pytest.approx(1.0)


def test_contingency_similarity_known_answer() -> None:
    real = pl.DataFrame({"a": ["p", "p", "q", "q"], "b": ["u", "v", "u", "v"]})
    synth = pl.DataFrame({"a": ["p", "p", "p", "q"], "b": ["u", "u", "v", "v"]})
    # real: pu, pv, qu, qv = 1/4 each; synth: pu 1/2, pv 1/4, qv 1/4 -> TVD = 1/4
    assert contingency_similarity(real, synth, "a", "b") == pytest.approx(0.75)
    assert contingency_similarity(real, real, "a", "b") == 1.0


def test_pair_trends_picks_the_metric_by_type() -> None:
    trends = pair_trends(_frame(100, 3), _frame(100, 4), ["x", "y", "c"])
    assert trends["column"].to_list() == ["x|y", "x|c", "y|c"]
    assert trends["metric"].to_list() == ["correlation_similarity"] + ["contingency_similarity"] * 2
    assert trends["score"].is_between(0, 1).all()


def test_auc_matches_mann_whitney() -> None:
    rng = np.random.default_rng(5)
    pos, neg = rng.normal(0.3, 1, 80), rng.normal(0, 1, 70).round(1)
    u = mannwhitneyu(pos, neg).statistic
    assert auc(pos, neg) == pytest.approx(u / (80 * 70))
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0


def test_copies_and_fresh_rows_give_the_expected_privacy_metrics() -> None:
    train, holdout = _frame(200, 6), _frame(60, 7)
    copied = privacy_metrics(train, holdout, train, ["x", "y", "c"])
    assert copied["exact_match_share"] == 1.0 and copied["dcr_ratio"] == 0.0
    assert copied["mia_auc"] == 1.0  # every member sits at distance 0 from the sample
    fresh = privacy_metrics(train, holdout, _frame(200, 8), ["x", "y", "c"])
    assert fresh["exact_match_share"] == 0.0
    assert 0.7 < fresh["dcr_ratio"] < 1.5 and 0.35 < fresh["mia_auc"] < 0.65
    none = privacy_metrics(train, holdout.clear(), train, ["x"])
    assert none["dcr_ratio"] is None and none["mia_auc"] is None


def test_dcr_ratio_is_the_median_ratio_of_cdist_nearest_distances() -> None:
    train, holdout, synth = _frame(150, 9), _frame(40, 10), _frame(90, 11)
    cols = ["x", "y", "c"]
    x_train, x_hold, x_syn = encode_rows([train, holdout, synth], train, cols)
    expected = np.median(cdist(x_syn, x_train).min(1)) / np.median(cdist(x_hold, x_train).min(1))
    assert privacy_metrics(train, holdout, synth, cols)["dcr_ratio"] == pytest.approx(expected)


def test_evaluate_is_tidy_and_summary_averages_by_family() -> None:
    train, holdout = _frame(120, 12), _frame(30, 13)
    rows = evaluate(train, holdout, _frame(120, 14), ["x", "y", "c"])
    assert rows.columns == ["column", "metric", "score"]
    assert set(rows.filter(pl.col("column") == "*")["metric"]) == {
        "dcr_ratio",
        "exact_match_share",
        "mia_auc",
    }
    head = summary(rows)
    shapes = rows.filter(pl.col("metric").is_in(["ks_complement", "tv_complement"]))["score"]
    assert head["column_shapes"] == pytest.approx(shapes.mean())
    assert head["dcr_ratio"] == rows.filter(pl.col("metric") == "dcr_ratio")["score"][0]
