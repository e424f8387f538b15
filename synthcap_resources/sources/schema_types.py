"""Name polars column types in the catalog's vocabulary (for connectors' ``discover``)."""

from __future__ import annotations

import polars as pl


def catalog_type(dtype: pl.DataType) -> str:
    """``str``, ``int``, ``float``, ``bool``, ``date`` or ``datetime`` for a polars type;
    anything else (lists, structs, binary) reads as ``str``."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return "str"


def catalog_types(df: pl.DataFrame) -> dict[str, str]:
    """Each column of ``df`` with its catalog type, in column order."""
    return {name: catalog_type(dtype) for name, dtype in df.schema.items()}
