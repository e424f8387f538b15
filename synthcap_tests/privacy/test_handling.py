"""Per-column handling of personal data: catalog choices override the defaults, tokens are keyed
and stable, generalization coarsens or drops, and the derived-table rules follow."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from pydantic import ValidationError

from synthcap_assets.privacy.checks import pii_leaks
from synthcap_assets.privacy.handling import FEATURE_HANDLINGS, SAMPLE_HANDLINGS, apply_handling
from synthcap_assets.privacy.pii import detect_pii, handled_columns
from synthcap_assets.privacy.tokens import token, tokenize
from synthcap_resources.catalog import PrivacySpec

DAY = dt.date(2026, 11, 16)


def _people() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "email": ["ana@example.org", "bo@example.org", "ana@example.org"],
            "zip": ["02139", "94105", "02141"],
            "birth_date": [dt.date(1980, 5, 1), dt.date(1991, 1, 2), dt.date(1979, 12, 31)],
            "name": ["Ana Lima", "Bo Chen", "Ana Lima"],
            "orders": [3, 1, 4],
        }
    )


def test_tokens_are_keyed_stable_and_not_digit_runs() -> None:
    tokens = tokenize(pl.Series("e", ["a@b.org", None, "a@b.org", "c@d.org"]), b"k1")
    assert tokens[0] == tokens[2] != tokens[3] and tokens[1] is None
    assert tokens[0] == token("a@b.org", b"k1") != token("a@b.org", b"k2")
    assert len(tokens[0]) == 52 and set(tokens[0]) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_catalog_handling_overrides_the_defaults_with_a_reason() -> None:
    report = detect_pii(
        _people(),
        hints={"email": "email", "zip": "zip_code", "birth_date": "birth_date"},
        partition_date=DAY,
        handling={"email": ("tokenize", "join key for churn models"), "orders": ("keep", "")},
    )
    rows = {r["column"]: r for r in report.to_dicts()}
    assert (rows["email"]["handling"], rows["email"]["handling_reason"]) == (
        "tokenize",
        "catalog: join key for churn models",
    )
    assert rows["zip"]["handling"] == rows["birth_date"]["handling"] == "generalize"
    assert rows["name"]["handling"] == "drop" and rows["name"]["handling_reason"] == (
        "direct identifier"
    )
    assert rows["orders"]["handling_reason"] == "catalog"
    # Synthesis takes only kept columns; features may also take tokenized and generalized ones.
    assert sorted(handled_columns(report, ("keep",))) == ["birth_date", "email", "name", "zip"]
    assert handled_columns(report, FEATURE_HANDLINGS) == ["name"]
    with pytest.raises(ValueError, match="unknown handling"):
        detect_pii(_people(), handling={"email": ("encrypt", "")})


def test_apply_handling_tokenizes_generalizes_and_drops() -> None:
    out, done = apply_handling(
        _people(),
        {"email": "tokenize", "zip": "generalize", "birth_date": "generalize", "name": "drop"},
        {"email": "email", "zip": "zip_code", "birth_date": "birth_date", "name": "person_name"},
        b"key",
    )
    assert out.columns == ["email", "zip", "birth_date", "orders"]
    assert out["zip"].to_list() == ["021", "941", "021"]
    assert out["birth_date"].to_list() == [1980, 1991, 1979]
    assert out["email"][0] == out["email"][2] == token("ana@example.org", b"key")
    assert done == {
        "email": "tokenized",
        "zip": "generalized (zip_code)",
        "birth_date": "generalized (birth_date)",
        "name": "dropped",
    }
    assert pii_leaks(out, ["name"]) == []  # tokens and prefixes do not look like PII


def test_generalizing_a_type_without_a_rule_drops_the_column() -> None:
    out, done = apply_handling(_people(), {"email": "generalize"}, {"email": "email"}, b"k")
    assert "email" not in out.columns and done["email"].startswith("dropped: no generalization")


def test_the_catalog_validates_privacy_settings() -> None:
    spec = PrivacySpec.model_validate(
        {
            "epsilon": 1.5,
            "budget": 3.0,
            "columns": {
                "email": {"handling": "tokenize"},
                "x": {"handling": "keep", "reason": "r"},
            },
            "bounds": {"amount": [0, 10]},
        }
    )
    assert spec.delta == 1e-9 and spec.columns["email"].handling == "tokenize"
    with pytest.raises(ValidationError, match="needs a 'reason'"):
        PrivacySpec.model_validate({"columns": {"x": {"handling": "keep"}}})
    with pytest.raises(ValidationError, match="exceeds the budget"):
        PrivacySpec.model_validate({"epsilon": 5.0, "budget": 3.0})
    with pytest.raises(ValidationError, match="must be below"):
        PrivacySpec.model_validate({"bounds": {"a": [3, 1]}})


def test_a_generalized_sex_column_never_flows_on_raw() -> None:
    """The regression: a ``generalize`` column (``sex``) reached samples raw, because a QI with
    no PII type was not a personal-data column for the exclusion rule."""
    people = pl.DataFrame(
        {
            "sex": ["F"] * 6 + ["M"] * 6 + ["X"],
            "age": [23, 37, 41, 58, 60, 61, 19, 22, 35, 36, 70, 44, 30],
            "orders": list(range(13)),
        }
    )
    report = detect_pii(people, partition_date=DAY)
    kinds = dict(zip(report["column"], report["pii_type"], strict=True))
    assert kinds == {"sex": "gender", "age": "age", "orders": None}
    # A raw copy (allow keep only) must leave both QIs out; samples and features take them
    # generalized, through apply_handling.
    assert handled_columns(report, ("keep",)) == ["sex", "age"]
    assert handled_columns(report, SAMPLE_HANDLINGS) == []
    handling = dict(zip(report["column"], report["handling"], strict=True))
    out, done = apply_handling(people, handling, kinds, b"k")
    assert done == {"sex": "generalized (gender)", "age": "generalized (age)", "orders": "kept"}
    assert out["sex"].to_list() == ["F"] * 6 + ["M"] * 6 + [None]  # "X" held by 1 row
    assert out["age"].to_list() == [20, 35, 40, 55, 60, 60, 15, 20, 35, 35, 70, 40, 30]
    assert out["orders"].equals(people["orders"])
    # For an animal's sex (subject entity) nothing is a QI, so nothing is generalized.
    animals = detect_pii(people, partition_date=DAY, subject="entity")
    assert set(animals["handling"]) == {"keep"} and not animals["quasi_identifier"].any()


def test_catalog_accepts_redact() -> None:
    spec = PrivacySpec.model_validate({"columns": {"note": {"handling": "redact"}}})
    assert spec.columns["note"].handling == "redact"
