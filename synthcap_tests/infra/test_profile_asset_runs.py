"""synthcap's own ``profile`` asset on a real Dagster instance (``instance_for_test``) and a real
Delta lake:

- a write that loses a real concurrent Delta commit for its partition is retried by
  ``retries_lost_writes`` and the partition ends present once, the retry's rows only;
- a bad input (a Latin-1 file under a UTF-8 source) fails once, never retried;
- with ``SYNTHCAP_DASK_ADDRESS`` naming a two-worker ``LocalCluster`` (``processes=False``:
  threads in this process, so the test pays no worker start-up and JAX import; the process
  split itself is covered by ``test_dask_profile``), ``profile`` is computed one task per Delta
  file and equals the in-process profile within the stated bounds, both checked against
  numpy in float64.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import CAPTURED_AT_COLUMN, DATE_COLUMN, SOURCE_COLUMN
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.profile.assets import PROFILE, profile
from synthcap_assets.profile.files import delta_files
from synthcap_assets.profile.stats import numeric_values
from synthcap_resources.distributed import DASK_ADDRESS_ENV
from synthcap_resources.lakehouse import (
    ConcurrentWriteError,
    LakehouseResource,
    raw_table,
    report_table,
)
from synthcap_resources.sources.registry import SourcesResource
from synthcap_resources.write_retry import lost_write, lost_write_delay

SOURCE = "sensors"
DAY, BAD_DAY, SPLIT_DAY = (dt.date(2026, 12, 1) + dt.timedelta(days=i) for i in range(3))
FILES, FILE_ROWS = 4, 5_000
SPEC = """\
id: sensors
title: sensors (generated)
kind: file
location: {folder}/{{date}}.csv
format: csv
start_date: 2026-12-01
license: CC0-1.0
terms_url: https://example.org/terms
domain: tabular
subject: entity
"""
# Rows the test's competing writer commits into the profile partition (the race).
RIVAL = "rival-writer"
_raced: list[str] = []


class RacedLakehouse(LakehouseResource):
    """The real lakehouse, with the race made certain (no mock: every commit is a real Delta
    commit): before the first write of the profile report, another writer replaces the same
    partition twice, and this write goes against the version it read in between."""

    def write_partition(self, table, df, partition, *, read_version=None):  # type: ignore[override]
        if table == report_table(PROFILE) and not _raced:
            _raced.append(table)
            rival = LakehouseResource(root=self.root)
            marked = df.with_columns(pl.lit(RIVAL).alias("dtype"))
            rival.write_partition(table, marked, partition)
            seen = rival.version(table)
            rival.write_partition(table, marked, partition)
            return super().write_partition(table, df, partition, read_version=seen)
        return super().write_partition(table, df, partition, read_version=read_version)


def _frame(seed: int, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.normal(20, 5, n)
    level[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "level": level,
            "heavy": rng.standard_t(2, n),
            "grade": rng.integers(0, 5, n),
            "count": rng.integers(-1000, 100_000, n),
            "site": [f"site-{v}" for v in rng.zipf(1.6, n) % 40],
            "id": [f"id-{seed}-{i}" for i in range(n)],
            "seen": pl.Series(rng.integers(19_000, 20_000, n)).cast(pl.Date),
            "ok": rng.random(n) < 0.3,
        }
    ).with_columns(pl.col("level").fill_nan(None))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("profile_runs")
    folder, sources = root / "data", root / "sources"
    folder.mkdir()
    sources.mkdir()
    (sources / f"{SOURCE}.yaml").write_text(SPEC.format(folder=folder))
    _frame(0, 300).write_csv(folder / f"{DAY}.csv")
    (folder / f"{BAD_DAY}.csv").write_bytes("level,site\n1.5,caf\xe9\n".encode("latin-1"))
    lakehouse = LakehouseResource(root=str(root / "lake"))
    parts = [_frame(seed, FILE_ROWS) for seed in range(1, FILES + 1)]
    for part in parts:  # one Delta file per append: a partition of several files
        lakehouse.append(
            raw_table(SOURCE),
            part.with_columns(
                pl.lit(SOURCE).alias(SOURCE_COLUMN),
                pl.lit(SPLIT_DAY).alias(DATE_COLUMN),
                pl.lit(dt.datetime(2026, 12, 4)).alias(CAPTURED_AT_COLUMN),
            ),
            partition_by=[DATE_COLUMN],
        )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        yield {
            "root": root,
            "instance": instance,
            "lakehouse": lakehouse,
            "split_rows": pl.concat(parts),
        }


def _resources(lake: dict[str, Any]) -> dict[str, object]:
    resources = build_resources(
        lake=str(lake["root"] / "lake"), sources=str(lake["root"] / "sources")
    )
    resources["sources"] = SourcesResource(state_dir=str(lake["root"] / "state"))
    return resources


def _events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list:
    return [
        r.dagster_event
        for r in instance.all_logs(run_id)
        if r.dagster_event is not None and r.dagster_event.event_type == kind
    ]


def _causes(error: Any) -> list[str]:
    names = []
    while error is not None:
        names.append(error.cls_name)
        error = error.cause
    return names


def test_profile_write_that_loses_a_race_is_retried_and_lands_once(
    lake: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    resources = _resources(lake)
    resources["lakehouse"] = RacedLakehouse(root=str(lake["root"] / "lake"))
    instance = lake["instance"]
    result = dg.materialize(
        [raw_capture, profile],
        partition_key=partition_key(SOURCE, DAY),
        resources=resources,
        instance=instance,
    )
    assert result.success and _raced
    retries = _events(instance, result.run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert [e.step_key for e in retries] == ["profile"]
    assert "ConcurrentWriteError" in _causes(retries[0].event_specific_data.error)
    assert not _events(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE)
    rows = lake["lakehouse"].read_partition(report_table(PROFILE), {"source": SOURCE, "date": DAY})
    assert rows["column"].to_list() == _frame(0, 1).columns  # once each, in order
    assert RIVAL not in rows["dtype"].to_list()  # the retry's rows replaced the rival's


def test_bad_input_fails_once_without_retry(
    lake: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    instance = lake["instance"]
    result = dg.materialize(
        [raw_capture],
        partition_key=partition_key(SOURCE, BAD_DAY),
        resources=_resources(lake),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    assert not _events(instance, result.run_id, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    failures = _events(instance, result.run_id, dg.DagsterEventType.STEP_FAILURE)
    assert len(failures) == 1
    error = failures[0].step_failure_data.error
    assert "ConcurrentWriteError" not in _causes(error)
    assert "utf-8" in str(error.to_string()).lower()


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _profile_of(lake: dict[str, Any]) -> pl.DataFrame:
    result = dg.materialize(
        [profile],
        partition_key=partition_key(SOURCE, SPLIT_DAY),
        resources=_resources(lake),
        instance=lake["instance"],
    )
    assert result.success
    rows = lake["lakehouse"].read_partition(
        report_table(PROFILE), {"source": SOURCE, "date": SPLIT_DAY}
    )
    return rows.drop("source", "date")


def test_profile_split_over_dask_equals_in_process(
    lake: dict[str, Any], dask_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = lake["lakehouse"].uri(raw_table(SOURCE))
    assert len(delta_files(uri, {DATE_COLUMN: SPLIT_DAY.isoformat()})) == FILES
    monkeypatch.delenv(DASK_ADDRESS_ENV, raising=False)
    single = _profile_of(lake)
    monkeypatch.setenv(DASK_ADDRESS_ENV, dask_address)
    split = _profile_of(lake)

    frame = lake["split_rows"]
    same = ["column", "dtype", "semantic_type", "value_kind", "count", "nulls", "min", "max"]
    same += ["zeros", "negatives", "distinct_exact"]
    assert split.select(same).equals(single.select(same))
    for a, b in zip(split.iter_rows(named=True), single.iter_rows(named=True), strict=True):
        name = a["column"]
        values = numeric_values(frame[name])
        if values is not None:
            v = np.sort(values)
            s = v - v[0]  # the kernels' shifted moments, as numpy in float64
            for row in (a, b):
                assert row["count"] == v.size and row["min"] == v[0] and row["max"] == v[-1]
                assert row["mean"] == pytest.approx(v.mean(), rel=1e-12)
                assert row["var"] == pytest.approx(np.var(s, ddof=1), rel=1e-9)
                assert row["skewness"] == pytest.approx(ss.skew(s), rel=1e-8, abs=1e-12)
                assert row["kurtosis"] == pytest.approx(ss.kurtosis(s), rel=1e-8, abs=1e-12)
            if a["value_kind"] == "quantitative":
                for row in (a, b):  # each within its own rank bound of the exact quantiles
                    bound = row["rank_error"] * v.size
                    pos = np.linspace(0, 1, len(row["quantiles"])) * (v.size - 1)
                    lo = v[np.clip(np.floor(pos - bound).astype(int), 0, v.size - 1)]
                    hi = v[np.clip(np.ceil(pos + bound).astype(int), 0, v.size - 1)]
                    q = np.asarray(row["quantiles"])
                    assert np.all((q >= lo) & (q <= hi)), name
        exact = frame[name].drop_nulls().n_unique()
        if a["distinct_exact"]:
            assert a["distinct"] == b["distinct"] == exact, name
        else:
            assert a["distinct"] == pytest.approx(exact, rel=0.03), name
        if a["value_counts_complete"]:
            assert (a["top_values"], a["top_counts"]) == (b["top_values"], b["top_counts"])
    types = dict(zip(split["column"], split["semantic_type"], strict=True))
    assert types["grade"] == "categorical" and types["count"] == "numeric"
    assert types["id"] == "identifier" and types["site"] == "categorical"


def test_only_a_lost_write_down_the_shown_chain_is_retried() -> None:
    lost = ConcurrentWriteError("reports/x: a concurrent writer changed the same data first")

    def raised(outer: type[Exception], cause: BaseException | None, hide: bool = False):
        try:
            try:
                raise cause if cause is not None else ValueError("bad input")
            except Exception as inner:
                raise outer("wrapped") from (None if hide else inner)
        except Exception as exc:
            return exc

    assert lost_write(lost) is lost
    assert lost_write(raised(RuntimeError, lost)) is lost  # as capture re-raises after undo
    assert lost_write(raised(RuntimeError, None)) is None
    assert lost_write(raised(RuntimeError, lost, hide=True)) is None  # "from None": not shown
    assert 0.5 <= lost_write_delay(0) < 1.5 and 2.0 <= lost_write_delay(2) < 6.0
