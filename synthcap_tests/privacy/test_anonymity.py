"""Tests for k-anonymity, unique share and default generalisation of quasi-identifiers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_assets.privacy.anonymity import (
    AnonymityResult,
    assess_anonymity,
    generalize,
    k_anonymity,
    unique_share,
)


def test_unique_combination_gives_k_1() -> None:
    df = pl.DataFrame({"zip": ["021", "021", "021", "945"], "sex": ["F", "F", "F", "M"]})
    assert k_anonymity(df, ["zip", "sex"]) == 1
    assert unique_share(df, ["zip", "sex"]) == pytest.approx(0.25)


def test_every_group_at_least_three() -> None:
    df = pl.DataFrame(
        {
            "age": [30, 30, 30, 40, 40, 40, 40, 50, 50, 50],
            "sex": ["F", "F", "F", "M", "M", "M", "M", "F", "F", "F"],
            "noise": list(range(10)),  # not a QI, must not matter
        }
    )
    assert k_anonymity(df, ["age", "sex"]) == 3
    assert unique_share(df, ["age", "sex"]) == 0.0
    assert k_anonymity(df, ["age", "sex", "noise"]) == 1


def test_nulls_form_their_own_class() -> None:
    df = pl.DataFrame({"a": [1, 1, None, None, None], "b": ["x", "x", None, None, "y"]})
    # classes: (1,x)=2, (null,null)=2, (null,y)=1
    assert k_anonymity(df, ["a", "b"]) == 1
    assert unique_share(df, ["a", "b"]) == pytest.approx(1 / 5)
    assert k_anonymity(df, ["a"]) == 2


def test_degenerate_inputs() -> None:
    df = pl.DataFrame({"a": [1, 2, 3]})
    assert k_anonymity(df, []) == 3  # no QIs: one class holding every record
    assert unique_share(df, []) == 0.0
    assert unique_share(df.head(1), []) == 1.0
    empty = df.head(0)
    assert k_anonymity(empty, ["a"]) == 0
    assert unique_share(empty, ["a"]) == 0.0
    single = pl.DataFrame({"a": [7]})
    assert k_anonymity(single, ["a"]) == 1 and unique_share(single, ["a"]) == 1.0
    constant = pl.DataFrame({"a": [5] * 4})
    assert k_anonymity(constant, ["a"]) == 4
    with pytest.raises(ValueError, match="not in the frame"):
        k_anonymity(df, ["missing"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_pandas_groupby(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    data = {
        "age": rng.integers(18, 30, n),
        "zip": rng.choice(["02134", "02139", "94110", "10001"], n),
        "score": rng.choice([1.5, 2.5, np.nan], n),
    }
    pdf = pd.DataFrame(data)
    qis = ["age", "zip", "score"]
    sizes = pdf.groupby(qis, dropna=False).size()
    expected_k = int(sizes.min())
    per_row = pdf.groupby(qis, dropna=False)["age"].transform("size")
    expected_unique = float((per_row == 1).mean())
    df = pl.from_pandas(pdf, nan_to_null=True)
    assert k_anonymity(df, qis) == expected_k
    assert unique_share(df, qis) == pytest.approx(expected_unique)


def test_generalize_by_type() -> None:
    df = pl.DataFrame(
        {
            "dob": [dt.date(1990, 5, 17), None, dt.date(1985, 1, 1)],
            "dob_text": ["1990-05-17", "bad", "1985-01-01T10:00:00"],
            "zip": ["02134", "94110-1234", None],
            "zip_int": [2134, 94110, 10001],
            "age": [37.0, 40.9, None],
            "years": [3, 7, 12],
            "city": ["Boston", "SF", "NYC"],
        }
    )
    out = generalize(
        df,
        {
            "dob": "birth_date",
            "dob_text": "birth_date",
            "zip": "zip_code",
            "zip_int": "zip_code",
            "age": "other",  # age-like by its name
            "years": "age",  # age-like by its type
            "city": "other",
        },
    )
    assert out["dob"].to_list() == [1990, None, 1985]
    assert out["dob_text"].to_list() == [1990, None, 1985]
    assert out["zip"].to_list() == ["021", "941", None]
    assert out["zip_int"].to_list() == ["021", "941", "100"]
    assert out["age"].to_list() == [35, 40, None]
    assert out["years"].to_list() == [0, 5, 10]
    assert out["city"].to_list() == ["Boston", "SF", "NYC"]
    assert generalize(df, {}).equals(df)
    with pytest.raises(ValueError, match="not in the frame"):
        generalize(df, {"nope": "zip_code"})


def test_generalize_datetime_birth_and_empty() -> None:
    df = pl.DataFrame({"born": [dt.datetime(2001, 3, 4, 5, 6)]})
    assert generalize(df, {"born": "birth_date"})["born"].to_list() == [2001]
    empty = pl.DataFrame(schema={"zip": pl.String, "age": pl.Int64})
    assert generalize(empty, {"zip": "zip_code", "age": "age"}).height == 0


def test_assess_anonymity_improves_with_generalization() -> None:
    df = pl.DataFrame(
        {
            "dob": [dt.date(1990, m, 1) for m in range(1, 7)] + [dt.date(1985, 2, 2)] * 2,
            "zip": ["02134", "02139", "02135", "02134", "02138", "02131", "94110", "94117"],
            "amount": [1.0] * 8,
        }
    )
    result = assess_anonymity(df, ["dob", "zip"], {"dob": "birth_date", "zip": "zip_code"})
    assert isinstance(result, AnonymityResult)
    assert result.k == 1 and result.unique_share == 1.0
    # After generalisation: (1990, "021") x6 and (1985, "941") x2.
    assert result.k_generalized == 2 and result.unique_share_generalized == 0.0
    assert result.quasi_identifiers == ["dob", "zip"]
    assert df["dob"].dtype == pl.Date  # the input is not modified


def test_assess_anonymity_without_qis() -> None:
    df = pl.DataFrame({"a": [1, 2]})
    result = assess_anonymity(df, [], {})
    assert (result.k, result.k_generalized, result.unique_share) == (2, 2, 0.0)
