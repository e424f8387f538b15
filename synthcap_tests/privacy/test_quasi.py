"""Quasi-identifiers for people only, k-anonymity on the worst combination of up to three.

Real tables: la-riots (``vega_datasets``: age, gender, neighborhood, coordinates, date of death of
63 people) and statsmodels' ``fair`` survey (6,366 women: age, education, occupation ...). Every
k and unique share is compared with a pandas ``groupby`` over every combination.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
from vega_datasets import local_data

from synthcap_assets.privacy.anonymity import (
    RARE_ROWS,
    assess_anonymity,
    generalize,
    worst_combination,
)
from synthcap_assets.privacy.pii import detect_pii


def _qi_types(report: pl.DataFrame) -> dict[str, str]:
    qis = report.filter(pl.col("quasi_identifier"))
    return {r["column"]: r["pii_type"] or "category" for r in qis.iter_rows(named=True)}


def _pandas_worst(pdf: pd.DataFrame, qis: list[str]) -> tuple[int, float]:
    """Smallest k, then largest unique share, over every combination of min(3, n) QIs."""
    best = None
    for combo in itertools.combinations(qis, min(3, len(qis))):
        sizes = pdf.groupby(list(combo), dropna=False)[combo[0]].transform("size")
        k, unique = int(sizes.min()), float((sizes == 1).mean())
        if best is None or (k, -unique) < (best[0], -best[1]):
            best = (k, unique)
    return best


@pytest.fixture(scope="module")
def riots() -> pl.DataFrame:
    return pl.from_pandas(local_data.la_riots())


def test_sex_and_age_are_judged_together(riots: pl.DataFrame) -> None:
    survey = riots.select("age", "gender", "race", "type")
    report = detect_pii(survey)
    types = _qi_types(report)
    assert types == {"age": "age", "gender": "gender"}  # race and type: not sought by default
    result = assess_anonymity(survey, list(types), types)
    pdf = survey.to_pandas()
    sizes = pdf.groupby(["gender", "age"], dropna=False)["age"].transform("size")
    assert result.combination == ["age", "gender"]
    assert result.k == int(sizes.min()) == 1
    assert result.unique_share == pytest.approx(float((sizes == 1).mean()))
    # Not the k of {gender} alone (7 women), nor of {age} alone.
    assert pdf.groupby("gender", dropna=False).size().min() == 7 > result.k


def test_worst_of_up_to_three_against_pandas(riots: pl.DataFrame) -> None:
    report = detect_pii(riots)
    types = _qi_types(report)
    assert set(types) == {"age", "gender", "neighborhood", "longitude", "latitude", "death_date"}
    assert types["death_date"] == "event_time" and types["neighborhood"] == "geography"
    result = assess_anonymity(riots, list(types), types)
    k, unique = _pandas_worst(riots.to_pandas(), list(types))
    assert (result.k, result.unique_share) == (k, pytest.approx(unique))
    assert len(result.combination) == 3
    generalized = generalize(riots, types)
    k_g, unique_g = _pandas_worst(generalized.to_pandas(), list(types))
    assert (result.k_generalized, result.unique_share_generalized) == (k_g, pytest.approx(unique_g))
    assert result.unique_share_generalized <= result.unique_share


def test_large_real_survey_against_pandas() -> None:
    fair = pl.from_pandas(sm.datasets.fair.load_pandas().data)
    types = _qi_types(detect_pii(fair))
    assert types == {"age": "age"}
    declared = ["age", "educ", "occupation", "children"]  # what the catalog would declare
    types = _qi_types(detect_pii(fair, quasi_identifiers=declared))
    assert set(types) == set(declared) and types["age"] == "age"
    combo, k, unique = worst_combination(fair, declared)
    assert (k, unique) == pytest.approx(_pandas_worst(fair.to_pandas(), declared))
    assert len(combo) == 3


def test_subject_entity_or_none_has_no_human_quasi_identifiers(riots: pl.DataFrame) -> None:
    for subject in ("entity", "none"):
        report = detect_pii(riots.drop("first_name", "last_name", "address"), subject=subject)
        assert not report["quasi_identifier"].any(), subject
        assert set(report["handling"]) == {"keep"}
        assert assess_anonymity(riots, [], {}).k == riots.height
    # A declared QI, or a hinted birth date, still counts whatever the subject.
    report = detect_pii(riots, subject="entity", quasi_identifiers=["neighborhood"])
    assert _qi_types(report) == {"neighborhood": "geography"}
    dated = riots.with_columns(pl.col("death_date").alias("born"))
    report = detect_pii(dated, subject="entity", hints={"born": "birth_date"})
    assert _qi_types(report) == {"born": "birth_date"}
    with pytest.raises(ValueError, match="unknown subject"):
        detect_pii(riots, subject="animal")


def test_trip_times_with_pickup_zones_are_a_combination() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    start = dt.datetime(2026, 12, 1)
    trips = pl.DataFrame(
        {
            "tpep_pickup_datetime": [
                start + dt.timedelta(seconds=int(s)) for s in rng.integers(0, 86_400, n)
            ],
            "PULocationID": rng.integers(1, 264, n),
            "fare_amount": rng.gamma(2.0, 8.0, n),
        }
    )
    types = _qi_types(detect_pii(trips))
    assert types == {"tpep_pickup_datetime": "event_time", "PULocationID": "geography"}
    result = assess_anonymity(trips, list(types), types)
    pdf = trips.to_pandas()
    sizes = pdf.groupby(list(types))["fare_amount"].transform("size")
    assert result.k == int(sizes.min()) == 1
    assert result.unique_share == pytest.approx(float((sizes == 1).mean()))
    # Without a place a timestamp is no quasi-identifier.
    assert _qi_types(detect_pii(trips.drop("PULocationID"))) == {}


def test_generalized_forms() -> None:
    frame = pl.DataFrame(
        {
            "sex": ["F"] * 6 + ["M"] * 5 + ["X"],
            "age": [23, 37, 41, 58, 60, 61, 19, 22, 35, 36, 70, 44],
            "at": [dt.datetime(2026, 12, 1, h, 17, 5) for h in range(12)],
            "born": [dt.date(1980 + i, 5, 1) for i in range(12)],
            "zip": ["02139", "94105"] * 6,
        }
    )
    types = {
        "sex": "gender",
        "age": "age",
        "at": "event_time",
        "born": "birth_date",
        "zip": "zip_code",
    }
    out = generalize(frame, types)
    # sex: categories kept (it stays a QI); one held by fewer than RARE_ROWS rows is suppressed.
    assert RARE_ROWS == 5
    assert out["sex"].to_list() == ["F"] * 6 + ["M"] * 5 + [None]
    assert out["age"].to_list() == [20, 35, 40, 55, 60, 60, 15, 20, 35, 35, 70, 40]
    assert out["at"].to_list() == [dt.datetime(2026, 12, 1, h) for h in range(12)]
    assert out["born"].to_list() == [1980 + i for i in range(12)]
    assert out["zip"].to_list() == ["021", "941"] * 6
