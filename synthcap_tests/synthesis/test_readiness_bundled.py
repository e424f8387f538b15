"""Readiness on the bundled sources: direct identifiers, too few rows for the epsilon and heavy
drift each lower the score, and doing what the recommendation says raises it again. Inputs come
from the real sample files, read by the capture code and judged by the detectors."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2_contingency

from synthcap_assets.capture.conform import conform
from synthcap_assets.privacy.anonymity import assess_anonymity
from synthcap_assets.privacy.pii import detect_pii
from synthcap_assets.synthesis.readiness import readiness
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, load_catalog
from synthcap_resources.sources.files import read_source_file

DAYS = [dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)]


@pytest.fixture(scope="module")
def customers() -> tuple[object, list[pl.DataFrame]]:
    spec = load_catalog(BUNDLED_SOURCES_DIR)["customers"]
    days = [conform(read_source_file(spec, d), spec.declared_schema, "test") for d in DAYS]
    return spec, days


def _score(spec, frame: pl.DataFrame, epsilon: float, drifted: list[str] = ()):
    pii = detect_pii(frame, hints=spec.pii, quasi_identifiers=spec.quasi_identifiers)
    quasi = pii.filter(pl.col("quasi_identifier"))
    qi_types = dict(zip(quasi["column"], quasi["pii_type"].fill_null("other"), strict=True))
    anonymity = assess_anonymity(frame, list(qi_types), qi_types)
    return readiness(
        quality_score=95.0,
        quality_threshold=spec.quality.threshold,
        direct_identifiers=pii.filter(pl.col("direct_identifier"))["column"].to_list(),
        k_anonymity=anonymity.k_generalized,
        unique_share=anonymity.unique_share_generalized,
        drifted_columns=list(drifted),
        compared_columns=frame.width,
        utility=0.85,
        rows=frame.height,
        epsilon=epsilon,
        synthesized_columns=4,
        quasi_identifiers=list(qi_types),
    )


def test_direct_identifiers_lower_the_score_and_dropping_them_raises_it(customers) -> None:
    spec, days = customers
    before = _score(spec, days[0], 1.0)
    named = [re.match(r"drop column (\w+)", r) for r in before.recommendations]
    to_drop = [m.group(1) for m in named if m]
    assert {"name", "email", "phone", "address", "card_number"} <= set(to_drop)
    after = _score(spec, days[0].drop(to_drop), 1.0)
    assert after.breakdown["privacy"] > before.breakdown["privacy"]
    assert after.score > before.score
    assert not any(r.startswith("drop column") for r in after.recommendations)


def test_too_few_rows_for_the_epsilon_and_the_suggested_epsilon(customers) -> None:
    spec, days = customers
    few = days[0].head(120)
    before = _score(spec, few, 1.0)
    advice = next(r for r in before.recommendations if r.startswith("too few rows"))
    suggested = float(re.search(r"raise epsilon to ([\d.]+)", advice).group(1))
    assert before.breakdown["volume"] < 100
    after = _score(spec, few, suggested)
    assert after.breakdown["volume"] == 100 and after.score > before.score
    assert not any(r.startswith("too few rows") for r in after.recommendations)


def test_heavy_drift_lowers_the_score_and_a_stable_day_scores_higher(customers) -> None:
    spec, days = customers

    def drifted(previous: pl.DataFrame, current: pl.DataFrame) -> list[str]:
        # independent reference: chi-square test of the channel mix, day against day
        table = (
            pl.concat(
                [
                    previous.select("signup_channel").with_columns(day=0),
                    current.select("signup_channel").with_columns(day=1),
                ]
            )
            .group_by("signup_channel", "day")
            .len()
            .pivot(on="day", index="signup_channel", values="len")
            .fill_null(0)
        )
        p = chi2_contingency(np.asarray(table.select("0", "1"))).pvalue
        return ["signup_channel"] if p < spec.drift.ks_pvalue else []

    stable, shifted = drifted(days[0], days[1]), drifted(days[1], days[2])
    assert stable == [] and shifted == ["signup_channel"]  # the 11-18 referral campaign
    calm, shaken = _score(spec, days[1], 1.0, stable), _score(spec, days[2], 1.0, shifted)
    assert shaken.breakdown["drift"] < calm.breakdown["drift"] and shaken.score < calm.score
    assert any("signup_channel drifted" in r for r in shaken.recommendations)
