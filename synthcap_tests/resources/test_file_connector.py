"""The file connector: every format (CSV, JSON Lines, JSON, Parquet, Excel, text, PDF), a
per-date glob, malformed rows returned for quarantine, and ``s3://`` against moto's S3 server
running on loopback (a real S3 HTTP API, no mocking inside the process)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from synthcap_resources.catalog import parse_spec
from synthcap_resources.sources.base import (
    DateWindow,
    EmptySourceError,
    SourceFileMissingError,
    SourceReadError,
)
from synthcap_resources.sources.files import FileConnector
from synthcap_tests.s3 import s3_server  # noqa: F401 (a fixture, used by name)

DAY = dt.date(2026, 11, 16)
WINDOW = DateWindow.of_day(DAY)
FRAME = pl.DataFrame(
    {"id": [1, 2, 3], "name": ["ann", "bob", "cy"], "zip": ["01730", "02139", "10001"]}
)


def _spec(folder: Path, location: str, fmt: str, **extra):
    raw = {
        "id": "landing",
        "title": "landing zone",
        "kind": "file",
        "location": location,
        "format": fmt,
        "start_date": "2026-11-01",
        "license": "CC-BY-4.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
        **extra,
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "landing.yaml"
    path.write_text(yaml.safe_dump(raw))
    return parse_spec(path)


def _write(path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        FRAME.write_csv(path)
    elif fmt == "jsonl":
        FRAME.write_ndjson(path)
    elif fmt == "json":
        FRAME.write_json(path)
    elif fmt == "parquet":
        FRAME.write_parquet(path)
    elif fmt == "excel":
        FRAME.write_excel(path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json", "parquet", "excel"])
def test_tabular_formats(tmp_path: Path, fmt: str) -> None:
    ext = {"excel": "xlsx"}.get(fmt, fmt)
    _write(tmp_path / "files" / f"{DAY}.{ext}", fmt)
    spec = _spec(
        tmp_path, "files/{date}." + ext, fmt, schema={"id": "int", "name": "str", "zip": "str"}
    )
    batch = FileConnector().read(spec, WINDOW)
    assert batch.rows["name"].to_list() == ["ann", "bob", "cy"]
    assert batch.rows["zip"].to_list() == ["01730", "02139", "10001"]  # text stays text
    assert batch.rejected is None
    assert [f.path for f in batch.files] == [str(tmp_path / "files" / f"{DAY}.{ext}")]
    assert batch.files[0].size > 0


def test_text_corpus_one_row_per_line(tmp_path: Path) -> None:
    target = tmp_path / "corpus" / f"{DAY}.txt"
    target.parent.mkdir()
    target.write_text("My card was charged twice.\n\n  How do I reset my password?  \nThanks!\n")
    spec = _spec(tmp_path, "corpus/{date}.txt", "text", domain="text", text_column="utterance")
    rows = FileConnector().read(spec, WINDOW).rows
    assert rows["utterance"].to_list() == [
        "My card was charged twice.",
        "How do I reset my password?",
        "Thanks!",
    ]
    assert rows["line"].to_list() == [1, 3, 4]


def test_pdf_one_row_per_page(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for text in ("Quarterly report: revenue grew.", "Risk factors: supply chain."):
        pdf.add_page()
        pdf.set_font("helvetica", size=12)
        pdf.cell(text=text)
    target = tmp_path / "docs" / f"{DAY}.pdf"
    target.parent.mkdir()
    pdf.output(str(target))
    spec = _spec(tmp_path, "docs/{date}.pdf", "pdf", domain="text", text_column="body")
    rows = FileConnector().read(spec, WINDOW).rows
    assert rows["page"].to_list() == [1, 2]
    assert "revenue grew" in rows["body"][0] and "supply chain" in rows["body"][1]


def test_not_a_pdf_fails_clearly(tmp_path: Path) -> None:
    target = tmp_path / "docs" / f"{DAY}.pdf"
    target.parent.mkdir()
    target.write_bytes(b"%PDF-1.4 this is not really a pdf")
    spec = _spec(tmp_path, "docs/{date}.pdf", "pdf", domain="text", text_column="body")
    with pytest.raises(SourceReadError, match=r"partition 2026-11-16: cannot parse .* as pdf"):
        FileConnector().read(spec, WINDOW)


def test_per_date_glob_reads_every_matching_file(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "orders" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("order_id,amount\n1,9.5\n2,3.0\n")
    (folder / "b.csv").write_text("order_id,amount\n3,1.25\n")
    (folder / "notes.txt").write_text("ignored: not *.csv")
    (tmp_path / "landing" / "orders" / "2026-11-17").mkdir()
    spec = _spec(tmp_path, "landing/orders/{date}/*.csv", "csv")
    batch = FileConnector().read(spec, WINDOW)
    assert sorted(batch.rows["order_id"].to_list()) == [1, 2, 3]
    assert [Path(f.path).name for f in batch.files] == ["a.csv", "b.csv"]
    with pytest.raises(SourceFileMissingError, match=r"partition 2026-11-17: no file matches"):
        FileConnector().read(spec, DateWindow.of_day(dt.date(2026, 11, 17)))


def test_malformed_rows_come_back_for_quarantine(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / f"{DAY}.csv").write_text("id,name\n1,ann\n2,bob,extra\n3,cy\n4\n")
    batch = FileConnector().read(_spec(tmp_path, "files/{date}.csv", "csv"), WINDOW)
    assert batch.rows["id"].to_list() == [1, 3]
    assert batch.rejected["_row"].to_list() == [3, 5]
    assert batch.rejected["_reason"][0] == "line 3: 3 fields, header has 2"

    (folder / f"{DAY}.jsonl").write_text('{"id": 1}\n{"id": \n[1, 2]\n{"id": 4}\n')
    batch = FileConnector().read(_spec(tmp_path, "files/{date}.jsonl", "jsonl"), WINDOW)
    assert batch.rows["id"].to_list() == [1, 4]
    assert batch.rejected["_row"].to_list() == [2, 3]
    assert batch.rejected["_reason"][0].startswith("not JSON")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / f"{DAY}.csv").write_text("")
    with pytest.raises(
        EmptySourceError, match=r"source 'landing', partition 2026-11-16: .* is empty"
    ):
        FileConnector().read(_spec(tmp_path, "files/{date}.csv", "csv"), WINDOW)


@pytest.mark.usefixtures("s3_server")
def test_s3_glob_and_formats(tmp_path: Path) -> None:
    import io

    import boto3

    s3 = boto3.client("s3")  # endpoint and keys: the moto server, from AWS_*
    s3.create_bucket(Bucket="landing")
    buffer = io.BytesIO()
    FRAME.write_parquet(buffer)
    s3.put_object(Bucket="landing", Key=f"orders/{DAY}/part-0.parquet", Body=buffer.getvalue())
    s3.put_object(Bucket="landing", Key=f"orders/{DAY}/part-1.parquet", Body=buffer.getvalue())
    s3.put_object(Bucket="landing", Key=f"orders/{DAY}/deep/part-2.parquet", Body=buffer.getvalue())
    s3.put_object(Bucket="landing", Key=f"text/{DAY}.txt", Body=b"first line\nsecond line\n")

    spec = _spec(tmp_path, "s3://landing/orders/{date}/*.parquet", "parquet")
    batch = FileConnector().read(spec, WINDOW)
    assert batch.rows.height == 6  # two files at that level; deep/ is not matched by '*'
    assert [f.path for f in batch.files] == [
        f"s3://landing/orders/{DAY}/part-0.parquet",
        f"s3://landing/orders/{DAY}/part-1.parquet",
    ]
    text = _spec(tmp_path, "s3://landing/text/{date}.txt", "text", domain="text", text_column="t")
    assert FileConnector().read(text, WINDOW).rows["t"].to_list() == ["first line", "second line"]
    with pytest.raises(SourceFileMissingError, match="no file at s3://landing/text/2026-11-17.txt"):
        FileConnector().read(text, DateWindow.of_day(dt.date(2026, 11, 17)))


def test_check_and_discover(tmp_path: Path) -> None:
    from synthcap_resources.sources.base import SourceUnreachableError

    spec = _spec(tmp_path, "nowhere/{date}.csv", "csv")
    with pytest.raises(SourceUnreachableError, match=r"source 'landing': landing folder .*nowhere"):
        FileConnector().check(spec)
    _write(tmp_path / "files" / "2026-11-01.csv", "csv")
    spec = _spec(tmp_path, "files/{date}.csv", "csv")
    FileConnector().check(spec)
    assert FileConnector().discover(spec) == {"id": "int", "name": "str", "zip": "int"}


@pytest.mark.usefixtures("s3_server")
def test_s3_missing_bucket_is_unreachable(tmp_path: Path) -> None:
    from synthcap_resources.sources.base import SourceUnreachableError

    spec = _spec(tmp_path, "s3://no-such-bucket/{date}.csv", "csv")
    with pytest.raises(SourceUnreachableError, match="cannot list s3://no-such-bucket"):
        FileConnector().check(spec)
    with pytest.raises(SourceUnreachableError, match=r"partition 2026-11-16: cannot list"):
        FileConnector().read(spec, WINDOW)


def test_corrupt_workbook_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / f"{DAY}.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    spec = _spec(tmp_path, "files/{date}.xlsx", "excel")
    with pytest.raises(
        SourceReadError,
        match=r"partition 2026-11-16: cannot parse .* as excel: not a readable workbook",
    ):
        FileConnector().read(spec, WINDOW)
