"""Encoding frames to codes from the profile, and decoding codes back to typed values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis.prepare import (
    OTHER,
    EncodingError,
    bin_edges,
    decode,
    encode,
)

PROBS = np.linspace(0, 1, 101)


def hand_profile(df: pl.DataFrame, semantic: dict[str, str], top_k: int = 10) -> pl.DataFrame:
    """The profile fields ``encode`` reads, computed here with numpy (independent of stats.py)."""
    rows = []
    for name, kind in semantic.items():
        s = df.get_column(name)
        nulls = s.null_count()
        quantiles = None
        if kind in ("numeric", "datetime"):
            if s.dtype == pl.Date:
                v = s.drop_nulls().cast(pl.Int32).to_numpy().astype(float)
            elif s.dtype == pl.Datetime:
                v = s.drop_nulls().dt.epoch("us").to_numpy() / 86_400_000_000
            else:
                v = s.drop_nulls().to_numpy().astype(float)
            quantiles = np.quantile(v, PROBS).tolist() if v.size else None
        counts = (
            s.drop_nulls()
            .cast(pl.String)
            .value_counts()
            .sort(["count", s.name], descending=[True, False])
        )
        rows.append(
            {
                "column": name,
                "semantic_type": kind,
                "count": s.len() - nulls,
                "nulls": nulls,
                "distinct": s.drop_nulls().n_unique(),
                "quantiles": quantiles,
                "top_values": counts[s.name].head(top_k).to_list(),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "column": pl.Utf8,
            "semantic_type": pl.Utf8,
            "count": pl.Int64,
            "nulls": pl.Int64,
            "distinct": pl.Int64,
            "quantiles": pl.List(pl.Float64),
            "top_values": pl.List(pl.Utf8),
        },
    )


@pytest.fixture
def mixed() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(10, 3, n)
    x[rng.random(n) < 0.1] = np.nan
    letters = list("abcdefghijklmn")  # 14 categories, the profile keeps 10
    weights = np.arange(len(letters), 0, -1, dtype=float)
    return pl.DataFrame(
        {
            "x": pl.Series(x).fill_nan(None),
            "n": rng.integers(0, 500, n),
            "d": [dt.date(2024, 1, 1) + dt.timedelta(days=int(k)) for k in rng.integers(0, 90, n)],
            "cat": rng.choice(letters, n, p=weights / weights.sum()),
            "flag": rng.random(n) < 0.3,
            "_source": ["s"] * n,
        }
    )


SEMANTIC = {
    "x": "numeric",
    "n": "numeric",
    "d": "datetime",
    "cat": "categorical",
    "flag": "boolean",
}


def test_bin_edges_are_the_profile_quantiles_at_equal_steps():
    v = np.random.default_rng(1).exponential(size=1000)
    q = np.quantile(v, PROBS)
    assert bin_edges(q.tolist(), 4) == tuple(q[[0, 25, 50, 75, 100]])
    assert bin_edges([3.0] * 101, 8) == (3.0, 3.0)
    heavy = np.quantile(np.r_[np.zeros(900), np.arange(100.0)], PROBS)
    edges = bin_edges(heavy.tolist(), 10)
    # 90% zeros: an atom (0, 0) of its own, then strictly increasing edges.
    assert edges[:2] == (0.0, 0.0) and list(edges[1:]) == sorted(set(edges[1:]))
    assert len(edges) < 11 and edges[-1] == 99.0
    values = np.r_[np.zeros(900), np.arange(100.0)]
    frame = pl.DataFrame({"v": values})
    enc = encode(frame, hand_profile(frame, {"v": "numeric"}), bins=10)
    codes = enc.codes["v"].to_numpy()
    assert (codes == 0).sum() == 901  # every zero (and only zeros: 0 of arange too) in bin 0
    out = decode(enc.codes, enc, np.random.default_rng(0))["v"].to_numpy()
    assert (out == 0).sum() >= 901 and out.max() <= 99.0
    with pytest.raises(EncodingError, match="quantiles"):
        bin_edges([float("nan")] * 101, 4)


def test_continuous_codes_decode_into_their_bins(mixed):
    enc = encode(mixed, hand_profile(mixed, SEMANTIC), bins=6)
    assert "_source" not in enc.codes.columns and "_source" not in enc.dropped
    for name in ("x", "n", "d"):
        codec = enc.codecs[name]
        raw = mixed[name]
        values = raw.cast(pl.Int32) if raw.dtype == pl.Date else raw
        values = values.cast(pl.Float64).to_numpy()
        edges = np.asarray(codec.edges)
        expected = np.searchsorted(edges[1:-1], values, side="right")
        codes = enc.codes[name].to_numpy()
        nulls = np.isnan(values)
        assert np.array_equal(codes[~nulls], expected[~nulls])
        assert (codes[nulls] == codec.null_code).all()
        assert (codec.null_code is not None) == bool(nulls.any())
    out = decode(enc.codes, enc, np.random.default_rng(0))
    assert out.schema == mixed.drop("_source").schema
    for name in ("x", "n", "d"):
        codec, codes = enc.codecs[name], enc.codes[name].to_numpy()
        got = out[name].cast(pl.Int32) if name == "d" else out[name]
        got = got.cast(pl.Float64).to_numpy()
        is_null = codes == codec.null_code
        assert np.isnan(got[is_null]).all()
        edges = np.asarray(codec.edges)
        low, high = edges[codes[~is_null]], edges[codes[~is_null] + 1]
        assert ((got[~is_null] >= low) & (got[~is_null] <= high)).all()
    assert (out["n"].drop_nulls().cast(pl.Float64) % 1 == 0).all()


def test_categories_are_capped_to_top_values_with_other(mixed):
    profile = hand_profile(mixed, SEMANTIC)
    enc = encode(mixed, profile)
    codec = enc.codecs["cat"]
    top = profile.filter(pl.col("column") == "cat")["top_values"][0].to_list()
    assert codec.labels.to_list() == top and len(top) == 10
    assert codec.other_code == 10 and codec.null_code is None and codec.cardinality == 11
    out = decode(enc.codes, enc, np.random.default_rng(0))
    real = mixed["cat"].to_list()
    expected = [v if v in top else OTHER for v in real]
    assert out["cat"].to_list() == expected
    assert OTHER in expected
    assert out["flag"].to_list() == mixed["flag"].to_list()


def test_integer_categories_decode_other_to_unlisted_integers():
    levels = np.repeat(np.arange(15), np.arange(15, 0, -1))
    df = pl.DataFrame({"level": levels, "y": np.arange(levels.size, dtype=float)})
    profile = hand_profile(df, {"level": "categorical", "y": "numeric"}).with_columns(
        value_range=pl.lit([0.0, 14.0])  # declared bounds: the data's own range is not used
    )
    enc = encode(df, profile, max_categories=5)
    assert enc.codecs["level"].labels.to_list() == [0, 1, 2, 3, 4]
    out = decode(enc.codes, enc, np.random.default_rng(3))
    assert out["level"].dtype == df["level"].dtype
    listed = levels < 5
    assert np.array_equal(out["level"].to_numpy()[listed], levels[listed])
    others = out["level"].to_numpy()[~listed]
    assert ((others >= 5) & (others <= 14)).all()


def test_unusable_and_excluded_columns_are_dropped_with_a_reason():
    n = 30
    df = pl.DataFrame(
        {
            "id": [f"ID-{i:04d}" for i in range(n)],
            "note": ["a long free text comment here"] * n,
            "blank": pl.Series([None] * n, dtype=pl.Float64),
            "email": [f"u{i}@example.org" for i in range(n)],
            "v": np.arange(n, dtype=float),
            "extra": np.arange(n),
        }
    )
    semantic = {"id": "identifier", "note": "text", "blank": "empty", "email": "categorical"}
    enc = encode(df, hand_profile(df, {**semantic, "v": "numeric"}), exclude=["email"])
    assert enc.columns == ["v"]
    assert set(enc.dropped) == {"id", "note", "blank", "email", "extra"}
    assert "identifier" in enc.dropped["id"] and "text" in enc.dropped["note"]
    assert "null" in enc.dropped["blank"] and "PII" in enc.dropped["email"]
    assert "profile" in enc.dropped["extra"]


def test_max_columns_keeps_lowest_null_share_then_fewest_codes():
    rng = np.random.default_rng(0)
    n = 200
    holes = rng.normal(size=n)
    holes[:50] = np.nan
    df = pl.DataFrame(
        {
            "holes": pl.Series(holes).fill_nan(None),
            "wide": rng.choice(list("abcdefgh"), n),
            "narrow": rng.choice(["x", "y"], n),
            "const": ["k"] * n,
            "full": rng.normal(size=n),
        }
    )
    semantic = {"holes": "numeric", "wide": "categorical", "narrow": "categorical",
                "const": "categorical", "full": "numeric"}  # fmt: skip
    enc = encode(df, hand_profile(df, semantic), bins=10, max_columns=3)
    assert enc.columns == ["wide", "narrow", "full"]  # kept in the frame's order
    assert set(enc.dropped) == {"holes", "const"}
    assert "max_columns=3" in enc.dropped["holes"]


def test_edge_frames_encode_and_decode():
    empty = pl.DataFrame({"v": pl.Series([], dtype=pl.Float64), "c": pl.Series([], dtype=pl.Utf8)})
    enc = encode(empty, profile_frame(empty))
    assert enc.columns == [] and set(enc.dropped) == {"v", "c"}
    assert decode(enc.codes, enc, np.random.default_rng(0)).shape == (0, 0)

    const = pl.DataFrame({"v": [4.5] * 5, "c": ["a"] * 5, "i": [2] * 5})
    prof = hand_profile(const, {"v": "numeric", "c": "categorical", "i": "numeric"})
    enc = encode(const, prof)
    assert enc.codecs["v"].edges == (4.5, 4.5) and enc.cardinalities == [1, 1, 1]
    out = decode(enc.codes, enc, np.random.default_rng(0))
    assert out.to_dict(as_series=False) == const.to_dict(as_series=False)

    one = pl.DataFrame({"v": [1.25], "c": [None]}, schema={"v": pl.Float64, "c": pl.Utf8})
    enc = encode(one, hand_profile(one, {"v": "numeric", "c": "categorical"}))
    assert enc.codes.to_dicts() == [{"v": 0, "c": 0}]
    assert decode(enc.codes, enc, np.random.default_rng(0)).to_dicts() == [{"v": 1.25, "c": None}]


def test_decode_rejects_foreign_codes_and_encode_rejects_bad_inputs(mixed):
    enc = encode(mixed, hand_profile(mixed, SEMANTIC))
    bad = enc.codes.with_columns(pl.lit(99, dtype=pl.Int32).alias("cat"))
    with pytest.raises(EncodingError, match="outside"):
        decode(bad, enc, np.random.default_rng(0))
    with pytest.raises(EncodingError, match="lack"):
        decode(enc.codes.drop("x"), enc, np.random.default_rng(0))
    with pytest.raises(EncodingError, match="profile lacks"):
        encode(mixed, pl.DataFrame({"column": ["x"]}))
    with pytest.raises(EncodingError, match="at least 1"):
        encode(mixed, hand_profile(mixed, SEMANTIC), bins=0)


def test_real_profile_round_trip_keeps_types_and_time_zones():
    rng = np.random.default_rng(5)
    n = 120
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    df = pl.DataFrame(
        {
            "at": pl.Series(
                [start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 10**5, n)]
            )
            .dt.convert_time_zone("Europe/Berlin")
            .dt.cast_time_unit("ms"),
            "price": rng.gamma(2.0, 10.0, n).astype(np.float32),
            "qty": pl.Series(rng.integers(1, 10**4, n), dtype=pl.Int32),
            "side": rng.choice(["buy", "sell"], n),
        }
    )
    enc = encode(df, profile_frame(df))
    assert [enc.codecs[c].kind for c in df.columns] == ["binned", "binned", "binned", "categorical"]
    out = decode(enc.codes, enc, np.random.default_rng(0))
    assert out.schema == df.schema
    days = out["at"].dt.epoch("us").to_numpy() / 86_400_000_000
    codes, edges = enc.codes["at"].to_numpy(), np.asarray(enc.codecs["at"].edges)
    tolerance = 1e-3 / 86_400  # the millisecond time unit rounds
    assert ((days >= edges[codes] - tolerance) & (days <= edges[codes + 1] + tolerance)).all()
    assert out["side"].to_list() == df["side"].to_list()


def test_dates_decode_inside_the_calendar_whatever_the_measured_range() -> None:
    """A noisy private range can reach millions of years back (the magnitude grid's cells):
    decoding clips to the years the date types hold instead of failing on the sample."""
    from synthcap_assets.synthesis.prepare import ColumnCodec, Encoding, decode

    for dtype in (pl.Date, pl.Datetime("us")):
        codec = ColumnCodec("t", "binned", dtype, 2, edges=(-2.25e7, 0.0, 3.0e7))
        codes = pl.DataFrame({"t": [0, 1, 0, 1]})
        out = decode(codes, Encoding(codes, {"t": codec}, {}), np.random.default_rng(0))["t"]
        values = out.cast(pl.Date).to_list()
        assert all(dt.date(1, 1, 1) <= v <= dt.date(9999, 12, 31) for v in values)
        assert values[0] < dt.date(1970, 1, 1) < values[1]
