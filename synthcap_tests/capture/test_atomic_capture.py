"""A capture that fails at any step leaves every table as it was: a failure is injected into
the data commit and into the write of each bookkeeping table in turn (real Delta tables, real
``dg.materialize``); afterwards every table reads as before the run and a clean re-run lands
the day with its bookkeeping keyed to the data's Delta version. Stream batches keep
commit-then-ack: never undone, their bookkeeping redone once on redelivery."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import yaml

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.capture.contract_store import CONTRACTS_TABLE, SCHEMA_CHANGES_TABLE
from synthcap_assets.capture.quarantine import QUARANTINE_TABLE
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.lakehouse import LakehouseError, LakehouseResource, raw_table
from synthcap_resources.sources import registry
from synthcap_resources.sources.base import CaptureBatch, DateWindow
from synthcap_resources.sources.files import FileConnector
from synthcap_resources.sources.registry import SourcesResource
from synthcap_resources.sources.state import CAPTURED_FILES_TABLE, CURSORS_TABLE
from synthcap_tests.capture import malformed

D1, D2 = malformed.DAY1, malformed.DAY2
# The compliance decision is an audit log of every attempt, written before the read by design.
NOT_CAPTURE_STATE = {"audit__compliance"}
STEPS = [
    raw_table("feed"),
    CONTRACTS_TABLE,
    SCHEMA_CHANGES_TABLE,
    QUARANTINE_TABLE,
    CURSORS_TABLE,
    CAPTURED_FILES_TABLE,
]


class CursoredFileConnector(FileConnector):
    """The file connector plus a cursor, so one capture writes every bookkeeping table."""

    def read(self, spec, window: DateWindow, cursor: dict | None = None) -> CaptureBatch:
        batch = super().read(spec, window, cursor)
        batch.cursor = {"through": window.day.isoformat()}
        return batch


def _setup(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(registry.CONNECTORS, "file", f"{__name__}:CursoredFileConnector")
    spec = {
        "id": "feed",
        "title": "feed",
        "kind": "file",
        "location": "../landing/{date}.csv",
        "format": "csv",
        "start_date": "2026-11-01",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
    }
    (root / "sources").mkdir(parents=True)
    (root / "sources" / "feed.yaml").write_text(yaml.safe_dump(spec))
    landing = root / "landing"
    landing.mkdir()
    # Day 1: ragged rows (quarantine); day 2: a new column (contract v2) and a ragged row.
    (landing / f"{D1}.csv").write_text(malformed.RAGGED_TEXT)
    (landing / f"{D2}.csv").write_text("id,name,amount,note\n6,fay,6.5,x\n7,gus\n8,hal,8.5,y\n")
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    return resources


def _run(resources: dict[str, Any], instance: dg.DagsterInstance, day: dt.date):
    return dg.materialize(
        [raw_capture],
        partition_key=partition_key("feed", day),
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )


def lake_snapshot(lake: LakehouseResource) -> dict[str, pl.DataFrame]:
    """Every Delta table of the lake as it reads now (capture state only), rows sorted."""
    tables = {}
    for name, path in lake.tables().items():
        if name in NOT_CAPTURE_STATE:
            continue
        frame = LakehouseResource(root=str(Path(path).parent.parent)).read_table(
            f"{Path(path).parent.name}/{Path(path).name}"
        )
        tables[name] = frame.sort(frame.columns) if frame.height else frame
    return tables


def _same(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> None:
    assert sorted(after) == sorted(before)
    for name, frame in before.items():
        assert after[name].schema == frame.schema, name
        assert after[name].equals(frame), name


def _fail_writes_to(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Make every commit to ``target`` fail as a Delta write would (disk full, conflict)."""
    for method in ("write_partition", "append"):
        real = getattr(LakehouseResource, method)

        def failing(self, table, *args, _real=real, **kwargs):
            if table == target:
                raise LakehouseError(f"{table}: Delta write failed: injected")
            return _real(self, table, *args, **kwargs)

        monkeypatch.setattr(LakehouseResource, method, failing)


