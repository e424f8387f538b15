"""Distinct counts against numpy's exact counts: the exact small sets (sorted, bucket and
hash-round paths), their merges and overflow, and the HLL estimate within 2%."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels.distinct import (
    REGISTERS,
    SMALL_SET,
    DistinctState,
    distinct_count,
    hll_estimate,
    merge_distinct,
    registers,
    small_set_rounds,
)
from synthcap_assets.kernels.profile import merge_many, profile_block
from synthcap_resources.compute import column_block, runtime

runtime()


def _distinct(x: np.ndarray) -> DistinctState:
    return profile_block(*column_block(x)).distinct


def _truth(x: np.ndarray) -> list[int]:
    return [np.unique(c[np.isfinite(c)] + 0.0).size for c in x.T]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 1000), levels=st.integers(1, 400))
def test_small_tables_are_exact(seed: int, n: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.stack([rng.integers(0, levels, n) * 0.1, rng.standard_normal(n)], 1)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[0, 0] = -0.0  # equal to 0.0
    count, exact = distinct_count(_distinct(x))
    assert exact.all()
    assert count.tolist() == _truth(x)


def test_large_low_cardinality_columns_are_exact() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    pool = rng.standard_normal(SMALL_SET - 100)
    x = np.stack(
        [
            rng.integers(0, 5000, n).astype(float),  # one value per histogram bucket
            rng.choice(pool, n),  # buckets hold several values: hash-table rounds
            rng.choice(pool[:50], n) + 1e12,
            rng.standard_normal(n),  # too many: HLL
        ],
        axis=1,
    )
    count, exact = distinct_count(_distinct(x))
    truth = _truth(x)
    assert exact.tolist() == [True, True, True, False]
    assert count[:3].tolist() == truth[:3]
    assert abs(count[3] - truth[3]) <= 0.02 * truth[3]


def test_hash_rounds_find_every_value() -> None:
    rng = np.random.default_rng(2)
    x = rng.choice(rng.standard_normal(SMALL_SET), (2, 100_000))
    x[1, ::3] = np.nan
    block = np.ascontiguousarray(x)
    values, size = small_set_rounds(jax.device_put(block), np.array([True, False]))
    want = np.unique(x[0])
    assert int(size[0]) == want.size and int(size[1]) == -1
    np.testing.assert_array_equal(np.asarray(values[0, : want.size]), want)


def test_merge_unions_small_sets_and_overflows() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 9000, (3000, 1)).astype(float)
    b = rng.integers(6000, 15000, (3000, 1)).astype(float)
    merged = merge_distinct(_distinct(a), _distinct(b))
    count, exact = distinct_count(merged)
    assert exact[0] and count[0] == np.unique(np.concatenate([a, b])).size
    # Beyond SMALL_SET distinct the exact set is dropped and HLL takes over.
    c = np.arange(SMALL_SET, dtype=float)[:, None] + 0.5
    over = merge_distinct(merged, _distinct(c))
    count, exact = distinct_count(over)
    truth = np.unique(np.concatenate([a, b, c])).size
    assert not exact[0] and abs(count[0] - truth) <= 0.02 * truth


@pytest.mark.parametrize("n", [100, 5_000, 60_000, 2_000_000])
def test_hll_estimate_within_two_percent(n: int) -> None:
    rng = np.random.default_rng(n)
    values = rng.permutation(n).astype(float) * 1.5 - 7.0
    regs = registers(jax.device_put(column_block(values[:, None])[0]))
    estimate = hll_estimate(np.asarray(regs))[0]
    assert abs(estimate - n) <= 0.02 * n


def test_registers_merge_like_the_union() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 70_000, 2))
    reg = lambda x: registers(jax.device_put(column_block(x)[0]))  # noqa: E731
    union = reg(np.concatenate([a, b]))
    np.testing.assert_array_equal(np.maximum(reg(a), reg(b)), union)
    assert union.shape == (2, REGISTERS) and union.dtype == jnp.uint8


def test_day_profiles_merge_to_the_range_count() -> None:
    rng = np.random.default_rng(5)
    days = [rng.integers(0, 2000 * (i + 1), (20_000, 1)).astype(float) for i in range(4)]
    merged = merge_many([profile_block(*column_block(d)) for d in days])
    count, exact = distinct_count(merged.distinct)
    assert exact[0] and count[0] == np.unique(np.concatenate(days)).size


def test_empty_column_counts_zero() -> None:
    count, exact = distinct_count(_distinct(np.full((10, 1), np.nan)))
    assert count.tolist() == [0] and exact.tolist() == [True]
