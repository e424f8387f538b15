"""Apply each personal-data column's handling before features are built from a capture.

Handling comes from the privacy report (the detector's default or the catalog's choice):

- ``drop``: the column is removed;
- ``tokenize``: each value becomes its keyed token (:mod:`.tokens`): equal values stay equal,
  so the column still joins and counts, but the value cannot be read back or guessed;
- ``generalize``: the column is coarsened by its type (:func:`.anonymity.generalize`: birth date
  to year, zip code to 3 digits, age to a 5-year band). A type without a generalization rule
  (an email, a name) cannot be generalized, so such a column is dropped instead, never kept;
- ``keep``: left as is (the catalog must give a reason; the detector keeps only non-PII and
  free text where PII is rare).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from synthcap_assets.privacy.anonymity import GENERALIZABLE_TYPES, generalize
from synthcap_assets.privacy.tokens import tokenize

FEATURE_HANDLINGS = ("keep", "tokenize", "generalize")  # what a feature table may hold


def apply_handling(
    df: pl.DataFrame,
    handling: Mapping[str, str],
    kinds: Mapping[str, str | None],
    key: bytes,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """``df`` with each column of ``handling`` (column -> handling) treated, and what was done
    per column. ``kinds`` gives each column's PII type (for generalization)."""
    done: dict[str, str] = {}
    out = df
    for column, how in handling.items():
        if column not in out.columns:
            continue
        kind = kinds.get(column) or "other"
        generalizable = kind in GENERALIZABLE_TYPES or "age" in column.lower().split("_")
        if how == "drop" or (how == "generalize" and not generalizable):
            out = out.drop(column)
            done[column] = "dropped" if how == "drop" else f"dropped: no generalization for {kind}"
        elif how == "tokenize":
            out = out.with_columns(tokenize(out[column], key))
            done[column] = "tokenized"
        elif how == "generalize":
            out = generalize(out, {column: kind})
            done[column] = f"generalized ({kind})"
        elif how == "keep":
            done[column] = "kept"
        else:
            raise ValueError(f"column {column!r}: unknown handling {how!r}")
    return out, done
