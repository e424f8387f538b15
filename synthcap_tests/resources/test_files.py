"""Reading a file source for a day: the real bundled files, and each way a file can be bad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, parse_spec
from synthcap_resources.sources.files import (
    EmptySourceError,
    SourceFileMissingError,
    SourceReadError,
    read_source_file,
)

DAY = dt.date(2026, 11, 16)


def _spec(tmp_path: Path, fmt: str = "csv"):
    raw = yaml.safe_load((BUNDLED_SOURCES_DIR / "customers.yaml").read_text())
    raw.update(location="files/{date}." + fmt, format=fmt)
    path = tmp_path / "customers.yaml"
    path.write_text(yaml.safe_dump(raw))
    (tmp_path / "files").mkdir(exist_ok=True)
    return parse_spec(path)


def test_bundled_file_keeps_declared_text_as_text() -> None:
    spec = parse_spec(BUNDLED_SOURCES_DIR / "customers.yaml")
    rows = read_source_file(spec, DAY)
    assert rows.height > 100
    assert rows["zip"].str.len_chars().min() == 5  # leading zeros survive


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        SourceFileMissingError, match=r"source 'customers', partition 2026-11-16: no file"
    ):
        read_source_file(_spec(tmp_path), DAY)


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    target = Path(spec.resolve_location(DAY))
    target.write_text("")
    with pytest.raises(EmptySourceError, match="is empty"):
        read_source_file(spec, DAY)
    target.write_text("customer_id,name\n")
    with pytest.raises(EmptySourceError, match="no rows"):
        read_source_file(spec, DAY)


def test_malformed_csv_names_source_partition_and_cause(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    Path(spec.resolve_location(DAY)).write_text('a,b\n1,2\n3,"unterminated\n4,5,6,7\n')
    with pytest.raises(
        SourceReadError, match=r"source 'customers', partition 2026-11-16: cannot parse"
    ):
        read_source_file(spec, DAY)


def test_malformed_jsonl(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "jsonl")
    Path(spec.resolve_location(DAY)).write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(SourceReadError, match="cannot parse .* as jsonl"):
        read_source_file(spec, DAY)
