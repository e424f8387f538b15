"""Tests for the bundled sample sources: specs, files, schemas and each source's promises."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from synthcap_assets.quality.rules import parse_rule
from synthcap_resources.catalog import SourceSpec, load_catalog

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "synthcap_assets" / "sample_sources"
DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18))
POLARS = {"str": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}
POLARS |= {"date": pl.Date, "datetime": pl.Datetime}


@pytest.fixture(scope="module")
def catalog() -> dict[str, SourceSpec]:
    return load_catalog(SAMPLE_DIR)


def read(spec: SourceSpec, day: dt.date, *, declared_str: bool = True) -> pl.DataFrame:
    """A day's file; ``declared_str`` keeps digit-only text columns (zip codes) as text."""
    path = spec.resolve_location(day)
    if spec.format == "jsonl":
        return pl.read_ndjson(path)
    schema = spec.declared_schema or {}
    overrides = {c: pl.String for c, t in schema.items() if t == "str"} if declared_str else {}
    return pl.read_csv(path, try_parse_dates=True, schema_overrides=overrides)


@pytest.fixture(scope="module")
def frames(catalog: dict[str, SourceSpec]) -> dict[tuple[str, dt.date], pl.DataFrame]:
    return {(sid, day): read(spec, day) for sid, spec in catalog.items() for day in DAYS}


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    doubled = [d * 2 - 9 if d * 2 > 9 else d * 2 for d in digits[1::2]]
    return len(number) >= 2 and (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def test_catalog_has_one_source_per_domain(catalog: dict[str, SourceSpec]) -> None:
    assert set(catalog) == {
        "market_prices",
        "us_macro",
        "customers",
        "support_tickets",
        "multilingual_messages",
    }
    assert {s.domain.value for s in catalog.values()} == {
        "financial",
        "timeseries",
        "tabular",
        "text",
    }
    for spec in catalog.values():
        assert spec.location.startswith("bundled://data/")
        assert spec.start_date == DAYS[0]
        assert spec.terms_url.startswith("https://") and spec.description and spec.attribution
        assert 0 < spec.privacy.epsilon <= 3 and spec.quality.rules


def test_every_enabled_source_has_a_file_per_day(catalog: dict[str, SourceSpec]) -> None:
    for spec in catalog.values():
        assert spec.enabled
        for day in DAYS:
            path = Path(spec.resolve_location(day))
            assert path.is_file() and path.parent.name == spec.id and path.stem == day.isoformat()


def test_files_match_declared_schema(catalog, frames) -> None:
    for (sid, day), df in frames.items():
        declared = catalog[sid].declared_schema
        assert declared is not None
        assert df.columns == list(declared), (sid, day)
        for column, kind in declared.items():
            assert isinstance(df.schema[column], POLARS[kind]), (sid, day, column, df.schema)
            assert df[column].null_count() < df.height, (sid, day, column)
        assert 150 <= df.height <= 800 and df.width <= 12


def test_non_text_columns_are_inferred_without_help(catalog: dict[str, SourceSpec]) -> None:
    # Dates, timestamps and numbers must be written so plain inference reads them right.
    for spec in catalog.values():
        df = read(spec, DAYS[0], declared_str=False)
        for column, kind in (spec.declared_schema or {}).items():
            if kind != "str":
                assert isinstance(df.schema[column], POLARS[kind]), (spec.id, column)


def test_quality_rules_parse_and_hold(catalog, frames) -> None:
    for (sid, day), df in frames.items():
        for text in catalog[sid].quality.rules:
            rule = parse_rule(text, df.columns)
            share = df.select(rule.expr.mean()).item()
            if text == "phone not null":  # about 5% of customers leave no phone number
                assert 0.9 < share < 1.0, (sid, day, share)
            else:
                assert share == 1.0, (sid, day, text, share)


def test_key_columns_are_unique(catalog, frames) -> None:
    for (sid, day), df in frames.items():
        keys = catalog[sid].quality.key_columns
        assert keys and df.select(keys).is_duplicated().sum() == 0, (sid, day)


def test_market_windows_slide_and_ohlc_is_consistent(frames) -> None:
    previous = None
    for day in DAYS:
        df = frames["market_prices", day]
        o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
        assert np.all(lo <= np.minimum(o, c)) and np.all(np.maximum(o, c) <= h) and np.all(lo > 0)
        assert (df["volume"] >= 0).all()
        assert df["date"].n_unique() == 100 and df["date"].max() == day
        assert df.group_by("date").len()["len"].to_list() == [6] * 100
        if previous is not None:
            # One more day each delivery; the 99 shared days carry identical bars.
            shared = previous.filter(pl.col("date") > previous["date"].min())
            assert df.filter(pl.col("date") < day).equals(shared)
        previous = df


def test_market_third_delivery_ends_in_a_volatility_regime_change(frames) -> None:
    df = frames["market_prices", DAYS[2]].sort("ticker", "date")
    df = df.with_columns(
        ret=pl.col("close").log().diff().over("ticker").abs(),
        span=(pl.col("high") / pl.col("low")).log(),
    )
    newest, before = df.filter(pl.col("date") == DAYS[2]), df.filter(pl.col("date") < DAYS[2])
    assert newest["ret"].mean() > 3 * before["ret"].drop_nulls().mean()
    assert newest["span"].mean() > 3 * before["span"].mean()
    assert (
        newest["volume"].sum()
        > 2 * before.group_by("date").agg(pl.col("volume").sum())["volume"].mean()
    )


def test_macro_vintages_are_the_statsmodels_data(frames) -> None:
    from statsmodels.datasets import macrodata

    reference = macrodata.load_pandas().data
    ends = {DAYS[0]: dt.date(2008, 3, 31), DAYS[1]: dt.date(2008, 12, 31)}
    ends[DAYS[2]] = dt.date(2009, 9, 30)
    for day, rows in zip(DAYS, (197, 200, 203), strict=True):
        df = frames["us_macro", day]
        assert df.height == rows and df["date"].max() == ends[day]
        assert df["date"][0] == dt.date(1959, 3, 31) and df["date"].is_sorted()
        for column in df.columns[1:]:
            expected = reference[column].to_numpy()[:rows]
            np.testing.assert_array_equal(df[column].to_numpy(), expected, err_msg=column)
    assert frames["us_macro", DAYS[1]].head(197).equals(frames["us_macro", DAYS[0]])


def test_luhn_reference_on_known_numbers() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710")


def test_customers_carry_real_looking_pii(catalog, frames) -> None:
    spec = catalog["customers"]
    assert spec.pii["card_number"] == "card_number" and spec.pii["zip"] == "zip_code"
    assert set(spec.quasi_identifiers) == {"zip", "birth_date", "state"}
    ids: list[str] = []
    for day in DAYS:
        df = frames["customers", day]
        cards = df["card_number"].to_list()
        assert all(c.isdigit() and 12 <= len(c) <= 19 and luhn_ok(c) for c in cards)
        assert df["zip"].str.contains(r"^\d{5}$").all()
        assert df["zip"].str.starts_with("0").any()  # leading zeros survive as text
        suffix = df["state"] + " " + df["zip"]
        assert all(a.endswith(s) for a, s in zip(df["address"], suffix, strict=True))
        assert df["email"].str.contains(r"^[^@\s]+@[^@\s]+\.[a-z]+$").all()
        ages = (day - df["birth_date"]).dt.total_days() / 365.25
        assert ages.min() >= 17.9 and ages.max() <= 86.1
        assert 0.02 < df["phone"].null_count() / df.height < 0.1
        ids += df["customer_id"].to_list()
    assert len(ids) == len(set(ids))
    referral = [(frames["customers", d]["signup_channel"] == "referral").mean() for d in DAYS]
    assert referral[2] > 1.7 * max(referral[:2])


def test_support_tickets_intents_pii_and_storm_spike(frames) -> None:
    shares = []
    pii = re.compile(r"[\w.+-]+@[\w-]+\.[a-z]+|\d{3}\D{0,2}\d{3}\D?\d{4}|[Oo]rder (number|#)")
    for day in DAYS:
        df = frames["support_tickets", day]
        assert (df["created_at"].dt.date() == day).all() and df["created_at"].is_sorted()
        assert df["ticket_id"].str.starts_with(f"TCK-{day:%Y%m%d}-").all()
        assert df["intent"].n_unique() == 9 and df["channel"].n_unique() == 3
        share_pii = np.mean([bool(pii.search(u)) for u in df["utterance"]])
        assert 0.05 < share_pii < 0.16, (day, share_pii)
        shares.append((df["intent"] == "delivery_delay").mean())
    assert shares[2] > 2 * max(shares[:2])
    storm = frames["support_tickets", DAYS[2]]["utterance"].str.contains("storm|weather").sum()
    assert (
        storm > 30
        and frames["support_tickets", DAYS[0]]["utterance"].str.contains("storm|weather").sum() == 0
    )


def test_generator_reproduces_the_bundled_files(tmp_path: Path) -> None:
    # The files are what the seeded generator writes, byte for byte (same package versions).
    script = ROOT / "scripts" / "make_sample_data.py"
    module_spec = importlib.util.spec_from_file_location("make_sample_data", script)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    module.main(tmp_path)
    bundled = sorted(p.relative_to(SAMPLE_DIR / "data") for p in (SAMPLE_DIR / "data").rglob("*.*"))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.*")) == bundled
    for rel in bundled:
        assert (tmp_path / rel).read_bytes() == (SAMPLE_DIR / "data" / rel).read_bytes(), rel
    total = sum((SAMPLE_DIR / "data" / rel).stat().st_size for rel in bundled)
    assert total < 2_000_000
