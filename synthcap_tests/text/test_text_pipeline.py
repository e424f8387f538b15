"""A text source end to end in a real Dagster instance and a real Delta lake.

The bundled multilingual source (two days) goes through capture, privacy, the text profile,
the clean corpus (feature_set) and drift; then a source with one planted literal of
every PII type the redactor knows: none of the literals may be in any table downstream of the
capture (every Delta table of the lake but ``raw/``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.features.assets import feature_set, feature_set_has_no_pii
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.privacy.assets import privacy_report
from synthcap_assets.profile.assets import drift_report
from synthcap_assets.text.assets import TEXT_CHECKS, text_profile
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR
from synthcap_resources.lakehouse import LakehouseResource, features_table, report_table
from synthcap_resources.sources.registry import SourcesResource

DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17))
SOURCE = "multilingual_messages"
ASSETS = [raw_capture, privacy_report, text_profile, feature_set, drift_report]
CHECKS = [feature_set_has_no_pii, *TEXT_CHECKS]


def _run(root: Path, source: str, days) -> dict:
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    results = {}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
        for day in days:
            results[day] = dg.materialize(
                [*ASSETS, *CHECKS],
                partition_key=partition_key(source, day),
                resources=resources,
                instance=instance,
            )
    return results


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakehouseResource, dict]:
    root = tmp_path_factory.mktemp("text")
    (root / "sources").mkdir()
    shutil.copy(BUNDLED_SOURCES_DIR / f"{SOURCE}.yaml", root / "sources")
    results = _run(root, SOURCE, DAYS)
    return LakehouseResource(root=str(root / "lake")), results


def test_text_profile_reports_languages_pii_and_duplicates(bundled) -> None:
    lakehouse, results = bundled
    assert all(r.success for r in results.values())
    profile_rows = lakehouse.read_table(report_table("text_profile"))
    day2 = profile_rows.filter(pl.col("date") == DAYS[1])
    value = {(m, k): v for m, k, v in day2.select("metric", "key", "value").iter_rows()}
    assert {"en", "fr", "de", "es", "it"} <= {k for m, k in value if m == "language"}
    assert {"email", "phone", "iban", "card_number"} <= {k for m, k in value if m == "pii_type"}
    assert value["exact_duplicates", ""] >= 8 and value["near_duplicates", ""] >= 8
    assert value["seen_before", ""] >= 6  # the previous day's messages sent again
    documents = lakehouse.read_table(report_table("text_documents"))
    assert documents.height == sum(
        pl.read_csv(BUNDLED_SOURCES_DIR / f"data/{SOURCE}/{d}.csv").height for d in DAYS
    )
    assert "message" not in documents.columns  # the report never holds the text


def test_corpus_is_deduplicated_redacted_and_labelled(bundled) -> None:
    lakehouse, _ = bundled
    raw = pl.read_csv(BUNDLED_SOURCES_DIR / f"data/{SOURCE}/{DAYS[1]}.csv")
    corpus = lakehouse.read_partition(features_table(SOURCE), {"_date": DAYS[1]})
    docs = lakehouse.read_partition(report_table("text_documents"), {"source": SOURCE})
    docs = docs.filter(pl.col("date") == DAYS[1])
    dropped = docs.filter(
        pl.col("exact_duplicate") | pl.col("near_duplicate") | pl.col("seen_before").is_not_null()
        | pl.col("gopher_quality").is_not_null() | pl.col("gopher_repetition").is_not_null()
    )  # fmt: skip
    assert corpus.height == raw.height - dropped.height > 100
    assert {"topic", "channel", "message__language", "message__gopher_quality"} <= set(
        corpus.columns
    )
    assert corpus["message__language"].is_in(["en", "fr", "de", "es", "it"]).all()
    assert corpus["message"].str.contains("@example.com").sum() == 0
    assert corpus["message__doc"].is_unique().all()


def test_text_checks_and_drift_row(bundled) -> None:
    lakehouse, results = bundled
    checks = {c.check_name: c for c in results[DAYS[1]].get_asset_check_evaluations()}
    for name in ("text_duplicate_share_within", "text_language_purity", "text_filter_pass_rate",
                 "text_corpus_has_no_planted_pii", "feature_set_has_no_pii"):  # fmt: skip
        assert checks[name].passed, (name, checks[name].description)
    drift = lakehouse.read_partition(report_table("drift_report"), {"source": SOURCE})
    row = drift.filter((pl.col("date") == DAYS[1]) & (pl.col("column") == "message"))
    assert row["kind"].to_list() == ["text"] and row["method"][0].startswith("text_")


PLANTED = {
    "email": "zed.quist@example.net",
    "phone": "+33 1 42 68 53 00",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "card_number": "4532 0151 1283 0366",
    "national_id": "078-05-1120",
    "ip_address": "203.0.113.77",
    "person_name": "Mr. Hargreaves",
    "address": "1600 Pennsylvania Avenue",
    "birth_date": "born on 1984-03-12",
}


def test_planted_literals_of_every_type_reach_nothing_downstream(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    day = dt.date(2026, 12, 1)
    filler = [f"Note {i}: the delivery of order {i} was late by {i % 5} days, sorry." for i in
              range(40)]  # fmt: skip
    texts = filler + [f"Hello, please use {literal} for the claim." for literal in PLANTED.values()]
    pl.DataFrame({"id": [f"n{i}" for i in range(len(texts))], "body": texts}).write_csv(
        data / f"{day}.csv"
    )
    spec = f"""\
        id: notes
        title: notes with planted PII
        kind: file
        location: {data}/{{date}}.csv
        format: csv
        start_date: {day}
        license: Apache-2.0
        terms_url: https://www.apache.org/licenses/LICENSE-2.0
        domain: text
        text_column: body
        text:
          canaries: ["{PLANTED["email"]}", "{PLANTED["iban"]}"]
        """
    (tmp_path / "sources" / "notes.yaml").write_text(textwrap.dedent(spec))
    results = _run(tmp_path, "notes", [day])
    assert results[day].success
    lake = tmp_path / "lake"
    tables = [p.parent for p in lake.rglob("_delta_log") if "raw" not in p.parent.parts]
    assert any(p.name == "notes" and p.parent.name == "features" for p in tables)
    needles = [*PLANTED.values(), "Hargreaves", "1984-03-12"]
    for table in tables:
        frame = pl.from_arrow(DeltaTable(str(table)).to_pyarrow_table())
        for column, dtype in frame.schema.items():
            if dtype != pl.String:
                continue
            for needle in needles:
                assert not frame[column].str.contains(needle, literal=True).any(), (
                    table, column, needle,
                )  # fmt: skip
    corpus = pl.from_arrow(DeltaTable(str(lake / "features" / "notes")).to_pyarrow_table())
    assert corpus.height == len(texts)
    profile_rows = pl.from_arrow(DeltaTable(str(lake / "reports/text_profile")).to_pyarrow_table())
    found = set(profile_rows.filter(pl.col("metric") == "pii_type")["key"])
    assert found == set(PLANTED)
