"""Moment kernels against numpy/scipy in float64: nulls, constant columns, single rows, heavy
tails, a 1e12 offset, Chan merges, the float32 path and shape buckets (no recompiles); the
CPU path (numba) on column blocks and on Arrow buffers with nulls over garbage bytes."""

from __future__ import annotations

import math
import warnings

import jax
import numpy as np
import polars as pl
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels.moments import (
    merge_moments,
    moment_stats,
    moments,
    moments_of_block,
    moments_of_columns,
)
from synthcap_resources.compute import column_block, float_columns, runtime

runtime()
_merge = jax.jit(merge_moments)


def _table(seed: int, n: int, null_fraction: float, offset: float) -> np.ndarray:
    """Four columns: normal + offset, Student t (df=2), a constant, small integers."""
    rng = np.random.default_rng(seed)
    x = np.stack(
        [
            rng.standard_normal(n) * 3.0 + offset,
            rng.standard_t(2, n),
            np.full(n, 7.25 + offset),
            rng.integers(-3, 4, n).astype(float),
        ],
        axis=1,
    )
    x[rng.random(x.shape) < null_fraction] = np.nan
    return x


def _reference(column: np.ndarray) -> dict[str, float]:
    """Float64 reference on the exactly shifted values (x - x0 is exact near a 1e12 offset,
    where numpy's own mean of the raw values would already be off by ~1e-4)."""
    v = column[np.isfinite(column)]
    if v.size == 0:
        return {"count": 0}
    s = v - v[0]
    with np.errstate(all="ignore"):
        return {
            "count": v.size,
            "mean": v[0] + math.fsum(s) / v.size,
            "var": float(np.var(s, ddof=1)) if v.size > 1 else math.nan,
            "skewness": float(ss.skew(s)) if np.ptp(s) > 0 else math.nan,
            "kurtosis": float(ss.kurtosis(s)) if np.ptp(s) > 0 else math.nan,
            "min": float(v.min()),
            "max": float(v.max()),
            "zeros": int((v == 0).sum()),
            "negatives": int((v < 0).sum()),
            "sum": math.fsum(v),
        }


def _check(stats: dict[str, np.ndarray], x: np.ndarray, rtol: float = 1e-9) -> None:
    for j in range(x.shape[1]):
        ref = _reference(x[:, j])
        assert stats["count"][j] == ref["count"]
        assert stats["nulls"][j] == x.shape[0] - ref["count"]
        if ref["count"] == 0:
            assert np.isnan(stats["mean"][j]) and np.isnan(stats["min"][j])
            continue
        scale = math.sqrt(ref["var"]) if ref["count"] > 1 else 0.0
        # The mean itself is only representable to a few ulps of its magnitude.
        ulps = 4 * np.spacing(abs(ref["mean"]))
        assert abs(stats["mean"][j] - ref["mean"]) <= ulps + rtol * scale
        for key in ("min", "max", "zeros", "negatives"):
            assert stats[key][j] == ref[key], key
        assert stats["sum"][j] == pytest.approx(ref["sum"], rel=rtol, abs=rtol * scale * x.shape[0])
        for key in ("var", "skewness", "kurtosis"):
            if math.isnan(ref[key]):
                assert np.isnan(stats[key][j]), key
            else:
                assert stats[key][j] == pytest.approx(ref[key], rel=rtol, abs=rtol), key


def _stats(x: np.ndarray, dtype: type = np.float64) -> dict[str, np.ndarray]:
    block, rows = column_block(x, dtype=dtype)
    return moment_stats(moments(jax.device_put(block), rows))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 1000),
    null_fraction=st.sampled_from([0.0, 0.05, 0.5, 0.97]),
    offset=st.sampled_from([0.0, -250.0, 1e12]),
)
def test_moments_match_numpy_and_scipy(
    seed: int, n: int, null_fraction: float, offset: float
) -> None:
    x = _table(seed, n, null_fraction, offset)
    _check(_stats(x), x)


def test_large_block_with_offset_and_heavy_tails() -> None:
    x = _table(7, 300_000, 0.05, 1e12)
    _check(_stats(x), x)


def test_single_row_and_empty_column() -> None:
    stats = _stats(np.array([[4.5, np.nan, -0.0]]))
    assert stats["count"].tolist() == [1, 0, 1]
    assert stats["mean"][0] == 4.5 and np.isnan(stats["var"][0])
    assert np.isnan(stats["skewness"][0]) and np.isnan(stats["kurtosis"][0])
    assert np.isnan(stats["mean"][1]) and stats["nulls"][1] == 1
    assert stats["zeros"][2] == 1 and stats["negatives"][2] == 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(0, 900))
def test_merge_equals_whole(seed: int, cut: int) -> None:
    x = _table(seed, 900, 0.1, 1e12)
    parts = []
    for piece in (x[:cut], x[cut:]):
        block, rows = column_block(piece if len(piece) else x[:0])
        parts.append(moments(jax.device_put(block), rows))
    _check(moment_stats(_merge(*parts)), x)


