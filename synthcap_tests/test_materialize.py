"""`synthcap materialize` on a user's own source, run as a user runs it: in a subprocess, with
SYNTHCAP_SOURCES, SYNTHCAP_LAKE and DAGSTER_HOME pointing at empty folders of their own; then
Dagster's own CLI with a string selection on the same lake and instance, synthesizing (an MST
fit in the process that parsed the selection)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthcap_assets.materialize import PlanError, day_range, plan_for

DAY1, DAY2, DAY3 = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)
SPEC = """\
id: shop_orders
title: A user's own shop orders
kind: file
location: {data}/{{date}}.csv
format: csv
start_date: {start}
license: CC0-1.0
terms_url: https://creativecommons.org/publicdomain/zero/1.0/
domain: tabular
subject: entity
quality:
  threshold: 90
  rules:
    - amount >= 0
privacy:
  epsilon: 3.0
  budget: 100
  categories:
    color: [red, green, blue]
  bounds:
    amount: [-200, 200]
    qty: [1, 20]
"""


def _write_day(path: Path, rng: np.random.Generator, negative_share: float) -> None:
    n = 300
    amount = rng.normal(100, 15, n)
    amount[: int(n * negative_share)] *= -1  # rows that break the rule `amount >= 0`
    colors = rng.choice(["red", "green", "blue"], n)
    qty = rng.integers(1, 20, n)
    lines = ["id,amount,color,qty"]
    lines += [
        f"{i},{a:.2f},{c},{q}" for i, (a, c, q) in enumerate(zip(amount, colors, qty, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Day 1 clean, day 2 with half its rows breaking a rule, day 3 never delivered."""
    tmp_path = tmp_path_factory.mktemp("user")
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(7)
    _write_day(data / f"{DAY1}.csv", rng, 0.0)
    _write_day(data / f"{DAY2}.csv", rng, 0.5)
    sources = tmp_path / "my_sources"
    sources.mkdir()
    (sources / "shop_orders.yaml").write_text(SPEC.format(data=data, start=DAY1))
    return tmp_path


def _cli(folder: Path, *args: str, tool: str = "synthcap") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SYNTHCAP_SOURCES": str(folder / "my_sources"),
        "SYNTHCAP_LAKE": str(folder / "my_lake"),
        "DAGSTER_HOME": str(folder / "my_dagster_home"),
    }
    command = {
        "synthcap": [sys.executable, "-m", "synthcap_assets.cli"],
        "dagster": [str(Path(sys.executable).parent / "dagster")],
    }[tool]
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def materialized(user_folder: Path) -> subprocess.CompletedProcess:
    """`synthcap materialize` over three days, once for the module."""
    days = ("--from", str(DAY1), "--to", str(DAY3))
    return _cli(user_folder, "materialize", "--source", "shop_orders", *days)


def test_materialize_a_users_source_over_a_range(
    user_folder: Path, materialized: subprocess.CompletedProcess
) -> None:
    run = materialized
    out, err = run.stdout, run.stderr
    # A partition failed (day 2 by its blocking quality check, day 3 by its missing file).
    assert run.returncode == 1, out[-3000:] + err[-3000:]
    lines = {line.split(":")[0] for line in out.splitlines() if "shop_orders 2026" in line}
    assert {f"ok shop_orders {DAY1}", f"failed shop_orders {DAY2}"} <= lines, out
    assert f"failed shop_orders {DAY3}" in lines, out
    failed = " ".join(err.split())
    assert f"shop_orders {DAY2}: checks failed: quality_score_meets_threshold" in failed, err
    assert f"shop_orders {DAY3}: raw_capture: SourceFileMissingError" in failed, err
    assert f"{DAY3}.csv" in failed
    # Every partition whose capture landed has its readiness row, the blocked day included.
    rows = _readiness(user_folder)
    assert sorted(rows) == [str(DAY1), str(DAY2)], rows
    assert all(0 <= score <= 100 for score in rows.values())
    assert rows[str(DAY2)] < rows[str(DAY1)]
    # The readiness table printed at the end shows both days.
    assert f"shop_orders │ {DAY1}" in out and f"shop_orders │ {DAY2}" in out


