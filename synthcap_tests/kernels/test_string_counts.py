"""Exact string value counts from Arrow views against Python's Counter on random columns:
few and many distinct values, all distinct, nulls, empty strings, multi-byte characters,
strings too long to be inline, sliced and multi-chunk series, values missing from the sample."""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels import string_counts
from synthcap_assets.kernels.string_counts import StringCountError, string_value_counts


def _as_dict(labels: list[str], counts: np.ndarray) -> dict[str, int]:
    assert len(labels) == len(set(labels)), "a label was counted twice"
    return dict(zip(labels, counts.tolist(), strict=True))


def _reference(values: list[str | None]) -> dict[str, int]:
    return dict(Counter(v for v in values if v is not None))


def _column(rng: np.random.Generator, n: int, distinct: int, null_share: float) -> list:
    pool = [f"v{i}" for i in range(distinct)] + ["", "é☃", "x" * 12, "y" * 13, "long " * 9]
    picks = rng.integers(0, len(pool), n)
    return [None if rng.random() < null_share else pool[i] for i in picks]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 3000),
    distinct=st.sampled_from([1, 3, 40, 5000]),
    null_share=st.sampled_from([0.0, 0.1, 1.0]),
)
def test_counts_equal_counter(seed: int, n: int, distinct: int, null_share: float) -> None:
    values = _column(np.random.default_rng(seed), n, distinct, null_share)
    got = string_value_counts(pl.Series(values, dtype=pl.String))
    assert _as_dict(*got) == _reference(values)


def test_large_column_with_ties_and_collisions(monkeypatch: pytest.MonkeyPatch) -> None:
    # A small table and sample force slot collisions and values missing from the table, so
    # both the view pass and the group-by of the set-aside rows count.
    monkeypatch.setattr(string_counts, "SLOT_BITS", 6)
    monkeypatch.setattr(string_counts, "SLOTS", 64)
    monkeypatch.setattr(string_counts, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(string_counts, "CHUNK_ROWS", 4096)
    rng = np.random.default_rng(7)
    values = _column(rng, 200_000, 300, 0.05)
    series = pl.Series(values, dtype=pl.String)
    assert _as_dict(*string_value_counts(series)) == _reference(values)
    sliced = series.slice(13, 150_000)  # an offset that is not a multiple of 8 bits
    assert _as_dict(*string_value_counts(sliced)) == _reference(values[13:150_013])


def test_all_distinct_and_multi_chunk() -> None:
    values = [f"id-{i}" for i in range(70_000)] + [None] * 5
    series = pl.concat([pl.Series(values[:30_000]), pl.Series(values[30_000:])], rechunk=False)
    assert series.n_chunks() == 2
    assert _as_dict(*string_value_counts(series)) == _reference(values)


def test_long_strings_only_and_empty_column() -> None:
    values = ["a long category name", "another long category", None] * 100
    assert _as_dict(*string_value_counts(pl.Series(values))) == _reference(values)
    assert string_value_counts(pl.Series([None, None], dtype=pl.String))[0] == []
    assert string_value_counts(pl.Series([], dtype=pl.String))[0] == []


def test_rejects_non_strings() -> None:
    with pytest.raises(StringCountError, match="cast"):
        string_value_counts(pl.Series([1, 2, 3]))


def test_views_with_bytes_after_the_string_still_count_once() -> None:
    # Arrow asks for zeros after an inline string; a producer that leaves other bytes there
    # gives one string two views, which must still be one label.
    raw = np.zeros((6, 16), np.uint8)
    raw[:, 0] = 2
    raw[:, 4:6] = [ord("a"), ord("b")]
    raw[1, 10], raw[3, 15] = 7, 9
    array = pa.Array.from_buffers(pa.string_view(), 6, [None, pa.py_buffer(raw.tobytes())])
    series = pl.from_arrow(array)
    assert _as_dict(*string_value_counts(series)) == {"ab": 6}


def test_view_pass_counts_every_sampled_value_with_nulls() -> None:
    # Few values, all in the sample: the view pass counts every present row itself (a broken
    # sample or validity read would push rows to the group-by and still look exact).
    values = [None if i % 3 == 0 else f"v{i % 50}" for i in range(100_000)]
    series = pl.Series(values)
    views, bits = string_counts._views(series)
    hashes = series.hash(seed=0).to_numpy()
    table = string_counts._sample_table(views, hashes, bits)
    counts, misses = string_counts._count_chunks(views, hashes, bits, table)
    assert misses.size == 0
    assert counts.sum() == series.len() - series.null_count()
