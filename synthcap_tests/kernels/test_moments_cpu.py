"""The numba moments loop (``kernels.moments_cpu`` through ``moments.moments_of_columns``)
against scipy/numpy in float64 and against the JAX path: Arrow pieces with nulls over garbage
bytes at bit offsets that are not multiples of 8, several chunks, NaN/inf in valid rows, block
boundaries, a 1e12 offset, constant, all-null, empty and single-value columns, and the block
merge against ``merge_moments`` itself."""

from __future__ import annotations

import math

import jax
import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

from synthcap_assets.kernels import moments_cpu
from synthcap_assets.kernels.moments import (
    MomentState,
    column_moments,
    merge_moments,
    moment_stats,
    moments,
    moments_of_columns,
)
from synthcap_resources.compute import FloatColumn, column_block, float_columns, runtime

runtime()
BLOCK = moments_cpu.BLOCK


def _arrow_column(x: np.ndarray, nulls: np.ndarray, chunks: int = 1, cut: int = 0) -> list:
    """``x`` as polars Arrow pieces, rows in ``nulls`` null with garbage bytes under them
    (1e300, NaN, -inf, 0: whatever the buffer holds), in ``chunks`` chunks, the first ``cut``
    rows sliced off (a bit offset into the first chunk's bitmap)."""
    garbage = np.array([1e300, np.nan, -np.inf, 0.0, -5.0])
    values = x.copy()
    values[nulls] = garbage[np.arange(nulls.sum()) % garbage.size]
    bounds = np.linspace(0, values.size, chunks + 1).astype(int)
    series = pl.concat(
        [pl.Series(values[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)],
        rechunk=False,
    ).set(pl.Series(nulls), None)
    return float_columns(series.slice(cut, values.size - cut))


def _reference(v: np.ndarray, rows: int) -> dict[str, float]:
    """float64/scipy on the exactly shifted valid values."""
    s = v - v[0]
    return {
        "count": v.size,
        "nulls": rows - v.size,
        "mean": v[0] + math.fsum(s) / v.size,
        "var": float(np.var(s, ddof=1)) if v.size > 1 else math.nan,
        "skewness": float(ss.skew(s)) if np.ptp(s) > 0 else math.nan,
        "kurtosis": float(ss.kurtosis(s)) if np.ptp(s) > 0 else math.nan,
        "min": float(v.min()),
        "max": float(v.max()),
        "zeros": int((v == 0).sum()),
        "negatives": int((v < 0).sum()),
    }


def _assert_matches(stats: dict, j: int, ref: dict, rtol: float = 1e-11) -> None:
    for key in ("count", "nulls", "min", "max", "zeros", "negatives"):
        assert stats[key][j] == ref[key], key
    spread = math.sqrt(ref["var"]) if ref["count"] > 1 else 0.0
    assert abs(stats["mean"][j] - ref["mean"]) <= 4 * np.spacing(abs(ref["mean"])) + rtol * spread
    for key in ("var", "skewness", "kurtosis"):
        if math.isnan(ref[key]):
            assert np.isnan(stats[key][j]), key
        else:
            assert stats[key][j] == pytest.approx(ref[key], rel=rtol, abs=rtol), key


@pytest.mark.parametrize("cut", [0, 1, 3, 7, 8, 13])
@pytest.mark.parametrize("n", [1, 63, 65, BLOCK - 1, BLOCK + 1, 3 * BLOCK + 517])
def test_arrow_pieces_at_bit_offsets(n: int, cut: int) -> None:
    rng = np.random.default_rng(n * 31 + cut)
    rows = n + cut
    x = rng.standard_t(3, rows) * 4.0 - 1.0
    x[rng.random(rows) < 0.1] = 0.0
    x[rng.random(rows) < 0.02] = -0.0
    nulls = rng.random(rows) < 0.07
    nulls[cut] = n > 2  # a bitmap in the first chunk
    bad = ~nulls & (rng.random(rows) < 0.02)  # NaN/inf in valid rows count as missing too
    x[bad] = rng.choice([np.nan, np.inf, -np.inf], bad.sum())
    pieces = _arrow_column(x, nulls, chunks=1 + n % 3, cut=cut)
    assert (n <= 2) or pieces[0].validity is not None and pieces[0].offset == cut
    stats = moment_stats(moments_of_columns([pieces]))
    keep = ~nulls[cut:] & np.isfinite(x[cut:])
    if not keep.any():
        assert stats["count"][0] == 0 and stats["nulls"][0] == n
        return
    _assert_matches(stats, 0, _reference(x[cut:][keep], n))


def test_matches_the_jax_path_with_offset_heavy_tails_and_constants() -> None:
    rng = np.random.default_rng(1)
    n = 70_000
    x = np.stack(
        [
            1e12 + rng.standard_normal(n),
            rng.standard_t(2, n),
            np.full(n, 7.25),
            rng.integers(-3, 4, n).astype(float),
            rng.lognormal(0, 2, n),
        ],
        axis=1,
    )
    x[rng.random(x.shape) < 0.05] = np.nan
    block, rows = column_block(x)
    want = moment_stats(moments(jax.device_put(block), rows))
    got = moment_stats(moments_of_columns([[FloatColumn(c.copy())] for c in x.T]))
    for key in want:
        if key in ("count", "nulls", "min", "max", "zeros", "negatives"):
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        else:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12, err_msg=key)
    for j in range(x.shape[1]):
        c = x[:, j]
        _assert_matches(got, j, _reference(c[np.isfinite(c)], n))


