"""The fast CSV path (``file_csv``) against independent references, on random files: field
counts against Python's ``csv`` module, typed reading against polars' own
``read_csv(try_parse_dates=True)``, and whole files (good rows, quarantined rows) against
the rows the ``csv`` module splits."""

from __future__ import annotations

import csv
import io
import random

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from synthcap_resources.sources import file_csv
from synthcap_resources.sources.file_csv import read_typed, record_fields
from synthcap_resources.sources.file_formats import FileParseError, parse_file

WORDS = ["a", "bb", "c c", "d,d", 'e"e', "f\nf", "", "12", "3.5", "x;y", "z|w"]


def _field(rng: random.Random, delimiter: str, quote: str) -> str:
    word = rng.choice(WORDS).replace(",", delimiter).replace('"', quote)
    special = any(c in word for c in (delimiter, quote, "\n")) or rng.random() < 0.1
    return quote + word.replace(quote, quote * 2) + quote if special else word


def _random_csv(rng: random.Random, delimiter: str, quote: str) -> str:
    header = 1 + rng.randrange(5)
    lines = [delimiter.join(f"h{i}" for i in range(header))]
    for _ in range(rng.randrange(1, 40)):
        roll = rng.random()
        if roll < 0.05:
            lines.append("")  # a blank line
            continue
        count = header if roll < 0.8 else max(1, header + rng.choice([-2, -1, 1, 2]))
        lines.append(delimiter.join(_field(rng, delimiter, quote) for _ in range(count)))
    end = rng.choice(["\n", "\r\n"])
    return end.join(lines) + (end if rng.random() < 0.8 else "")


@pytest.mark.parametrize("delimiter,quote", [(",", '"'), (";", '"'), ("\t", "'"), ("|", '"')])
def test_field_counts_match_the_csv_module(delimiter: str, quote: str) -> None:
    rng = random.Random(7)
    for _ in range(300):
        text = _random_csv(rng, delimiter, quote)
        expected = [
            len(r)
            for r in csv.reader(
                io.StringIO(text), delimiter=delimiter, quotechar=quote, strict=True
            )
        ]
        records = record_fields(text.encode(), delimiter, quote)
        assert records is not None, text
        assert records.fields.tolist() == expected, text
        bad = [i for i, n in enumerate(expected) if n and n != expected[0]]
        assert records.bad().tolist() == bad
        if not bad and quote not in text:  # the total-count shortcut agrees
            shortcut = record_fields(text.encode(), delimiter, quote, at_most=expected[0])
            assert shortcut.fields.tolist() == expected


def test_field_counts_leave_what_only_the_csv_module_settles() -> None:
    assert record_fields(b"a,b\r1,2\n", ",", '"') is None  # a bare \r ends a record there
    assert record_fields(b'a,b\n1,x"y\n', ",", '"') is None  # a quote inside a field
    assert record_fields(b'a,b\n1,"open\n', ",", '"') is None  # a quote never closed
    assert record_fields(b"\na,b\n", ",", '"') is None  # a blank header
    assert record_fields("a§b\n1§2\n".encode(), "§", '"') is None  # not one byte


FORMATS = [
    "{y}-{m:02d}-{d:02d}",
    "{y}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}.{f:06d}",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}Z",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}+0{o}00",
    "{y}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}-0{o}:30",
    "{d:02d}/{m:02d}/{y}",
    "{d:02d}-{m:02d}-{y}",
    "{y}/{m:02d}/{d:02d}",
    "{H:02d}:{M:02d}:{S:02d}",
    "{y}{m:02d}{d:02d}",
]


def _stamp(rng: random.Random, fmt: str) -> str:
    values = {"y": rng.randrange(1990, 2030), "m": rng.randrange(1, 13), "d": rng.randrange(1, 29)}
    values |= {"H": rng.randrange(24), "M": rng.randrange(60), "S": rng.randrange(60)}
    return fmt.format(**values, f=rng.randrange(10**6), o=rng.randrange(10))


def _reference(data: bytes, overrides: dict) -> pl.DataFrame | Exception:
    try:
        return pl.read_csv(
            data, try_parse_dates=True, infer_schema_length=10_000, schema_overrides=overrides
        )
    except pl.exceptions.PolarsError as exc:
        return exc


