"""Features take quasi-identifiers only in generalized form and text only redacted, end to end.

A real table (la-riots from ``vega_datasets``: names, addresses, ages, gender, places and dates
of 63 people) and a text table with planted PII are captured from CSV files by ``raw_capture``
on a real Dagster instance and a real Delta lake; ``privacy_report`` and ``feature_set`` run
after it, and the features are compared with pandas on the generalized rows.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from vega_datasets import local_data

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.features.assets import feature_set, feature_set_has_no_pii
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.privacy.assets import privacy_report
from synthcap_resources.lakehouse import LakehouseResource, features_table, report_table
from synthcap_resources.sources.registry import SourcesResource

DAY = dt.date(2026, 12, 1)
SPEC = """\
id: {id}
title: {id} (real table from vega_datasets)
kind: file
location: {folder}/{{date}}.csv
format: csv
start_date: 2026-12-01
license: BSD-3-Clause
terms_url: https://github.com/altair-viz/vega_datasets
domain: {domain}
subject: person
"""


def _source(root: Path, source: str, frame: pl.DataFrame, domain: str, extra: str = "") -> None:
    folder = root / "data" / source
    folder.mkdir(parents=True)
    frame.write_csv(folder / f"{DAY}.csv")
    spec = SPEC.format(id=source, folder=folder, domain=domain) + textwrap.dedent(extra)
    (root / "sources" / f"{source}.yaml").write_text(spec)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakehouseResource, dict]:
    root = tmp_path_factory.mktemp("handled")
    (root / "sources").mkdir()
    riots = pl.from_pandas(local_data.la_riots()).with_columns(pl.col("death_date").dt.date())
    _source(root, "riots", riots, "tabular")
    notes = [f"ticket {i} about the delivery" for i in range(40)]
    notes[3] = "my card 4111 1111 1111 1111 was charged twice"
    notes[7] = "hi, my name is Maria and my email is maria@example.org"
    tickets = pl.DataFrame({"ticket": [f"t{i}" for i in range(40)], "body": notes})
    _source(root, "tickets", tickets, "text", "text_column: body\nentity_column: ticket\n")
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    results = {}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["riots", "tickets"])
        for source in ("riots", "tickets"):
            results[source] = dg.materialize(
                [raw_capture, privacy_report, feature_set, feature_set_has_no_pii],
                partition_key=partition_key(source, DAY),
                resources=resources,
                instance=instance,
            )
    return LakehouseResource(root=str(root / "lake")), {"frame": riots, **results}


def test_quasi_identifiers_enter_features_generalized(lake) -> None:
    lakehouse, results = lake
    assert results["riots"].success
    checks = results["riots"].get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["feature_set_has_no_pii"]
    assert all(c.passed for c in checks)
    features = lakehouse.read_partition(features_table("riots"), {"_date": DAY})
    riots = results["frame"]
    assert not any(c.startswith(("first_name", "last_name", "address")) for c in features.columns)
    # age: z-scores of the 5-year bands, not of the ages (pandas on the banded values).
    bands = (riots["age"].to_numpy() // 5) * 5
    expected = (bands - np.nanmean(bands)) / np.nanstd(bands)
    np.testing.assert_allclose(features["age__z"].to_numpy(), expected, rtol=1e-9, equal_nan=True)
    assert not np.allclose(
        features["age__z"].to_numpy(),
        (riots["age"].to_numpy() - np.nanmean(riots["age"])) / np.nanstd(riots["age"]),
        equal_nan=True,
    )
    # gender: a QI whose categories all hold 5+ rows, so kept as categories.
    assert features["gender__is_male"].sum() == (riots["gender"] == "Male").sum()
    # latitude rounded to 2 decimals before scaling.
    lat = np.round(riots["latitude"].to_numpy(), 2)
    np.testing.assert_allclose(features["latitude__z"], (lat - lat.mean()) / lat.std(), rtol=1e-9)
    report = lakehouse.read_partition(report_table("privacy_report"), {"source": "riots"})
    table = report.filter(pl.col("column") == "*").to_dicts()[0]
    assert len(table["qi_combination"].split(", ")) == 3 and table["k_anonymity"] == 1


def test_text_features_are_counted_on_redacted_text(lake) -> None:
    lakehouse, results = lake
    assert results["tickets"].success
    report = lakehouse.read_partition(report_table("privacy_report"), {"source": "tickets"})
    body = report.filter(pl.col("column") == "body").to_dicts()[0]
    assert body["handling"] == "redact" and body["match_share"] == pytest.approx(2 / 40)
    features = lakehouse.read_partition(features_table("tickets"), {"_date": DAY}).sort("ticket")
    by_ticket = dict(zip(features["ticket"], features["body__digits"], strict=True))
    assert by_ticket["t3"] == 0  # the card's 16 digits were redacted before counting
    assert by_ticket["t12"] == 2
    words = dict(zip(features["ticket"], features["body__words"], strict=True))
    assert words["t7"] == 10  # "hi, my name is <PERSON> and my email is <EMAIL>"
