"""The numba bucket pass (``kernels.histogram_cpu``) against the JAX pass it replaces on the CPU:
identical counts, minima and maxima at every refinement depth, and identical summaries."""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import polars as pl
import pytest

from synthcap_assets.kernels import histogram, histogram_cpu, refine
from synthcap_assets.kernels.moments import moments
from synthcap_assets.kernels.quantiles import merge_many
from synthcap_resources.compute import column_block, float_columns, runtime

runtime()


def _table(seed: int, n: int) -> np.ndarray:
    """Heavy tails, a far outlier, ties, integers, -0.0, NaN/inf, an all-null column."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    x = np.stack(
        [
            z,
            rng.standard_t(2, n),
            np.where(np.arange(n) == n // 3, 1e15, rng.standard_t(2, n)),
            rng.integers(-5, 6, n).astype(float),
            np.round(rng.lognormal(3, 1, n), 2),
            z * 1e-300,  # subnormal spans: the bin scale overflows to inf
            np.where(rng.random(n) < 0.5, -0.0, 0.0),
            z * 1e307,  # halving keeps [-1e308, 1e308] finite
            np.full(n, np.nan),
            np.where(rng.random(n) < 0.3, 2.5, z * 1e-3 + 1e12),
        ],
        axis=1,
    )
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.001] = np.inf
    x[rng.random(x.shape) < 0.001] = -np.inf
    return x


def _stats(block: np.ndarray) -> tuple[jax.Array, jax.Array, jax.Array]:
    fin = np.isfinite(block)
    count = jnp.asarray(fin.sum(1), jnp.float64)
    low = jnp.asarray(np.where(fin, block, np.inf).min(1))
    high = jnp.asarray(np.where(fin, block, -np.inf).max(1))
    return count, low, high


def _assert_same(want: histogram.Buckets, got: histogram.Buckets) -> None:
    for name, a, b in zip(want._fields, want, got, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        # Bit for bit: signed zeros and infinities included.
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), name


@pytest.mark.parametrize("tau", [0.0, refine.TAU])
def test_every_level_equals_the_jax_pass(tau: float) -> None:
    x = _table(1, 70_000)
    block, rows = column_block(x)
    count, low, high = _stats(block)
    device = jax.device_put(block)
    levels = (histogram.level_one(low, high),)
    buckets = histogram.bucket_pass(device, levels)
    _assert_same(buckets, histogram_cpu.bucket_pass(block, levels))
    queries = refine.first_queries(buckets, count)
    limit = jnp.floor(tau * count)
    depth = 1
    while depth < refine.MAX_DEPTH and bool(refine._needs_refinement(queries, limit)):
        level = refine.choose_slots(queries, buckets, limit)
        levels = (*levels, level)
        buckets = histogram.bucket_pass(device, levels)
        _assert_same(buckets, histogram_cpu.bucket_pass(block, levels))
        _assert_same(buckets, histogram_cpu.bucket_pass(block, levels, rows))
        queries = refine.refine_queries(queries, level, buckets)
        depth += 1
    # tau = 0 refines as deep as allowed; the stated bound refines some columns (t, outlier).
    assert depth == refine.MAX_DEPTH if tau == 0 else depth >= 2


def test_padding_beyond_rows_is_not_read() -> None:
    x = _table(2, 20_000)
    block, rows = column_block(x)
    count, low, high = _stats(block)
    levels = (histogram.level_one(low, high),)
    want = histogram.bucket_pass(jax.device_put(block), levels)
    dirty = block.copy()
    dirty[:, rows:] = 1.0  # finite junk where the padding is
    _assert_same(want, histogram_cpu.bucket_pass(dirty, levels, rows))
    assert not np.array_equal(
        np.asarray(want.count), histogram_cpu.bucket_pass(dirty, levels).count
    )


def test_empty_and_all_missing_blocks() -> None:
    block = np.full((3, 1024), np.nan)
    count, low, high = _stats(block)
    levels = (histogram.level_one(low, high),)
    _assert_same(
        histogram.bucket_pass(jax.device_put(block), levels),
        histogram_cpu.bucket_pass(block, levels, 0),
    )
    got = histogram_cpu.count_min_max(block, 0)
    assert (
        np.array_equal(got[0], [0, 0, 0]) and np.all(got[1] == np.inf) and np.all(got[2] == -np.inf)
    )


def test_count_min_max_equals_the_jax_moments() -> None:
    x = _table(3, 5_000)
    block, rows = column_block(x)
    m = moments(jax.device_put(block), rows)
    got = histogram_cpu.count_min_max(block, rows)
    for a, b in zip((m.count, m.minimum, m.maximum), got, strict=True):
        assert np.array_equal(np.asarray(a).view(np.uint8), b.view(np.uint8))
    assert np.signbit(got[1][6]) and not np.signbit(got[2][6])  # -0.0 < +0.0, as XLA


def test_summaries_equal_the_jax_path_and_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _table(4, 60_000)
    parts = [column_block(p) for p in np.array_split(x, [25_000])]
    assert all(block.shape[1] > refine.SORT_ROWS for block, _ in parts)
    cpu = [refine.summarize(block, *_stats(block), rows) for block, rows in parts]
    monkeypatch.setattr(refine, "runtime", lambda: SimpleNamespace(platform="gpu"))
    jx = [refine.summarize(jax.device_put(block), *_stats(block)) for block, _ in parts]
    for (s_cpu, _, b_cpu), (s_jax, _, b_jax) in zip(cpu, jx, strict=True):
        _assert_same(b_jax, b_cpu)
        for a, b in zip(s_jax, s_cpu, strict=True):
            assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    mixed = merge_many([cpu[0][0], jx[1][0]])
    same = merge_many([jx[0][0], jx[1][0]])
    for a, b in zip(same, mixed, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _series(x: np.ndarray) -> list[pl.Series]:
    """Each column as a polars Series with nulls (NaN -> null for half of them), in three
    chunks, the middle one a slice (a validity bitmap with a bit offset)."""
    out = []
    for j, col in enumerate(x.T):
        values = [None if np.isnan(v) and i % 2 else float(v) for i, v in enumerate(col)]
        s = pl.Series(f"c{j}", values, pl.Float64)
        cut = [0, len(s) // 3, 2 * len(s) // 3 + 5, len(s)]
        parts = [s.slice(a, b - a) for a, b in zip(cut[:-1], cut[1:], strict=True)]
        padded = pl.concat([pl.Series([1.0, None, 3.0]), parts[1]]).slice(3)
        out.append(pl.concat([parts[0], padded, parts[2]], rechunk=False))
    return out


@pytest.mark.parametrize("task_rows", [histogram_cpu.TASK_ROWS, 4099])
def test_arrow_pieces_equal_the_jax_pass_on_the_block(
    task_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(histogram_cpu, "TASK_ROWS", task_rows)  # row ranges split and folded
    x = _table(5, 40_000)
    cols = _series(x)
    pieces = [float_columns(s) for s in cols]
    assert all(len(p) == 3 for p in pieces) and any(p[1].offset % 8 for p in pieces)
    assert any(p[0].validity is not None for p in pieces)
    block, rows = column_block(cols)
    count, low, high = histogram_cpu.count_min_max_columns(pieces, workers=2)
    m = moments(jax.device_put(block), rows)
    for a, b in zip((m.count, m.minimum, m.maximum), (count, low, high), strict=True):
        assert np.array_equal(np.asarray(a).view(np.uint8), b.view(np.uint8))
    levels = (histogram.level_one(low, high),)
    first = histogram.bucket_pass(jax.device_put(block), levels)
    _assert_same(first, histogram_cpu.bucket_pass_columns(pieces, levels, workers=2))
    # The whole summary, in place and on the block: identical.
    got, _, got_first = refine.summarize_columns(pieces, count, low, high, workers=2)
    want, _, want_first = refine.summarize(block, count, low, high, rows)
    _assert_same(want_first, got_first)
    for a, b in zip(want, got, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    # Small inputs take the exact sort path from the pieces too.
    small = [float_columns(s.slice(0, 900)) for s in cols]
    cmm = histogram_cpu.count_min_max_columns(small)
    got, ordered, _ = refine.summarize_columns(small, *cmm)
    want, _, _ = refine.summarize(*column_block([s.slice(0, 900) for s in cols])[:1], *cmm)
    assert ordered is not None and np.array_equal(np.asarray(got.values), np.asarray(want.values))