def _dated_csv(rng: random.Random, rows: int, late: int) -> bytes:
    """Two date columns in one random format each, 1 in 10 empty; with ``late`` > 0 one value
    at or after row ``late`` in another format (or no date at all)."""
    main, other = rng.choice(FORMATS), rng.choice([*FORMATS, "n/a", "later"])
    columns = [[str(i) for i in range(rows)]]
    for _ in range(2):
        values = [_stamp(rng, main) if rng.random() > 0.1 else "" for _ in range(rows)]
        if late and rng.random() < 0.5:
            values[rng.randrange(late, rows)] = _stamp(rng, other)
        columns.append(values)
    body = "".join(",".join(r) + "\n" for r in zip(*columns, strict=True))
    return ("id,t1,t2\n" + body).encode()


@pytest.mark.parametrize("split_rows", [200_000, 16])
def test_typed_reading_matches_polars_date_parsing(split_rows: int, monkeypatch) -> None:
    # 16: every column here is converted in two halves, as a long one is.
    monkeypatch.setattr(file_csv, "SPLIT_ROWS", split_rows)
    rng = random.Random(11)
    # Small files (another format among the rows types are inferred on) and a few just past
    # the 10,000 rows types are inferred on (another format after them).
    trials = [(40, 20)] * 60 + [(10_060, 10_000)] * 4
    for trial, (rows, late) in enumerate(trials):
        data = _dated_csv(rng, rows, late)
        overrides = {"t2": pl.Utf8} if trial % 3 == 0 else {}
        expected = _reference(data, overrides)
        if isinstance(expected, Exception):
            with pytest.raises(pl.exceptions.PolarsError):
                read_typed(data, ",", '"', False, overrides)
        else:
            assert_frame_equal(read_typed(data, ",", '"', False, overrides), expected)


def test_ragged_file_matches_the_rows_the_csv_module_splits() -> None:
    rng = np.random.default_rng(3)
    rows = 20_000
    ids, amounts = np.arange(rows), np.round(rng.normal(size=rows), 6)
    notes = ["" if rng.random() < 0.2 else f"n {i % 97}" for i in range(rows)]
    lines = [
        f'{i},{a},"{n}, quoted"' if n else f"{i},{a},"
        for i, a, n in zip(ids, amounts, notes, strict=True)
    ]
    short = sorted(rng.choice(rows, 25, replace=False).tolist())
    long = sorted(set(rng.choice(rows, 25, replace=False).tolist()) - set(short))
    for i in short:
        lines[i] = f"{i},{amounts[i]}"
    for i in long:
        lines[i] = lines[i] + ",extra"
    text = "id,amount,note\n" + "\n".join(lines) + "\n"
    parsed = parse_file(text.encode(), "csv", name="f.csv", tolerant=True)
    records = list(csv.reader(io.StringIO(text)))
    good = [r for r in records[1:] if len(r) == 3]
    assert parsed.rows["id"].to_list() == [int(r[0]) for r in good]
    assert parsed.rows["amount"].to_list() == [float(r[1]) for r in good]
    assert parsed.rows["note"].to_list() == [r[2] or None for r in good]
    bad = [(n, r) for n, r in enumerate(records, start=1) if len(r) != 3]
    assert parsed.rejected["_row"].to_list() == [n for n, _ in bad]
    assert parsed.rejected["raw"].to_list() == [",".join(r) for _, r in bad]
    assert parsed.rejected["_reason"].to_list() == [
        f"line {n}: {len(r)} fields, header has 3" for n, r in bad
    ]
    with pytest.raises(FileParseError, match=f"line {bad[0][0]}: "):
        parse_file(text.encode(), "csv", name="f.csv")


def test_short_and_long_rows_that_balance_are_both_caught() -> None:
    """One row short by a field and one long by a field leave the delimiter total as if all
    were right: the long row must fail polars' read, so the count is taken row by row."""
    text = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    parsed = parse_file(text, "csv", name="f.csv", tolerant=True)
    assert parsed.rows["a"].to_list() == [1, 10]
    assert parsed.rejected["_row"].to_list() == [3, 4]
