"""Partitions on two worker processes: a real two-process run of two small sources × two days
on one SQLite instance and one lake, then every table and the instance hold each partition
exactly once, as one process would have left them; and the worker count's rules."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from synthcap_assets.workers import WorkerCountError, worker_count

SOURCES = ("shop_east", "shop_west")
DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 21))
ROWS = {"shop_east": 240, "shop_west": 310}  # different sizes: a mixed-up row count shows
SPEC = """\
id: {id}
title: Shop orders ({id})
kind: file
location: {data}/{{date}}.csv
format: csv
start_date: {start}
license: CC0-1.0
terms_url: https://creativecommons.org/publicdomain/zero/1.0/
domain: tabular
subject: entity
privacy:
  epsilon: 3.0
  budget: 100
  categories:
    color: [red, green, blue]
  bounds:
    amount: [0, 200]
    qty: [1, 20]
"""
# One row per (source, date) in these, one per (source, date, column) in the column reports.
ONE_ROW_TABLES = ("readiness_score", "synthetic_outcome")
COLUMN_TABLES = ("profile", "privacy_report", "quality_report")


def test_worker_count_rules() -> None:
    plan = [(s, d) for d in DAYS for s in ("a", "b", "c")]
    assert worker_count(plan, {"SYNTHCAP_DEMO_WORKERS": "2"}) == 2
    assert worker_count(plan, {"SYNTHCAP_DEMO_WORKERS": "1"}) == 1
    # Never more workers than sources: one source's days run one after the other.
    assert worker_count(plan[:2], {"SYNTHCAP_DEMO_WORKERS": "8"}) == 2
    assert worker_count([("a", DAYS[0]), ("a", DAYS[1])], {}) == 1
    assert worker_count(plan, {}) == min(3, len(os.sched_getaffinity(0)))
    for bad in ("0", "two", "-1"):
        with pytest.raises(WorkerCountError, match="whole number"):
            worker_count(plan, {"SYNTHCAP_DEMO_WORKERS": bad})


def _write_days(data: Path, source: str, rng: np.random.Generator) -> None:
    data.mkdir(parents=True, exist_ok=True)
    n = ROWS[source]
    for day in DAYS:
        lines = ["id,amount,color,qty"] + [
            f"{i},{a:.2f},{c},{q}"
            for i, (a, c, q) in enumerate(
                zip(
                    rng.uniform(5, 195, n),
                    rng.choice(["red", "green", "blue"], n),
                    rng.integers(1, 20, n),
                    strict=True,
                )
            )
        ]
        (data / f"{day}.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory):
    """Both sources' two days on two spawned workers, through ``run_partitions``."""
    from synthcap_assets.materialize import run_partitions

    root = tmp_path_factory.mktemp("workers")
    rng = np.random.default_rng(11)
    sources = root / "sources"
    sources.mkdir()
    for source in SOURCES:
        _write_days(root / "data" / source, source, rng)
        spec = SPEC.format(id=source, data=root / "data" / source, start=DAYS[0])
        (sources / f"{source}.yaml").write_text(spec)
    plan = [(s, d) for d in DAYS for s in SOURCES]
    seen: list[tuple[str, dt.date, int]] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(root / "home"))
        mp.setenv("SYNTHCAP_DEMO_WORKERS", "2")
        runs = run_partitions(
            str(root / "lake"),
            sources,
            plan,
            on_partition=lambda r: seen.append((r.source, r.day, os.getpid())),
        )
        with dg.DagsterInstance.get() as instance:
            records = instance.fetch_materializations(dg.AssetKey("raw_capture"), limit=100).records
            run_ids = [r.run_id for r in instance.get_runs()]
    yield root, plan, runs, seen, records, run_ids


