"""One partition profiled file by file on a two-worker Dask LocalCluster (one task per Delta
file, states merged) equals the single-node profile and numpy/scipy in float64 within the
kernels' stated bounds; the resource runs in-process when ``SYNTHCAP_DASK_ADDRESS`` is unset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

from synthcap_assets.kernels.profile import finalize
from synthcap_assets.profile.files import (
    FileProfileError,
    counts_of,
    delta_files,
    frame_state,
    profile_delta_files,
    profile_files,
)
from synthcap_resources.distributed import DASK_ADDRESS_ENV, DaskConnectError, DaskResource
from synthcap_resources.lakehouse import LakehouseResource, raw_table

COLUMNS = ["normal", "heavy", "ties", "outliers", "when", "code"]
PROBS = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
FILES, ROWS = 6, 40_000
DAY = dt.date(2026, 11, 16)


def _frame(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal(n) + 1e6
    normal[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "_date": [DAY] * n,
            "normal": normal,
            "heavy": rng.standard_t(2, n),
            "ties": rng.integers(0, 30, n),
            "outliers": np.where(rng.random(n) < 0.02, -1e9, rng.lognormal(0, 1, n)),
            "when": pl.Series(rng.integers(0, 3650, n)).cast(pl.Date),
            "code": [f"c{v}" for v in rng.integers(0, 500, n)],
        }
    ).with_columns(pl.col("normal").fill_nan(None))


@pytest.fixture(scope="module")
def partition(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, pl.DataFrame]:
    """A raw table whose one partition is ``FILES`` Delta files (one append each)."""
    lake = LakehouseResource(root=str(tmp_path_factory.mktemp("lake")))
    parts = [_frame(seed, ROWS) for seed in range(FILES)]
    for part in parts:
        lake.append(raw_table("big"), part, partition_by=["_date"])
    return lake.uri(raw_table("big")), pl.concat(parts)


@pytest.fixture(scope="module")
def cluster_client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _truth(frame: pl.DataFrame, name: str) -> np.ndarray:
    column = frame.get_column(name)
    if column.dtype == pl.Date:
        column = column.cast(pl.Int32)
    values = column.cast(pl.Float64).to_numpy()
    return np.sort(values[np.isfinite(values)])


def test_dask_split_equals_single_node_profile(
    partition: tuple[str, pl.DataFrame], cluster_client: object
) -> None:
    uri, frame = partition
    files = delta_files(uri, {"_date": DAY.isoformat()})
    assert len(files) == FILES
    from distributed import get_task_stream

    with get_task_stream(cluster_client) as stream:
        parts = profile_files(files, COLUMNS, client=cluster_client)
    assert sorted(p.rows for p in parts) == [ROWS] * FILES
    # One task per file, spread over both workers (no worker restriction slipped in).
    assert len(stream.data) == FILES and len({t["worker"] for t in stream.data}) == 2
    split = profile_delta_files(uri, COLUMNS, client=cluster_client)
    single = frame_state(frame, COLUMNS, workers=2)
    a, b = finalize(split, PROBS), finalize(single, PROBS)
    numeric = COLUMNS[:5]
    for j, name in enumerate(numeric):
        v = _truth(frame, name)
        for stats in (a, b):
            m = stats.moments
            assert m["count"][j] == v.size and m["nulls"][j] == frame.height - v.size
            assert m["min"][j] == v[0] and m["max"][j] == v[-1]
            s = v - v[0]
            assert m["var"][j] == pytest.approx(np.var(s, ddof=1), rel=1e-9)
            assert m["skewness"][j] == pytest.approx(ss.skew(s), rel=1e-8)
            assert m["kurtosis"][j] == pytest.approx(ss.kurtosis(s), rel=1e-8)
            # Quantiles: within the state's own rank bound of the exact order statistics.
            bound = stats.rank_error[j] * v.size
            assert stats.rank_error[j] <= 2e-3
            pos = np.asarray(PROBS) * (v.size - 1)
            lo = v[np.clip(np.floor(pos - bound).astype(int), 0, v.size - 1)]
            hi = v[np.clip(np.ceil(pos + bound).astype(int), 0, v.size - 1)]
            slack = 1e-12 * np.abs(v).max()
            assert np.all(stats.quantiles[j] >= lo - slack)
            assert np.all(stats.quantiles[j] <= hi + slack)
        assert a.moments["mean"][j] == pytest.approx(b.moments["mean"][j], rel=1e-12)
    # Small value sets are counted exactly both ways; the hashed code column too (500 < 2**14).
    exact = frame.select(pl.col(c).n_unique() - pl.col(c).null_count().clip(0, 1) for c in COLUMNS)
    for j, name in enumerate(COLUMNS):
        if a.distinct_exact[j]:
            assert a.distinct[j] == b.distinct[j] == exact[name][0], name
        else:
            assert a.distinct[j] == pytest.approx(exact[name][0], rel=0.03), name
    assert a.distinct_exact[COLUMNS.index("ties")] and a.distinct_exact[COLUMNS.index("code")]


def test_quality_counts_from_the_split_state(partition: tuple[str, pl.DataFrame]) -> None:
    uri, frame = partition
    counts = counts_of(profile_delta_files(uri, ["normal", "code"]), ["normal", "code"])
    normal, code = counts.rows(named=True)
    assert normal["rows"] == code["rows"] == frame.height
    assert normal["nulls"] == frame["normal"].null_count() > 0
    assert normal["completeness"] == pytest.approx(1 - normal["nulls"] / frame.height)
    assert code["nulls"] == 0 and code["distinct"] == frame["code"].n_unique()


def test_resource_is_in_process_unless_an_address_is_set(
    monkeypatch: pytest.MonkeyPatch, cluster_client: object
) -> None:
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    with DaskResource.from_env().client() as client:
        assert client is None
    address = cluster_client.scheduler.address  # type: ignore[attr-defined]
    monkeypatch.setenv(DASK_ADDRESS_ENV, address)
    with DaskResource.from_env().client() as client:
        assert client is not None and len(client.scheduler_info()["workers"]) == 2
    with (
        pytest.raises(DaskConnectError, match=DASK_ADDRESS_ENV),
        DaskResource(address="tcp://127.0.0.1:9", timeout_seconds=1).client(),
    ):
        pass


def test_missing_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileProfileError, match="no Delta table"):
        delta_files(str(tmp_path / "absent"))


def test_float_columns_read_in_place_equal_the_converted_ones() -> None:
    """``frame_state`` hands Float64 columns to the kernels as they are (nulls, NaN and inf
    missing) and converts the rest: the state equals the one from ``kernel_column`` arrays."""
    from synthcap_assets.kernels.profile import profile_columns
    from synthcap_assets.profile.stats import kernel_column

    rng = np.random.default_rng(7)
    n = 50_003
    x = rng.standard_t(2, n)
    x[rng.random(n) < 0.03] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    frame = pl.DataFrame({"x": x, "k": rng.integers(-9, 9, n)}).with_columns(
        pl.when(pl.int_range(n) % 7 == 0).then(None).otherwise(pl.col("x")).alias("x")
    )
    frame = frame.slice(3)  # an Arrow bit offset that is not a multiple of 8
    got = finalize(frame_state(frame, ["x", "k"], workers=2), PROBS)
    want = finalize(
        profile_columns([kernel_column(frame.get_column(c)) for c in ("x", "k")]), PROBS
    )
    for field in ("count", "nulls", "mean", "var", "min", "max", "zeros", "negatives"):
        np.testing.assert_array_equal(got.moments[field], want.moments[field])
    np.testing.assert_array_equal(got.quantiles, want.quantiles)
    np.testing.assert_array_equal(got.distinct, want.distinct)
    finite = x[3:][np.isfinite(x[3:]) & (np.arange(3, n) % 7 != 0)]
    assert got.moments["count"][0] == finite.size
