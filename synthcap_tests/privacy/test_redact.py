"""Free-text PII per type with its share, and the one redactor's typed placeholders.

The clean text is built from real car model names (``vega_datasets`` cars); 140 of 400 rows get
planted PII, 28 of each of five types (email, phone, "my name is ...", card number, IBAN), made
by Faker with a fixed seed.
"""

from __future__ import annotations

import json
import random
import re

import polars as pl
import pytest
from faker import Faker
from vega_datasets import local_data

from synthcap_assets.privacy.handling import apply_handling
from synthcap_assets.privacy.pii import FEW_PII_SHARE, detect_pii, scan_values_for_pii
from synthcap_assets.privacy.redact import PLACEHOLDERS, redact_text

ROWS, PER_TYPE = 400, 28
KINDS = ("email", "phone", "person_name", "card_number", "iban")


def _plant(kind: str, fake: Faker) -> str:
    if kind == "email":
        return f"you can reach me at {fake.email()} anytime"
    if kind == "phone":
        return f"call me back on {fake.numerify('(###) 555-0###')} please"
    if kind == "person_name":
        return f"hi, my name is {fake.first_name()} and I need help"
    if kind == "card_number":
        return f"the card {fake.credit_card_number(card_type='visa16')} was charged twice"
    return f"please refund to {fake.iban()} today"


@pytest.fixture(scope="module")
def tickets() -> tuple[pl.DataFrame, dict[int, str]]:
    fake = Faker("en_US")
    fake.seed_instance(11)
    rng = random.Random(11)
    cars = local_data.cars()["Name"].tolist()
    texts = [f"is the {rng.choice(cars)} still available for a test drive" for _ in range(ROWS)]
    planted = dict(
        zip(rng.sample(range(ROWS), PER_TYPE * len(KINDS)), KINDS * PER_TYPE, strict=True)
    )
    for row, kind in planted.items():
        texts[row] = f"{texts[row]}; {_plant(kind, fake)}"
    return pl.DataFrame({"utterance": texts, "intent": ["buy"] * ROWS}), planted


def test_each_type_reported_with_its_share(tickets) -> None:
    frame, _ = tickets
    row = detect_pii(frame).filter(pl.col("column") == "utterance").to_dicts()[0]
    shares = json.loads(row["pii_shares"])
    assert shares == pytest.approx(dict.fromkeys(KINDS, PER_TYPE / ROWS))
    assert row["match_share"] == pytest.approx(PER_TYPE * len(KINDS) / ROWS)  # 140 of 400
    assert row["match_share"] > FEW_PII_SHARE
    assert row["handling"] == "redact" and "kept, watched" not in row["handling_reason"]
    assert not row["direct_identifier"]


def test_redaction_replaces_each_type_with_its_placeholder(tickets) -> None:
    frame, planted = tickets
    redacted = redact_text(frame["utterance"])
    assert redacted.name == "utterance" and redacted.len() == ROWS
    tag = {k: PLACEHOLDERS[k] for k in KINDS}
    assert tag == {
        "email": "<EMAIL>",
        "phone": "<PHONE>",
        "person_name": "<PERSON>",
        "card_number": "<CARD>",
        "iban": "<IBAN>",
    }
    for row in range(ROWS):
        text = redacted[row]
        kind = planted.get(row)
        found = {k for k, t in PLACEHOLDERS.items() if t in text}
        assert found == ({kind} if kind else set()), (row, text)
        if kind is None:
            assert text == frame["utterance"][row]  # clean rows untouched
    assert "my name is <PERSON>" in " ".join(redacted.to_list())
    assert all(share == 0.0 for share in scan_values_for_pii(redacted).values())


def test_known_names_nulls_and_the_redact_handling() -> None:
    frame = pl.DataFrame(
        {
            "customer": ["Ana Lima", "Bo Chen", None],
            "note": ["Ana Lima called about +1 (555) 123-4567", None, "Bo Chen wrote x@y.org"],
        }
    )
    out, done = apply_handling(
        frame,
        {"customer": "drop", "note": "redact"},
        {"customer": "person_name", "note": "phone"},
        b"k",
    )
    assert done == {"customer": "dropped", "note": "redacted"}
    assert out.columns == ["note"]
    assert out["note"].to_list() == [
        "<PERSON> called about <PHONE>",
        None,
        "<PERSON> wrote <EMAIL>",
    ]
    assert redact_text(pl.Series("t", [None, None], dtype=pl.String)).to_list() == [None, None]


def test_every_real_name_behind_a_cue_is_found_and_redacted() -> None:
    people = local_data.la_riots()  # 63 real names: "DeAndre", "Cesar A.", accents, ...
    texts = [
        f"Hello, my name is {str(first).split()[0].strip('.')} {str(last).replace(' ', '')}."
        for first, last in zip(people["first_name"], people["last_name"], strict=True)
    ]
    series = pl.Series("t", texts)
    assert scan_values_for_pii(series)["person_name"] == 1.0
    # "Davis Jr." keeps its dot and "Doe #80" its "#80": no letter of a name may remain.
    for text in redact_text(series).to_list():
        assert re.fullmatch(r"Hello, my name is <PERSON>[^A-Za-z]*", text), text