def test_two_workers_run_every_partition_once(two_workers) -> None:
    root, plan, runs, seen, records, run_ids = two_workers
    assert [(r.source, r.day) for r in runs] == plan
    # Two processes ran them, neither of them this one; the callback ran here, once each.
    assert len({r.worker for r in runs}) == 2 and os.getpid() not in {r.worker for r in runs}
    assert sorted((s, d) for s, d, _ in seen) == sorted(plan)
    assert {pid for _, _, pid in seen} == {os.getpid()}
    # Each source's days in date order: day 2 reported after day 1.
    for source in SOURCES:
        order = [d for s, d, _ in seen if s == source]
        assert order == sorted(order)
    for run in runs:
        assert run.readiness and "readiness_score" in run.materialized, (run.source, run.error)
        assert run.error is None or run.held_by_gate, (run.source, run.day, run.error)
    # The instance: a partition run and a readiness run per partition, one capture each.
    assert len(run_ids) == 2 * len(plan)
    keys = sorted(r.partition_key for r in records)
    assert keys == sorted(f"{d}|{s}" for s, d in plan)


def test_two_workers_leave_every_table_as_one_process(two_workers) -> None:
    from synthcap_resources.lakehouse import LakehouseResource

    root, plan, *_ = two_workers
    lake = LakehouseResource(root=str(root / "lake"))
    for source in SOURCES:
        raw = lake.read_table(f"raw/{source}")
        counts = dict(raw.group_by("_date").len().iter_rows())
        assert counts == {d: ROWS[source] for d in DAYS}, (source, counts)
        assert raw.select("_date", "id").is_duplicated().sum() == 0
    expected = sorted((s, d) for s, d in plan)
    for name in ONE_ROW_TABLES:
        table = lake.read_table(f"reports/{name}")
        pairs = sorted(table.select("source", "date").iter_rows())
        assert pairs == expected, name
    for name in COLUMN_TABLES:
        table = lake.read_table(f"reports/{name}")
        assert sorted(set(table.select("source", "date").iter_rows())) == expected, name
        assert table.select("source", "date", "column").is_duplicated().sum() == 0, name
        # Both sources have the same columns: each (source, date) holds the same row count.
        sizes = table.group_by("source", "date").len()["len"]
        assert sizes.n_unique() == 1, (name, sizes.to_list())
    # The ledger: each partition's releases, each once, all by one run.
    ledger = lake.read_table("audit/privacy_budget")
    assert sorted(set(ledger.select("source", "date").iter_rows())) == expected
    assert ledger.select("source", "date", "release").is_duplicated().sum() == 0
    runs_per_partition = ledger.group_by("source", "date").agg(pl.col("run_id").n_unique())
    assert runs_per_partition["run_id"].max() == 1


def test_budget_lines_count_every_workers_seconds() -> None:
    from synthcap_assets.demo import DEMO_BUDGET_SECONDS, STEP_BUDGETS, budget_lines

    steps = {"profile": 10.0, "synthetic_sample": 30.0, "checks": 2.0}

    def line(lines: list[str], key: str) -> list[str]:
        return next(x.split() for x in lines if x.strip().startswith(key + " "))

    serial = budget_lines(50.0, steps)
    assert line(serial, "other")[1] == "8.0s"  # 50 s of wall, 42 of them in steps
    assert len(serial) == 1 + len(STEP_BUDGETS)
    two = budget_lines(30.0, steps, workers=2)
    assert f"60.0 worker-seconds of {2 * DEMO_BUDGET_SECONDS:.0f}" in two[1]
    assert line(two, "other")[1:4] == ["18.0s", "of", f"{2 * STEP_BUDGETS['other']:.1f}s"]
    synth = line(two, "synthetic_sample")
    assert (synth[-1] == "over") == (2 * STEP_BUDGETS["synthetic_sample"] < 30.0)


def test_a_worker_that_dies_is_named_with_the_way_out(tmp_path: Path) -> None:
    """A script without a ``__main__`` guard: each spawned worker runs it again and dies."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text(
        "import datetime as dt\n"
        "from pathlib import Path\n"
        "from synthcap_assets.workers import run_in_workers\n"
        "day = dt.date(2026, 11, 20)\n"
        "run_in_workers('lake', Path('sources'), [('a', day), ('b', day)], 2)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "WorkerDiedError" in done.stderr and "__main__" in done.stderr, done.stderr[-2000:]
    assert "SYNTHCAP_DEMO_WORKERS=1" in done.stderr
