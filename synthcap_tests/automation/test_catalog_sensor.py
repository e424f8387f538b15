"""The catalog sensor with a broken file in the catalog, on a real Dagster instance: the valid
specs are registered first, the tick fails naming the file, field and cause, and the broken file
is alerted once (the alerts table holds one row however many ticks fail), again only when its
error changes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_assets.automation.sensors import CatalogSensorError, catalog_sensor
from synthcap_assets.partitions import SOURCE_DIMENSION
from synthcap_resources.alerts import ALERTS_TABLE, AlertsResource
from synthcap_resources.catalog_resource import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled


def test_broken_spec_fails_the_tick_after_registering_the_valid_ones_and_alerts_once(
    tmp_path: Path,
) -> None:
    sources = copy_bundled(tmp_path / "sources", "market_prices", "customers")
    (sources / "orders.yaml").write_text("id: orders\ntitle: Orders\nkind: file\n")
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    resources = {
        "catalog": CatalogResource(folder=str(sources)),
        "lakehouse": lake,
        "alerts": AlertsResource(),
    }
    with dg.instance_for_test() as instance:
        for _ in range(3):  # the daemon ticks every 30 s while the file stays broken
            context = dg.build_sensor_context(instance=instance, resources=resources)
            with pytest.raises(CatalogSensorError) as failed:
                catalog_sensor(context)
        registered = sorted(instance.get_dynamic_partitions(SOURCE_DIMENSION))
    assert registered == ["customers", "market_prices"]
    message = str(failed.value)
    assert "orders.yaml" in message and "field 'start_date'" in message
    alerts = lake.read_table(ALERTS_TABLE)
    assert alerts.height == 1
    (alert,) = alerts.to_dicts()
    assert alert["kind"] == "catalog_invalid" and alert["severity"] == "ERROR"
    assert "orders.yaml" in alert["observed"] and "field 'start_date'" in alert["observed"]

    # A different error in the same file is news: one more alert, then quiet again.
    (sources / "orders.yaml").write_text("id: orders\n  bad: [yaml\n")
    with dg.instance_for_test() as instance:
        for _ in range(2):
            with pytest.raises(CatalogSensorError, match="not valid YAML"):
                catalog_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    assert lake.read_table(ALERTS_TABLE).filter(pl.col("kind") == "catalog_invalid").height == 2
