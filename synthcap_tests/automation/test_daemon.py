"""Automation and alerts under a real ``dagster-daemon`` against a temporary instance.

A capture lands (run in this process against the instance); the daemon's automation sensor
then launches the downstream run on its own, once the capture's blocking checks passed. A
capture that breaks its frozen contract is not followed, and the daemon's alert sensor posts
exactly one alert for it; a restarted daemon posts nothing more.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.run_launcher import WORKER_PID_TAG
from synthcap_resources.alerts import WEBHOOK_URL_ENV
from synthcap_tests.automation.scenario import DAY1, DAY2, SOURCE, write_sources
from synthcap_tests.automation.webhook import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
DAEMON = Path(sys.executable).with_name("dagster-daemon")
QUALITY = dg.AssetKey("quality_report")
TIMEOUT_S = 150
DEFS_MODULE = "synthcap_tests.automation.daemon_defs"
FIRST_TICK = "Finished auto-materialization tick for synthcap_automation_sensor"


def _wait_for(what: str, condition: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    tail = log.read_text()[-3000:] if log.exists() else ""
    raise AssertionError(f"daemon: {what} did not happen in {TIMEOUT_S}s; log tail:\n{tail}")


class Daemon:
    """``dagster-daemon run`` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], workspace: Path, log: Path) -> None:
        self.env, self.workspace, self.log = env, workspace, log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Daemon:
        out = self.log.open("a")
        self.process = subprocess.Popen(
            [str(DAEMON), "run", "-w", str(self.workspace)],
            env=self.env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Ticks:
    """Waits for complete ticks of a sensor: two tick starts after a moment mean the first of
    them finished (ticks of one sensor run one after the other)."""

    def __init__(self, instance: dg.DagsterInstance, sensor: str) -> None:
        self.instance, self.sensor = instance, sensor
        self.seen: set[float] = set()
        self.since = time.time()

    def restart(self) -> None:
        self.seen, self.since = set(), time.time()

    def completed(self) -> bool:
        for state in self.instance.all_instigator_state():
            data = state.instigator_data
            stamp = getattr(data, "last_tick_timestamp", None)
            if state.name == self.sensor and stamp and stamp > self.since:
                self.seen.add(stamp)
        return len(self.seen) >= 2


def _all_finished(instance: dg.DagsterInstance) -> bool:
    return all(run.is_finished for run in instance.get_runs())


def _materialized(instance: dg.DagsterInstance, day: dt.date) -> bool:
    key = str(partition_key(SOURCE, day))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=QUALITY, asset_partitions=[key]), limit=1
    )
    return bool(records.records)


@pytest.mark.skipif(not DAEMON.exists(), reason="dagster-daemon is not installed in this venv")
def test_daemon_automates_downstream_and_alerts_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The repository's instance config (queue, WarmRunLauncher), with one waiting worker that
    # preloads this test's code location: the daemon's runs go through synthcap's launcher.
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["run_launcher"]["config"] = {"spares": 1, "preload": [DEFS_MODULE]}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n  - python_module:\n"
        f"      module_name: {DEFS_MODULE}\n"
        f"      working_directory: {REPO}\n"
    )
    sources = write_sources(tmp_path / "sources")
    lake = tmp_path / "lake"
    with WebhookReceiver() as hook:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SYNTHCAP_LAKE": str(lake),
            "SYNTHCAP_SOURCES": str(sources),
            "SYNTHCAP_AUTOMATION_INTERVAL_S": "5",
            "SYNTHCAP_ALERT_INTERVAL_S": "5",
            "OPENLINEAGE_DISABLED": "true",
            WEBHOOK_URL_ENV: hook.url,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        from synthcap_tests.automation.daemon_defs import defs  # reads the environment

        log = tmp_path / "daemon.log"
        with dg.DagsterInstance.from_config(str(home)) as instance:
            instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
            capture = dg.define_asset_job(
                "capture", selection=dg.AssetSelection.assets("raw_capture")
            ).resolve(asset_graph=defs.resolve_asset_graph(), resource_defs=defs.resources)
            ticks = Ticks(instance, "alert_sensor")
            with Daemon(env, workspace, log):
                # Automation reacts to what lands after its first tick, as in production.
                _wait_for("a first automation tick", lambda: FIRST_TICK in log.read_text(), log)
                for day in (DAY1, DAY2):
                    capture.execute_in_process(
                        partition_key=partition_key(SOURCE, day),
                        instance=instance,
                        raise_on_error=False,
                    )
                _wait_for("quality_report of day 1", lambda: _materialized(instance, DAY1), log)
                _wait_for("one alert", lambda: len(hook.calls) >= 1, log)
                _wait_for("every launched run to finish", lambda: _all_finished(instance), log)
                ticks.restart()
                _wait_for("a further alert sensor tick", ticks.completed, log)
            assert not _materialized(instance, DAY2)
            (body,) = hook.bodies()
            assert body["check"] == "raw_capture.raw_capture_conforms_to_schema"
            assert body["date"] == DAY2.isoformat() and body["severity"] == "ERROR"
            ticks.restart()
            with Daemon(env, workspace, log):
                _wait_for("an alert sensor tick after the restart", ticks.completed, log)
            assert len(hook.calls) == 1
            launched = [run for run in instance.get_runs() if "capture" not in run.job_name]
            assert launched and all(run.is_success for run in launched)
            assert all(run.tags.get(WORKER_PID_TAG, "").isdigit() for run in launched)