def test_a_1e12_offset_keeps_twelve_digits() -> None:
    """Raw power sums would lose every digit here; long-double reference on the shift."""
    rng = np.random.default_rng(2)
    x = 1e12 + rng.standard_normal(300_000)
    stats = moment_stats(column_moments([FloatColumn(x)]))
    e = (x - x[0]).astype(np.longdouble)
    e -= e.mean()
    m2, m3, m4 = (e**2).sum(), (e**3).sum(), (e**4).sum()
    assert stats["var"][0] == pytest.approx(float(m2 / (x.size - 1)), rel=1e-12)
    assert stats["skewness"][0] == pytest.approx(float(np.sqrt(x.size) * m3 / m2**1.5), abs=1e-12)
    assert stats["kurtosis"][0] == pytest.approx(float(x.size * m4 / m2**2 - 3), abs=1e-11)


def test_constant_all_null_empty_single_and_negative_zero() -> None:
    n = 2 * BLOCK + 5
    all_null = _arrow_column(np.ones(n), np.ones(n, bool), cut=3)
    columns = [
        [FloatColumn(np.full(n, 1e12 + 0.5))],  # constant
        all_null,
        [],  # no pieces
        [FloatColumn(np.zeros(0))],  # an empty piece
        [FloatColumn(np.array([np.nan, 4.5, np.inf]))],  # one valid value
        [FloatColumn(np.array([-0.0, -0.0]))],
    ]
    stats = moment_stats(moments_of_columns(columns))
    assert stats["count"].tolist() == [n, 0, 0, 0, 1, 2]
    assert stats["nulls"].tolist() == [0, n - 3, 0, 0, 2, 0]
    assert stats["mean"][0] == 1e12 + 0.5 and stats["var"][0] == 0.0
    assert np.isnan(stats["skewness"][0]) and np.isnan(stats["kurtosis"][0])
    for j in (1, 2, 3):
        assert np.isnan(stats["mean"][j]) and np.isnan(stats["min"][j])
    assert stats["mean"][4] == 4.5 and np.isnan(stats["var"][4])
    assert stats["min"][4] == stats["max"][4] == 4.5
    assert stats["zeros"][5] == 2 and stats["negatives"][5] == 0
    assert math.copysign(1.0, stats["min"][5]) == 1.0 and stats["max"][5] == 0.0


def test_an_all_ones_bitmap_gives_the_same_state_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(3 * BLOCK + 77) * 1e3
    x[::11] = np.nan
    bitmap = np.packbits(np.ones(x.size + 5, bool), bitorder="little")
    plain = column_moments([FloatColumn(x)])
    masked = column_moments([FloatColumn(x, bitmap, 5)])
    for a, b in zip(plain, masked, strict=True):
        np.testing.assert_array_equal(a, b)


def test_blocks_merge_like_merge_moments_bit_for_bit() -> None:
    """``merge_parts``'s tree equals ``merge_moments`` (numpy) applied pairwise the same way."""
    rng = np.random.default_rng(4)
    x = rng.standard_t(4, 11 * BLOCK + 100) + 50.0
    x[rng.random(x.size) < 0.3] = np.nan
    parts = np.empty((12, moments_cpu.FIELDS))
    k = moments_cpu.piece_parts(x, np.zeros(1, np.uint8), 0, False, 50.0, parts, 0)
    assert k == 12
    state = MomentState(np.zeros(k), parts[:, 0], np.full(k, 50.0), *parts[:, 1:].T)
    while state.count.size > 1:  # the tree of moments_cpu.merge_parts, with merge_moments
        m = state.count.size // 2 * 2
        merged = merge_moments(
            MomentState(*(f[0:m:2] for f in state)), MomentState(*(f[1:m:2] for f in state)), np
        )
        state = MomentState(
            *(np.concatenate([f, g[m:]]) for f, g in zip(merged, state, strict=True))
        )
    got = moments_cpu.merge_parts(parts.copy(), k)
    want = [state.count, state.mean, state.m2, state.m3, state.m4, state.minimum]
    want += [state.maximum, state.zeros, state.negatives]
    np.testing.assert_array_equal(got, np.concatenate(want))
