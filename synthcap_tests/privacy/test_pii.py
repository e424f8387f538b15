"""Tests for PII detection: validators, column classification, hints and free-text scanning."""

from __future__ import annotations

import datetime as dt
import json
import random

import polars as pl
import pytest
from faker import Faker

from synthcap_assets.privacy.pii import (
    FEW_PII_SHARE,
    REPORT_SCHEMA,
    detect_pii,
    iban_valid,
    luhn_valid,
    pii_columns,
    scan_values_for_pii,
)
from synthcap_assets.privacy.pii_patterns import phone_valid

DAY = dt.date(2025, 6, 1)
N = 200


def _row(report: pl.DataFrame, column: str) -> dict:
    rows = report.filter(pl.col("column") == column).to_dicts()
    assert len(rows) == 1, f"{column} should appear exactly once"
    return rows[0]


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    fake = Faker("en_US")
    fake.seed_instance(20250601)
    rng = random.Random(1)
    return pl.DataFrame(
        {
            "_source": ["crm"] * N,
            "_date": [DAY] * N,
            "full_name": [fake.name() for _ in range(N)],
            "contact": [fake.email() for _ in range(N)],
            "tel": [fake.phone_number() for _ in range(N)],
            "street_address": [fake.address() for _ in range(N)],
            "date_of_birth": [fake.date_of_birth(minimum_age=1, maximum_age=90) for _ in range(N)],
            "cc": [fake.credit_card_number() for _ in range(N)],
            "ssn": [fake.ssn() for _ in range(N)],
            "ip": [fake.ipv4() for _ in range(N)],
            "account": [fake.iban() for _ in range(N)],
            "zip": [fake.zipcode() for _ in range(N)],
            "order_date": [DAY - dt.timedelta(days=rng.randint(0, 400)) for _ in range(N)],
            "amount": [rng.gauss(50, 10) for _ in range(N)],
            "qty": [rng.randint(1, 9) for _ in range(N)],
            "gender": [rng.choice(["F", "M", "X"]) for _ in range(N)],
            "city": [fake.city() for _ in range(N)],
        }
    )


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111 1111 1111 1111", True),
        ("4111-1111-1111-1111", True),
        ("378282246310005", True),  # Amex test number, 15 digits
        ("4111111111111112", False),  # last digit off
        ("4111111111111", False),  # 13 digits failing the checksum
        ("411111111111", False),  # 12 digits: too short even though Luhn would pass
        ("abcd111111111111", False),
        ("", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("GB82WEST12345698765432", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89370400440532013000", True),
        ("gb82west12345698765432", True),
        ("GB82WEST12345698765433", False),  # one digit changed
        ("GB28WEST12345698765432", False),  # wrong check digits
        ("GB82", False),
        ("not an iban", False),
    ],
)
def test_iban(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("(591)341-7776", True),
        ("+1-228-692-1840x1107", True),
        ("836.762.5851x7812", True),
        ("6414144269", True),
        ("+44 20 7946 0958", True),
        ("123456", False),  # too few digits
        ("2024-01-15", False),  # a date
        ("192.168.1.1", False),  # an IPv4 address
        ("1234.56", False),  # a decimal
        ("12345678", False),  # a bare short run of digits
        ("+1 (555) (123) 4567", False),
        ("123-45-6789", False),  # SSN-shaped
    ],
)
def test_phone_shape(value: str, valid: bool) -> None:
    assert phone_valid(value) is valid


def test_schema_and_meta_columns_ignored(people: pl.DataFrame) -> None:
    report = detect_pii(people, partition_date=DAY)
    assert report.schema == REPORT_SCHEMA
    assert report["column"].to_list() == [c for c in people.columns if not c.startswith("_")]


