"""Distinct counts against numpy's exact counts: the exact small sets (sorted, bucket and
hash-round paths), their merges and overflow, and the HLL estimate within 2%; the version-2
registers (the numba loop with its candidate filter, JAX, Arrow pieces) against their definition."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels.distinct import (
    REGISTERS,
    SMALL_SET,
    DistinctState,
    column_registers,
    distinct_count,
    distinct_registers,
    hll_estimate,
    merge_distinct,
    registers,
    registers_of_block,
    small_set_rounds,
)
from synthcap_assets.kernels.profile import merge_many, profile_block
from synthcap_resources.compute import FloatColumn, column_block, float_columns, runtime

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


# ---------------------------------------------------------------- hash version 2, CPU path


def _brute_registers(values: np.ndarray) -> np.ndarray:
    """Registers by the written definition, every valid value hashed (no candidate filter):
    rank = leading ones of u * C1 plus one (counted bit by bit), index = the top 14 bits of
    two xorshift-multiply rounds; both zeros as +0.0."""
    x = values[np.isfinite(values)]
    u = np.where(x == 0, 0.0, x).view(np.uint64)
    g = u * np.uint64(0x9E3779B97F4A7C15)
    ones = np.zeros(u.size, np.int64)
    alive = np.ones(u.size, bool)
    for bit in range(63, 13, -1):
        alive &= ((g >> np.uint64(bit)) & np.uint64(1)).astype(bool)
        ones += alive
    p = (u ^ (u >> np.uint64(32))) * np.uint64(0xD6E8FEB86659FD93)
    p = (p ^ (p >> np.uint64(32))) * np.uint64(0xBF58476D1CE4E5B9)
    regs = np.zeros(REGISTERS, np.uint8)
    np.maximum.at(regs, (p >> np.uint64(50)).astype(np.intp), (ones + 1).astype(np.uint8))
    return regs


def _columns(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """High and low cardinality, integers, zeros of both signs, a 1e12 offset, NaN/inf."""
    cols = [
        rng.standard_normal(n),
        rng.integers(-5, 6, n).astype(float),
        np.round(rng.gamma(2, 2, n), 2),
        1e12 + rng.standard_normal(n),
        np.arange(n, dtype=float) * 0.5,
    ]
    cols[1][::17] = -0.0
    cols[0][::29] = np.inf
    for c in cols:
        c[rng.random(n) < 0.05] = np.nan
    return cols


def test_cpu_registers_equal_the_definition_and_jax() -> None:
    rng = np.random.default_rng(6)
    cols = _columns(rng, 150_000)
    block = np.ascontiguousarray(np.stack(cols))
    ours = distinct_registers([[FloatColumn(c)] for c in cols])
    for j, c in enumerate(cols):
        np.testing.assert_array_equal(ours[j], _brute_registers(c))
    np.testing.assert_array_equal(np.asarray(registers(jax.device_put(block))), ours)
    # float32 on accelerators: the float64 pattern built by hand from the float32 bits.
    small = np.stack([c[:20_000] for c in cols]).astype(np.float32)
    small[3] = rng.standard_normal(20_000).astype(np.float32) * 1e-20
    want = registers_of_block(small.astype(np.float64))
    np.testing.assert_array_equal(np.asarray(registers(jax.device_put(small))), want)


def test_arrow_pieces_give_the_block_registers() -> None:
    """A polars column with nulls, several chunks and a sliced offset: the Arrow buffers are
    read as they are (null slots hold whatever values) and give the block's registers."""
    rng = np.random.default_rng(8)
    values = rng.integers(0, 30_000, 90_000).astype(float)
    nulls = rng.random(values.size) < 0.1
    series = pl.concat([pl.Series(values[:40_000]), pl.Series(values[40_000:])], rechunk=False).set(
        pl.Series(nulls), None
    )
    sliced = series.slice(3, 80_000)
    pieces = float_columns(sliced)
    assert len(pieces) == 2 and pieces[0].validity is not None
    want = values[3:80_003].copy()
    want[nulls[3:80_003]] = np.nan
    np.testing.assert_array_equal(column_registers(pieces), _brute_registers(want))


@pytest.mark.parametrize("make", ["ints", "halves", "offset", "cents"])
def test_hll_version_2_within_three_percent_on_structured_values(make: str) -> None:
    """Values whose low mantissa bits are all zero are where a cheap hash fails (one
    multiplicative hash alone was 17% off on consecutive integers)."""
    n = 1_000_000
    values = {
        "ints": np.arange(n, dtype=float),
        "halves": np.arange(n) * 0.5 - 1e5,
        "offset": 1e12 + np.arange(n) * 2.0**-8,
        "cents": np.arange(n) / 100,
    }[make]
    estimate = hll_estimate(column_registers([FloatColumn(values)])[None])[0]
    assert abs(estimate - n) <= 0.03 * n
