"""The README's file example, as written, materializes ``raw_capture`` from an S3 landing
bucket (moto's S3 server on loopback) with its per-date glob."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.compliance import COMPLIANCE_TABLE
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.registry import SourcesResource
from synthcap_resources.sources.state import CAPTURED_FILES_TABLE
from synthcap_tests.s3 import s3_server  # noqa: F401 (a fixture, used by name)

README = Path(__file__).resolve().parents[2] / "README.md"
DAY = dt.date(2026, 11, 16)


def _file_example() -> str:
    section = README.read_text().split("\n### file\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]


@pytest.mark.usefixtures("s3_server")
def test_readme_file_example_captures_from_s3(tmp_path: Path) -> None:
    example = _file_example()
    assert "location: s3://acme-landing/orders/{date}/*.csv" in example
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "orders.yaml").write_text(example)
    s3 = boto3.client("s3")  # endpoint and keys: the moto server, from AWS_*
    s3.create_bucket(Bucket="acme-landing")
    header = "order_id,amount,ordered_at\n"
    s3.put_object(
        Bucket="acme-landing",
        Key=f"orders/{DAY}/export-1.csv",
        Body=(header + "0007,19.90,2026-11-16T08:00:00\n0008,5,2026-11-16T09:30:00\n").encode(),
    )
    s3.put_object(
        Bucket="acme-landing",
        Key=f"orders/{DAY}/export-2.csv",
        Body=(header + "0009,7.25,2026-11-16T23:59:59\n").encode(),
    )
    resources = build_resources(lake=str(tmp_path / "lake"), sources=str(tmp_path / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(tmp_path / "state"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["orders"])
        result = dg.materialize(
            [raw_capture],
            partition_key=partition_key("orders", DAY),
            resources=resources,
            instance=instance,
        )
    assert result.success
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    rows = lake.read_partition(raw_table("orders"), {"_date": DAY}).sort("order_id")
    assert rows["order_id"].to_list() == ["0007", "0008", "0009"]  # declared str: zeros kept
    assert rows.schema["amount"] == pl.Float64 and rows["amount"].to_list() == [19.9, 5.0, 7.25]
    assert isinstance(rows.schema["ordered_at"], pl.Datetime)
    files = lake.read_table(CAPTURED_FILES_TABLE)["path"].to_list()
    assert sorted(files) == [
        f"s3://acme-landing/orders/{DAY}/export-1.csv",
        f"s3://acme-landing/orders/{DAY}/export-2.csv",
    ]
    audit = lake.read_table(COMPLIANCE_TABLE)
    assert audit.select("decision", "attribution").rows() == [
        ("allowed", "Order data: Example Partner Ltd.")
    ]