def test_faker_columns_detected(people: pl.DataFrame) -> None:
    report = detect_pii(people, partition_date=DAY)
    expected = {
        "full_name": ("person_name", "name+pattern"),
        "contact": ("email", "pattern"),
        "tel": ("phone", "pattern"),
        "street_address": ("address", "name+pattern"),
        "date_of_birth": ("birth_date", "pattern"),
        "cc": ("card_number", "pattern"),
        "ssn": ("national_id", "pattern"),
        "ip": ("ip_address", "pattern"),
        "account": ("iban", "pattern"),
        "zip": ("zip_code", "pattern"),
    }
    for column, (kind, by) in expected.items():
        row = _row(report, column)
        assert (row["pii_type"], row["detected_by"]) == (kind, by), row
        assert 0.0 <= row["confidence"] <= 1.0
    # All emails, SSNs, IPs, IBANs are valid; some Faker card numbers are 12-digit Maestro.
    for column in ("contact", "tel", "ssn", "ip", "account", "zip"):
        assert _row(report, column)["match_share"] == pytest.approx(1.0)
    assert _row(report, "cc")["match_share"] > 0.8
    # Header hints confirmed by the values: Faker names hit the first-name lists.
    assert _row(report, "full_name")["match_share"] > 0.9
    assert _row(report, "street_address")["match_share"] > 0.9


def test_non_pii_columns_not_flagged(people: pl.DataFrame) -> None:
    report = detect_pii(people, partition_date=DAY)
    for column in ("amount", "qty"):
        row = _row(report, column)
        assert row["pii_type"] is None, row
        assert row["handling"] == "keep"
        assert not row["direct_identifier"]
    # For people, a city is a place and a date joined with a place an event-time QI.
    assert _row(report, "city")["pii_type"] == "geography"
    assert _row(report, "order_date")["pii_type"] == "event_time"
    for column in ("city", "order_date"):
        row = _row(report, column)
        assert row["quasi_identifier"] and row["handling"] == "generalize", row
        assert not row["direct_identifier"]


def test_handling_and_identifier_flags(people: pl.DataFrame) -> None:
    report = detect_pii(people, quasi_identifiers=["city"], partition_date=DAY)
    direct = {"full_name", "contact", "tel", "street_address", "cc", "ssn", "ip", "account"}
    assert set(pii_columns(report)) == direct
    for column in direct:
        assert _row(report, column)["handling"] == "drop"
    for column in ("date_of_birth", "zip", "gender", "city"):
        row = _row(report, column)
        assert row["quasi_identifier"] and row["handling"] == "generalize", row
    assert _row(report, "gender")["pii_type"] == "gender"


def test_birth_dates_need_plausible_ages() -> None:
    cases = pl.DataFrame(
        {
            "birth_date": [dt.date(2030, 1, 1)] * 3,
            "dob": [dt.datetime(1990, 5, 17, 8, 0), dt.datetime(1950, 1, 1), None],
            "born_on": ["1990-05-17", "1988-02-29", "not a date"],
            "signup": [dt.date(1990, 5, 17)] * 3,
            "birth_place": ["Oslo", "Lima", "Pune"],
        }
    )
    report = detect_pii(cases, partition_date=DAY)
    future_row = _row(report, "birth_date")
    # Name says birth, values are in the future: kept as a name-only, low-confidence finding.
    assert (future_row["pii_type"], future_row["detected_by"]) == ("birth_date", "name")
    assert future_row["match_share"] == 0.0 and future_row["confidence"] < 0.5
    assert _row(report, "dob")["match_share"] == 1.0  # nulls do not count
    assert _row(report, "born_on")["match_share"] == pytest.approx(2 / 3)
    assert _row(report, "signup")["pii_type"] is None  # a date, but not a birth column
    assert _row(report, "birth_place")["pii_type"] is None  # about a birth, not a date of it


def test_age_limit_boundary() -> None:
    dates = [
        dt.date(1905, 6, 1),  # 120 today: ok
        dt.date(1904, 6, 2),  # 120, turns 121 tomorrow: ok
        DAY,  # born today, age 0: ok
        dt.date(1904, 6, 1),  # 121 today: too old
        DAY + dt.timedelta(days=1),  # not born yet
    ]
    row = _row(detect_pii(pl.DataFrame({"dob": dates}), partition_date=DAY), "dob")
    assert row["match_share"] == pytest.approx(3 / 5)


