"""The private domain: public declarations cost nothing, measured ranges and categories come
through the noise, a value held by one person is not released, and the budget adds up."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from synthcap_assets.synthesis.dp_domain import (
    NULLS_ONLY_SHARE,
    ZOOM_CELLS,
    DomainError,
    bin_points,
    cell_counts,
    declared_categories,
    kept_span,
    magnitude_grid,
    private_profile,
)

ROLES = pl.DataFrame(
    {
        "column": ["amount", "channel", "level", "note"],
        "semantic_type": ["numeric", "categorical", "categorical", "text"],
    }
)


def _frame(n: int = 600, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    channel = rng.choice(["web", "store"], n).astype(object)
    channel[0] = "only-one-person"
    amount = rng.uniform(100, 200, n)
    return pl.DataFrame(
        {
            "amount": pl.Series(amount).scatter(list(range(min(50, n))), None),
            "channel": channel.tolist(),
            "level": rng.integers(0, 4, n),
            "note": ["free text here"] * n,
        }
    )


def test_declared_categories_come_from_in_rules() -> None:
    rules = ["x > 0", "channel in ('web', 'o''brien')", '"level" IN (1, 2.5)', "y not null"]
    assert declared_categories(rules) == {"channel": ["web", "o'brien"], "level": ["1", "2.5"]}


def test_grid_cells_spans_and_bin_points_known_answers() -> None:
    grid = magnitude_grid()
    assert np.all(np.diff(grid) > 0) and 0.0 in grid and {1.0, 1.5, 2.0, 3.0} <= set(grid)
    np.testing.assert_array_equal(grid, -grid[::-1])
    counts, nulls = cell_counts(np.array([0.5, 1.0, 2.5, 99.0, np.nan]), np.array([0, 1, 2, 3.0]))
    assert counts.tolist() == [1, 1, 2] and nulls == 1  # 99 clipped into the last cell
    assert kept_span(np.array([0, 1, 2, 3.0]), np.array([0, 5, 9]), 5) == (1.0, 3.0)
    assert kept_span(np.array([0, 1.0]), np.array([4]), 5) is None
    assert bin_points(0, 10)[:3] == pytest.approx([0, 0.1, 0.2])
    geometric = bin_points(1, 1000)
    assert geometric[50] == pytest.approx(math.sqrt(1000)) and geometric[-1] == pytest.approx(1000)


def test_with_little_noise_the_domain_is_found_and_the_rare_value_is_hidden() -> None:
    df = _frame()
    profile, cost = private_profile(df, ROLES, rho=1e4, delta=1e-9)
    rows = {r["column"]: r for r in profile.to_dicts()}
    low, high = rows["amount"]["quantiles"][0], rows["amount"]["quantiles"][-1]
    width = (256 - 96) / ZOOM_CELLS  # stage one finds [96, 256); the zoom trims to its cells
    assert 100 - width <= low <= 100 and 200 <= high <= 200 + width
    assert rows["amount"]["nulls"] == pytest.approx(50, abs=3)
    assert set(rows["channel"]["top_values"]) == {"web", "store"}  # not "only-one-person"
    assert rows["channel"]["distinct"] == 3 and rows["channel"]["nulls"] == 0
    # Integers without declared categories are binned as numbers: 0..3 in [0, 4).
    assert rows["level"]["semantic_type"] == "numeric"
    assert rows["level"]["quantiles"][0] >= 0 and rows["level"]["quantiles"][-1] <= 4
    assert rows["note"]["quantiles"] is None and rows["note"]["top_values"] is None
    assert cost.rho == 1e4 and cost.columns["amount"] == "private range"


def test_declared_domains_are_used_as_given_and_cost_only_the_null_cells() -> None:
    df = _frame()
    rho = 0.01
    profile, cost = private_profile(
        df.drop("amount"),
        ROLES.filter(pl.col("column") != "amount"),
        rho=rho,
        delta=1e-9,
        bounds={"level": (0, 9)},
        categories={"channel": ["web", "store", "phone"]},
    )
    rows = {r["column"]: r for r in profile.to_dicts()}
    assert rows["channel"]["top_values"] == ["web", "store", "phone"]  # declared order, phone too
    assert rows["level"]["top_values"] == [str(i) for i in range(10)]  # integer bounds
    assert cost.rho == pytest.approx(rho * NULLS_ONLY_SHARE)
    assert cost.sigma == pytest.approx(math.sqrt(2 / (2 * rho * NULLS_ONLY_SHARE)))
    assert set(cost.columns.values()) == {"declared categories"}


def test_declared_bounds_place_the_bins_inside_them_from_a_measured_histogram() -> None:
    """Bounds skip the range stages; a histogram inside them still places the bins, so a
    column that fills half of wide public bounds is not cut into equal-width bins over all of
    them (seattle-weather's declared 0-120 mm of rain put nearly every day in one bin)."""
    df = _frame()
    profile, cost = private_profile(
        df, ROLES, rho=1e4, delta=1e-9, bounds={"amount": (50.0, 250.0)}
    )
    points = profile.filter(pl.col("column") == "amount")["quantiles"][0].to_list()
    amounts = df["amount"].drop_nulls().to_numpy()
    width = 200 / 32  # the histogram's cells inside the bounds
    assert points[0] >= 50 and points[-1] <= 250
    assert abs(points[0] - amounts.min()) <= width and abs(points[-1] - amounts.max()) <= width
    assert points[50] == pytest.approx(np.median(amounts), abs=width)
    assert cost.columns["amount"] == "declared bounds" and cost.rho == pytest.approx(1e4)


def test_a_tiny_budget_drops_what_it_cannot_see_and_bad_arguments_raise() -> None:
    profile, cost = private_profile(_frame(40), ROLES, rho=1e-6, delta=1e-9)
    rows = {r["column"]: r for r in profile.to_dicts()}
    assert rows["amount"]["quantiles"] is None and "no range" in cost.columns["amount"]
    assert rows["channel"]["top_values"] == []  # only "other" is left
    with pytest.raises(DomainError, match="rho"):
        private_profile(_frame(), ROLES, rho=0.0, delta=1e-9)
    with pytest.raises(DomainError, match="profile lacks"):
        private_profile(_frame(), pl.DataFrame({"column": ["a"]}), rho=1.0, delta=1e-9)


def test_a_day_of_timestamps_is_zoomed_into_from_its_magnitude_cell() -> None:
    import datetime as dt

    start = dt.datetime(2026, 11, 16)
    rng = np.random.default_rng(2)
    stamps = [start + dt.timedelta(seconds=int(s)) for s in rng.uniform(0, 86_399, 500)]
    df = pl.DataFrame({"created_at": stamps, "kind": ["a"] * 500})
    roles = pl.DataFrame(
        {"column": ["created_at", "kind"], "semantic_type": ["datetime", "categorical"]}
    )
    profile, cost = private_profile(df, roles, rho=1e4, delta=1e-9)
    points = profile.filter(pl.col("column") == "created_at")["quantiles"][0].to_list()
    day = (start - dt.datetime(1970, 1, 1)).days  # the magnitude cell is [16384, 24576) days
    # 256-day cell -> first zoom to 8-day cells -> the last release's cell of 8 days
    assert points[0] <= day and points[-1] >= day + 1 and points[-1] - points[0] <= 8
    assert cost.rho == 1e4  # range, first zoom and last release used the whole budget


def test_grown_span_follows_a_thin_tail_and_stops_at_empty_cells() -> None:
    from synthcap_assets.synthesis.dp_domain import grown_span

    edges = np.arange(11.0)
    # Anchor cell 2 (count 50 >= strict 40); cells 3-6 each 8: a thin tail no single cell
    # carries past loose=10, but 2 cells sum to 16 >= 10 * sqrt(2) and 4 to 32 >= 20.
    noisy = np.array([0, 0, 50, 8, 8, 8, 8, 0, 0, 0])
    assert grown_span(edges, noisy, strict=40, loose=10, reach=4) == (2.0, 7.0)
    assert grown_span(edges, noisy, strict=40, loose=10, reach=1) == (2.0, 3.0)
    assert grown_span(edges, noisy, strict=60, loose=10) is None
    # Negative noise does not stop a window whose sum still stands out.
    assert grown_span(edges, np.array([0, 30, -3, 50, 0, 0, 0, 0, 0, 0]), 40, 10, 2) == (1.0, 4.0)


def test_noisy_quantiles_interpolate_cells_and_hold_an_atom_at_zero() -> None:
    from synthcap_assets.synthesis.dp_domain import noisy_quantiles

    edges = np.array([0.0, 10.0, 20.0, 30.0])
    points = noisy_quantiles(edges, np.array([0, 50, 50]))
    assert points[0] == 10.0 and points[-1] == 30.0 and points[50] == pytest.approx(20.0)
    with_zero = noisy_quantiles(edges, np.array([0, 50, 50]), zero=100.0)
    assert with_zero[:50] == [0.0] * 50 and with_zero[-1] == 30.0
    assert with_zero[75] == pytest.approx(20.0)
    assert noisy_quantiles(edges, np.array([-5, 0, -1])) is None


def test_a_zero_inflated_column_gets_an_atom_and_its_tail() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    rain = np.where(rng.random(n) < 0.55, 0.0, np.round(rng.lognormal(1.0, 1.0, n), 1))
    df = pl.DataFrame({"rain": rain})
    roles = pl.DataFrame({"column": ["rain"], "semantic_type": ["numeric"]})
    profile, cost = private_profile(df, roles, rho=0.5, delta=1e-9)
    points = profile["quantiles"][0].to_list()
    # 55% zeros: about the first 55 of 101 points are exactly 0 (noise moves it a little).
    zeros = sum(p == 0.0 for p in points)
    assert 45 <= zeros <= 65
    assert np.quantile(rain, 0.9) / 2 < points[90] < np.quantile(rain, 0.9) * 2
    assert cost.spans["rain"][0] == 0.0 and cost.spans["rain"][1] >= np.quantile(rain, 0.95)
