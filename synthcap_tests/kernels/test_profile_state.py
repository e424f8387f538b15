"""The combined profile state: chunked evaluation equals the whole table, merged day states
equal a profile of the union (within the stated bounds), finished statistics against numpy,
column blocks, and no recompilation for a new row count in the same shape bucket."""

from __future__ import annotations

import jax
import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

from synthcap_assets.kernels.distinct import HLL_HASH_VERSION, REGISTERS
from synthcap_assets.kernels.profile import (
    ProfileError,
    finalize,
    merge,
    merge_many,
    profile_block,
    profile_chunks,
    profile_columns,
)
from synthcap_assets.kernels.state_io import from_records, to_records
from synthcap_resources.compute import (
    ColumnBlockError,
    bucket_size,
    column_block,
    iter_column_blocks,
    runtime,
)

runtime()
PROBS = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
_COMPILES: list[str] = []


def _on_event(name: str, _seconds: float, **_: object) -> None:
    if name == "/jax/core/compile/jaxpr_to_mlir_module_duration":
        _COMPILES.append(name)


jax.monitoring.register_event_duration_secs_listener(_on_event)


def _table(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.stack(
        [
            rng.standard_normal(n) + 1e12,
            rng.standard_t(2, n),
            rng.integers(0, 30, n).astype(float),
            np.where(rng.random(n) < 0.02, -1e9, rng.lognormal(0, 1, n)),
        ],
        axis=1,
    )
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def _assert_close_to_truth(stats, x: np.ndarray) -> None:
    for j in range(x.shape[1]):
        v = np.sort(x[:, j][np.isfinite(x[:, j])])
        s = v - v[0]
        m = stats.moments
        assert m["count"][j] == v.size and m["nulls"][j] == x.shape[0] - v.size
        assert m["min"][j] == v[0] and m["max"][j] == v[-1]
        assert m["var"][j] == pytest.approx(np.var(s, ddof=1), rel=1e-9)
        assert m["skewness"][j] == pytest.approx(ss.skew(s), rel=1e-9)
        assert m["kurtosis"][j] == pytest.approx(ss.kurtosis(s), rel=1e-9)
        assert stats.distinct[j] == pytest.approx(np.unique(v).size, rel=0.02)
        bound = stats.rank_error[j] * v.size
        assert stats.rank_error[j] <= 1e-3
        pos = np.asarray(stats.probs) * (v.size - 1)
        lo = v[np.clip(np.floor(pos - bound).astype(int), 0, v.size - 1)]
        hi = v[np.clip(np.ceil(pos + bound).astype(int), 0, v.size - 1)]
        slack = 1e-12 * np.abs(v).max()
        assert np.all(stats.quantiles[j] >= lo - slack) and np.all(stats.quantiles[j] <= hi + slack)
        assert stats.hist_counts[j].sum() == pytest.approx(v.size, abs=2 * bound + 2)


def test_chunked_profile_equals_the_whole_table() -> None:
    x = _table(1, 90_000)
    whole = finalize(profile_block(*column_block(x)), PROBS)
    chunked = finalize(profile_columns(x, chunk_rows=25_000), PROBS)
    _assert_close_to_truth(whole, x)
    _assert_close_to_truth(chunked, x)
    for key in ("count", "nulls", "min", "max", "zeros", "negatives"):
        np.testing.assert_array_equal(chunked.moments[key], whole.moments[key])
    scale = 1e-12 * whole.moments["std"] + 4 * np.spacing(np.abs(whole.moments["mean"]))
    assert np.all(np.abs(chunked.moments["mean"] - whole.moments["mean"]) <= scale)
    assert chunked.distinct[2] == whole.distinct[2] == 30 and chunked.distinct_exact[2]


def test_day_states_merge_into_the_range_profile() -> None:
    days = [_table(10 + d, n) for d, n in enumerate([24_000, 22_000, 500, 1])]
    states = [profile_block(*column_block(day)) for day in days]
    union = np.concatenate(days)
    _assert_close_to_truth(finalize(merge_many(states), PROBS), union)
    pairwise = merge(merge(states[0], states[1]), merge(states[2], states[3]))
    _assert_close_to_truth(finalize(pairwise, PROBS), union)


def test_small_table_statistics_are_exact() -> None:
    x = _table(2, 700)
    stats = finalize(profile_block(*column_block(x)), PROBS, bins=7)
    for j in range(x.shape[1]):
        v = x[:, j][np.isfinite(x[:, j])]
        np.testing.assert_allclose(stats.quantiles[j], np.quantile(v, PROBS), rtol=1e-13)
        assert stats.rank_error[j] == 0 and stats.distinct_exact[j]
        assert stats.distinct[j] == np.unique(v).size
        counts, edges = np.histogram(v, 7, range=(v.min(), v.max()))
        np.testing.assert_allclose(stats.hist_edges[j], edges, rtol=1e-12)
        np.testing.assert_array_equal(stats.hist_counts[j], counts)
        assert stats.moments["zeros"][j] == (v == 0).sum()
        assert stats.moments["negatives"][j] == (v < 0).sum()
        assert stats.moments["sum"][j] == pytest.approx(v.sum(), rel=1e-12)


@pytest.mark.parametrize("rows", [(1300, 1500), (23_000, 24_000)])
def test_same_bucket_triggers_no_compilation(rows: tuple[int, int]) -> None:
    first, second = rows
    assert bucket_size(first) == bucket_size(second)
    x = _table(3, second)
    finalize(profile_block(*column_block(x[:first])), PROBS)
    _COMPILES.clear()
    stats = finalize(profile_block(*column_block(x)), PROBS)
    assert _COMPILES == []
    assert stats.moments["count"].tolist() == np.isfinite(x).sum(0).tolist()


def test_polars_series_with_nulls_and_masks() -> None:
    frame = pl.DataFrame({"a": [1.0, None, 3.0, float("nan")], "b": [1, 2, None, 4]})
    block, rows = column_block(list(frame.iter_columns()))
    assert rows == 4 and block.shape == (2, bucket_size(4))
    assert np.isnan(block[:, 4:]).all() and block.ctypes.data % 64 == 0
    stats = finalize(profile_block(block, rows), PROBS)
    assert stats.moments["count"].tolist() == [2, 3]
    assert stats.moments["nulls"].tolist() == [2, 1]
    mask = np.array([[True, True], [True, True], [True, True], [False, True]])
    masked, _ = column_block(np.array([[1.0, 2], [3, 4], [5, 6], [7, 8]]), mask=mask)
    assert np.isnan(masked[0, 3]) and masked[1, 3] == 8


def test_iter_column_blocks_reuses_one_shape() -> None:
    x = _table(4, 4001)
    blocks = [(b.copy(), r) for b, r in iter_column_blocks(x, chunk_rows=1000, reuse=True)]
    assert [r for _, r in blocks] == [801, 801, 801, 801, 797]
    assert {b.shape for b, _ in blocks} == {(4, bucket_size(801))}
    stats = finalize(profile_chunks(blocks), PROBS)
    assert stats.moments["count"].tolist() == np.isfinite(x).sum(0).tolist()


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(ColumnBlockError, match="differ in length"):
        column_block([np.zeros(3), np.zeros(4)])
    with pytest.raises(ColumnBlockError, match="rows × columns"):
        column_block(np.zeros(5))
    with pytest.raises(ProfileError, match="2-D float"):
        profile_block(np.zeros((2, 8), np.int64), 8)
    with pytest.raises(ProfileError, match="rows=9"):
        profile_block(np.zeros((2, 8)), 9)
    state = profile_block(*column_block(_table(5, 50)))
    other = profile_block(*column_block(_table(5, 50)[:, :2]))
    with pytest.raises(ProfileError, match="different numbers of columns"):
        merge(state, other)
    with pytest.raises(ProfileError, match="probabilities"):
        finalize(state, [0.5, 2.0])


def test_records_round_trip_and_merge_like_states() -> None:
    days = [_table(20 + d, n) for d, n in enumerate([24_000, 500, 0])]
    states = [profile_block(*column_block(day)) for day in days]
    stored = [to_records(state) for state in states]
    assert stored[1][0]["quantile_knots"].size == np.isfinite(days[1][:, 0]).sum()
    assert stored[0][1]["small_set"] is None and stored[1][2]["small_set"].size <= 30
    for state, records in zip(states, stored, strict=True):
        back = from_records(records)
        for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(back), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    merged = finalize(merge_many([from_records(r) for r in stored]), PROBS)
    direct = finalize(merge_many(states), PROBS)
    np.testing.assert_array_equal(merged.quantiles, direct.quantiles)
    np.testing.assert_array_equal(merged.distinct, direct.distinct)
    _assert_close_to_truth(merged, np.concatenate(days))
    with pytest.raises(ProfileError, match="HLL registers"):
        from_records([{**stored[0][0], "hll_registers": b"\x00"}])


def test_version_1_registers_convert_from_the_small_set_or_are_rejected() -> None:
    """Registers carry their hash version; version-1 records (no version byte) are rebuilt
    from their exact value set, which gives the registers of a fresh profile, or rejected."""
    rng = np.random.default_rng(30)
    day = np.stack([rng.integers(0, 300, 20_000) * 0.5, rng.standard_normal(20_000)], 1)
    records = to_records(profile_block(*column_block(day)))
    assert records[0]["hll_registers"][-1] == HLL_HASH_VERSION
    assert len(records[0]["hll_registers"]) == REGISTERS + 1
    old = {**records[0], "hll_registers": bytes(REGISTERS)}  # v1: any 2**14 bytes
    back = from_records([old])
    np.testing.assert_array_equal(
        np.asarray(back.distinct.registers)[0],
        np.frombuffer(records[0]["hll_registers"][:-1], np.uint8),
    )
    assert records[1]["small_set"] is None
    with pytest.raises(ProfileError, match="hash version 1.*profile that day again"):
        from_records([{**records[1], "hll_registers": bytes(REGISTERS)}])
    with pytest.raises(ProfileError, match="hash version 9"):
        from_records([{**records[1], "hll_registers": bytes(REGISTERS) + b"\x09"}])


def test_in_place_columns_equal_the_chunked_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polars Float64 columns are profiled in place (whole columns, Arrow buffers): same
    counts, extremes, registers and exact small sets as the chunked block path, quantiles
    within their bound, and a column whose buckets mix few values gets its exact set from
    hash-table rounds over chunks."""
    from synthcap_assets.kernels import profile as profile_module

    x = _table(21, 70_000)
    rng = np.random.default_rng(21)
    few = np.round(rng.lognormal(0, 1, len(x)), 1)  # ~hundreds of values, one far outlier:
    few[7] = 1e9  # every value below it shares level-1 bucket 0
    x = np.column_stack([x, few])
    frame = pl.DataFrame({f"c{j}": x[:, j] for j in range(x.shape[1])})
    frame = frame.with_columns(pl.col("c1").fill_nan(None))  # nulls as a validity bitmap
    cols = list(frame.iter_columns())
    calls: list[str] = []

    def spy(name: str) -> None:
        real = getattr(profile_module, name)

        def call(*args: object, **kw: object) -> object:
            calls.append(name)
            return real(*args, **kw)

        monkeypatch.setattr(profile_module, name, call)

    spy("profile_pieces")
    spy("_rounds_by_chunk")
    state = profile_columns(cols, chunk_rows=30_000)
    assert calls == ["profile_pieces", "_rounds_by_chunk"]
    chunked = profile_columns(x, chunk_rows=30_000)  # 2-D numpy: strided, the block path
    for a, b in zip(chunked.distinct, state.distinct, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(np.asarray(state.distinct.small_count)[-1]) == np.unique(few).size
    stats, want = finalize(state, PROBS), finalize(chunked, PROBS)
    for key in ("count", "nulls", "min", "max", "zeros", "negatives"):
        np.testing.assert_array_equal(stats.moments[key], want.moments[key])
    _assert_close_to_truth(stats, x)
