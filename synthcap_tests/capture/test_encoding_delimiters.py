"""Bytes are never replaced and delimiters are never guessed silently: the catalog's
``encoding``, ``delimiter``, ``decimal`` and ``quote`` on the malformed files real sources send,
each read compared with pandas reading the same bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
import yaml

from synthcap_resources.catalog import parse_spec
from synthcap_resources.sources.base import DateWindow, SourceReadError
from synthcap_resources.sources.file_formats import decode_text, sniff_delimiter
from synthcap_resources.sources.files import (
    FileConnector,
    SourceEncodingError,
    read_source_file,
)
from synthcap_tests.capture import malformed

DAY = malformed.DAY1
WINDOW = DateWindow.of_day(DAY)


def _spec(root: Path, fmt: str = "csv", ext: str = "csv", **extra):
    raw = {
        "id": "landing",
        "title": "landing zone",
        "kind": "file",
        "location": "files/{date}." + ext,
        "format": fmt,
        "start_date": "2026-11-01",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "text" if fmt == "text" else "tabular",
        **({"text_column": "body"} if fmt == "text" else {}),
        **extra,
    }
    path = root / "landing.yaml"
    path.write_text(yaml.safe_dump(raw))
    return parse_spec(path)


def test_latin1_fails_with_line_offset_and_a_suggestion_that_decodes_it(tmp_path: Path) -> None:
    path = malformed.write_latin1_csv(tmp_path / "files")
    spec = _spec(tmp_path)
    for read in (lambda: FileConnector().read(spec, WINDOW), lambda: read_source_file(spec, DAY)):
        with pytest.raises(SourceEncodingError) as caught:
            read()
        message = str(caught.value)
        assert f"source 'landing', partition {DAY}: cannot decode {path}" in message
        assert "not valid utf-8 at line 2" in message
        assert f"byte offset {malformed.LATIN1_FIRST_BAD_OFFSET} (byte(s) e9" in message
        suggested = re.search(r"declare `encoding: ([\w-]+)`", message).group(1)
        # The suggestion is judged on the bytes, not on its name: it must give back the text.
        assert path.read_bytes().decode(suggested) == malformed.LATIN1_TEXT


def test_declared_encoding_reads_the_names_intact(tmp_path: Path) -> None:
    path = malformed.write_latin1_csv(tmp_path / "files")
    rows = FileConnector().read(_spec(tmp_path, encoding="latin-1"), WINDOW).rows
    expected = pd.read_csv(path, encoding="latin-1")
    assert rows["name"].to_list() == malformed.LATIN1_NAMES == expected["name"].tolist()
    assert rows["city"].to_list() == expected["city"].tolist()
    assert not any("\ufffd" in v for v in rows["name"].to_list())


@pytest.mark.parametrize(("fmt", "ext"), [("jsonl", "jsonl"), ("json", "json"), ("text", "txt")])
def test_other_text_formats_fail_on_undecodable_bytes(tmp_path: Path, fmt: str, ext: str) -> None:
    body = {
        "jsonl": '{"name": "Ann"}\n{"name": "José"}\n',
        "json": '[{"name": "Ann"}, {"name": "José"}]',
        "text": "first line\nJosé wrote this\n",
    }[fmt]
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / f"{DAY}.{ext}").write_bytes(body.encode("cp1252"))
    spec = _spec(tmp_path, fmt, ext)
    with pytest.raises(SourceEncodingError, match=r"not valid utf-8 at line \d+, column \d+"):
        FileConnector().read(spec, WINDOW)
    good = FileConnector().read(_spec(tmp_path, fmt, ext, encoding="cp1252"), WINDOW).rows
    column = "body" if fmt == "text" else "name"
    assert any("José" in v for v in good[column].to_list())


def test_bom_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = malformed.write_bom_semicolon_csv(tmp_path / "files")
    expected = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    for declared in ({}, {"delimiter": ";"}):  # sniffed, then declared
        rows = FileConnector().read(_spec(tmp_path, decimal=",", **declared), WINDOW).rows
        assert rows.columns == ["id", "name", "amount", "city"] == list(expected.columns)
        assert rows.schema["amount"] == pl.Float64
        assert rows["amount"].to_list() == malformed.SEMICOLON_AMOUNTS
        assert rows["amount"].to_list() == expected["amount"].tolist()
        assert rows["city"].to_list() == expected["city"].tolist()


def test_a_header_of_one_column_names_the_delimiter_it_holds(tmp_path: Path) -> None:
    malformed.write_bom_semicolon_csv(tmp_path / "files")
    with pytest.raises(SourceReadError, match=r"one column with delimiter ',', but .* hold ';'"):
        FileConnector().read(_spec(tmp_path, delimiter=","), WINDOW)
    with pytest.raises(SourceReadError, match=r"decimal ',' needs a delimiter other than ','"):
        FileConnector().read(_spec(tmp_path, delimiter=",", decimal=","), WINDOW)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_sniffed_delimiter_matches_pandas_on_random_rows(tmp_path: Path, delimiter: str) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": np.arange(200),
            "score": rng.normal(50, 10, 200).round(3),
            "city": rng.choice(["Oslo", "Bergen, Vestland", "Tromsø"], 200),  # quoted commas
            "flag": rng.integers(0, 2, 200),
        }
    )
    (tmp_path / "files").mkdir()
    target = tmp_path / "files" / f"{DAY}.csv"
    frame.to_csv(target, sep=delimiter, index=False)
    assert sniff_delimiter(target.read_text()) == delimiter
    rows = FileConnector().read(_spec(tmp_path), WINDOW).rows
    expected = pd.read_csv(target, sep=delimiter)
    assert rows.columns == list(expected.columns)
    assert rows["score"].to_list() == expected["score"].tolist()
    assert rows["city"].to_list() == expected["city"].tolist()


def test_declared_quote_character(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    text = "id|note\n1|'a|b, c'\n2|plain\n"
    (tmp_path / "files" / f"{DAY}.csv").write_text(text)
    rows = FileConnector().read(_spec(tmp_path, quote="'"), WINDOW).rows
    expected = pd.read_csv(io.StringIO(text), sep="|", quotechar="'")
    assert rows["note"].to_list() == ["a|b, c", "plain"] == expected["note"].tolist()


def test_ragged_rows_are_quarantined_with_their_line(tmp_path: Path) -> None:
    malformed.write_ragged_csv(tmp_path / "files")
    batch = FileConnector().read(_spec(tmp_path), WINDOW)
    assert batch.rows["id"].to_list() == malformed.RAGGED_GOOD_IDS
    assert batch.rejected["_row"].to_list() == malformed.RAGGED_BAD_LINES
    assert batch.rejected["_reason"].to_list() == [
        "line 3: 4 fields, header has 3",
        "line 5: 2 fields, header has 3",
    ]
    with pytest.raises(SourceReadError, match="line 3: 4 fields"):  # the strict reader refuses
        read_source_file(_spec(tmp_path), DAY)
    # Rows that are only short (polars would pad them with nulls) are caught all the same.
    (tmp_path / "files" / f"{DAY}.csv").write_text("id,name,amount\n1,a,1.5\n2,b\n3,c,\n")
    batch = FileConnector().read(_spec(tmp_path), WINDOW)
    assert batch.rows["id"].to_list() == [1, 3] and batch.rows["amount"].to_list() == [1.5, None]
    assert batch.rejected["_reason"].to_list() == ["line 3: 2 fields, header has 3"]
    with pytest.raises(SourceReadError, match="line 3: 2 fields, header has 3"):
        read_source_file(_spec(tmp_path), DAY)


def test_decode_text_strips_only_a_leading_bom() -> None:
    text = "\ufeffid\nthe \ufeff inside stays\n"
    assert decode_text(text.encode("utf-8"), "utf-8") == text[1:]
    assert decode_text(dt.date(2026, 1, 1).isoformat().encode(), "utf-8") == "2026-01-01"
