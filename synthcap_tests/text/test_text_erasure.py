"""A text source's per-document tables (``reports/text_documents``, ``state/text_signatures``)
under the right to erasure and retention, on real Delta tables that real materializations
wrote: an erased person's documents leave both tables (and every readable version), so a
later day is no longer matched against them; expired days leave both tables too."""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from synthcap_assets.automation.retention import enforce_retention
from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.privacy.erasure import erase
from synthcap_assets.text.assets import text_profile
from synthcap_assets.text.day import SIGNATURES
from synthcap_assets.text.dedup import exact_keys, normalize
from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource, raw_table, report_table
from synthcap_resources.sources.registry import SourcesResource

D1, D2, D3 = dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)
DOCUMENTS = report_table("text_documents")
SUBJECT = "Please cancel the standing order on my account before Friday, I moved abroad."
TOPICS = ["parcel", "refund", "invoice", "warranty", "login", "battery", "screen", "cable"]


def _day_texts(day: dt.date) -> list[str]:
    """Distinct messages of the day (no two near each other)."""
    return [
        f"Message {i} of {day}: the {TOPICS[i % len(TOPICS)]} issue number {i * 37 + day.day} "
        f"is still open after {i % 9 + 2} days and {day.strftime('%A')} is too late."
        for i in range(12)
    ]


def _write_day(data: Path, day: dt.date, extra: list[tuple[str, str]]) -> None:
    rows = [(f"c{day.day}_{i}", t) for i, t in enumerate(_day_texts(day))] + extra
    pl.DataFrame(rows, schema=["customer", "body"], orient="row").write_csv(data / f"{day}.csv")


def _spec(root: Path, retention_days: int | None = None) -> Path:
    spec = f"""\
        id: notes
        title: notes for erasure
        kind: file
        location: {root / "data"}/{{date}}.csv
        format: csv
        start_date: {D1}
        license: Apache-2.0
        terms_url: https://www.apache.org/licenses/LICENSE-2.0
        domain: text
        text_column: body
        """
    if retention_days is not None:
        spec += f"retention_days: {retention_days}\n"
    path = root / "sources" / "notes.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(spec))
    return path


def _materialize(root: Path, days: list[dt.date]) -> None:
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["notes"])
        for day in days:
            result = dg.materialize(
                [raw_capture, text_profile],
                partition_key=partition_key("notes", day),
                resources=resources,
                instance=instance,
            )
            assert result.success


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days; the subject ("ana") wrote one message on each, and day 2 repeats day 1's
    message 3 (sent by someone else), which day 2 must see as seen before."""
    root = tmp_path_factory.mktemp("text_erasure")
    (root / "data").mkdir()
    _spec(root)
    _write_day(root / "data", D1, [("ana", SUBJECT)])
    _write_day(root / "data", D2, [("ana", f"{SUBJECT} Thanks."), ("bob", _day_texts(D1)[3])])
    _materialize(root, [D1, D2])
    return root


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    _spec(copy)  # the copy's catalog points at its own data
    return copy


def _key(text: str) -> int:
    return int(exact_keys([normalize(text)])[0])


def _rows(lake: LakehouseResource, table: str) -> pl.DataFrame:
    return lake.read_table(table).filter(pl.col("source") == "notes")


def test_erasing_a_subject_removes_their_documents_and_signatures(root: Path) -> None:
    lake = LakehouseResource(root=str(root / "lake"))
    subject_keys = {_key(SUBJECT), _key(f"{SUBJECT} Thanks.")}
    for table in (DOCUMENTS, SIGNATURES):
        before = _rows(lake, table)
        assert before.height == 12 + 1 + 12 + 2
        assert subject_keys <= set(before["exact_key"])
    result = erase(lake, "notes", "customer = 'ana'", "dpo")
    assert result.rows_removed[raw_table("notes")] == 2
    assert result.rows_removed[DOCUMENTS] == result.rows_removed[SIGNATURES] == 2
    for table in (DOCUMENTS, SIGNATURES):
        after = _rows(lake, table)
        assert after.height == 12 + 12 + 1
        assert not subject_keys & set(after["exact_key"])
        # No older version of the table stays readable: it would still hold the rows.
        with pytest.raises(DeltaError):
            DeltaTable(lake.uri(table), version=0)
    # A later day with the subject's text, sent again by someone else, is no longer matched
    # against the erased document; the repeat of another message still is.
    _write_day(root / "data", D3, [("carl", SUBJECT), ("dan", _day_texts(D2)[5])])
    _materialize(root, [D3])
    day3 = _rows(lake, DOCUMENTS).filter(pl.col("date") == D3).sort("doc")
    assert day3["seen_before"].to_list()[-2:] == [None, f"{D2}#5"]


def test_retention_removes_expired_documents_and_signatures(root: Path) -> None:
    lake = LakehouseResource(root=str(root / "lake"))
    spec = parse_spec(_spec(root, retention_days=1))
    decisions = enforce_retention(lake, spec, D2 + dt.timedelta(days=1))
    reasons = " ".join(d.reason for d in decisions)
    assert f"from {SIGNATURES}" in reasons and f"from {DOCUMENTS}" in reasons
    for table in (DOCUMENTS, SIGNATURES, report_table("text_profile")):
        assert set(_rows(lake, table)["date"]) == {D2}, table
        with pytest.raises(DeltaError):
            DeltaTable(lake.uri(table), version=0)
    # Day 2 itself still marks the repeat of a day-1 message: history is judged when written.
    day2 = _rows(lake, DOCUMENTS).sort("doc")
    assert day2["seen_before"].to_list()[-1] == f"{D1}#3"
