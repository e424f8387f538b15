"""Features of a free-text column: sizes and simple shape counts, never the text itself."""

from __future__ import annotations

import polars as pl

from synthcap_assets.features.generic import SEPARATOR


def text_features(df: pl.DataFrame, column: str) -> list[pl.Series]:
    """``__chars``, ``__words`` (whitespace-separated tokens), ``__has_question`` (Int8) and
    ``__digits`` (count of digit characters) of ``column``; null text gives null features."""
    text = pl.col(column).cast(pl.String)
    name = f"{column}{SEPARATOR}"
    return df.select(
        text.str.len_chars().cast(pl.Int64).alias(f"{name}chars"),
        text.str.count_matches(r"\S+").cast(pl.Int64).alias(f"{name}words"),
        text.str.contains("?", literal=True).cast(pl.Int8).alias(f"{name}has_question"),
        text.str.count_matches(r"\d").cast(pl.Int64).alias(f"{name}digits"),
    ).get_columns()