def test_hints_override_and_combine_with_patterns() -> None:
    df = pl.DataFrame(
        {
            "customer_ref": ["a@example.com", "b@example.org", "c@example.net"],
            "notes": ["x", "y", "z"],
            "score": [1, 2, 3],
        }
    )
    report = detect_pii(df, hints={"customer_ref": "email", "score": "other", "gone": "phone"})
    ref = _row(report, "customer_ref")
    assert (ref["pii_type"], ref["detected_by"], ref["confidence"]) == ("email", "hint+pattern", 1)
    score = _row(report, "score")
    assert (score["pii_type"], score["detected_by"], score["match_share"]) == (
        "other",
        "hint",
        None,
    )
    assert score["handling"] == "drop"  # declared PII of unknown shape cannot be generalised
    assert _row(report, "notes")["pii_type"] is None
    assert "gone" not in report["column"].to_list()
    assert set(pii_columns(report)) == {"customer_ref", "score"}


def test_hint_with_failing_pattern_is_hint_only() -> None:
    df = pl.DataFrame({"ph": ["n/a", "unknown", "(555) 123-4567"]})
    row = _row(detect_pii(df, hints={"ph": "phone"}), "ph")
    assert (row["detected_by"], row["match_share"]) == ("hint", pytest.approx(1 / 3))


def test_invalid_hint_and_sample_rows_rejected() -> None:
    df = pl.DataFrame({"a": ["x"]})
    with pytest.raises(ValueError, match="unknown PII type"):
        detect_pii(df, hints={"a": "passport"})
    with pytest.raises(ValueError, match="sample_rows"):
        detect_pii(df, sample_rows=0)


def test_minority_pattern_is_not_pii() -> None:
    emails = ["a@example.com", "b@example.com"] + [f"user{i}" for i in range(8)]
    row = _row(detect_pii(pl.DataFrame({"login": emails})), "login")
    assert row["pii_type"] is None and row["confidence"] == pytest.approx(0.2)


def test_card_numbers_in_integer_column() -> None:
    df = pl.DataFrame({"pan": [4111111111111111, 5555555555554444, 378282246310005]})
    row = _row(detect_pii(df), "pan")
    assert (row["pii_type"], row["match_share"]) == ("card_number", 1.0)


def test_free_text_scanning() -> None:
    texts = [
        "Please email me at jane.doe@example.com about the order",
        "Call me on +1 (555) 123-4567 tomorrow",
        "My card 4111 1111 1111 1111 was charged twice",
        "The package arrived late and damaged",
        "Server 10.0.0.12 refused my login",
        "SSN 123-45-6789 was on the form",
        "Great service, thank you",
        "Transfer to GB82 WEST 1234 5698 7654 32 failed",
        None,
        "Would buy again in 2024",
    ]
    df = pl.DataFrame({"review": texts})
    row = _row(detect_pii(df), "review")
    assert row["detected_by"] == "pattern"
    assert row["match_share"] == pytest.approx(6 / 9)  # 6 of 9 non-null rows carry PII
    # Free text is not an identifier column: it is redacted, each type reported with its share.
    assert not row["direct_identifier"] and row["handling"] == "redact"
    kinds = ["email", "phone", "card_number", "national_id", "ip_address", "iban"]
    assert json.loads(row["pii_shares"]) == pytest.approx(dict.fromkeys(kinds, 1 / 9))
    shares = scan_values_for_pii(df["review"])
    six = {"email", "phone", "card_number", "national_id", "ip_address", "iban"}
    assert set(shares) == six | {"person_name", "address", "birth_date"}
    for kind in six:
        assert shares[kind] == pytest.approx(1 / 9), kind
    assert shares["person_name"] == shares["address"] == shares["birth_date"] == 0.0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hello, this is Maria Gonzalez calling about my order", "person_name"),
        ("Please ask Dr. Okafor to call me back", "person_name"),
        ("my name is Tom and my order is late", "person_name"),
        ("Ship it to 221 Baker Street instead", "address"),
        ("new address: 1600 Pennsylvania Ave, Washington", "address"),
        ("I was born on 1984-02-29, please update", "birth_date"),
        ("DOB: 03/14/1990", "birth_date"),
        ("date of birth is March 3, 1975", "birth_date"),
    ],
)
def test_names_addresses_and_birth_dates_in_free_text(text: str, kind: str) -> None:
    found = {k for k, share in scan_values_for_pii(pl.Series("t", [text])).items() if share}
    assert found == {kind}