def test_dagster_cli_string_selection_then_synthesis(
    user_folder: Path, materialized: subprocess.CompletedProcess
) -> None:
    """`dagster asset materialize --select <string>` parses (Dagster's 4.13-generated selection
    parser on smartnoise's pinned 4.9 ANTLR runtime) and the same process then fits MST."""
    run = _cli(
        user_folder,
        "asset",
        "materialize",
        "-m",
        "synthcap_assets.definitions",
        "--select",
        "key:synthetic_sample or (key:raw_capture+ and key:readiness_score)",
        "--partition",
        f"{DAY1}|shop_orders",
        tool="dagster",  # every job runs in-process (synthcap_assets/executor.py)
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-4000:]
    assert "ord()" not in log and "versions disagree" not in log
    for step in ("synthetic_sample", "readiness_score"):
        assert f'Finished execution of step "{step}"' in log, log[-4000:]
    assert "RUN_SUCCESS" in log
    sample = _cli(
        user_folder,
        "sql",
        "--format",
        "csv",
        "select count(*) as n from synthetic_sample__shop_orders",
    )
    assert sample.returncode == 0 and int(sample.stdout.splitlines()[1]) > 0, sample.stderr


def _readiness(folder: Path) -> dict[str, float]:
    query = "select cast(date as varchar) as date, score from readiness_score"
    out = _cli(folder, "sql", "--format", "csv", query)
    assert out.returncode == 0, out.stderr
    return {r["date"]: float(r["score"]) for r in csv.DictReader(io.StringIO(out.stdout))}


def test_materialize_unknown_source_exits_2_naming_the_known(user_folder: Path) -> None:
    run = _cli(user_folder, "materialize", "--source", "nope", "--date", str(DAY1))
    assert run.returncode == 2
    err = " ".join(run.stderr.split())
    assert "nope" in err and "shop_orders" in err and "my_sources" in err


def test_plan_defaults_and_bounds(user_folder: Path) -> None:
    sources = user_folder / "my_sources"
    today = dt.date(2026, 11, 23)
    assert plan_for(sources, ["shop_orders"], today=today) == ([("shop_orders", DAY3)], [])
    plan, notes = plan_for(sources, ["shop_orders"], start=dt.date(2026, 11, 18), today=today)
    assert plan == [("shop_orders", d) for d in (DAY1, DAY2, DAY3)]
    assert len(notes) == 1 and "2 day(s) before 2026-11-20" in notes[0]
    with pytest.raises(PlanError, match="--to needs --from"):
        plan_for(sources, ["shop_orders"], end=DAY2)
    with pytest.raises(PlanError, match="no partition to run"):
        plan_for(sources, ["shop_orders"], date=dt.date(2026, 1, 1))
    with pytest.raises(PlanError, match="before --from"):
        day_range(DAY2, DAY1)


def test_sqlite_connections_commit_without_waiting_for_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every SQLite connection SQLAlchemy opens (Dagster's storage) gets ``synchronous=NORMAL``
    (1) by default, the mode ``SYNTHCAP_SQLITE_SYNC`` names otherwise; other engines untouched."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from synthcap_assets.executor import ExecutorChoiceError, sqlite_sync

    def synchronous() -> int:
        engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", poolclass=NullPool)
        with engine.connect() as conn:
            value = conn.execute(text("PRAGMA synchronous")).scalar()
        engine.dispose()
        return int(value)

    monkeypatch.delenv("SYNTHCAP_SQLITE_SYNC", raising=False)
    assert sqlite_sync() == "NORMAL" and synchronous() == 1
    monkeypatch.setenv("SYNTHCAP_SQLITE_SYNC", "full")
    assert sqlite_sync() == "FULL" and synchronous() == 2
    monkeypatch.setenv("SYNTHCAP_SQLITE_SYNC", "sometimes")
    with pytest.raises(ExecutorChoiceError, match="SOMETIMES"):
        sqlite_sync()
    monkeypatch.delenv("SYNTHCAP_SQLITE_SYNC")
    assert sqlite_sync() == "NORMAL"
