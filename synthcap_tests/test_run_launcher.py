"""``WarmRunLauncher``: a run goes to a worker process that imported the code location before the
run existed, a new worker replaces it, a running run is health-checked and terminated through
its worker's pid, and a worker whose watched files changed runs its run from a fresh import.

Runs of ``synthcap_tests.launcher_defs`` (small jobs that report their process and import time)
on a temporary instance configured with the launcher, launched as the daemon launches them
(``instance.launch_run``), executed by real worker processes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher.base import WorkerStatus

from synthcap_assets.run_launcher import WORKER_PID_TAG, WarmRunLauncher
from synthcap_tests import launcher_defs

TIMEOUT_S = 90


def _wait(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {TIMEOUT_S}s")


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    out, sources = tmp_path / "out", tmp_path / "sources"
    out.mkdir()
    sources.mkdir()
    monkeypatch.setenv("LAUNCHER_TEST_DIR", str(out))
    monkeypatch.setenv("SYNTHCAP_SOURCES", str(sources))
    overrides = {
        "run_launcher": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmRunLauncher",
            "config": {"preload": ["synthcap_tests.launcher_defs"], "spares": 1},
        },
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance
        instance.run_launcher.join(timeout=TIMEOUT_S)


def _launch(instance: dg.DagsterInstance, job: dg.JobDefinition) -> dg.DagsterRun:
    origin = dg.reconstructable(getattr(launcher_defs, job.name)).get_python_origin()
    run = instance.create_run_for_job(job_def=job, job_code_origin=origin)
    instance.launch_run(run.run_id, workspace=None)
    return run


def _finished(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    _wait(f"run {run_id} to finish", lambda: instance.get_run_by_id(run_id).is_finished)
    return instance.get_run_by_id(run_id)


def _spare_ready(launcher: WarmRunLauncher) -> int:
    """The pid of the waiting worker once it has imported the code location."""
    assert launcher.wait_ready(TIMEOUT_S)
    (spare,) = launcher._idle
    return spare.process.pid


def test_runs_go_to_workers_that_imported_before_them_and_can_be_terminated(
    instance: dg.DagsterInstance,
) -> None:
    out = Path(os.environ["LAUNCHER_TEST_DIR"])
    launcher = instance.run_launcher
    assert isinstance(launcher, WarmRunLauncher)
    launcher.prewarm()
    pids = []
    for _ in range(2):
        spare = _spare_ready(launcher)
        run = _launch(instance, launcher_defs.report_job)
        done = _finished(instance, run.run_id)
        assert done.status == dg.DagsterRunStatus.SUCCESS
        record = json.loads((out / f"run-{run.run_id}.json").read_text())
        created = instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp()
        # The run's process is the worker that was waiting, and it imported the code location
        # before the run was created: no import on the run's clock.
        assert record["pid"] == spare == int(done.tags[WORKER_PID_TAG])
        assert record["imported_at"] < created
        pids.append(spare)
    assert pids[0] != pids[1]  # one process per run; the second was started after the first run

    # A running run's worker is healthy; terminate() interrupts it and the run ends canceled.
    run = _launch(instance, launcher_defs.waiting_job)
    _wait("the waiting op to start", lambda: (out / f"waiting-{run.run_id}").exists())
    running = instance.get_run_by_id(run.run_id)
    assert launcher.check_run_worker_health(running).status == WorkerStatus.RUNNING
    assert launcher.terminate(run.run_id)
    done = _finished(instance, run.run_id)
    assert done.status == dg.DagsterRunStatus.CANCELED
    launcher.join(timeout=TIMEOUT_S)
    assert launcher.check_run_worker_health(done).status == WorkerStatus.FAILED
    assert not launcher.terminate(run.run_id)  # finished: nothing to terminate


def test_a_worker_whose_watched_files_changed_imports_afresh(
    instance: dg.DagsterInstance,
) -> None:
    out = Path(os.environ["LAUNCHER_TEST_DIR"])
    launcher = instance.run_launcher
    launcher.prewarm()
    spare = _spare_ready(launcher)
    # A new catalog file: the definitions the worker loaded may no longer be the current ones.
    (Path(os.environ["SYNTHCAP_SOURCES"]) / "new_source.yaml").write_text("id: new_source\n")
    run = _launch(instance, launcher_defs.report_job)
    assert _finished(instance, run.run_id).status == dg.DagsterRunStatus.SUCCESS
    record = json.loads((out / f"run-{run.run_id}.json").read_text())
    created = instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp()
    assert record["pid"] == spare  # the same process, replaced by `dagster api execute_run`
    assert record["imported_at"] > created  # which imported the code location again
