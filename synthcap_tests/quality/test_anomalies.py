"""Metric anomalies: partition metrics and robust z-scores on crafted history."""

from __future__ import annotations

import polars as pl
import pytest

from synthcap_assets.quality.anomalies import describe, detect_anomalies, partition_metrics


def _history(values: dict[tuple[str, str], list[float]]) -> pl.DataFrame:
    rows = [(c, m, v) for (c, m), vs in values.items() for v in vs]
    return pl.DataFrame(rows, schema=["column", "metric", "value"], orient="row")


def test_partition_metrics_known_answers() -> None:
    frame = pl.DataFrame(
        {"x": [1.0, 2.0, None, float("nan")], "s": ["a", "a", "b", None], "_date": [1] * 4}
    )
    got = {(c, m): v for c, m, v in partition_metrics(frame).rows()}
    assert got == {
        ("*", "row_count"): 4.0,
        ("x", "null_rate"): 0.5,
        ("x", "distinct"): 2.0,
        ("x", "mean"): 1.5,
        ("s", "null_rate"): 0.25,
        ("s", "distinct"): 2.0,
    }


def test_robust_z_flags_a_jump_and_gives_the_range() -> None:
    history = _history({("*", "row_count"): [100, 102, 98, 101, 99]})
    current = pl.DataFrame({"column": ["*"], "metric": ["row_count"], "value": [150.0]})
    (row,) = detect_anomalies(current, history, z_threshold=3.5).to_dicts()
    # median 100, MAD 1: z = 0.6745 * 50 / 1; range 100 ± 3.5 / 0.6745
    assert row["median"] == 100 and row["mad"] == 1
    assert row["z"] == pytest.approx(0.6745 * 50)
    assert row["low"] == pytest.approx(100 - 3.5 / 0.6745)
    assert row["high"] == pytest.approx(100 + 3.5 / 0.6745)
    assert row["anomalous"] is True and row["history"] == 5
    assert describe(row).startswith("row count = 150, expected 94.81")
    normal = current.with_columns(value=pl.lit(103.0))
    assert detect_anomalies(normal, history, z_threshold=3.5)["anomalous"].to_list() == [False]


def test_flat_history_and_short_history() -> None:
    history = _history({("a", "null_rate"): [0.0, 0.0, 0.0], ("b", "mean"): [1.0, 2.0]})
    current = pl.DataFrame(
        {"column": ["a", "b"], "metric": ["null_rate", "mean"], "value": [0.2, 100.0]}
    )
    judged = detect_anomalies(current, history)
    assert judged["column"].to_list() == ["a"]  # b has two past values: not judged
    assert judged["anomalous"].to_list() == [True]
    same = current.with_columns(value=pl.lit(0.0))
    assert detect_anomalies(same, history)["anomalous"].to_list() == [False]
