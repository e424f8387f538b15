"""The blocking gate that no PII reaches a derived table (features, synthetic samples)."""

from __future__ import annotations

import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.privacy.pii import scan_values_for_pii


def pii_leaks(derived: pl.DataFrame, pii_columns: list[str]) -> list[str]:
    """What in ``derived`` looks like PII: a PII column copied, or PII-shaped text values."""
    leaks = [f"column {c!r} is a PII column" for c in data_columns(derived) if c in pii_columns]
    for column in data_columns(derived):
        if derived.schema[column] != pl.Utf8:
            continue
        found = {
            kind: share for kind, share in scan_values_for_pii(derived[column]).items() if share
        }
        leaks += [
            f"column {column!r}: {share:.1%} of values look like {kind}"
            for kind, share in found.items()
        ]
    return leaks
