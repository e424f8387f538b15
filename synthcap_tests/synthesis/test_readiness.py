"""Readiness: every problem lowers the score, and doing what its recommendation says raises it."""

from __future__ import annotations

import re

import pytest

from synthcap_assets.synthesis.readiness import (
    WEIGHTS,
    ReadinessError,
    readiness,
    rows_needed,
)

GOOD = {
    "quality_score": 95.0,
    "quality_threshold": 80.0,
    "direct_identifiers": [],
    "k_anonymity": 12,
    "unique_share": 0.0,
    "drifted_columns": [],
    "compared_columns": 6,
    "utility": 0.9,
    "rows": 5000,
    "epsilon": 1.0,
    "synthesized_columns": 6,
}


def score(**changes):
    return readiness(**{**GOOD, **changes})


def test_a_good_day_scores_high_without_recommendations():
    result = score()
    assert result.recommendations == []
    assert result.breakdown == {
        "quality": 95.0,
        "privacy": 100.0,
        "drift": 100.0,
        "utility": pytest.approx(90.0),
        "volume": 100.0,
    }
    assert result.weights == WEIGHTS and sum(WEIGHTS.values()) == pytest.approx(1.0)
    expected = 0.3 * 95 + 0.25 * 100 + 0.15 * 100 + 0.2 * 90 + 0.1 * 100
    assert result.score == pytest.approx(expected)


@pytest.mark.parametrize(
    ("problem", "fix", "component", "advice"),
    [
        ({"quality_score": 62.0}, {"quality_score": 85.0}, "quality", "quality 62 < threshold 80"),
        (
            {"direct_identifiers": ["ssn", "email"]},
            {"direct_identifiers": []},
            "privacy",
            "drop column ssn before sharing",
        ),
        (
            {"k_anonymity": 1, "unique_share": 0.3},
            {"k_anonymity": 5, "unique_share": 0.0},
            "privacy",
            "k-anonymity is 1 on (zip, birth_date): generalize",
        ),
        ({"unique_share": 0.4}, {"unique_share": 0.0}, "privacy", "40% of rows are unique"),
        (
            {"drifted_columns": ["price", "volume"]},
            {"drifted_columns": []},
            "drift",
            "columns price, volume drifted since the previous day",
        ),
        ({"utility": 0.4}, {"utility": 0.9}, "utility", "synthetic utility 0.40 < 0.7"),
        ({"utility": None}, {"utility": 0.9}, "utility", "no synthetic sample was scored"),
        ({"mia_auc": 0.8}, {"mia_auc": 0.52}, "privacy", "membership inference AUC 0.80"),
        ({"dcr_ratio": 0.2}, {"dcr_ratio": 1.1}, "privacy", "DCR ratio 0.20 < 0.8"),
        (
            {"budget_left": 0.5},
            {"budget_left": 4.0},
            "privacy",
            "privacy budget left 0.5 < epsilon 1: the next synthesis will be refused",
        ),
        (
            {"pair_cells": 2500},
            {"pair_cells": 64},
            "volume",
            "5000 rows for a largest two-way table of 2500 cells: use fewer bins",
        ),
    ],
)
def test_each_problem_lowers_the_score_and_the_fix_raises_it(problem, fix, component, advice):
    good = score(quasi_identifiers=["zip", "birth_date"])
    bad = score(**problem, quasi_identifiers=["zip", "birth_date"])
    fixed = score(**fix, quasi_identifiers=["zip", "birth_date"])
    assert bad.score < good.score
    assert bad.breakdown[component] < good.breakdown[component]
    assert any(advice in r for r in bad.recommendations), bad.recommendations
    assert fixed.score > bad.score
    assert not any(advice in r for r in fixed.recommendations)


def test_drift_is_the_share_of_stable_columns_and_no_reference_is_not_a_problem():
    assert score(drifted_columns=["a"], compared_columns=4).breakdown["drift"] == 75.0
    first_day = score(drifted_columns=[], compared_columns=0)
    assert first_day.breakdown["drift"] == 100.0 and first_day.recommendations == []


def test_too_few_rows_recommendation_can_be_applied_either_way():
    bad = score(rows=120, epsilon=1.0, synthesized_columns=4)
    assert bad.breakdown["volume"] == pytest.approx(100 * 120 / 800)
    [advice] = [r for r in bad.recommendations if r.startswith("too few rows for epsilon 1")]
    match = re.search(r"raise epsilon to ([\d.]+) or capture at least (\d+) rows", advice)
    assert match, advice
    new_epsilon, new_rows = float(match.group(1)), int(match.group(2))
    assert new_rows == rows_needed(1.0, 4) == 800
    for fix in ({"epsilon": new_epsilon}, {"rows": new_rows}):
        fixed = score(**{"rows": 120, "epsilon": 1.0, "synthesized_columns": 4, **fix})
        assert fixed.breakdown["volume"] == 100.0 and fixed.score > bad.score
        assert not any(r.startswith("too few rows") for r in fixed.recommendations)


def test_an_unreasonable_epsilon_is_not_suggested():
    advice = score(rows=20, epsilon=0.5, synthesized_columns=8).recommendations
    assert any("capture at least 3200 rows" in r and "raise epsilon" not in r for r in advice)


def test_nothing_synthesized_or_no_rows_gives_zero_volume_with_a_reason():
    none = score(synthesized_columns=0, utility=None)
    assert none.breakdown["volume"] == 0.0 and none.breakdown["utility"] == 0.0
    assert any("no column could be synthesized" in r for r in none.recommendations)
    empty = score(rows=0)
    assert empty.breakdown["volume"] == 0.0
    assert any("no rows were captured" in r for r in empty.recommendations)


def test_scores_stay_in_range_and_bad_inputs_raise():
    worst = score(
        quality_score=-5.0,
        direct_identifiers=["a", "b", "c", "d", "e"],
        k_anonymity=1,
        unique_share=1.0,
        drifted_columns=["a", "b"],
        compared_columns=1,
        utility=None,
        rows=0,
    )
    assert worst.score == 0.0 and all(v == 0.0 for v in worst.breakdown.values())
    assert score(quality_score=130.0).breakdown["quality"] == 100.0
    with pytest.raises(ReadinessError, match="epsilon"):
        score(epsilon=0.0)
    with pytest.raises(ReadinessError, match="rows"):
        score(rows=-1)
