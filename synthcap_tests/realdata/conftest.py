"""The real-data lake, built once per session through ``synthcap materialize``.

``realdata_lake`` writes the real tables of ``tables.py`` (two days each) and the malformed
files of ``synthcap_tests/capture/malformed.py`` as a catalog, then runs the real CLI in a
subprocess with ``SYNTHCAP_SOURCES``, ``SYNTHCAP_LAKE`` and ``DAGSTER_HOME`` in a temporary
folder, as a new user would. Tests only read what the run left: the lake (polars), the
Dagster instance (check results) and the CLI's output.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from synthcap_tests.realdata.malformed_sources import write_malformed
from synthcap_tests.realdata.tables import START, Planted, write_suite

N_DAYS = 2
FULL_DAYS_ENV = "SYNTHCAP_REALDATA_DAYS"
# Development aid: a folder where build_lake already ran; its lake is read, not rebuilt.
REUSE_ENV = "SYNTHCAP_REALDATA_REUSE"
# Generous: on an idle 2-core machine the CI lake builds in about 2-3 minutes, but this
# machine is shared and a loaded one takes several times longer.
CLI_TIMEOUT_S = 2400
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    """One ``synthcap materialize`` call: its arguments, exit status and output."""

    args: list[str]
    returncode: int
    output: str


@dataclass
class RealLake:
    """The lake a session's ``synthcap materialize`` runs built, and how to read it."""

    planted: Planted
    lake: Path
    home: Path
    runs: list[CliRun]

    def table(self, path: str) -> pl.DataFrame:
        """The Delta table at ``path`` under the lake (e.g. ``reports/profile``); empty
        frame when the table was never written."""
        location = self.lake / path
        if not (location / "_delta_log").is_dir():
            return pl.DataFrame()
        return pl.read_delta(str(location))

    def rows(self, path: str, source: str, day: dt.date | None = None) -> pl.DataFrame:
        """A report table's rows of ``source`` (and ``day``)."""
        df = self.table(path)
        if df.is_empty():
            return df
        df = df.filter(pl.col("source") == source)
        return df if day is None else df.filter(pl.col("date") == day)

    def raw(self, source: str) -> pl.DataFrame:
        return self.table(f"raw/{source}")

    def check_outcomes(self, asset: str) -> dict[tuple[str, str], bool]:
        """Latest outcome of every check of ``asset`` per partition key: {(check, key): passed}."""
        outcomes: dict[tuple[str, str], bool] = {}
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            storage = instance.event_log_storage
            keys = [dg.AssetCheckKey(dg.AssetKey(asset), name) for name in _check_names(asset)]
            for key in keys:
                records = storage.get_asset_check_execution_history(key, limit=10_000)
                for record in reversed(records):  # oldest first: the latest one wins
                    evaluation = record.event.asset_check_evaluation if record.event else None
                    if record.partition and evaluation is not None:
                        outcomes[(key.name, record.partition)] = evaluation.passed
        return outcomes

    @property
    def output(self) -> str:
        return "\n".join(run.output for run in self.runs)


def _check_names(asset: str) -> list[str]:
    from synthcap_assets.definitions import CHECKS

    names = []
    for checks_def in CHECKS:
        for key in checks_def.check_keys:
            if key.asset_key == dg.AssetKey(asset):
                names.append(key.name)
    return names


def _materialize(env: dict[str, str], sources: list[str], days: list[dt.date]) -> CliRun:
    args = ["materialize"]
    for source in sources:
        args += ["--source", source]
    if len(days) == 1:
        args += ["--date", days[0].isoformat()]
    else:
        args += ["--from", days[0].isoformat(), "--to", days[-1].isoformat()]
    synthcap = Path(sys.executable).with_name("synthcap")
    done = subprocess.run(
        [str(synthcap), *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    return CliRun(args=args, returncode=done.returncode, output=done.stdout + done.stderr)


def build_lake(
    root: Path, n_days: int = N_DAYS, full: bool = False, reuse: bool = False
) -> RealLake:
    """Write the suite under ``root`` (``n_days`` >= 2) and materialize it with the CLI."""
    if n_days < 2:
        raise ValueError(f"the real-data suite needs at least 2 days (drift), got {n_days}")
    planted = write_suite(root, n_days=n_days, full=full)
    malformed = write_malformed(root / "data", planted)
    home = root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(root / "lake"),
        "SYNTHCAP_SOURCES": str(planted.sources),
        "SYNTHCAP_LINEAGE_TRANSPORTS": "none",
        "COLUMNS": "200",
    }
    days = [START + dt.timedelta(days=i) for i in range(n_days)]
    log = root / "materialize.log"
    if reuse and log.is_file():
        rc, _, output = log.read_text().partition("\n")
        run = CliRun(args=[], returncode=int(rc), output=output)
    else:
        run = _materialize(env, sorted(planted.days) + malformed, days)
        log.write_text(f"{run.returncode}\n{run.output}")
    return RealLake(planted=planted, lake=root / "lake", home=home, runs=[run])


@pytest.fixture(scope="session")
def realdata_lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLake]:
    """The CI lake (subsets, two days); ``SYNTHCAP_REALDATA_DAYS=N`` builds full tables over
    N days instead (what ``test_full_run.py``, marked slow, asks for)."""
    days = int(os.environ.get(FULL_DAYS_ENV, "0"))
    if os.environ.get(REUSE_ENV):
        yield build_lake(
            Path(os.environ[REUSE_ENV]), n_days=days or N_DAYS, full=bool(days), reuse=True
        )
        return
    root = tmp_path_factory.mktemp("realdata")
    yield build_lake(root, n_days=days, full=True) if days else build_lake(root)
