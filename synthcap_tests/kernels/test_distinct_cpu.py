"""The numba HLL loop (``kernels.distinct_cpu`` through ``distinct.column_registers``) gives
registers identical to the version-2 definition (every valid value hashed, no filter) and to
the JAX path: integers, ties, both zeros, NaN/inf, nulls over garbage bytes (also bytes that
come again as valid values later) at bitmap offsets that are not multiples of 8, several
chunks, registers raised in place, row ranges on threads and more than 2M values."""

from __future__ import annotations

import jax
import numpy as np
import polars as pl
import pytest

from synthcap_assets.kernels import distinct_cpu
from synthcap_assets.kernels.distinct import (
    RANK_BITS,
    REGISTERS,
    column_registers,
    distinct_registers,
    hll_estimate,
    registers,
)
from synthcap_resources.compute import FloatColumn, column_block, float_columns, runtime
from synthcap_tests.kernels.test_distinct import _brute_registers

runtime()


def _arrow(values: np.ndarray, nulls: np.ndarray, chunks: int, cut: int) -> list[FloatColumn]:
    """Polars Arrow pieces: ``values`` as they are under the null rows (garbage), ``chunks``
    chunks, the first ``cut`` rows sliced off."""
    bounds = np.linspace(0, values.size, chunks + 1).astype(int)
    series = pl.concat(
        [pl.Series(values[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
        rechunk=False,
    ).set(pl.Series(nulls), None)
    return float_columns(series.slice(cut, values.size - cut))


def _masked(values: np.ndarray, nulls: np.ndarray, cut: int) -> np.ndarray:
    want = values[cut:].copy()
    want[nulls[cut:]] = np.nan
    return want


def _columns(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    cols = [
        rng.standard_normal(n),  # many values: the filtered phases
        rng.integers(-5, 6, n).astype(float),  # few values: the seen table
        np.round(rng.gamma(2, 2, n), 2),  # a few thousand values
        1e12 + rng.standard_normal(n),  # ~60k values: seen-table collisions
        np.arange(n, dtype=float) * 0.5,
    ]
    cols[1][::17] = -0.0
    cols[1][5::23] = 0.0
    cols[0][::29] = np.inf
    cols[2][::31] = -np.inf
    cols[3][::37] = np.nan
    return cols


@pytest.mark.parametrize("cut", [0, 3, 8, 13])
def test_arrow_pieces_at_bit_offsets_equal_the_definition(cut: int) -> None:
    rng = np.random.default_rng(10 + cut)
    n = 120_000
    for j, values in enumerate(_columns(rng, n)):
        nulls = rng.random(n) < 0.05
        pieces = _arrow(values, nulls, chunks=1 + j % 3, cut=cut)
        assert pieces[0].validity is not None and pieces[0].offset == cut
        want = _brute_registers(_masked(values, nulls, cut))
        np.testing.assert_array_equal(column_registers(pieces), want, err_msg=str(j))


def test_null_bytes_that_come_again_valid_still_count() -> None:
    """A value seen first under a null row (its bytes are there) and valid later: the seen
    table holds valid values only, so the later row is hashed."""
    rng = np.random.default_rng(20)
    levels = rng.standard_normal(300)
    values = np.concatenate([levels, rng.choice(levels, 50_000), levels * 3.0])
    nulls = np.zeros(values.size, bool)
    nulls[:300] = True  # every level's first occurrence is null
    nulls[-300:] = True  # and these never come valid
    values[-300:] = levels * 3.0
    pieces = _arrow(values, nulls, chunks=2, cut=5)
    got = column_registers(pieces)
    np.testing.assert_array_equal(got, _brute_registers(_masked(values, nulls, 5)))
    assert hll_estimate(got[None])[0] == pytest.approx(np.unique(values[300:-300]).size, rel=0.02)


def test_registers_are_raised_in_place() -> None:
    rng = np.random.default_rng(21)
    values = rng.standard_normal(200_000)
    start = rng.integers(0, 9, REGISTERS).astype(np.uint8)
    regs = start.copy()
    assert column_registers([FloatColumn(values)], regs) is regs
    np.testing.assert_array_equal(regs, np.maximum(start, _brute_registers(values)))
    full = np.full(REGISTERS, RANK_BITS + 1, np.uint8)  # saturated: nothing to raise
    np.testing.assert_array_equal(column_registers([FloatColumn(values)], full.copy()), full)


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_row_ranges_on_threads_give_the_same_registers(workers: int) -> None:
    rng = np.random.default_rng(22)
    cols = _columns(rng, 90_001)[:2]
    nulls = rng.random(90_001) < 0.1
    columns = [_arrow(c, nulls, chunks=3, cut=7) for c in cols]
    got = distinct_registers(columns, workers=workers)
    for j, c in enumerate(cols):
        np.testing.assert_array_equal(got[j], _brute_registers(_masked(c, nulls, 7)))
    assert distinct_registers([], workers=workers).shape == (0, REGISTERS)


def test_more_than_two_million_values_equal_the_definition_and_jax() -> None:
    """Long enough for the filter to climb several levels (lowest register 0 -> 5)."""
    rng = np.random.default_rng(23)
    n = 2_300_000
    values = np.where(rng.random(n) < 0.5, rng.standard_normal(n), rng.integers(0, 10**6, n))
    values[rng.random(n) < 0.03] = np.nan
    values[::1001] = -0.0
    got = column_registers([FloatColumn(values)])
    assert got.min() >= 3
    np.testing.assert_array_equal(got, _brute_registers(values))
    jax_regs = registers(jax.device_put(column_block(values[:, None])[0]))
    np.testing.assert_array_equal(np.asarray(jax_regs)[0], got)


def test_the_constants_agree_with_the_distinct_module() -> None:
    assert distinct_cpu.REGISTERS == REGISTERS and distinct_cpu.RANK_BITS == RANK_BITS
