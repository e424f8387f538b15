"""ISO dates and timestamps of one fixed layout, read with NumPy over the string bytes.

Why: a CSV's date column is converted from text after the read (``file_csv.read_typed``), and
polars' ``str.to_datetime`` costs about 0.3 µs a value (a third of the whole parse of a
million-row file). When every value of a column has one layout (``2026-11-10T00:00:01.000000
+0000``, ``2026-11-10``, ``2026-11-10 00:00``: year-month-day, an optional time, fraction and
UTC offset), each field sits at the same byte positions in every value, so the fields are read
as digit columns of a rows × width byte matrix and turned into days or instants with integer
arithmetic (days from the civil date, Howard Hinnant's algorithm).

A value is read here only when it is exactly of the layout (every separator in place, digits
where digits go) and valid (month 1-12, a day its month has, hour < 24, minute and second
< 60, fraction no finer than the unit); otherwise :func:`iso_converted` returns ``None`` and
the caller converts with polars as before. Polars also converts a strided sample of the same
values and the two must agree, so a layout polars reads otherwise (another unit or zone rule)
goes back to polars too.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

_ISO = re.compile(
    r"(?P<year>\d{4})(?P<s1>[-/])(?P<month>\d{2})(?P=s1)(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?)?"
    r"(?:(?P<zulu>Z)|(?P<sign>[+-])(?P<off_hour>\d{2}):?(?P<off_minute>\d{2}))?"
)
_DIGIT_FIELDS = ("year", "month", "day", "hour", "minute", "second", "fraction")
_DIGIT_FIELDS += ("off_hour", "off_minute")
_UNIT_DIGITS = {"ms": 3, "us": 6, "ns": 9}
CHUNK_ROWS = 1 << 16  # rows × width bytes of one chunk stay in cache
SAMPLE_VALUES = 257
ZERO = ord("0")


@dataclass(frozen=True)
class Layout:
    """Where each field of one ISO layout sits: ``fields`` maps a field to its byte span;
    byte ``i`` of a value of the layout lies in ``[low[i], low[i] + span[i]]`` (a digit, the
    fixed separator, or ``+``-``-`` at ``sign``, the offset's sign)."""

    width: int
    fields: dict[str, tuple[int, int]]
    low: np.ndarray
    span: np.ndarray
    sign: int | None
    zulu: bool

    @property
    def has_time(self) -> bool:
        return "hour" in self.fields


def layout_of(value: str) -> Layout | None:
    """The layout of one ASCII value, or ``None`` when it is not a supported ISO form."""
    found = _ISO.fullmatch(value) if value.isascii() else None
    if found is None:
        return None
    fields = {name: found.span(name) for name in _DIGIT_FIELDS if found.group(name) is not None}
    low = np.frombuffer(value.encode(), np.uint8).copy()
    span = np.zeros(len(value), np.uint8)
    for start, stop in fields.values():
        low[start:stop], span[start:stop] = ZERO, 9
    sign = found.start("sign") if found.group("sign") else None
    if sign is not None:  # '+' (43) or '-' (45); ',' (44) between them is refused apart
        low[sign], span[sign] = ord("+"), 2
    zulu = found.group("zulu") is not None
    return Layout(len(value), fields, low, span, sign, zulu)


def _number(block: np.ndarray, span: tuple[int, int]) -> np.ndarray:
    """The decimal number in columns ``span`` of the block (its bytes checked as digits)."""
    start, stop = span
    out = block[:, start].astype(np.int64)
    for column in range(start + 1, stop):
        out *= 10
        out += block[:, column]
    return out - ZERO * int("1" * (stop - start))


def _days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid civil dates (proleptic Gregorian)."""
    shifted = year - (month <= 2)
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)


def _read_block(block: np.ndarray, layout: Layout, scale: int | None) -> np.ndarray | None:
    """Days (``scale`` None) or instants in units of ``1/scale`` s of one block of values;
    ``None`` when a value is not exactly of the layout or not a valid date and time."""
    if not ((block - layout.low) <= layout.span).all():  # uint8: below low wraps around
        return None
    if layout.sign is not None and (block[:, layout.sign] == ord(",")).any():
        return None
    f = {name: _number(block, span) for name, span in layout.fields.items()}
    year, month, day = f["year"], f["month"], f["day"]
    if not ((month >= 1) & (month <= 12) & (day >= 1) & (year >= 1)).all():
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if (day > _MONTH_DAYS[month] + (leap & (month == 2))).any():
        return None
    days = _days(year, month, day)
    if scale is None:
        return days
    hour, minute = f["hour"], f["minute"]
    second = f.get("second", np.zeros(1, np.int64))
    if (hour > 23).any() or (minute > 59).any() or (second > 59).any():
        return None
    seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    if layout.sign is not None:
        off_hour, off_minute = f["off_hour"], f["off_minute"]
        if (off_hour > 23).any() or (off_minute > 59).any():
            return None
        sign = np.where(block[:, layout.sign] == ord("-"), -1, 1)
        seconds -= sign * (off_hour * 3_600 + off_minute * 60)
    out = seconds * scale
    if "fraction" in f:
        start, stop = layout.fields["fraction"]
        out += f["fraction"] * (scale // 10 ** (stop - start))
    return out


def _scale(layout: Layout, dtype: pl.DataType) -> int | None | bool:
    """Units per second the layout reads into as ``dtype`` (``None``: days, for a date), or
    ``False`` where this module does not read the layout as ``dtype``."""
    offset = layout.sign is not None or layout.zulu
    if dtype == pl.Date:
        return None if not layout.has_time and not offset else False
    if not isinstance(dtype, pl.Datetime) or not layout.has_time:
        return False
    if dtype.time_zone != ("UTC" if offset else None):
        return False
    digits = _UNIT_DIGITS[dtype.time_unit]
    if "fraction" in layout.fields:
        start, stop = layout.fields["fraction"]
        if stop - start > digits:
            return False
    return 10**digits


def iso_converted(series: pl.Series, dtype: pl.DataType, check: pl.Expr) -> pl.Series | None:
    """``series`` (text) as ``dtype`` read here, or ``None`` where polars must convert it: the
    values are not all of one supported layout, or ``check`` (polars' conversion of a column
    ``v``) reads a strided sample of them otherwise."""
    if series.dtype != pl.String or series.null_count() == series.len():
        return None
    array = series.rechunk().to_arrow()
    if array.offset or not pa.types.is_large_string(array.type):
        return None
    valid, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, np.int64, len(array) + 1)
    lengths = np.diff(bounds)
    present = lengths > 0
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(valid, np.uint8), count=len(array), bitorder="little")
        empty = (present != bits.view(bool)).any()
    else:
        empty = not present.all()
    if empty:
        return None  # an empty string: not a date, polars decides
    layout = layout_of(series[int(np.argmax(present))])
    scale = False if layout is None else _scale(layout, dtype)
    if scale is False or (lengths[present] != layout.width).any():
        return None
    matrix = np.frombuffer(data, np.uint8, bounds[-1] - bounds[0], bounds[0])
    matrix = matrix.reshape(-1, layout.width)
    values = np.empty(len(matrix), np.int64)

    def read(start: int) -> bool:
        block = _read_block(matrix[start : start + CHUNK_ROWS], layout, scale)
        if block is not None:
            values[start : start + len(block)] = block
        return block is not None

    starts = range(0, len(matrix), CHUNK_ROWS)
    # NumPy lets go of the GIL inside each operation: blocks read side by side on the cores.
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere all cores
    cores = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    with ThreadPoolExecutor(max(1, min(len(starts), cores, 4))) as pool:
        if not all(pool.map(read, starts)):
            return None
    if array.null_count:
        full = np.zeros(len(array), np.int64)
        full[present] = values
        values = full
    # Built from NumPy and cast (no copy of the values; Arrow buffers would import
    # pyarrow.compute on polars' side).
    converted = pl.Series(series.name, values.astype(np.int32) if scale is None else values)
    if array.null_count:
        converted = converted.scatter(np.flatnonzero(~present), None)
    converted = converted.cast(dtype)
    rows = np.flatnonzero(present)
    sample = pl.Series(rows[:: max(1, len(rows) // SAMPLE_VALUES)])
    polars_read = pl.DataFrame({"v": series.gather(sample)}).select(check).to_series()
    if not polars_read.equals(converted.gather(sample), check_names=False):
        return None
    return converted
