"""Column-shape scores against scipy's KS test and hand-computed total variation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy.stats import ks_2samp

from synthcap_assets.synthesis.utility import (
    SHAPES_SCHEMA,
    UtilityError,
    column_shapes,
    ks_complement,
    tv_complement,
    utility_score,
)


def test_ks_complement_matches_scipy_with_nulls_and_nan_dropped():
    rng = np.random.default_rng(11)
    a = rng.normal(0, 1, 300)
    b = rng.normal(0.3, 1.4, 170)
    a_with_gaps = pl.Series(np.r_[a, np.nan, np.inf]).append(pl.Series([None], dtype=pl.Float64))
    b_with_gaps = pl.Series(np.r_[b, np.nan])
    expected = 1 - ks_2samp(a, b).statistic
    assert ks_complement(a_with_gaps, b_with_gaps) == pytest.approx(expected, abs=1e-12)

    ints_a, ints_b = rng.integers(0, 20, 250), rng.integers(3, 25, 90)  # many ties
    expected = 1 - ks_2samp(ints_a, ints_b).statistic
    assert ks_complement(pl.Series(ints_a), pl.Series(ints_b)) == pytest.approx(expected)


def test_ks_complement_on_dates_and_datetimes_matches_scipy_on_day_numbers():
    rng = np.random.default_rng(2)
    days_a, days_b = rng.integers(0, 365, 200), rng.integers(30, 400, 150)
    epoch = dt.date(1970, 1, 1)
    dates_a = pl.Series([epoch + dt.timedelta(days=int(d)) for d in days_a])
    dates_b = pl.Series([epoch + dt.timedelta(days=int(d)) for d in days_b])
    expected = 1 - ks_2samp(days_a, days_b).statistic
    assert ks_complement(dates_a, dates_b) == pytest.approx(expected)
    stamps_a = dates_a.cast(pl.Datetime("us")) + dt.timedelta(hours=3)
    shapes = column_shapes(
        pl.DataFrame({"t": stamps_a}), pl.DataFrame({"t": dates_b.cast(pl.Datetime("ms"))}), ["t"]
    )
    assert shapes["metric"].to_list() == ["ks_complement"]
    assert shapes["score"][0] == pytest.approx(1 - ks_2samp(days_a + 0.125, days_b).statistic)


def test_tv_complement_hand_computed():
    real = pl.Series(["a", "a", "b", None])  # a .5, b .25, null .25
    synth = pl.Series(["a", "b", "b", "c"])  # a .25, b .5, c .25
    # 1 - 0.5 * (|.5-.25| + |.25-.5| + |.25-0| + |0-.25|) = 1 - 0.5 * 1.0
    assert tv_complement(real, synth) == pytest.approx(0.5)
    assert tv_complement(pl.Series(["x", "y"]), pl.Series(["y", "x", "x", "y"])) == 1.0
    assert tv_complement(pl.Series(["x"]), pl.Series(["y", "y"])) == 0.0
    flags = pl.Series([True, True, False, None, None])  # T .4, F .2, null .4
    other = pl.Series([True, False, False, False, None])  # T .2, F .6, null .2
    assert tv_complement(flags, other) == pytest.approx(1 - 0.5 * (0.2 + 0.4 + 0.2))


def test_column_shapes_picks_the_metric_by_type_and_keeps_order():
    rng = np.random.default_rng(4)
    real = pl.DataFrame(
        {
            "num": rng.normal(size=50),
            "cat": rng.choice(["u", "v", "w"], 50),
            "flag": rng.random(50) < 0.5,
            "n": rng.integers(0, 9, 50),
        }
    )
    synth = pl.DataFrame(
        {
            "num": rng.normal(0.5, 1, 80),
            "cat": rng.choice(["u", "v"], 80),
            "flag": rng.random(80) < 0.2,
            "n": rng.integers(0, 9, 80),
            "ignored": np.zeros(80),
        }
    )
    shapes = column_shapes(real, synth, ["cat", "num", "flag", "n"])
    assert shapes.schema == pl.Schema(SHAPES_SCHEMA)
    assert shapes["column"].to_list() == ["cat", "num", "flag", "n"]
    assert shapes["metric"].to_list() == [
        "tv_complement",
        "ks_complement",
        "tv_complement",
        "ks_complement",
    ]
    p = real["cat"].value_counts(normalize=True).sort("cat")["proportion"].to_numpy()
    q = synth["cat"].value_counts(normalize=True).sort("cat")["proportion"].to_numpy()
    expected_cat = 1 - 0.5 * (abs(p[0] - q[0]) + abs(p[1] - q[1]) + p[2])
    assert shapes["score"][0] == pytest.approx(expected_cat)
    expected_num = 1 - ks_2samp(real["num"].to_numpy(), synth["num"].to_numpy()).statistic
    assert shapes["score"][1] == pytest.approx(expected_num)
    assert ((shapes["score"] >= 0) & (shapes["score"] <= 1)).all()
    assert utility_score(shapes) == pytest.approx(float(np.mean(shapes["score"].to_numpy())))


def test_edge_cases_empty_all_null_constant_single_row():
    empty = pl.DataFrame({"v": pl.Series([], dtype=pl.Float64), "c": pl.Series([], dtype=pl.Utf8)})
    some = pl.DataFrame({"v": [1.0, 2.0], "c": ["a", "b"]})
    both_empty = column_shapes(empty, empty, ["v", "c"])
    assert both_empty["score"].to_list() == [1.0, 1.0]
    assert column_shapes(empty, some, ["v", "c"])["score"].to_list() == [0.0, 0.0]
    nulls = pl.DataFrame({"v": pl.Series([None, None], dtype=pl.Float64)})
    assert column_shapes(nulls, some, ["v"])["score"][0] == 0.0
    const = pl.DataFrame({"v": [3.0] * 4})
    assert column_shapes(const, const, ["v"])["score"][0] == 1.0
    assert column_shapes(const, pl.DataFrame({"v": [4.0]}), ["v"])["score"][0] == 0.0
    one = pl.DataFrame({"v": [2.0]})
    assert column_shapes(one, some, ["v"])["score"][0] == pytest.approx(0.5)  # CDF gap at 1.0
    assert column_shapes(some, some, [])["score"].len() == 0
    assert utility_score(column_shapes(some, some, [])) == 0.0


def test_missing_columns_raise():
    with pytest.raises(UtilityError, match=r"\['w'\]"):
        column_shapes(pl.DataFrame({"v": [1]}), pl.DataFrame({"v": [1], "w": [2]}), ["v", "w"])
