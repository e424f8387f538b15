"""Category counts and top-k against numpy's bincount, merges by addition, dictionary
alignment."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels.topk import (
    CategoryError,
    align_counts,
    category_counts,
    merge_counts,
    top_k,
)
from synthcap_resources.compute import bucket_size, runtime

runtime()


def _codes(rng: np.random.Generator, n: int, categories: int) -> np.ndarray:
    """Two columns of Zipf-like codes, -1 for missing, padded to a shape bucket with -1."""
    codes = np.minimum(rng.zipf(1.6, (2, n)) - 1, categories - 1).astype(np.int32)
    codes[rng.random(codes.shape) < 0.1] = -1
    out = np.full((2, bucket_size(n)), -1, np.int32)
    out[:, :n] = codes
    return out


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 1000))
def test_counts_match_bincount(seed: int, n: int) -> None:
    codes = _codes(np.random.default_rng(seed), n, 37)
    got = np.asarray(category_counts(jax.device_put(codes), 37))
    for j in range(2):
        c = codes[j][codes[j] >= 0]
        np.testing.assert_array_equal(got[j], np.bincount(c, minlength=37))


def test_top_k_order_and_empty_slots() -> None:
    counts = np.array([[5, 9, 0, 9, 1], [0, 0, 3, 0, 0]], np.int32)
    codes, best = (np.asarray(a) for a in top_k(counts, 3))
    assert codes[0].tolist() == [1, 3, 0] and best[0].tolist() == [9, 9, 5]
    assert codes[1].tolist() == [2, -1, -1] and best[1].tolist() == [3, 0, 0]


def test_merge_is_addition_of_chunks() -> None:
    rng = np.random.default_rng(1)
    whole = _codes(rng, 50_000, 200)
    halves = [whole[:, : whole.shape[1] // 2], whole[:, whole.shape[1] // 2 :]]
    parts = [category_counts(jax.device_put(np.ascontiguousarray(h)), 200) for h in halves]
    merged = np.asarray(merge_counts(*parts))
    np.testing.assert_array_equal(merged, np.asarray(category_counts(jax.device_put(whole), 200)))
    codes, best = (np.asarray(a) for a in top_k(merged, 5))
    for j in range(2):
        ref = np.bincount(whole[j][whole[j] >= 0], minlength=200)
        assert best[j].tolist() == sorted(ref, reverse=True)[:5]
        assert ref[codes[j]].tolist() == best[j].tolist()


def test_merge_pads_the_shorter_dictionary() -> None:
    merged = np.asarray(merge_counts(np.array([[1, 2]]), np.array([[3, 4, 5]])))
    assert merged.tolist() == [[4, 6, 5]]


def test_align_counts_of_two_dictionaries() -> None:
    labels, counts = align_counts(["a", "b", "c"], [5, 1, 2], ["c", "d", "a"], [4, 7, 1])
    assert labels == ["a", "b", "c", "d"] and counts.tolist() == [6, 1, 6, 7]
    with pytest.raises(CategoryError):
        align_counts(["a"], [1, 2], [], [])
