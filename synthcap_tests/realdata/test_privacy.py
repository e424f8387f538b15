"""PII and quasi-identifiers on real tables, against what was planted and pandas groupby.

- ``notes``: five PII types planted in known rows of a free-text column: each type is
  reported with its own share (``pii_shares``), equal to the planted share within one row,
  and the column is not "kept" (far above the 1% "few" line).
- Header hints are confirmed by values: car models in ``cars.Name`` and airport names in
  ``airports.name`` are no ``person_name``; the real names in ``la_riots`` are.
- Quasi-identifiers are sought for people only (``subject: person``): ``age`` is one in the
  survey (``fair``) and in ``la_riots`` (with ``gender``); tables of entities or of nothing
  personal (cars, airports, flowers, weather) have none. k-anonymity and the unique share are
  those of the worst combination of up to three quasi-identifiers, as pandas groupby gives.
"""

from __future__ import annotations

import itertools
import json

import pandas as pd
import polars as pl
import pytest

from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.tables import PII_SHARES, TABLES
from synthcap_tests.realdata.test_profile_quality import day_frame

NOT_PEOPLE = [t.id for t in TABLES if t.subject != "person"]
PEOPLE = {"fair": {"age"}, "la_riots": {"age", "gender"}}


def report(lake: RealLake, source: str) -> list[tuple[object, dict[str, dict]]]:
    rows = lake.rows("reports/privacy_report", source)
    assert not rows.is_empty(), f"{source}: no privacy report"
    return [
        (day, {r["column"]: r for r in rows.filter(pl.col("date") == day).iter_rows(named=True)})
        for day in lake.planted.dates(source)
    ]


def test_text_pii_is_reported_per_type_with_its_share(realdata_lake: RealLake) -> None:
    for day, columns in report(realdata_lake, "notes"):
        masks = realdata_lake.planted.pii_masks[day]
        n = len(next(iter(masks.values())))
        note = columns["note"]
        assert note["pii_shares"], ("notes", day, note)
        shares = json.loads(note["pii_shares"])
        for kind in PII_SHARES:
            planted = masks[kind].mean()
            assert shares.get(kind) == pytest.approx(planted, abs=0.5 / n), (day, kind, shares)
        any_pii = sum(masks.values()).astype(bool).mean()
        assert note["match_share"] == pytest.approx(any_pii, abs=0.5 / n), (day, note)
        assert note["handling"] != "keep", (day, note["handling"], note["handling_reason"])


@pytest.mark.parametrize(("source", "column"), [("cars", "Name"), ("airports", "name")])
def test_name_headers_need_name_values(realdata_lake: RealLake, source: str, column: str) -> None:
    for day, columns in report(realdata_lake, source):
        row = columns[column]
        assert row["pii_type"] != "person_name", (source, day, row)
        assert row["handling"] != "drop", (source, day, row)


def test_real_person_names_are_found(realdata_lake: RealLake) -> None:
    for day, columns in report(realdata_lake, "la_riots"):
        for column in ("first_name", "last_name"):
            row = columns[column]
            assert row["pii_type"] == "person_name", (day, row)
            assert row["direct_identifier"] is True, (day, row)


@pytest.mark.parametrize("source", NOT_PEOPLE)
def test_no_quasi_identifiers_unless_rows_are_people(realdata_lake: RealLake, source: str) -> None:
    for day, columns in report(realdata_lake, source):
        qis = [c for c, r in columns.items() if c != "*" and r["quasi_identifier"]]
        assert qis == [], (source, day, qis)


def worst_combination(df: pd.DataFrame, qis: list[str]) -> tuple[int, float]:
    """(k, unique share) of the combination of up to three QIs with the fewest k, then the
    most unique rows: pandas groupby on the raw values, nulls a value of their own."""
    worst: tuple[int, float] | None = None
    for size in range(1, min(3, len(qis)) + 1):
        for combo in itertools.combinations(qis, size):
            classes = df.groupby(list(combo), dropna=False).size()
            k = int(classes.min())
            unique = float(classes[classes == 1].sum() / len(df))
            if worst is None or (k, -unique) < (worst[0], -worst[1]):
                worst = (k, unique)
    assert worst is not None
    return worst


@pytest.mark.parametrize("source", sorted(PEOPLE))
def test_k_anonymity_is_the_worst_combination(realdata_lake: RealLake, source: str) -> None:
    for day, columns in report(realdata_lake, source):
        qis = sorted(c for c, r in columns.items() if c != "*" and r["quasi_identifier"])
        assert PEOPLE[source] <= set(qis), (source, day, qis)
        df = day_frame(realdata_lake, source, day)
        k, unique = worst_combination(df, qis)
        table = columns["*"]
        assert table["k_anonymity"] == k, (source, day, qis, table["quasi_identifiers"])
        assert table["unique_share"] == pytest.approx(unique), (source, day, qis)
