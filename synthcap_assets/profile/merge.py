"""Profiles of date ranges from stored day profiles, without re-reading raw rows.

Each day's profile row carries its column's kernel state and value counts (``state``); the
range profile merges them column by column and finishes them with the same builder as a day
profile, so it equals the profile of the same rows taken directly: moments exactly (to float
rounding), quantiles and histograms within the rank bound the rows state (``rank_error``),
distinct counts exactly while small (``distinct_exact``), top values exactly while every day
kept all its values (``value_counts_complete``). A column missing on some days is merged over
the days that have it; its dtype and semantic type are the latest day's.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from synthcap_assets.profile.state import (
    merge_value_counts,
    merged_state,
    state_fields,
    statistics,
)
from synthcap_assets.profile.stats import PROFILE_SCHEMA, ProfileError, check_profile, profile_rows

_META = ("column", "dtype", "semantic_type", "value_kind")


def merge_profiles(
    days: Sequence[pl.DataFrame], *, bins: int = 20, top_k: int = 10
) -> pl.DataFrame:
    """One profile (``PROFILE_SCHEMA``) of the rows behind the day profiles ``days``."""
    if not days:
        raise ProfileError("merge_profiles needs at least one day profile")
    for day in days:
        check_profile(day)
    by_column: dict[str, list[dict[str, object]]] = {}
    for day in days:
        for row in day.iter_rows(named=True):
            by_column.setdefault(str(row["column"]), []).append(row)
    if not by_column:
        return pl.DataFrame(schema=PROFILE_SCHEMA)
    meta, states, stats, counts = [], [], [], []
    for rows in by_column.values():
        latest = rows[-1]
        state = merged_state([[row] for row in rows])
        meta.append({key: latest[key] for key in _META})
        states.append(state_fields(state)[0])  # stored too, so a range profile merges on
        stats.append(statistics(state, bins)[0])
        counts.append(
            merge_value_counts(
                [
                    (r["value_labels"] or [], r["value_counts"] or [], r["value_counts_complete"])
                    for r in rows
                ],
                numeric=_numeric_labels(latest),
            )
        )
    return profile_rows(meta, states, stats, counts, top_k=top_k)


def _numeric_labels(row: dict[str, object]) -> bool:
    """Whether the column's value labels are numbers (ties then order numerically)."""
    dtype = str(row["dtype"])
    return dtype.startswith(("Int", "UInt", "Float", "Decimal"))
