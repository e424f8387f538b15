"""The planted data itself (no lake): the day splits, the PII plants and the shift are what
the other tests take them to be."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import phonenumbers
import pytest

from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.tables import (
    PII_SHARES,
    TABLES,
    Planted,
    iban_valid,
    luhn_valid,
    planted_notes,
)


@pytest.fixture(scope="module")
def planted(realdata_lake: RealLake) -> Planted:
    return realdata_lake.planted


def test_days_are_disjoint_parts_of_the_table(planted) -> None:
    for table in TABLES:
        days = [planted.days[table.id][d] for d in planted.dates(table.id)]
        whole = table.load()
        expected = len(whole) if planted.full else min(len(whole), table.max_rows or len(whole))
        assert sum(len(d) for d in days) == expected, table.id
        assert abs(len(days[0]) - len(days[1])) <= 1, table.id
        if not (table.shift_numeric or table.reweight):
            rows = pd.concat(days).astype(str).agg("|".join, axis=1)
            assert rows.isin(set(whole.astype(str).agg("|".join, axis=1))).all(), table.id


def test_day_files_read_back_as_planted(planted) -> None:
    for source, days in planted.days.items():
        for day, frame in days.items():
            path = Path(planted.specs[source]["location"].replace("{date}", day.isoformat()))
            back = pd.read_csv(path)
            assert back.shape == frame.shape, (source, day)


def test_the_shift_is_one_std_and_the_reweighting_moves_sun_to_rain(planted) -> None:
    table = next(t for t in TABLES if t.shift_numeric)
    whole = table.load()
    last = planted.days[table.id][planted.dates(table.id)[-1]]
    original = whole.set_index("date").loc[last["date"]]
    shift = (last.set_index("date")["temp_max"] - original["temp_max"]).to_numpy()
    assert np.allclose(shift, whole["temp_max"].std())
    (column, (before, after, share)), *_ = table.reweight.items()
    was = original[column] == before
    moved = (last.set_index("date")[column] == after) & was
    assert moved.sum() == round(share * was.sum()) > 0


def test_planted_pii_is_valid_and_in_the_planted_rows() -> None:
    notes, masks = planted_notes(np.random.default_rng(7))
    for kind, share in PII_SHARES.items():
        assert masks[kind].mean() == pytest.approx(share)
    assert not (sum(masks.values()) > 1).any()  # one type per row
    for text in notes.loc[masks["card_number"], "note"]:
        card = re.search(r"(\d{4} ){3}\d{4}", text).group(0)
        assert luhn_valid(card), text
    for text in notes.loc[masks["iban"], "note"]:
        assert iban_valid(re.search(r"DE\d{20}", text).group(0)), text
    for text in notes.loc[masks["phone"], "note"]:
        number = re.search(r"\+1 206 \d{3} \d{4}", text).group(0)
        assert phonenumbers.is_possible_number(phonenumbers.parse(number)), text
    for text in notes.loc[masks["email"], "note"]:
        assert re.search(r"[a-z]+\.[a-z'-]+@example\.org", text), text
    for text in notes.loc[masks["person_name"], "note"]:
        assert "my name is " in text, text
    clean = ~sum(masks.values()).astype(bool)
    assert not notes.loc[clean, "note"].str.contains("@|my name is|DE\\d{20}").any()
