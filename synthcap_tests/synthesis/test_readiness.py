"""Readiness: every problem lowers the score, and doing what its recommendation says raises it."""

from __future__ import annotations

import re

import pytest

from synthcap_assets.synthesis.outcome import REFUSED, SAMPLE, Outcome, Verdict
from synthcap_assets.synthesis.readiness import (
    HISTORY_DAYS_NEEDED,
    SAMPLE_CAP,
    WEIGHTS,
    DeliveryVolume,
    ReadinessError,
    TextFacts,
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


# --- verdicts: unknown components, the synthesis outcome, delivery volume, text sources ---

DROPPED = {"price": "no range found under the noise", "notes": "free text"}


def _sample(utility: float, problems: list[str] | None = None) -> Outcome:
    return Outcome(
        status=SAMPLE,
        dropped=DROPPED,
        sample_rows=5000,
        synthesized=["a", "b", "c", "d", "e", "f"],
        counted_columns=["a", "b", "c", "d", "e", "f", "price"],
        utility=utility,
        utility_floor=0.5,
        verdict=Verdict([], [], problems or []),
    )


def test_a_missing_report_makes_its_component_unknown_and_counts_zero():
    for component, field_ in (
        ("quality", "quality_score"),
        ("privacy", "direct_identifiers"),
        ("drift", "compared_columns"),
    ):
        result = score(**{field_: None})
        assert result.breakdown[component] is None
        assert component in result.unknown, result.unknown
        known = {k: v for k, v in score().breakdown.items() if k != component}
        assert result.score == pytest.approx(sum(WEIGHTS[k] * v for k, v in known.items()))
    reason = "quality_report has no rows for 2026-12-01"
    assert score(unknown={"quality": reason}).unknown["quality"] == reason
    with pytest.raises(ReadinessError, match="unknown components"):
        score(unknown={"mood": "?"})


def test_a_useful_sample_scores_its_utility_over_every_counted_column():
    result = score(synthesis=_sample(0.82))
    assert result.breakdown["utility"] == pytest.approx(82.0)
    assert result.score > SAMPLE_CAP
    assert any(r.startswith("synthetic sample: 5000 rows of a, b, c") for r in result.ready)
    for column, why in DROPPED.items():
        assert f"column {column} is not in the sample: {why}" in result.recommendations


def test_a_sample_that_fails_its_check_scores_at_most_the_cap():
    problem = "columns smoker hold only placeholders ('__other__' or null)"
    useless = score(synthesis=_sample(0.82, [problem]))
    assert useless.score <= SAMPLE_CAP < score(synthesis=_sample(0.82)).score
    assert any(problem in r for r in useless.recommendations)
    assert useless.not_ready and not useless.ready


def test_a_refusal_scores_low_and_says_why_what_to_do_and_what_was_left_out():
    refusal = Outcome(
        status=REFUSED,
        reason="too few rows for epsilon 1: 120 rows, about 800 needed",
        actions=["raise epsilon to 6.7", "capture at least 800 rows"],
        dropped=DROPPED,
        counted_columns=["a", "b", "price"],
    )
    result = score(synthesis=refusal, rows=120, synthesized_columns=3)
    assert result.breakdown["utility"] == 0.0 and result.score <= SAMPLE_CAP
    advice = result.recommendations
    assert "synthesis refused: too few rows for epsilon 1: 120 rows, about 800 needed" in advice
    assert "raise epsilon to 6.7" in advice and "capture at least 800 rows" in advice
    assert all(f"column {c} is not in the sample: {w}" in advice for c, w in DROPPED.items())
    assert result.not_ready == [f"no synthetic sample: synthesis refused: {refusal.reason}"]
    # everything else at its best still cannot lift a refused day above the cap
    assert score(synthesis=refusal).score == SAMPLE_CAP


def test_a_synthesis_that_did_not_run_is_unknown_and_capped():
    result = score(unknown={"utility": "synthetic_sample recorded no outcome"})
    assert result.breakdown["utility"] is None and result.score <= SAMPLE_CAP
    assert "synthesis unknown: synthetic_sample recorded no outcome" in result.recommendations


@pytest.mark.parametrize("days", [0, 1, 2])
def test_delivery_volume_is_unknown_until_three_days_of_history(days):
    result = score(delivery=DeliveryVolume(share=None, history_days=days))
    assert result.unknown["volume"].startswith(
        f"delivery size unknown: {days} of {HISTORY_DAYS_NEEDED} days of history"
    )
    assert result.breakdown["volume"] == 100.0  # rows vs epsilon still scored
    declared = score(delivery=DeliveryVolume(share=None, history_days=days, declared=True))
    assert "volume" not in declared.unknown


def test_a_judged_delivery_size_caps_volume():
    good = score(delivery=DeliveryVolume(share=1.0, history_days=3))
    short = score(delivery=DeliveryVolume(share=0.4, history_days=5))
    assert "volume" not in good.unknown and good.breakdown["volume"] == 100.0
    assert short.breakdown["volume"] == pytest.approx(40.0) and short.score < good.score
    assert any("row count is off its expected range" in r for r in short.recommendations)


def test_a_text_source_says_what_is_ready_and_what_is_not():
    facts = TextFacts("utterance", 412, 0.097, ["email"], 0.012)
    synthesized = Outcome(
        status=SAMPLE,
        dropped={"utterance": "free text", "ticket_id": "identifier"},
        sample_rows=412,
        synthesized=["created_at", "channel", "intent", "priority"],
        counted_columns=["created_at", "channel", "intent", "priority", "ticket_id"],
        utility=0.7,
        utility_floor=0.5,
        verdict=Verdict([], [], []),
    )
    result = score(synthesis=synthesized, text=facts)
    assert "corpus: 412 texts in utterance" in result.ready
    assert "PII in 9.7% of texts (email)" in result.ready
    assert "exact duplicates: 1.2% of texts" in result.ready
    assert "label and structured columns synthesized: created_at, channel, intent, priority" in (
        result.ready
    )
    assert any(r.startswith("free text (utterance) is not modelled") for r in result.not_ready)
    assert "column utterance is not in the sample: free text" in result.recommendations
