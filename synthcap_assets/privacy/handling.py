"""Apply each personal-data column's handling before a derived table is built from a capture.

Handling comes from the privacy report (the detector's default or the catalog's choice):

- ``drop``: the column is removed;
- ``tokenize``: each value becomes its keyed token (:mod:`.tokens`): equal values stay equal,
  so the column still joins and counts, but the value cannot be read back or guessed;
- ``generalize``: the column is coarsened by its type (:func:`.anonymity.generalize`: birth date
  to year, zip code to 3 digits, age to a 5-year band, event time to the hour, rare values of
  gender and places suppressed). A type without a generalization rule (an email, a name)
  cannot be generalized, so such a column is dropped instead, never kept; a declared
  quasi-identifier of no detected type is generalized as a category (rare values suppressed);
- ``redact``: free text with its personal data replaced by typed placeholders
  (:func:`.redact.redact_text`; names found in the frame's person-name columns included);
- ``keep``: left as is (the catalog must give a reason; the detector keeps only non-PII and
  free text where PII is rare).

This is the one way to the frame a derived table is built from: features take
:data:`FEATURE_HANDLINGS`, synthetic samples :data:`SAMPLE_HANDLINGS` (kept and generalized
columns, so a generalized column flows on only in its generalized form); every other
personal-data column is excluded before :func:`apply_handling` runs.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from synthcap_assets.privacy.anonymity import GENERALIZABLE_TYPES, generalize
from synthcap_assets.privacy.quasi import is_age_column
from synthcap_assets.privacy.redact import redact_text
from synthcap_assets.privacy.tokens import tokenize

FEATURE_HANDLINGS = ("keep", "tokenize", "generalize", "redact")  # what a feature table may hold
SAMPLE_HANDLINGS = ("keep", "generalize")  # what a synthetic sample may be synthesized from


def _known_names(df: pl.DataFrame, kinds: Mapping[str, str | None]) -> list[str]:
    """Values of the frame's person-name columns, to redact wherever the text repeats them."""
    names: list[str] = []
    for column, kind in kinds.items():
        if kind == "person_name" and column in df.columns and df.schema[column] == pl.String:
            names.extend(df[column].drop_nulls().unique().to_list())
    return names


def apply_handling(
    df: pl.DataFrame,
    handling: Mapping[str, str],
    kinds: Mapping[str, str | None],
    key: bytes,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """``df`` with each column of ``handling`` (column -> handling) treated, and what was done
    per column. ``kinds`` gives each column's PII or quasi-identifier type (None: declared
    without a type)."""
    done: dict[str, str] = {}
    out = df
    known = _known_names(df, kinds) if "redact" in handling.values() else []
    for column, how in handling.items():
        if column not in out.columns:
            continue
        kind = kinds.get(column) or "category"
        generalizable = kind in GENERALIZABLE_TYPES or is_age_column(column)
        if how == "drop" or (how == "generalize" and not generalizable):
            out = out.drop(column)
            done[column] = "dropped" if how == "drop" else f"dropped: no generalization for {kind}"
        elif how == "tokenize":
            out = out.with_columns(tokenize(out[column], key))
            done[column] = "tokenized"
        elif how == "generalize":
            out = generalize(out, {column: kind})
            done[column] = f"generalized ({kind})"
        elif how == "redact":
            out = out.with_columns(redact_text(out[column], known))
            done[column] = "redacted"
        elif how == "keep":
            done[column] = "kept"
        else:
            raise ValueError(f"column {column!r}: unknown handling {how!r}")
    return out, done
