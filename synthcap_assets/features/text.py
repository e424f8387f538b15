"""Features of a free-text column: sizes and simple shape counts, never the text itself.

The counts are taken on the redacted text (:func:`synthcap_assets.privacy.redact.redact_text`),
so a card number's digits or an email's characters do not shape the features.
"""

from __future__ import annotations

import polars as pl

from synthcap_assets.features.generic import SEPARATOR
from synthcap_assets.privacy.redact import redact_text


def text_features(df: pl.DataFrame, column: str) -> list[pl.Series]:
    """``__chars``, ``__words`` (whitespace-separated tokens), ``__has_question`` (Int8) and
    ``__digits`` (count of digit characters) of the redacted ``column``; null text gives null
    features."""
    text = pl.col(column)
    name = f"{column}{SEPARATOR}"
    redacted = pl.DataFrame({column: redact_text(df[column])})
    return redacted.select(
        text.str.len_chars().cast(pl.Int64).alias(f"{name}chars"),
        text.str.count_matches(r"\S+").cast(pl.Int64).alias(f"{name}words"),
        text.str.contains("?", literal=True).cast(pl.Int8).alias(f"{name}has_question"),
        text.str.count_matches(r"\d").cast(pl.Int64).alias(f"{name}digits"),
    ).get_columns()
