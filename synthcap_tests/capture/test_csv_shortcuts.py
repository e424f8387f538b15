"""The CSV path's shortcuts against independent references, on random data: the two-count
field check against Python's ``csv`` module, the NumPy ISO date reader against polars'
``str.to_datetime``/``to_date`` and Python's ``datetime``, and the narrowed date inference
against polars' own ``scan_csv(try_parse_dates=True)``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import polars as pl
import pytest

from synthcap_resources.sources import file_csv
from synthcap_resources.sources.csv_dates import iso_converted
from synthcap_resources.sources.file_csv import _conversion, date_schema, every_record_full


def _ragged(rng: random.Random, delimiter: str, width: int) -> str:
    """Quote-free CSV text whose records have at most ``width`` fields (as polars reads
    it without error), some blank lines and short records among them."""
    lines = [delimiter.join(f"h{i}" for i in range(width))]
    for _ in range(rng.randrange(1, 30)):
        roll = rng.random()
        if roll < 0.04:
            lines.append("")
            continue
        count = width if roll < 0.85 else rng.randrange(1, width + 1)
        lines.append(delimiter.join(rng.choice(["a", "7", "", "x y"]) for _ in range(count)))
    end = rng.choice(["\n", "\r\n"])
    return end.join(lines) + (end if rng.random() < 0.8 else "")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_every_record_full_agrees_with_the_csv_module(delimiter: str) -> None:
    rng = random.Random(5)
    seen = {True: 0, False: 0}
    for _ in range(400):
        width = rng.randrange(2, 6)
        text = _ragged(rng, delimiter, width)
        records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        expected = all(len(r) == width for r in records)
        assert every_record_full(text.encode(), delimiter, '"', width) is expected, text
        seen[expected] += 1
    assert min(seen.values()) > 20  # both answers were exercised


def test_every_record_full_declines_what_it_cannot_tell() -> None:
    assert not every_record_full(b'a,b\n"1",2\n', ",", '"', 2)  # a quote: count by records
    assert not every_record_full(b"a,b\r1,2\n", ",", '"', 2)  # a bare \r
    assert not every_record_full(b"a\n1\n", ",", '"', 1)  # one column: blank lines unseen
    assert not every_record_full(b"", ",", '"', 2)


LAYOUTS = [
    "{y:04d}-{m:02d}-{d:02d}",
    "{y:04d}/{m:02d}/{d:02d}",
    "{y:04d}-{m:02d}-{d:02d} {H:02d}:{M:02d}",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}",
    "{y:04d}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}.{f3:03d}",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}.{f:06d}",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}Z",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}.{f:06d}+0000",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}{sign}{oh:02d}{om:02d}",
    "{y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}{sign}{oh:02d}:{om:02d}",
]
# Values that break a layout: each must send the column back to polars (or read as it does).
BROKEN = ["2023-02-29", "2024-13-01", "2024-04-31", "2024-00-10", "2024-1-05", "2024-01-0x"]
BROKEN += ["2024-01-01T24:00:00", "2024-01-01T10:60:00", "2024-01-01T10:00:61", "2024-01-01X"]
BROKEN += ["2024-01-01T10:00:00,0000", "2024-01-01T10:00:00+2500", "0000-01-01", ""]


def _value(rng: random.Random, layout: str) -> str:
    year = rng.choice([rng.randrange(1, 9_999), rng.randrange(1960, 2040), 2000, 2024, 1900])
    month = rng.randrange(1, 13)
    days = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return layout.format(
        y=year,
        m=month,
        d=rng.choice([1, days, rng.randrange(1, days + 1)]),
        H=rng.randrange(24),
        M=rng.randrange(60),
        S=rng.randrange(60),
        f=rng.randrange(10**6),
        f3=rng.randrange(1000),
        sign=rng.choice("+-"),
        oh=rng.randrange(15),
        om=rng.choice([0, 30, 45]),
    )


def _polars(series: pl.Series, dtype: pl.DataType) -> pl.Series:
    return pl.DataFrame({"v": series}).select(_conversion(dtype)).to_series()


def test_iso_reader_reads_as_polars_and_python_do() -> None:
    rng = random.Random(9)
    read_here = 0
    for trial in range(120):
        layout = LAYOUTS[trial % len(LAYOUTS)]
        n = 70_000 if trial % 30 == 1 else rng.choice([1, 3, 50, 400])  # 70,000: two blocks
        values = [_value(rng, layout) if rng.random() > 0.15 else None for _ in range(n)]
        if trial % 3 == 0:  # one broken value somewhere
            values[rng.randrange(n)] = rng.choice(BROKEN)
        series = pl.Series("t", values, dtype=pl.String)
        sample = next((v for v in values if v and v not in BROKEN), None)
        if sample is None:
            continue
        dtype = pl.read_csv(f"t\n{sample}\n".encode(), try_parse_dates=True)["t"].dtype
        if not dtype.is_temporal():
            continue
        expected = _polars(series, dtype)
        got = iso_converted(series, dtype, _conversion(dtype))
        if got is None:
            continue
        read_here += 1
        assert got.dtype == dtype
        assert got.equals(expected, check_names=False), layout
        # Python's own reading of the same values (UTC instants, or dates).
        for value, instant in zip(values[:200], got.to_list()[:200], strict=True):
            if not value:
                assert instant is None
                continue
            parsed = dt.datetime.fromisoformat(value.replace("/", "-"))
            if dtype == pl.Date:
                assert instant == parsed.date()
            elif parsed.tzinfo is not None:
                assert instant == parsed.astimezone(dt.UTC)
            else:
                assert instant == parsed
    assert read_here > 60  # the reader took most columns, not only the fallback


def test_iso_reader_leaves_broken_and_other_columns_to_polars() -> None:
    dtype = pl.Datetime("us", "UTC")
    check = _conversion(dtype)
    good = "2024-01-01T10:00:00+0000"
    for broken in BROKEN[6:]:
        assert iso_converted(pl.Series([good, broken, good]), dtype, check) is None, broken
    for broken in BROKEN[:6]:
        series = pl.Series([broken.replace("x", "1")[:10], broken])
        assert iso_converted(series, pl.Date(), _conversion(pl.Date())) is None, broken
    naive = pl.Series(["2024-01-01 10:00:00"])  # no zone in the text, a zone asked
    assert iso_converted(naive, dtype, check) is None
    assert iso_converted(pl.Series(["10/01/2024"]), pl.Date(), _conversion(pl.Date())) is None
    assert iso_converted(pl.Series([None], dtype=pl.String), dtype, check) is None


def _column(rng: random.Random, kind: str, rows: int) -> list[str]:
    if kind == "int":
        return [str(rng.randrange(-50, 50)) for _ in range(rows)]
    if kind == "float":
        return [f"{rng.uniform(-9, 9):.3f}" for _ in range(rows)]
    if kind == "word":
        return [rng.choice(["alpha", "b", "c d", "e-1"]) for _ in range(rows)]
    if kind == "lead_digit":
        return [f"{rng.randrange(9)} apples" for _ in range(rows)]
    if kind == "iso_date":
        return [_value(rng, LAYOUTS[0]) for _ in range(rows)]
    if kind == "iso_ts":  # layouts mixed within the column
        return [_value(rng, rng.choice(LAYOUTS[3:8])) for _ in range(rows)]
    if kind in ("iso_one", "iso_broken"):  # one layout; or one value breaking it early on
        layout = rng.choice(LAYOUTS)
        values = [_value(rng, layout) for _ in range(rows)]
        if kind == "iso_broken":
            values[rng.randrange(min(rows, 10_000))] = rng.choice(BROKEN[:-1])
        return values
    if kind == "dmy":
        return [f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/2020" for _ in range(rows)]
    if kind == "time":
        return [f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00" for _ in range(rows)]
    if kind == "mixed":
        return [rng.choice(["2024-01-02", "17", "n/a"]) for _ in range(rows)]
    raise ValueError(kind)


KINDS = ["int", "float", "word", "lead_digit", "iso_date", "iso_ts", "iso_one", "iso_broken"]
KINDS += ["dmy", "time", "mixed"]


@pytest.mark.parametrize("quoted", [False, True])
def test_date_schema_matches_polars_inference(quoted: bool, monkeypatch) -> None:
    rng = random.Random(13 + quoted)
    typed_by_layout = []
    iso_type = file_csv._iso_type
    monkeypatch.setattr(
        file_csv,
        "_iso_type",
        lambda *a: typed_by_layout.append(iso_type(*a)) or typed_by_layout[-1],
    )
    options = {"separator": ",", "quote_char": '"', "decimal_comma": False}
    for trial in range(40):
        rows = rng.choice([5, 300, 10_050])
        kinds = [rng.choice(KINDS) for _ in range(rng.randrange(1, 6))]
        columns = []
        for kind in kinds:
            values = _column(rng, kind, rows)
            for i in rng.sample(range(rows), rows // 10):
                values[i] = ""  # missing
            if rows > 10_000 and rng.random() < 0.5:  # another kind past the inferred rows
                values[rng.randrange(10_001, rows)] = "later"
            columns.append(values)
        if quoted:
            columns[0] = [f'"{v}"' if v and rng.random() < 0.3 else v for v in columns[0]]
        header = ",".join(f"c{i}" for i in range(len(kinds)))
        body = "".join(",".join(r) + "\n" for r in zip(*columns, strict=True))
        data = (header + "\n" + body).encode()
        overrides = {"c0": pl.String()} if trial % 4 == 0 else {}
        expected = pl.scan_csv(
            data,
            try_parse_dates=True,
            schema_overrides=overrides,
            infer_schema_length=10_000,
            **options,
        ).collect_schema()
        got = date_schema(data, overrides, {**options, "infer_schema_length": 10_000})
        assert got == expected, (kinds, quoted)
    if not quoted:  # the one-layout shortcut typed columns (a quoted head is inferred whole)
        assert sum(t is not None for t in typed_by_layout) >= 5
