"""Day profiles merge into the profile of the union of their rows (issue 3, item 9)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from synthcap_assets.profile.merge import merge_profiles
from synthcap_assets.profile.stats import ProfileError, profile_frame


def _day(seed: int, rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 90, rows)
    x = rng.standard_t(3, rows) * 10 + 1e6
    x[rng.random(rows) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "x": x,
            "n": rng.integers(-3, 40, rows),
            "flag": rng.random(rows) < 0.3,
            "when": [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in offsets],
            "kind": rng.choice(["alpha", "beta", "gamma", "delta"], rows, p=[0.5, 0.3, 0.15, 0.05]),
            "id": [f"id-{seed}-{i}" for i in range(rows)],
        }
    )


def _rows(profile: pl.DataFrame) -> dict[str, dict]:
    return {r["column"]: r for r in profile.iter_rows(named=True)}


def test_merged_day_profiles_equal_the_direct_profile() -> None:
    days = [_day(seed, rows) for seed, rows in [(1, 700), (2, 1300), (3, 4000)]]
    merged = _rows(merge_profiles([profile_frame(d) for d in days]))
    direct = _rows(profile_frame(pl.concat(days)))
    assert merged.keys() == direct.keys()
    for name, d in direct.items():
        m = merged[name]
        for key in ("count", "nulls", "zeros", "negatives", "dtype", "value_kind", "semantic_type"):
            assert m[key] == d[key], (name, key)
        for key in ("mean", "std", "min", "max", "sum", "skewness", "kurtosis"):
            if d[key] is None:
                assert m[key] is None
            else:
                assert m[key] == pytest.approx(d[key], rel=1e-9, abs=1e-9), (name, key)
        if d["distinct_exact"] and m["distinct_exact"]:
            assert m["distinct"] == d["distinct"]
        else:  # HyperLogLog: 0.81% standard error
            assert m["distinct"] == pytest.approx(d["distinct"], rel=0.04)
        if name in ("x", "id"):  # all values unique: which ten of the ties come first may differ
            assert m["top_counts"] == d["top_counts"]
        else:
            merged_top = dict(zip(m["top_values"], m["top_counts"], strict=True))
            assert merged_top == dict(zip(d["top_values"], d["top_counts"], strict=True))
        if d["quantiles"] is not None:
            # Within the stated rank bound: compare ranks in the pooled sample.
            pooled = np.sort(pl.concat(days)[name].drop_nulls().cast(pl.Float64).to_numpy())
            if name == "when":
                pooled = np.sort(pl.concat(days)[name].cast(pl.Int32).to_numpy().astype(float))
            pooled = pooled[np.isfinite(pooled)]
            bound = (m["rank_error"] + 1e-3) * pooled.size + 1
            for p, q in zip(np.linspace(0, 1, 101), m["quantiles"], strict=True):
                lo = np.searchsorted(pooled, q, "left")
                hi = np.searchsorted(pooled, q, "right")
                target = p * (pooled.size - 1)
                assert lo - bound <= target <= hi + bound, (name, p)
            assert sum(m["hist_counts"]) == m["count"]


def test_merging_is_associative_and_keeps_merging() -> None:
    days = [profile_frame(_day(seed, 500)) for seed in (4, 5, 6)]
    once = _rows(merge_profiles(days))
    twice = _rows(merge_profiles([merge_profiles(days[:2]), days[2]]))
    for name in once:
        assert once[name]["count"] == twice[name]["count"]
        if once[name]["mean"] is not None:
            assert once[name]["mean"] == pytest.approx(twice[name]["mean"], rel=1e-12)


def test_a_column_added_later_is_merged_over_its_own_days() -> None:
    first = profile_frame(pl.DataFrame({"a": [1.0, 2.0, 3.0]}))
    second = profile_frame(pl.DataFrame({"a": [4.0], "b": ["x"]}))
    merged = _rows(merge_profiles([first, second]))
    assert merged["a"]["count"] == 4 and merged["a"]["mean"] == pytest.approx(2.5)
    assert merged["b"]["count"] == 1 and merged["b"]["top_values"] == ["x"]


def test_merging_nothing_is_an_error() -> None:
    with pytest.raises(ProfileError, match="at least one"):
        merge_profiles([])
