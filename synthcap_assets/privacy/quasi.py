"""Quasi-identifiers: columns that single out a person when combined, sought for people only.

A source's catalog ``subject`` says what a row describes: ``person`` (the default), ``entity``
(a car, an animal, a shop) or ``none`` (measurements). Only for ``person`` are columns read as
quasi-identifiers (QIs) by their name, each confirmed by its values:

- ``age``: a numeric column named ``age`` (or ``..._age``, ``age_...``) whose values lie in
  0-120;
- ``birth_date`` and ``zip_code``: found by :mod:`.pii` (name plus a value check);
- ``gender``: a column named like ``gender`` or ``sex`` with at most 10 distinct values;
- ``geography``: a place column (city, state, county, country, region, district, borough,
  neighbo(u)rhood, zone, location, ...; latitude and longitude when numeric);
- ``event_time``: a date or timestamp column, only when the frame also holds a place (trip
  times joined with pickup zones reveal who travelled; a date alone does not).

For ``entity`` and ``none`` no column is a QI unless the catalog's ``quasi_identifiers``
declares it (a declared QI always counts, whatever the subject).
"""

from __future__ import annotations

import polars as pl

from synthcap_assets.privacy.pii_patterns import column_tokens as tokens

QI_TYPES = ("age", "birth_date", "zip_code", "gender", "geography", "event_time")
SUBJECTS = ("person", "entity", "none")
MAX_AGE = 120
MAX_GENDER_VALUES = 10
_AGE_TOKENS = frozenset({"age", "ages", "aged"})
_GENDER_TOKENS = frozenset({"gender", "sex"})
_PLACE_WORDS = (
    "city",
    "town",
    "village",
    "state",
    "county",
    "country",
    "region",
    "province",
    "district",
    "borough",
    "neighborhood",
    "neighbourhood",
    "zone",
    "location",
    "municipality",
    "suburb",
    "locality",
)
_COORDINATES = frozenset({"lat", "latitude", "lon", "lng", "longitude"})
# Prefixes glued to a place word in real headers: "PULocationID", "DOLocationID", "homezone".
_PLACE_PREFIXES = ("", "pu", "do", "pickup", "dropoff", "home", "work", "birth", "origin", "dest")


def is_age_column(column: str) -> bool:
    return bool(_AGE_TOKENS & set(tokens(column)))


def is_gender_column(column: str) -> bool:
    return bool(_GENDER_TOKENS & set(tokens(column)))


def is_place_column(column: str, dtype: pl.DataType) -> bool:
    """A place by its name: a place word as a token ("pickup_zone") or glued to a known prefix
    ("PULocationID"), or a numeric latitude/longitude. "ozone" or "statement" are not places."""
    names = tokens(column)
    if _COORDINATES & set(names):
        return dtype.is_numeric()
    return any(p + w in names for p in _PLACE_PREFIXES for w in _PLACE_WORDS)


def _ages_plausible(series: pl.Series) -> bool:
    if not series.dtype.is_numeric() or series.dtype == pl.Boolean:
        return False
    values = series.drop_nulls().cast(pl.Float64)
    return not values.is_empty() and bool(values.is_between(0, MAX_AGE).all())


def quasi_type(series: pl.Series, has_place: bool) -> str | None:
    """The QI type of a person table's column by its name and values (see the module doc);
    birth dates and zip codes are left to :mod:`.pii`."""
    column, dtype = series.name, series.dtype
    if is_age_column(column):
        return "age" if _ages_plausible(series) else None
    if is_gender_column(column):
        distinct = series.drop_nulls().n_unique()
        return "gender" if 0 < distinct <= MAX_GENDER_VALUES else None
    if is_place_column(column, dtype):
        return "geography"
    if has_place and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        return "event_time"
    return None


def has_place(df: pl.DataFrame, columns: list[str]) -> bool:
    """Whether any of ``columns`` is a place column (what makes event times quasi-identifying)."""
    return any(is_place_column(c, df.schema[c]) for c in columns)
