"""Capture state in the lake: the landing-zone sensor and ``state/captured_files`` (each file
captured once), cursors advanced only after the data commit, and the retention job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import yaml
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from synthcap_assets.automation.landing import landing_sensor, new_files_by_day
from synthcap_assets.automation.retention import enforce_retention, retention_job
from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.capture.quarantine import QUARANTINE_TABLE, write_quarantine
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import CatalogResource, parse_spec
from synthcap_resources.compliance import COMPLIANCE_TABLE
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources import registry
from synthcap_resources.sources.base import CaptureBatch, DateWindow, FileEntry
from synthcap_resources.sources.registry import SourcesResource
from synthcap_resources.sources.state import CAPTURED_FILES_TABLE, latest_cursor

D1, D2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)


def _file_source(root: Path, source_id: str = "orders", **extra: Any) -> Path:
    spec = {
        "id": source_id,
        "title": "orders landing zone",
        "kind": "file",
        "location": "../landing/{date}/*.csv",
        "format": "csv",
        "start_date": "2026-11-01",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
        **extra,
    }
    (root / "sources").mkdir(parents=True, exist_ok=True)
    path = root / "sources" / f"{source_id}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _land(root: Path, day: dt.date, name: str, text: str) -> Path:
    target = root / "landing" / day.isoformat() / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def _resources(root: Path) -> dict[str, Any]:
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    return resources


def _materialize(root: Path, instance: dg.DagsterInstance, source: str, day: dt.date):
    return dg.materialize(
        [raw_capture],
        partition_key=partition_key(source, day),
        resources=_resources(root),
        instance=instance,
        raise_on_error=False,
    )


def _tick(root: Path, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    context = dg.build_sensor_context(
        instance=instance,
        resources={
            "catalog": CatalogResource(folder=str(root / "sources")),
            "lakehouse": LakehouseResource(root=str(root / "lake")),
        },
    )
    result = landing_sensor(context)
    return list(result.run_requests or [])


def test_landing_sensor_requests_each_new_file_once(tmp_path: Path) -> None:
    _file_source(tmp_path)
    _land(tmp_path, D1, "a.csv", "order_id,amount\n1,9.5\n2,3.0\n")
    _land(tmp_path, D2, "a.csv", "order_id,amount\n3,1.0\n")
    _land(tmp_path, dt.date(2026, 10, 1), "old.csv", "order_id,amount\n0,0\n")  # < start_date
    with dg.instance_for_test() as instance:
        assert _tick(tmp_path, instance) == []  # not registered as a partition yet
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["orders"])
        first = _tick(tmp_path, instance)
        assert [r.partition_key for r in first] == [
            partition_key("orders", D1),
            partition_key("orders", D2),
        ]
        assert _materialize(tmp_path, instance, "orders", D1).success
        captured = LakehouseResource(root=str(tmp_path / "lake")).read_table(CAPTURED_FILES_TABLE)
        assert captured.select("source", "date").rows() == [("orders", D1)]
        second = _tick(tmp_path, instance)
        assert [r.partition_key for r in second] == [partition_key("orders", D2)]
        assert second[0].run_key == first[1].run_key  # same files, same key: deduplicated
        _land(tmp_path, D1, "b.csv", "order_id,amount\n4,2.0\n")  # a late file for D1
        third = _tick(tmp_path, instance)
        assert [r.partition_key for r in third] == [
            partition_key("orders", D1),
            partition_key("orders", D2),
        ]
        assert third[0].run_key != first[0].run_key
        assert _materialize(tmp_path, instance, "orders", D1).success
        rows = LakehouseResource(root=str(tmp_path / "lake")).read_partition(
            raw_table("orders"), {"_date": D1}
        )
        assert sorted(rows["order_id"].to_list()) == [1, 2, 4]  # re-captured whole, once each


def test_changed_file_counts_as_new() -> None:
    template = "/l/{date}/*.csv"
    entry = FileEntry("/l/2026-11-16/a.csv", 10, 1.0)
    captured = {("/l/2026-11-16/a.csv", 10, 1.0)}
    assert new_files_by_day(template, [entry], captured, D1) == {}
    changed = FileEntry("/l/2026-11-16/a.csv", 12, 2.0)
    assert new_files_by_day(template, [changed], captured, D1) == {D1: [changed]}
    stray = FileEntry("/l/not-a-date/a.csv", 1, 1.0)
    assert new_files_by_day(template, [stray], set(), D1) == {}
    on_s3 = FileEntry("s3://bkt/in/2026-11-17/part-0.parquet", 5, 3.0)
    deeper = FileEntry("s3://bkt/in/2026-11-17/x/part-1.parquet", 5, 3.0)
    found = new_files_by_day("s3://bkt/in/{date}/*.parquet", [on_s3, deeper], set(), D1)
    assert found == {D2: [on_s3]}


class IncrementalTestConnector:
    """A stand-in incremental connector (the database and stream connectors live in another
    module): returns a cursor, and rows that break capture when ``broken`` is set."""

    broken = False

    def read(self, spec, window: DateWindow, cursor: dict | None = None) -> CaptureBatch:
        start = 0 if cursor is None else cursor["last_id"]
        rows = pl.DataFrame({"id": [start + 1, start + 2]})
        if self.broken:
            rows = rows.with_columns(pl.lit("x").alias("_date"))  # reserved: conform refuses
        return CaptureBatch(rows=rows, origins=["test://rows"], cursor={"last_id": start + 2})


def test_cursor_advances_only_after_the_commit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(
        registry.CONNECTORS, "file", f"{__name__}:{IncrementalTestConnector.__name__}"
    )
    _file_source(tmp_path, "incr")
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["incr"])
        assert _materialize(tmp_path, instance, "incr", D1).success
        assert latest_cursor(lake, "incr") == {"last_id": 2}
        assert _materialize(tmp_path, instance, "incr", D2).success
        assert latest_cursor(lake, "incr") == {"last_id": 4}
        assert lake.read_partition(raw_table("incr"), {"_date": D2})["id"].to_list() == [3, 4]
        monkeypatch.setattr(IncrementalTestConnector, "broken", True)
        assert not _materialize(tmp_path, instance, "incr", dt.date(2026, 11, 18)).success
        assert latest_cursor(lake, "incr") == {"last_id": 4}  # not advanced past lost rows


def _age(lake: LakehouseResource, first: dt.date) -> None:
    for offset in range(5):
        day = first + dt.timedelta(days=offset)
        rows = pl.DataFrame({"v": [offset], "_date": [day]})
        lake.write_partition(raw_table("orders"), rows, {"_date": day})
        lake.write_partition(raw_table("other"), rows, {"_date": day})
        reject = pl.DataFrame({"raw": ["bad"], "_reason": ["broken"]})
        write_quarantine(lake, "orders", day, [reject])


def test_retention_deletes_expired_partitions_and_vacuums(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    _age(lake, dt.date(2026, 11, 10))
    spec = parse_spec(_file_source(tmp_path, retention_days=2))
    old_files = set(Path(lake.uri(raw_table("orders"))).rglob("*.parquet"))
    decisions = enforce_retention(lake, spec, dt.date(2026, 11, 14))
    kept = lake.read_table(raw_table("orders"))["_date"].to_list()
    assert sorted(kept) == [dt.date(2026, 11, 12), dt.date(2026, 11, 13), dt.date(2026, 11, 14)]
    assert sorted(lake.read_table(QUARANTINE_TABLE)["date"].to_list()) == sorted(kept)
    assert lake.read_table(raw_table("other")).height == 5  # another source is untouched
    remaining = set(Path(lake.uri(raw_table("orders"))).rglob("*.parquet"))
    assert len(old_files - remaining) == 2  # the expired files are gone from disk
    with pytest.raises(DeltaError, match="No files in log segment"):  # old versions: gone
        DeltaTable(lake.uri(raw_table("orders")), version=0)
    assert [d.check for d in decisions] == ["retention", "retention"]
    audit = lake.read_table(COMPLIANCE_TABLE)
    assert set(audit["decision"]) == {"deleted"}
    assert "deleted 2 row(s) dated before 2026-11-12 from raw/orders" in audit["reason"][0]


def test_retention_job_runs_from_definitions(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    _age(lake, dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10))
    _file_source(tmp_path, retention_days=2)
    result = retention_job.execute_in_process(resources=_resources(tmp_path))
    assert result.success
    assert result.output_for_node("retention_op") == 2  # raw/orders and the quarantine
    assert lake.read_table(raw_table("orders")).height == 0
    assert lake.read_table(raw_table("other")).height == 5