def _error(result: dg.ExecuteInProcessResult) -> tuple[list[str], str]:
    """The failed step's exception classes and messages, through Dagster's wrapping."""
    error = result.get_step_failure_events()[0].event_specific_data.error
    classes, messages = [], []
    while error is not None:
        classes.append(error.cls_name)
        messages.append(error.message)
        error = error.cause
    return classes, "\n".join(messages)


def _consistent(lake: LakehouseResource, day: dt.date) -> None:
    """The day's rows and every bookkeeping row of it name the same raw Delta version."""
    version = lake.version(raw_table("feed"))
    for table in (SCHEMA_CHANGES_TABLE, QUARANTINE_TABLE, CURSORS_TABLE, CAPTURED_FILES_TABLE):
        rows = lake.read_table(table).filter(pl.col("date") == day)
        # The first capture infers the contract: it has no schema change to record.
        assert rows.height or (table == SCHEMA_CHANGES_TABLE and day == D1), table
        assert set(rows["raw_version"]) <= {version}, table


def test_a_failure_at_any_step_leaves_every_table_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = _setup(tmp_path, monkeypatch)
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["feed"])
        for day in (D1, D2):  # the first capture (tables created) and a later one
            before = lake_snapshot(lake)
            for step in STEPS:  # the data commit, then each bookkeeping table in turn
                with monkeypatch.context() as patch:
                    _fail_writes_to(patch, step)
                    failed = _run(resources, instance, day)
                assert not failed.success, step
                classes, message = _error(failed)
                assert "CaptureCommitError" in classes, step
                assert f"partition {day}: capture failed" in message and "injected" in message
                _same(before, lake_snapshot(lake))
            assert _run(resources, instance, day).success  # a clean re-run lands the day
            _consistent(lake, day)
        contracts = lake.read_table(CONTRACTS_TABLE).sort("version")
        assert contracts["version"].to_list() == [1, 2]
        raw_versions = contracts["raw_version"].to_list()
        assert raw_versions[0] < raw_versions[1] == lake.version(raw_table("feed"))
        landed = lake.read_partition(raw_table("feed"), {"_date": D2})
        assert landed["note"].to_list() == ["x", "y"]


def test_latin1_file_lands_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    resources = _setup(tmp_path, monkeypatch)
    malformed.write_latin1_csv(tmp_path / "landing", D1)
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["feed"])
        failed = _run(resources, instance, D1)
    assert not failed.success
    classes, message = _error(failed)
    assert "SourceEncodingError" in classes and "byte offset" in message
    assert lake_snapshot(lake) == {}


class ReplayedStreamConnector:
    """One stream batch under a Delta transaction, with a rejected row, acked on commit."""

    acks: list[int] = []

    def read(self, spec, window: DateWindow, cursor: dict | None = None) -> CaptureBatch:
        return CaptureBatch(
            rows=pl.DataFrame({"id": [1, 2, 3]}),
            rejected=pl.DataFrame({"raw": ["{bad"], "_reason": ["not JSON"], "_row": [4]}),
            transaction=("feed-consumer", 1),
            cursor={"sequence": 4},
            on_committed=lambda: self.acks.append(1),
        )


def test_a_stream_batch_is_redone_once_and_acked_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = _setup(tmp_path, monkeypatch)
    monkeypatch.setitem(registry.CONNECTORS, "file", f"{__name__}:ReplayedStreamConnector")
    monkeypatch.setattr(ReplayedStreamConnector, "acks", [])
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["feed"])
        with monkeypatch.context() as patch:
            _fail_writes_to(patch, CURSORS_TABLE)
            assert not _run(resources, instance, D1).success
        assert ReplayedStreamConnector.acks == []  # not acked: the broker redelivers
        assert lake.read_table(raw_table("feed")).height == 3  # committed, never undone
        for _ in range(2):  # the redelivery, then a duplicate delivery of the same batch
            assert _run(resources, instance, D1).success
        assert lake.read_table(raw_table("feed")).height == 3
        assert lake.read_table(QUARANTINE_TABLE)["reason"].to_list() == ["not JSON"]
        assert lake.read_table(CURSORS_TABLE).height == 2
        assert ReplayedStreamConnector.acks == [1, 1]


