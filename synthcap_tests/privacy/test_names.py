"""Person names are value-checked: a header alone never flags, real names do, hints still count.

Real tables shipped in ``vega_datasets``: car models in a column ``Name`` (cars), airport names in
``name`` (airports), and people's first and last names (la-riots).
"""

from __future__ import annotations

import polars as pl
import pytest
from faker import Faker
from vega_datasets import local_data

from synthcap_assets.privacy.names import NAME_SHARE, looks_like_name, name_part
from synthcap_assets.privacy.pii import detect_pii


def _row(report: pl.DataFrame, column: str) -> dict:
    rows = report.filter(pl.col("column") == column).to_dicts()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture(scope="module")
def cars() -> pl.DataFrame:
    return pl.from_pandas(local_data.cars()).rename({"Name": "name"})


@pytest.fixture(scope="module")
def riots() -> pl.DataFrame:
    return pl.from_pandas(local_data.la_riots())


def test_car_models_in_a_name_column_are_not_person_names(cars: pl.DataFrame) -> None:
    assert cars["name"][0] == "chevrolet chevelle malibu"
    for subject in ("entity", "person"):
        row = _row(detect_pii(cars, subject=subject), "name")
        assert row["pii_type"] is None and not row["direct_identifier"], row
        assert row["handling"] == "keep"
        assert row["match_share"] < NAME_SHARE  # the share the values reached, reported
        assert "name suggests person_name" in row["handling_reason"]


def test_airport_names_are_not_person_names() -> None:
    airports = pl.from_pandas(local_data.airports())
    row = _row(detect_pii(airports, subject="entity"), "name")
    assert row["pii_type"] is None and row["match_share"] < NAME_SHARE


def test_codes_and_numbers_under_a_name_header_are_not_person_names() -> None:
    codes = pl.DataFrame({"name": [f"n{i}" for i in range(1, 201)]})
    row = _row(detect_pii(codes), "name")
    assert row["pii_type"] is None and row["match_share"] == 0.0
    numbers = pl.DataFrame({f"n{i}": [float(i), float(i) * 2] for i in range(1, 201)})
    numbers = numbers.with_columns(pl.col("n1").alias("name"))
    report = detect_pii(numbers)
    assert report["pii_type"].null_count() == report.height
    assert not report["direct_identifier"].any()


def test_real_people_names_are_flagged(riots: pl.DataFrame) -> None:
    report = detect_pii(riots)
    first, last = _row(report, "first_name"), _row(report, "last_name")
    for row in (first, last):
        assert (row["pii_type"], row["detected_by"]) == ("person_name", "name+pattern")
        assert row["direct_identifier"] and row["handling"] == "drop"
    # Shares against an independent count of the same rule, by the part each header names.
    values = riots["first_name"].drop_nulls().to_list()
    assert first["match_share"] == pytest.approx(
        sum(looks_like_name(v, "first") for v in values) / len(values)
    )
    assert first["match_share"] > 0.9 and last["match_share"] >= NAME_SHARE


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "ja_JP"])
def test_faker_full_names_across_locales(locale: str) -> None:
    fake = Faker(locale)
    fake.seed_instance(7)
    frame = pl.DataFrame({"customer_name": [fake.name() for _ in range(200)]})
    row = _row(detect_pii(frame), "customer_name")
    assert row["pii_type"] == "person_name", (locale, row)


def test_a_catalog_hint_still_counts(cars: pl.DataFrame) -> None:
    row = _row(detect_pii(cars, hints={"name": "person_name"}), "name")
    assert (row["pii_type"], row["detected_by"], row["handling"]) == ("person_name", "hint", "drop")
    assert row["match_share"] < NAME_SHARE  # the values still disagree, and the report says so


@pytest.mark.parametrize(
    ("value", "part", "expected"),
    [
        ("Ana Lima", "full", True),
        ("Lima, Ana", "full", True),
        ("Dr. Okafor", "full", True),
        ("buick skylark 320", "full", False),  # digits
        ("chevrolet chevelle malibu", "full", False),
        ("Aguilar", "last", True),
        ("George", "first", True),
        ("x@example.com", "full", False),
    ],
)
def test_looks_like_name(value: str, part: str, expected: bool) -> None:
    assert looks_like_name(value, part) is expected


def test_name_part_from_header() -> None:
    assert name_part("first_name") == name_part("GivenName") == "first"
    assert name_part("surname") == name_part("last_name") == "last"
    assert name_part("name") == name_part("customer_name") == "full"
