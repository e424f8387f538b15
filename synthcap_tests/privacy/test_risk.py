"""Record-level re-identification risk and l-diversity: known answers on crafted tables and the
JAX group counts against polars' group_by on random data."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synthcap_assets.privacy.anonymity import k_anonymity
from synthcap_assets.privacy.risk import assess_risk, class_sizes, code_counts, l_diversity


def test_a_unique_quasi_identifier_combination_has_k_1_and_risk_1() -> None:
    df = pl.DataFrame(
        {
            "zip": ["02139", "02139", "02139", "94105"],
            "birth_year": [1980, 1980, 1980, 1991],
            "diagnosis": ["flu", "asthma", "flu", "flu"],
        }
    )
    qis = ["zip", "birth_year"]
    assert k_anonymity(df, qis) == 1
    result = assess_risk(df, qis, ["diagnosis", "absent"])
    np.testing.assert_allclose(result.risk, [1 / 3, 1 / 3, 1 / 3, 1.0])
    assert result.max_risk == 1.0 and result.mean_risk == pytest.approx(0.5)  # 2 classes / 4
    assert result.high_risk_share == 1.0  # every class is under 5
    assert result.l_diversity == {"diagnosis": 1, "absent": None}  # the lone record


def test_l_diversity_counts_distinct_sensitive_values_per_class() -> None:
    df = pl.DataFrame(
        {
            "age_band": [30, 30, 30, 40, 40, 40, None, None],
            "disease": ["a", "b", "c", "a", "b", "b", None, "a"],
        }
    )
    # classes: 30 -> {a, b, c}; 40 -> {a, b}; null -> {null, a}
    assert l_diversity(df, ["age_band"], "disease") == 2
    assert l_diversity(df.filter(pl.col("age_band") == 30), ["age_band"], "disease") == 3
    assert l_diversity(df.clear(), ["age_band"], "disease") == 0


def test_class_sizes_match_polars_group_counts_on_random_data() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    df = pl.DataFrame(
        {
            "a": rng.integers(0, 7, n),
            "b": [v or None for v in rng.choice(["x", "y", ""], n).tolist()],
            "c": rng.integers(0, 40, n),
        }
    )
    qis = ["a", "b", "c"]
    expected = df.select(pl.len().over(qis)).to_series().to_numpy()
    np.testing.assert_array_equal(class_sizes(df, qis), expected)
    result = assess_risk(df, qis)
    assert result.mean_risk == pytest.approx(df.select(qis).unique().height / n)
    assert result.high_risk_share == pytest.approx(float(np.mean(expected < 5)))


def test_degenerate_inputs() -> None:
    assert code_counts(np.array([], dtype=np.int32)).size == 0
    empty = assess_risk(pl.DataFrame({"a": []}), ["a"])
    assert empty.max_risk == 0.0 and empty.risk.size == 0
    assert class_sizes(pl.DataFrame({"a": [1, 2, 3]}), []).tolist() == [3, 3, 3]
