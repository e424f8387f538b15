"""Day profiles merge into the profile of the union of their rows (issue 3, item 9)."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_assets.profile.merge import merge_profiles
from synthcap_assets.profile.stats import ProfileError, profile_frame
from synthcap_resources.lakehouse import LakehouseResource, report_table

DAYS = [dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)]


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


def _stored_days(root: Path) -> tuple[LakehouseResource, list[pl.DataFrame]]:
    """Three days of a table with prices, dates, datetimes and high-cardinality strings (their
    53-bit hashes overflow float32 moments), profiled and stored as the profile asset does."""
    lake = LakehouseResource(root=str(root))
    frames = []
    for i, day in enumerate(DAYS):
        rng = np.random.default_rng(40 + i)
        n = 400 + 350 * i
        seconds = rng.integers(0, 86_400 * 20, n)
        frame = pl.DataFrame(
            {
                "price": np.round(rng.normal(157, 20, n), 2),
                "when": [day - dt.timedelta(days=int(k)) for k in rng.integers(0, 30, n)],
                "at": [dt.datetime(2026, 11, 1) + dt.timedelta(seconds=int(s)) for s in seconds],
                "name": [f"n{k}" for k in rng.integers(0, 10_000, n)],
            }
        )
        frames.append(frame)
        stored = profile_frame(frame).with_columns(
            pl.lit("shop").alias("source"), pl.lit(day).alias("date")
        )
        lake.write_partition(report_table("profile"), stored, {"source": "shop", "date": day})
    return lake, frames


def test_profile_command_merges_in_float64_without_warnings_and_shows_dates(
    tmp_path: Path,
) -> None:
    """`synthcap profile --from --to` in a fresh process (nothing configured JAX before the
    merge) with every RuntimeWarning an error: float64 statistics equal to numpy's on the
    pooled rows, dates and datetimes shown as such."""
    _, frames = _stored_days(tmp_path / "lake")
    command = [sys.executable, "-W", "error::RuntimeWarning", "-m", "synthcap_assets.cli"]
    command += ["profile", "--source", "shop", "--from", str(DAYS[0]), "--to", str(DAYS[-1])]
    run = subprocess.run(
        [*command, "--format", "json", "--lake", str(tmp_path / "lake")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Warning" not in run.stderr, run.stderr[-3000:]
    shown = {r["column"]: r for r in json.loads(run.stdout)}
    pooled = pl.concat(frames)
    price = pooled["price"].to_numpy()
    assert shown["price"]["count"] == price.size
    # float64, to its last bits: float32 would be off by ~1e-5 (157.14361572265625).
    assert abs(shown["price"]["mean"] - math.fsum(price) / price.size) <= 4 * np.spacing(157.0)
    assert shown["price"]["std"] == pytest.approx(np.std(price, ddof=1), rel=1e-12)
    assert (shown["price"]["min"], shown["price"]["max"]) == (price.min(), price.max())
    when = pooled["when"]
    assert shown["when"]["min"] == str(when.min()) and shown["when"]["max"] == str(when.max())
    at = pooled["at"].to_pandas()
    assert shown["at"]["min"] == str(at.min()) and shown["at"]["max"] == str(at.max())
    mean_at = pd.Timestamp(shown["at"]["mean"])
    assert abs(mean_at - at.mean()) <= pd.Timedelta(microseconds=1)
    assert shown["at"]["std"] == f"{at.std() / pd.Timedelta(days=1):.6g} days"
    assert shown["name"]["mean"] is None and shown["name"]["count"] == pooled.height
