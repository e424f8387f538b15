"""False alarms and planted shifts on real tables (issue 11, items 4 and 5).

Each of five bundled real tables (``real_tables``: more than 8k rows, heavy ties and discrete
columns, outliers, high-cardinality strings and names, missing values) is split into two
"days" 200 times with seeded random permutations and run through ``drift_between`` with the
catalog's default thresholds. Both days come from one distribution, so every (split, column)
decision is a chance to raise a false alarm. Nominal rate: the test level α (0.01) for every
decision, since a distance verdict also needs its test to reject at α (``kernels.drift``).
Bound: α + 3 binomial standard deviations over all decisions. Identifier-like columns (codes,
airport names and cities, car models) have no distribution test and must never flag.
A planted shift on day 2 (numeric moves, re-weighted categories, a new dominant state) must
be flagged in every one of 20 further splits, with no other column flagged above the bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl
import pytest

from synthcap_assets.profile.drift import drift_between, drift_thresholds
from synthcap_resources.catalog import DriftSpec
from synthcap_tests.profile.real_tables import LOADERS, random_halves, real_table

SPLITS = 200
PLANTED_SPLITS = 20
THRESHOLDS = drift_thresholds(DriftSpec())
ALPHA = THRESHOLDS.ks_pvalue
assert THRESHOLDS.chisquare_pvalue == ALPHA
IDENTIFIERS = {("cars", "Name"), ("airports", "iata"), ("airports", "name"), ("airports", "city")}


def _std(frame: pl.DataFrame, column: str) -> float:
    return float(frame[column].std())


def _share_to(column: str, value: object, share: float) -> Callable[[pl.DataFrame], pl.Expr]:
    """Set ``column`` to ``value`` in the first ``share`` of day 2's rows (a random subset,
    since the rows are a random permutation)."""
    return lambda day: (
        pl.when(pl.int_range(pl.len()) < int(share * day.height))
        .then(pl.lit(value, dtype=day.schema[column]))
        .otherwise(pl.col(column))
        .alias(column)
    )


PLANTS: dict[str, dict[str, Callable[[pl.DataFrame], pl.Expr]]] = {
    "randhie": {
        "lpi": lambda day: pl.col("lpi") + 0.5 * _std(day, "lpi"),
        "hlthg": _share_to("hlthg", 1, 0.4),
    },
    "fair": {"rate_marriage": lambda day: pl.col("rate_marriage") + 1.0},
    "engel": {"income": lambda day: pl.col("income") * 1.5},
    "cars": {
        "Horsepower": lambda day: pl.col("Horsepower") + _std(day, "Horsepower"),
        "Origin": _share_to("Origin", "Japan", 0.5),
    },
    "airports": {
        "latitude": lambda day: pl.col("latitude") + 0.5 * _std(day, "latitude"),
        "state": _share_to("state", "TX", 0.3),
    },
}


def _decisions(report: pl.DataFrame) -> pl.DataFrame:
    return report.filter(
        pl.col("kind").is_in(["numeric", "categorical"]),
        ~pl.col("method").is_in(["identifier", "none"]),
    )


def _bound(decisions: int) -> float:
    return ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / decisions)


def test_random_halves_of_real_tables_flag_at_most_the_nominal_rate() -> None:
    decisions = flags = 0
    flagged: list[tuple[str, int, str]] = []
    identifiers: set[tuple[str, str]] = set()
    for name in LOADERS:
        table = real_table(name)
        for seed in range(SPLITS):
            reference, current = random_halves(table, seed)
            report = drift_between(current, reference, thresholds=THRESHOLDS)
            for row in report.filter(pl.col("method") == "identifier").iter_rows(named=True):
                assert row["drifted"] is False, row
                identifiers.add((name, row["column"]))
            assert (report["kind"] != "schema").all(), name
            tested = _decisions(report)
            decisions += tested.height
            for row in tested.filter(pl.col("drifted")).iter_rows(named=True):
                flagged.append((name, seed, row["column"]))
            flags += int(tested["drifted"].sum())
    assert identifiers == IDENTIFIERS
    assert decisions >= SPLITS * 30
    rate = flags / decisions
    assert rate <= _bound(decisions), (rate, _bound(decisions), flagged)


@pytest.mark.parametrize("name", list(PLANTS))
def test_a_planted_shift_is_flagged(name: str) -> None:
    table, plants = real_table(name), PLANTS[name]
    decisions = flags = 0
    for seed in range(SPLITS, SPLITS + PLANTED_SPLITS):
        reference, current = random_halves(table, seed)
        current = current.with_columns(plant(current) for plant in plants.values())
        report = drift_between(current, reference, thresholds=THRESHOLDS)
        for column in plants:
            (row,) = report.filter(pl.col("column") == column).iter_rows(named=True)
            assert row["drifted"] is True, (seed, row)
        others = _decisions(report).filter(~pl.col("column").is_in(list(plants)))
        decisions += others.height
        flags += int(others["drifted"].sum())
    assert flags / decisions <= _bound(decisions), (name, flags, decisions)