def test_merge_of_many_chunks_is_exact() -> None:
    x = _table(11, 40_000, 0.05, 1e12)
    state = None
    for chunk in np.array_split(x, 9):
        block, rows = column_block(chunk)
        part = moments(jax.device_put(block), rows)
        state = part if state is None else _merge(state, part)
    _check(moment_stats(state), x)


def test_float32_path() -> None:
    rng = np.random.default_rng(5)
    x = np.stack([rng.standard_normal(50_000) * 2 + 10, rng.standard_t(5, 50_000)], 1)
    x = x.astype(np.float32)
    stats = _stats(x, np.float32)
    ref = x.astype(np.float64)
    np.testing.assert_allclose(stats["mean"], ref.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats["var"], ref.var(0, ddof=1), rtol=1e-4)
    np.testing.assert_allclose(stats["skewness"], ss.skew(ref), atol=1e-3)
    np.testing.assert_allclose(stats["kurtosis"], ss.kurtosis(ref), atol=1e-2)
    assert stats["min"].tolist() == ref.min(0).tolist()


def test_new_row_count_in_the_same_bucket_does_not_recompile() -> None:
    x = _table(3, 1500, 0.1, 0.0)
    _stats(x[:1300])
    before = moments._cache_size()
    _check(_stats(x), x)
    assert moments._cache_size() == before


def test_huge_values_give_skewness_and_kurtosis_without_overflow() -> None:
    """Deviations of ~1e76: m4 still fits a float64, m2**2 does not. The statistics come out
    as scipy's (they do not depend on the scale) and no RuntimeWarning is raised."""
    rng = np.random.default_rng(17)
    z = np.stack([rng.standard_normal(1000), rng.standard_t(5, 1000)], axis=1)
    x = z * 5e75
    block, rows = column_block(x)
    state = moments(jax.device_put(block), rows)
    # The old form, m2 * m2, would overflow.
    assert float(np.max(np.asarray(state.m2))) > math.sqrt(np.finfo(np.float64).max)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = moment_stats(state)
    np.testing.assert_allclose(stats["skewness"], ss.skew(z), rtol=1e-9)
    np.testing.assert_allclose(stats["kurtosis"], ss.kurtosis(z), rtol=1e-9)
    np.testing.assert_allclose(stats["std"], z.std(0, ddof=1) * 5e75, rtol=1e-9)


# ---------------------------------------------------------------- the CPU path (numba)


def _cpu_stats(x: np.ndarray, arrow: bool) -> dict[str, np.ndarray]:
    """The CPU path on a NaN-coded block, or on polars columns' Arrow buffers where half of
    the missing values are nulls (garbage bytes under them) and half stay NaN in valid rows."""
    if not arrow:
        block, rows = column_block(x)
        return moment_stats(moments_of_block(block, rows))
    columns = []
    for j in range(x.shape[1]):
        values = np.where(np.isnan(x[:, j]), 1e300, x[:, j])  # what lies under a null
        nulls = np.isnan(x[:, j]) & (np.arange(len(x)) % 2 == 0)
        values[np.isnan(x[:, j]) & ~nulls] = np.nan
        series = pl.Series(values).set(pl.Series(nulls), None)
        columns.append(float_columns(series))
    return moment_stats(moments_of_columns(columns))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 1000),
    null_fraction=st.sampled_from([0.0, 0.05, 0.5, 0.97]),
    offset=st.sampled_from([0.0, -250.0, 1e12]),
    arrow=st.booleans(),
)
def test_cpu_path_matches_numpy_and_scipy(
    seed: int, n: int, null_fraction: float, offset: float, arrow: bool
) -> None:
    x = _table(seed, n, null_fraction, offset)
    _check(_cpu_stats(x, arrow), x)


@pytest.mark.parametrize("arrow", [False, True])
def test_cpu_path_over_many_blocks(arrow: bool) -> None:
    """300k rows: 74 blocks of 4096 rows merged pairwise, 1e12 offset, heavy tails, nulls."""
    x = _table(7, 300_000, 0.05, 1e12)
    _check(_cpu_stats(x, arrow), x)


def test_cpu_path_single_row_empty_column_and_huge_values() -> None:
    stats = _cpu_stats(np.array([[4.5, np.nan, -0.0]]), arrow=False)
    assert stats["count"].tolist() == [1, 0, 1] and stats["nulls"].tolist() == [0, 1, 0]
    assert stats["mean"][0] == 4.5 and np.isnan(stats["var"][0]) and np.isnan(stats["mean"][1])
    assert stats["zeros"][2] == 1 and stats["negatives"][2] == 0
    z = np.random.default_rng(17).standard_normal((1000, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = _cpu_stats(z * 5e75, arrow=False)
    np.testing.assert_allclose(stats["skewness"], ss.skew(z), rtol=1e-9)
    np.testing.assert_allclose(stats["kurtosis"], ss.kurtosis(z), rtol=1e-9)
