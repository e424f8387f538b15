"""The usefulness verdict of a sample, against pandas on random frames: placeholder columns,
constraints broken row by row, utility with every counted column in, and the outcome row."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from synthcap_assets.synthesis.evaluate import evaluate
from synthcap_assets.synthesis.outcome import (
    REFUSED,
    SAMPLE,
    Outcome,
    OutcomeError,
    broken_constraints,
    counted_scores,
    judge_sample,
    outcome_from_row,
    placeholder_columns,
)
from synthcap_assets.synthesis.prepare import OTHER


def _frame(rng: np.random.Generator, rows: int = 400) -> pl.DataFrame:
    pickup = rng.integers(0, 10_000, rows)
    return pl.DataFrame(
        {
            "pickup": pickup,
            "dropoff": pickup + rng.integers(-30, 600, rows),  # some rows end before they start
            "fare": rng.gamma(2.0, 7.0, rows),
            "payment": rng.choice(["card", "cash", "other"], rows, p=[0.6, 0.3, 0.1]),
            "smoker": [OTHER] * rows,
        }
    )


def test_placeholder_columns_are_those_without_a_real_value():
    rng = np.random.default_rng(1)
    frame = _frame(rng).with_columns(
        pl.Series("blank", [None] * 400, dtype=pl.Float64),
        pl.Series("mixed", [OTHER, None, "yes", OTHER] * 100),
        pl.Series("nan", [float("nan")] * 400),
    )
    pandas = frame.to_pandas()
    expected = [
        c for c in frame.columns if pandas[c].isna().all() or (pandas[c].dropna() == OTHER).all()
    ]
    assert placeholder_columns(frame, frame.columns) == expected == ["smoker", "blank", "nan"]
    assert placeholder_columns(frame.clear(), frame.columns) == []


def test_broken_constraints_count_the_rows_pandas_counts():
    rng = np.random.default_rng(2)
    frame = _frame(rng)
    pandas = frame.to_pandas()
    rules = ["dropoff >= pickup", "fare between 0 and 40", "payment in ('card', 'cash')"]
    broken, errors = broken_constraints(frame, rules, frame.columns)
    expected = {
        rules[0]: int((pandas.dropoff < pandas.pickup).sum()),
        rules[1]: int(((pandas.fare < 0) | (pandas.fare > 40)).sum()),
        rules[2]: int((~pandas.payment.isin(["card", "cash"])).sum()),
    }
    assert all(n > 0 for n in expected.values())
    assert broken == [f"{r}: {n} of 400 rows" for r, n in expected.items()] and errors == []
    # a rule on a column the sample does not hold does not apply; a bad rule is a problem
    broken, errors = broken_constraints(frame.drop("dropoff"), rules[:1], frame.columns)
    assert broken == [] and errors == []
    _, errors = broken_constraints(frame, ["fare >>= 1"], frame.columns)
    assert errors and "fare >>= 1" in errors[0]


def test_the_verdict_names_each_problem_and_passes_a_clean_sample():
    rng = np.random.default_rng(3)
    frame = _frame(rng)
    bad = judge_sample(
        frame,
        synthesized=frame.columns,
        constraints=["dropoff >= pickup"],
        known_columns=frame.columns,
        utility=0.31,
        utility_floor=0.5,
    )
    assert not bad.passed and bad.placeholder_columns == ["smoker"]
    assert len(bad.problems) == 3 and "utility 0.310 < floor 0.5" in bad.problems[2]
    clean = frame.drop("smoker").filter(pl.col("dropoff") >= pl.col("pickup"))
    good = judge_sample(
        clean,
        synthesized=clean.columns,
        constraints=["dropoff >= pickup"],
        known_columns=frame.columns,
        utility=0.8,
        utility_floor=0.5,
    )
    assert good.passed and good.problems == []


def test_counted_scores_give_left_out_columns_zero():
    rng = np.random.default_rng(4)
    real = _frame(rng, 600).drop("smoker")
    train, synthetic = real.head(300), real.tail(300)
    synthesized = ["pickup", "fare", "payment"]
    evaluation = evaluate(train, train.clear(), synthetic, synthesized)
    counted = [*synthesized, "dropoff"]
    shapes, pairs, utility = counted_scores(evaluation, counted)
    # independent reference: pandas over the evaluation rows, absent columns and pairs as 0
    rows = evaluation.to_pandas().set_index("column")["score"]
    expected_shapes = sum(rows.get(c, 0.0) for c in counted) / len(counted)
    pair_keys = [f"{a}|{b}" for a, b in itertools.combinations(synthesized, 2)]
    expected_pairs = sum(rows[k] for k in pair_keys) / 6  # 4 columns: 6 pairs, 3 scored
    assert shapes == pytest.approx(expected_shapes)
    assert pairs == pytest.approx(expected_pairs)
    assert utility == pytest.approx((expected_shapes + expected_pairs) / 2)
    full_shapes, _, _ = counted_scores(evaluation, synthesized)
    assert shapes == pytest.approx(full_shapes * 3 / 4) and shapes < full_shapes


def test_an_outcome_row_round_trips_and_a_sample_needs_its_verdict():
    rng = np.random.default_rng(5)
    frame = _frame(rng)
    verdict = judge_sample(
        frame,
        synthesized=frame.columns,
        constraints=[],
        known_columns=frame.columns,
        utility=0.9,
        utility_floor=0.5,
    )
    outcome = Outcome(
        status=SAMPLE,
        dropped={"tip": "over max_columns"},
        spent_epsilon=1.0,
        sample_rows=400,
        synthesized=frame.columns,
        counted_columns=[*frame.columns, "tip"],
        utility=0.9,
        utility_floor=0.5,
        verdict=verdict,
    )
    row = outcome.as_frame().row(0, named=True)
    assert row["passed"] is False and row["placeholder_columns"] == ["smoker"]
    assert outcome_from_row(row) == outcome
    refusal = Outcome(status=REFUSED, reason="only 1 usable column", actions=["drop x"])
    again = outcome_from_row(refusal.as_frame().row(0, named=True))
    assert again == refusal and again.problems == [
        "no sample: synthesis refused: only 1 usable column"
    ]
    with pytest.raises(OutcomeError, match="verdict"):
        Outcome(status=SAMPLE)
    with pytest.raises(OutcomeError, match="status"):
        Outcome(status="maybe")


def test_a_collapsed_column_fails_the_verdict_whatever_the_mean() -> None:
    """A real column (seattle's daily minimum temperature) synthesized inside a sliver of its
    range, as a noise-collapsed private range makes it, scores a shape far under the floor
    (scipy's KS statistic is the reference) and fails the verdict, though the table-wide
    utility passes; a bootstrap of the real rows passes."""
    from scipy.stats import ks_2samp
    from vega_datasets import local_data

    from synthcap_assets.synthesis.outcome import COLUMN_SHAPE_FLOOR, shape_scores

    real = pl.from_pandas(local_data.seattle_weather()).select("temp_min", "wind", "weather")
    rng = np.random.default_rng(7)
    faithful = real[rng.integers(0, real.height, real.height)]
    collapsed = faithful.with_columns(temp_min=pl.Series(rng.uniform(8.0, 8.25, real.height)))
    for sample, passes in ((faithful, True), (collapsed, False)):
        evaluation = evaluate(real, real.clear(), sample, sample.columns)
        shapes = shape_scores(evaluation)
        ks = ks_2samp(real["temp_min"].to_numpy(), sample["temp_min"].to_numpy()).statistic
        assert shapes["temp_min"] == pytest.approx(1 - ks, abs=1e-9)
        verdict = judge_sample(
            sample,
            synthesized=sample.columns,
            constraints=[],
            known_columns=sample.columns,
            utility=0.9,
            utility_floor=0.5,
            column_shapes=shapes,
        )
        assert verdict.passed is passes, verdict.problems
        if not passes:
            assert shapes["temp_min"] < COLUMN_SHAPE_FLOOR
            assert "temp_min" in verdict.problems[0]
