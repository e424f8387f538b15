"""Malformed landing files, as real sources deliver them, for capture tests to reuse.

Each ``write_*`` function writes one day's CSV as ``<folder>/<day>.csv`` (so a file source with
``location: <folder>/{date}.csv`` reads it) and returns its path; the module constants hold
what a correct reader must get out of it. The documented outcome of each:

- :func:`write_latin1_csv`: Latin-1 bytes (``José``) under the default ``encoding: utf-8``:
  the capture fails with ``SourceEncodingError`` (line, byte offset, likely encoding), nothing
  lands; with ``encoding: latin-1`` the names land intact.
- :func:`write_bom_semicolon_csv`: a UTF-8 byte-order mark, ``;`` delimiters and decimal
  commas (``12,5``): with ``decimal: ","`` (delimiter sniffed or declared) it lands as four
  columns with ``amount`` 12.5; declared ``delimiter: ","`` fails naming ``';'``.
- :func:`write_retyped_days`: day 1 ``amount`` numbers, day 2 text (``12.3 NOK``, ``n/a``):
  under ``evolve`` day 2 fails naming ``amount``, a row and the value, nothing lands.
- :func:`write_ragged_csv`: rows with too many or too few fields: those rows are
  quarantined with ``line N: k fields, header has 3``, the others land.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

DAY1 = dt.date(2026, 11, 16)
DAY2 = dt.date(2026, 11, 17)

LATIN1_NAMES = ["José", "Zoë", "Ærøskøbing Ågot", "Françoise"]
LATIN1_TEXT = "id,name,city\n" + "".join(
    f"{i},{name},{city}\n"
    for i, (name, city) in enumerate(
        zip(LATIN1_NAMES, ["Málaga", "Köln", "Ærø", "Besançon"], strict=True), start=1
    )
)
# Byte offset of the first non-UTF-8 byte ('é' of José, line 2) in the Latin-1 file.
LATIN1_FIRST_BAD_OFFSET = LATIN1_TEXT.encode("latin-1").index("é".encode("latin-1"))

SEMICOLON_TEXT = "id;name;amount;city\n1;Ann;12,5;Oslo\n2;Bo;3;Bergen\n3;Cy;-1,25;Tromsø\n"
SEMICOLON_AMOUNTS = [12.5, 3.0, -1.25]

RETYPED_DAY1 = "id,amount,city\n1,12.3,Oslo\n2,4.5,Bergen\n3,7,Tromsø\n"
RETYPED_DAY2 = "id,amount,city\n4,12.3 NOK,Oslo\n5,n/a,Bergen\n6,8 NOK,Bodø\n"
# Day 2's first value that is not a number: delivery row 1 (file line 2).
RETYPED_BAD_ROW, RETYPED_BAD_VALUE = 1, "12.3 NOK"

RAGGED_TEXT = "id,name,amount\n1,ann,1.5\n2,bob,2.5,extra\n3,cy,3.5\n4,dee\n5,eve,5.5\n"
RAGGED_GOOD_IDS = [1, 3, 5]
RAGGED_BAD_LINES = [3, 5]


def _target(folder: Path, day: dt.date) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{day.isoformat()}.csv"


def write_latin1_csv(folder: Path, day: dt.date = DAY1) -> Path:
    """A CSV encoded in Latin-1 (ISO-8859-1), names with accents: not valid UTF-8."""
    path = _target(folder, day)
    path.write_bytes(LATIN1_TEXT.encode("latin-1"))
    return path


def write_bom_semicolon_csv(folder: Path, day: dt.date = DAY1) -> Path:
    """A UTF-8 CSV with a byte-order mark, ``;`` between fields and decimal commas."""
    path = _target(folder, day)
    path.write_bytes(b"\xef\xbb\xbf" + SEMICOLON_TEXT.encode("utf-8"))
    return path


def write_retyped_days(folder: Path, day1: dt.date = DAY1, day2: dt.date = DAY2) -> list[Path]:
    """Two days of one source: ``amount`` numeric on ``day1``, text on ``day2``."""
    first, second = _target(folder, day1), _target(folder, day2)
    first.write_text(RETYPED_DAY1, encoding="utf-8")
    second.write_text(RETYPED_DAY2, encoding="utf-8")
    return [first, second]


def write_ragged_csv(folder: Path, day: dt.date = DAY1) -> Path:
    """A CSV where line 3 has a field too many and line 5 one too few."""
    path = _target(folder, day)
    path.write_text(RAGGED_TEXT, encoding="utf-8")
    return path