@pytest.mark.parametrize(
    "text",
    [
        "This is The best store",
        "Order 12 items from the shop",
        "the 3 Main issues were born out of delays",
        "My birthday party is soon",
    ],
)
def test_context_finders_ignore_lookalikes(text: str) -> None:
    shares = scan_values_for_pii(pl.Series("t", [text]))
    assert shares["person_name"] == shares["address"] == shares["birth_date"] == 0.0


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("001-757-846-2740x29197", True),  # 00 international prefix
        ("+44 20 7946 0958", True),
        ("+1 555 012 345 678", False),  # 12 national digits: too long for +1
        ("+999 1234 5678", False),  # no such country code
        ("(591) 341-77761", False),  # 11 national digits: not a US length
    ],
)
def test_phone_numbers_pass_libphonenumber(value: str, valid: bool) -> None:
    assert phone_valid(value) is valid


def test_free_text_with_rare_pii_is_reported_but_kept() -> None:
    # "Few" is at most 1% of rows (FEW_PII_SHARE): kept and watched; above it, redacted.
    assert FEW_PII_SHARE == 0.01
    texts = ["write to bob@example.com"] + [f"plain comment number {i}" for i in range(99)]
    row = _row(detect_pii(pl.DataFrame({"comment": texts})), "comment")
    assert (row["pii_type"], row["match_share"]) == ("email", pytest.approx(0.01))
    assert not row["direct_identifier"] and row["handling"] == "keep"
    assert "kept, watched" in row["handling_reason"]
    texts[1] = "or call +1 (555) 123-4567"
    row = _row(detect_pii(pl.DataFrame({"comment": texts})), "comment")
    assert row["match_share"] == pytest.approx(0.02) and row["handling"] == "redact"


def test_scan_clean_and_empty_series() -> None:
    clean = pl.Series("x", ["hello world", "version 1.2", "2024-01-15", "12:30:45", "x::y"])
    assert all(share == 0.0 for share in scan_values_for_pii(clean).values())
    assert all(s == 0.0 for s in scan_values_for_pii(pl.Series("e", [], dtype=pl.String)).values())
    assert all(s == 0.0 for s in scan_values_for_pii(pl.Series("n", [None, None])).values())
    ipv6 = pl.Series("x", ["from fe80::1ff:fe23:4567:890a today", "none"])
    assert scan_values_for_pii(ipv6)["ip_address"] == 0.5


def test_edge_frames() -> None:
    empty = pl.DataFrame(
        schema={"email": pl.String, "x": pl.Float64, "name": pl.String, "flag": pl.Boolean}
    )
    report = detect_pii(empty)
    assert report.schema == REPORT_SCHEMA and report.height == 4
    assert _row(report, "email")["pii_type"] is None  # nothing to match
    assert _row(report, "name")["pii_type"] is None  # a header alone never flags
    nulls = pl.DataFrame({"contact": [None, None], "c": [3, 3], "b": [True, False]})
    report = detect_pii(nulls)
    assert report["pii_type"].null_count() == 3
    single = detect_pii(pl.DataFrame({"mail": ["solo@example.com"]}))
    assert _row(single, "mail")["pii_type"] == "email"
    assert detect_pii(pl.DataFrame()).schema == REPORT_SCHEMA


def test_sampling_limits_rows_inspected() -> None:
    values = ["a@example.com"] * 600 + ["nope"] * 400
    report = detect_pii(pl.DataFrame({"v": values}), sample_rows=100)
    share = _row(report, "v")["match_share"]
    assert share is not None and 0.4 < share < 0.8  # a random sample, not the first 100 rows
    assert share * 100 == pytest.approx(round(share * 100))