def _rows(source: str, values: list[float], day: dt.date = D1) -> pl.DataFrame:
    return pl.DataFrame({"source": source, "date": day, "v": values})


def test_undo_restores_when_latest_and_removes_a_table_it_created(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    created = lake.write_partition("reports/x", _rows("a", [1.0]), {"source": "a", "date": D1})
    assert created.version == 0
    assert "removed" in lake.undo_write("reports/x", None, created.version)
    assert lake.version("reports/x") is None and lake.tables() == {}
    lake.write_partition("reports/x", _rows("a", [1.0]), {"source": "a", "date": D1})
    wider = _rows("a", [2.0]).with_columns(pl.lit("new").alias("extra"))
    ours = lake.write_partition("reports/x", wider, {"source": "a", "date": D1})
    assert "restored to version 0" in lake.undo_write("reports/x", 0, ours.version)
    after = lake.read_table("reports/x")
    assert after.columns == ["source", "date", "v"] and after["v"].to_list() == [1.0]


def test_undo_after_another_commit_takes_back_only_its_own_rows(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    raw = raw_table("feed")
    day_rows = pl.DataFrame({"v": [1.0, 2.0], "_date": [D1, D1]})
    lake.write_partition(raw, day_rows, {"_date": D1})
    before = lake.version(raw)
    ours = lake.write_partition(raw, day_rows.with_columns(pl.col("v") * 10), {"_date": D1})
    ours_d2 = lake.write_partition(raw, pl.DataFrame({"v": [5.0], "_date": [D2]}), {"_date": D2})
    theirs = pl.DataFrame({"v": [9.0], "_date": [dt.date(2026, 11, 18)]})
    lake.write_partition(raw, theirs, {"_date": dt.date(2026, 11, 18)})  # another run's day
    lake.undo_write(raw, before, ours.version, partition={"_date": D1})
    lake.undo_write(raw, ours.version, ours_d2.version, partition={"_date": D2})
    kept = lake.read_table(raw).sort("_date", "v")
    assert kept.rows() == [(1.0, D1), (2.0, D1), (9.0, dt.date(2026, 11, 18))]

    table = "state/log"
    lake.append(table, _rows("a", [1.0]).with_columns(pl.lit(1).alias("raw_version")))
    mine = lake.append(table, _rows("a", [2.0]).with_columns(pl.lit(2).alias("raw_version")))
    lake.append(table, _rows("b", [3.0]).with_columns(pl.lit(2).alias("raw_version")))
    done = lake.undo_write(table, 0, mine.version, appended="source = 'a' AND raw_version = 2")
    assert "deleted 1 appended row(s)" in done
    assert sorted(lake.read_table(table)["v"].to_list()) == [1.0, 3.0]
    with pytest.raises(LakehouseError, match="no longer the latest"):
        lake.undo_write(table, 0, mine.version)


def test_each_write_knows_its_own_version_under_later_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit lands between a write and its version lookup: the write still names its own
    version (tagged in the commit info), not the later one, so an undo restores the right one."""
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    real = LakehouseResource._version_of
    interloper = LakehouseResource(root=str(tmp_path / "lake"))

    def late(self, uri, write_id):
        monkeypatch.setattr(LakehouseResource, "_version_of", real)
        interloper.write_partition("reports/x", _rows("b", [9.0]), {"source": "b", "date": D1})
        return real(self, uri, write_id)

    lake.write_partition("reports/x", _rows("a", [1.0]), {"source": "a", "date": D1})
    monkeypatch.setattr(LakehouseResource, "_version_of", late)
    ours = lake.write_partition("reports/x", _rows("a", [2.0]), {"source": "a", "date": D1})
    assert ours.version == 1 and lake.version("reports/x") == 2
    lake.undo_write("reports/x", 0, ours.version, partition={"source": "a", "date": D1})
    rows = lake.read_table("reports/x").sort("source")
    assert rows.select("source", "v").rows() == [("a", 1.0), ("b", 9.0)]
