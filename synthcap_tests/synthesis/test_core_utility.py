"""The seed's utility target on a real table shipped inside an installed package: at epsilon 1,
column shapes >= 0.85 and pair trends >= 0.75, every column of the source counted.

seattle-weather (vega_datasets, 1,461 daily rows: a date, four numbers of which one
zero-inflated, and a five-valued category) is synthesized whole at epsilon 1, with no declared
bounds or categories: everything the domain needs is measured privately. Over 10 runs on the
shipped settings the scores ranged 0.86-0.92 (shapes) and 0.79-0.84 (pairs). The slow test
runs the other real tables of 1,000+ rows that ship with vega_datasets.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis.evaluate import evaluate, pair_trends, summary
from synthcap_assets.synthesis.synthesize import synthesize
from synthcap_assets.synthesis.utility import (
    column_shapes,
    column_shapes_score,
    pair_trends_score,
    utility_score,
)

vega = pytest.importorskip("vega_datasets")


def _scores(name: str) -> tuple[float, float, pl.DataFrame, list[str]]:
    df = pl.from_pandas(getattr(vega.local_data, name)())
    result = synthesize(df, profile=profile_frame(df), epsilon=1.0, seed=0)
    evaluation = evaluate(df, df.clear(), result.sample, result.columns)
    shapes = column_shapes_score(evaluation, df.columns)
    pairs = pair_trends_score(evaluation, df.columns)
    return shapes, pairs, evaluation, result.columns


def test_seattle_weather_meets_the_utility_target_at_epsilon_1() -> None:
    # OpenDP's noise cannot be seeded: one synthesis scores 0.86-0.92 shapes and 0.79-0.84
    # pairs (10 runs, none under a target; before the zoom rounds 2 runs in 8 were), so the
    # target holds for the mean of three independent syntheses, as the bench averages repeats.
    runs = [_scores("seattle_weather") for _ in range(3)]
    shapes = float(np.mean([r[0] for r in runs]))
    pairs = float(np.mean([r[1] for r in runs]))
    assert shapes >= 0.85 and pairs >= 0.75, [(r[0], r[1]) for r in runs]
    for run_shapes, run_pairs, evaluation, columns in runs:
        # Every column was synthesized: none scored 0 for being left out.
        assert len(columns) == 6
        assert utility_score(evaluation, columns) == pytest.approx((run_shapes + run_pairs) / 2)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seattle_temps", "sf_temps", "airports"])
def test_other_real_tables_of_1000_rows(name: str) -> None:
    shapes, pairs, _, columns = _scores(name)
    # airports: iata is an identifier, name and city nearly so: left out, they score 0 and
    # cap its shapes near 4/7 (measured 0.45); the temperature tables have two columns
    # (measured 0.96-0.97 shapes, 0.98-0.99 pairs) and must reach both targets.
    if name == "airports":
        assert shapes >= 0.4 and len(columns) >= 4, (shapes, pairs, columns)
    else:
        assert shapes >= 0.85 and pairs >= 0.75, (shapes, pairs, columns)


def test_left_out_columns_score_zero_in_shapes_and_pairs() -> None:
    real = pl.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["x", "y", "x", "y"], "c": [1, 2, 3, 4]})
    synthetic = real.with_columns(pl.col("a") * 1.5)
    rows = pl.concat(
        [column_shapes(real, synthetic, ["a", "b"]), pair_trends(real, synthetic, ["a", "b"])]
    )
    shape_a, shape_b = rows["score"][0], rows["score"][1]
    pair_ab = rows["score"][2]
    assert column_shapes_score(rows) == pytest.approx((shape_a + shape_b) / 2)
    # "c" was left out: its shape and both pairs with it score 0.
    assert column_shapes_score(rows, ["a", "b", "c"]) == pytest.approx((shape_a + shape_b) / 3)
    assert pair_trends_score(rows, ["a", "b", "c"]) == pytest.approx(pair_ab / 3)
    assert pair_trends_score(rows, ["b", "a"]) == pytest.approx(pair_ab)  # either order
    assert pair_trends_score(rows, ["a"]) is None
    assert utility_score(rows, ["a", "b", "c"]) == pytest.approx(
        ((shape_a + shape_b) / 3 + pair_ab / 3) / 2
    )
    assert utility_score(rows) == pytest.approx((shape_a + shape_b) / 2)  # the old call
    headline = summary(rows, ["a", "b", "c"])
    assert headline["column_shapes"] == pytest.approx((shape_a + shape_b) / 3)
    assert headline["pair_trends"] == pytest.approx(pair_ab / 3)
    assert 0 < shape_a < 1 and 0 < pair_ab <= 1
