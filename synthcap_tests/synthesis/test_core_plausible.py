"""Plausible by construction: timestamps inside the measured range and kept as timestamps,
declared constraints met by every row, minority categories kept above the stability threshold,
columns chosen by the stated rule, and refusals that name the real cause."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import norm

from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis.dp_domain import (
    CATEGORY_WEIGHT,
    private_profile,
)
from synthcap_assets.synthesis.engine import cdp_rho_of
from synthcap_assets.synthesis.pipeline import synthesize_evaluated
from synthcap_assets.synthesis.prepare import OTHER
from synthcap_assets.synthesis.synthesize import SynthesisError, SynthesisResult, synthesize
from synthcap_resources.catalog import PrivacySpec

MONTH = (dt.datetime(2018, 9, 1), dt.datetime(2018, 10, 1))
US_PER_DAY = 86_400_000_000


def taxi(n: int, seed: int = 0) -> pl.DataFrame:
    """Trips of one month: pick-up, drop-off minutes later, distance, fare, tip (cash: none),
    payment (27% cash), cab colour (15% green)."""
    rng = np.random.default_rng(seed)
    start = MONTH[0]
    pickup = [start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, 30 * 86400, n)]
    minutes = rng.gamma(2.0, 7.0, n)
    dropoff = [p + dt.timedelta(minutes=float(m)) for p, m in zip(pickup, minutes, strict=True)]
    distance = np.round(minutes * rng.uniform(0.15, 0.35, n), 2)
    fare = np.round(2.5 + 2.5 * distance + rng.normal(0, 1, n).clip(-1, 3), 2)
    payment = rng.choice(["card", "cash"], n, p=[0.73, 0.27])
    tip = np.where(payment == "card", np.round(fare * rng.uniform(0.1, 0.25, n), 2), 0.0)
    return pl.DataFrame(
        {
            "pickup": pickup,
            "dropoff": dropoff,
            "distance": distance,
            "fare": fare,
            "tip": tip,
            "payment": payment.tolist(),
            "color": rng.choice(["yellow", "green"], n, p=[0.85, 0.15]).tolist(),
        }
    )


@pytest.fixture(scope="module")
def trips() -> tuple[pl.DataFrame, SynthesisResult]:
    df = taxi(2000)
    result = synthesize(
        df,
        profile=profile_frame(df),
        epsilon=1.0,
        max_columns=7,
        constraints=["dropoff >= pickup", "fare >= 0"],
        seed=3,
    )
    return df, result


def test_every_synthetic_trip_ends_after_it_starts(trips) -> None:
    _, result = trips
    sample = result.sample
    assert {"pickup", "dropoff", "fare"} <= set(result.columns)
    assert sample.height == 2000
    assert sample.filter(pl.col("dropoff") < pl.col("pickup")).height == 0
    assert sample.filter(pl.col("fare") < 0).height == 0
    assert 0 < result.acceptance <= 1


def test_timestamps_stay_in_the_measured_range_and_near_the_real_month(trips) -> None:
    df, result = trips
    sample = result.sample
    for name in ("pickup", "dropoff"):
        assert sample.schema[name] == df.schema[name]  # datetimes stay datetimes
        low, high = result.ranges[name]
        days = sample[name].dt.epoch("us").to_numpy() / US_PER_DAY
        assert days.min() >= low - 1e-6 and days.max() <= high + 1e-6
        # The measured range is private, so a little wider than the month, never years.
        real = df[name].dt.epoch("us").to_numpy() / US_PER_DAY
        assert high - low < 400 and low <= real.max() and high >= real.min()
    inside = sample["pickup"].is_between(MONTH[0], MONTH[1]).mean()
    # 0.89-1.00 over 20 runs (measured ranges 31-51 days); before: 3.7% (96.3% outside).
    assert inside > 0.75
    stamps = sample["pickup"]
    seconds = stamps.dt.second().cast(pl.Int32) + 60 * stamps.dt.minute().cast(pl.Int32)
    assert seconds.n_unique() > 1000  # times of day, not only dates (3,600 possible)


def test_the_cash_minority_is_kept(trips) -> None:
    _, result = trips
    shares = result.sample["payment"].value_counts(normalize=True)
    cash = shares.filter(pl.col("payment") == "cash")["proportion"]
    assert cash.len() == 1 and 0.1 < cash[0] < 0.45  # real: 27%
    assert result.domain["payment"] == "stability histogram"


def _yes_no(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    return pl.DataFrame(
        {
            "a": x,
            "b": x + rng.normal(0, 1, n),
            "c": rng.exponential(3.0, n),
            "answer": np.where(rng.random(n) < 0.3, "yes", "no").tolist(),
        }
    )


def test_stability_threshold_formula_and_a_yes_no_column_of_660_rows() -> None:
    df = _yes_no(660, seed=8)
    roles = profile_frame(df).select("column", "semantic_type")
    epsilon, delta, share = 1.0, 1e-9, 0.3
    rho_pre = share * cdp_rho_of(epsilon, delta / 2)
    # README: rho_c = rho_pre * w_c / sum(w); sigma = sqrt(1 / (2 rho_c));
    # tau = 1 + sigma * z(1 - (delta / 2) / m), m undeclared categorical columns.
    rho_c = rho_pre * CATEGORY_WEIGHT / (3 + CATEGORY_WEIGHT)
    sigma = math.sqrt(1 / (2 * rho_c))
    tau = 1 + sigma * norm.isf((delta / 2) / 1)
    yes = int((df["answer"] == "yes").sum())
    assert yes > tau + 3 * sigma  # so the minority clears tau but for a 1-in-1000 draw
    for _ in range(3):
        private, _ = private_profile(df, roles, rho=rho_pre, delta=delta / 2)
        answer = private.filter(pl.col("column") == "answer").row(0, named=True)
        assert set(answer["top_values"]) == {"yes", "no"}
    # A value held by fewer rows than tau - 5 sigma is never released.
    rare = df.with_columns(
        pl.when(pl.int_range(pl.len()) < int(tau - 5 * sigma))
        .then(pl.lit("rare"))
        .otherwise(pl.col("answer"))
        .alias("answer")
    )
    private, _ = private_profile(rare, roles, rho=rho_pre, delta=delta / 2)
    assert "rare" not in private.filter(pl.col("column") == "answer")["top_values"][0]


def test_max_columns_keeps_targets_first_and_lists_every_left_out_column() -> None:
    df = taxi(1500, seed=5).with_columns(pl.Series("email", ["a@b.org"] * 1500))
    result = synthesize(
        df,
        profile=profile_frame(df),
        epsilon=1.0,
        max_columns=3,
        targets=["tip", "fare"],
        exclude=["email"],
        seed=1,
    )
    assert {"tip", "fare"} <= set(result.columns) and len(result.columns) == 3
    assert set(result.columns) | set(result.dropped) == set(df.columns)
    assert "PII" in result.dropped["email"]
    over = [c for c, why in result.dropped.items() if why.startswith("over max_columns=3")]
    assert (
        len(over) == len(df.columns) - 1 - 3 and "privacy.targets first" in result.dropped[over[0]]
    )
    # Numbers and categories before dates and times (the rule's tie-break).
    assert result.columns[-1] not in ("pickup", "dropoff") or "pickup" in over


def test_a_small_table_is_refused_with_rows_needed_and_actions() -> None:
    df = _yes_no(120, seed=2).drop("answer")
    with pytest.raises(SynthesisError) as refused:
        synthesize(df, profile=profile_frame(df), epsilon=1.0)
    error = refused.value
    assert error.reason.startswith("too few rows for epsilon 1: 120 rows, about ")
    needed = int(error.reason.split("about ")[1].split()[0])
    assert needed > 120
    assert set(error.dropped) == {"a", "b", "c"}
    assert all("too few rows for epsilon 1" in why for why in error.dropped.values())
    assert any("privacy.bounds" in a for a in error.actions)
    assert any(a.startswith("raise epsilon to about") for a in error.actions)
    assert 0 < error.spent_epsilon < 1.0  # the range release happened and was spent
    assert "no quantiles" not in str(error)


def test_generalized_columns_enter_synthesis_generalized() -> None:
    rng = np.random.default_rng(6)
    n = 1200
    age = rng.integers(18, 90, n)
    df = pl.DataFrame(
        {
            "age": age,
            "income": np.round(1000 + 40 * age + rng.normal(0, 300, n), 0),
            "plan": rng.choice(["basic", "plus"], n, p=[0.6, 0.4]).tolist(),
            "email": [f"user{i}@example.org" for i in range(n)],
        }
    )
    done = synthesize_evaluated(
        df,
        profile=profile_frame(df),
        privacy=PrivacySpec(epsilon=1.0),
        generalize={"age": "age", "email": "email"},
    )
    sample = done.result.sample
    assert "age" in sample.columns and (sample["age"].drop_nulls() % 5 == 0).all()
    assert "email" not in sample.columns and "generalize" in done.result.dropped["email"]
    assert done.source_columns == ("age", "income", "plan", "email")
    assert 0 < done.utility < 1
    assert OTHER not in sample["plan"].to_list() or sample["plan"].n_unique() > 1


def test_a_bad_constraint_is_refused_before_any_release_and_an_impossible_one_after() -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(100, 200, 800)  # ranges found at epsilon 1 with a wide margin
    df = pl.DataFrame({"a": a, "c": a + rng.uniform(0, 50, 800)})
    released: list[str] = []
    with pytest.raises(SynthesisError, match="unknown column") as bad:
        synthesize(
            df,
            profile=profile_frame(df),
            epsilon=1.0,
            constraints=["a >= nope"],
            on_release=lambda what, eps: released.append(what),
        )
    assert released == [] and bad.value.spent_epsilon == 0.0
    with pytest.raises(SynthesisError, match=r"hold in only \d") as impossible:
        synthesize(
            df,
            profile=profile_frame(df),
            epsilon=1.0,
            rows=100,
            constraints=["c < -1"],  # never negative, nor is its measured range
            on_release=lambda what, eps: released.append(what),
        )
    assert released[-1] == "fit: mst"
    assert impossible.value.spent_epsilon == pytest.approx(1.0)
