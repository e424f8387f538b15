"""A source with a frozen (inferred) contract on a real instance and lake, for alert tests.

``feed`` is shaped like the bundled ``market_prices`` but declares no schema, so its first
capture infers the contract and freezes it. Day 1 is the bundled file; day 2 is the bundled
next day with two ``volume`` values broken. Metric history for the three days before day 1
is seeded with tiny row counts, so day 1's row count is an anomaly (a warning).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import yaml

from synthcap_assets.automation.alerting import alert_sensor
from synthcap_assets.automation.conditions import automated, automated_checks
from synthcap_assets.definitions import ASSETS, CHECKS, build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.quality.history import METRICS_TABLE
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR
from synthcap_resources.lakehouse import LakehouseResource

SOURCE = "feed"
DAY1, DAY2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)
BROKEN_ROWS = (3, 7)  # 1-based data rows of day 2 whose volume is not a number
scenario_job = dg.define_asset_job(
    "scenario_job", selection=dg.AssetSelection.assets("raw_capture", "quality_report", "profile")
)


def write_sources(folder: Path) -> Path:
    """The ``feed`` spec and its two daily files; returns the catalog folder."""
    spec = {
        "id": SOURCE,
        "title": "Daily bars with a frozen contract",
        "kind": "file",
        "location": "feed/{date}.csv",
        "format": "csv",
        "start_date": DAY1.isoformat(),
        "license": "Apache-2.0",
        "terms_url": "https://www.apache.org/licenses/LICENSE-2.0",
        "domain": "financial",
        "contract": {"mode": "freeze"},
        "quality": {"threshold": 50, "min_rows": 100, "rules": ["high >= low"]},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SOURCE}.yaml").write_text(yaml.safe_dump(spec))
    (folder / "feed").mkdir(exist_ok=True)
    for day in (DAY1, DAY2):
        bundled = BUNDLED_SOURCES_DIR / "data" / "market_prices" / f"{day}.csv"
        lines = bundled.read_text().splitlines()
        if day == DAY2:
            header = lines[0].split(",")
            for row in BROKEN_ROWS:
                cells = lines[row].split(",")
                cells[header.index("volume")] = "lots"
                lines[row] = ",".join(cells)
        (folder / "feed" / f"{day}.csv").write_text("\n".join(lines) + "\n")
    return folder


def seed_metric_history(lakehouse: LakehouseResource) -> None:
    """Three earlier days with 10, 11 and 12 rows: 600 rows on day 1 is far outside."""
    for back, rows in ((3, 10.0), (2, 11.0), (1, 12.0)):
        day = DAY1 - dt.timedelta(days=back)
        frame = pl.DataFrame(
            {
                "source": [SOURCE],
                "date": [day],
                "column": ["*"],
                "metric": ["row_count"],
                "value": [rows],
            }
        )
        lakehouse.write_partition(METRICS_TABLE, frame, {"source": SOURCE, "date": day})


def scenario_definitions(lake: str, sources: Path) -> dg.Definitions:
    """The real assets, checks and resources, with a job that stops after profile."""
    return dg.Definitions(
        assets=automated(ASSETS),
        asset_checks=automated_checks(CHECKS),
        jobs=[scenario_job],
        sensors=[alert_sensor],
        resources=build_resources(lake, str(sources)),
    )


def run_day(
    defs: dg.Definitions, instance: dg.DagsterInstance, day: dt.date
) -> dg.ExecuteInProcessResult:
    if SOURCE not in instance.get_dynamic_partitions(SOURCE_DIMENSION):
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
    return defs.resolve_job_def(scenario_job.name).execute_in_process(
        partition_key=partition_key(SOURCE, day), instance=instance, raise_on_error=False
    )
