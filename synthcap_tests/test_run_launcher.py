"""``WarmRunLauncher``: a run goes to a worker process that imported the code location before the
run existed, a new worker replaces it (once no run is running while another still waits; after
``refill_delay_seconds`` when none is left), a running run is health-checked and terminated
through its worker's pid, and a worker whose watched files changed runs its run from a fresh
import. And synthcap's own: a worker that preloaded the definitions and warmed the kernels up
runs a real partition, requests its readiness run as the run ends, and that run scores the day.

Runs of ``synthcap_tests.launcher_defs`` (small jobs that report their process and import time)
or of ``synthcap_assets.definitions`` on a temporary instance configured with the launcher,
launched as the daemon launches them (``instance.launch_run``), executed by real worker
processes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher.base import WorkerStatus

from synthcap_assets.run_launcher import WORKER_PID_TAG, WarmQueuedRunCoordinator, WarmRunLauncher
from synthcap_tests import launcher_defs

TIMEOUT_S = 90


def _wait(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {TIMEOUT_S}s")


def _instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **launcher: object
) -> Iterator[dg.DagsterInstance]:
    out, sources = tmp_path / "out", tmp_path / "sources"
    out.mkdir(parents=True)
    sources.mkdir()
    monkeypatch.setenv("LAUNCHER_TEST_DIR", str(out))
    monkeypatch.setenv("SYNTHCAP_SOURCES", str(sources))
    overrides = {
        "run_launcher": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmRunLauncher",
            "config": {"preload": ["synthcap_tests.launcher_defs"], "spares": 1, **launcher},
        },
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance
        instance.run_launcher.join(timeout=TIMEOUT_S)
        instance.run_launcher.dispose()


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    yield from _instance(tmp_path, monkeypatch)


def _launch(instance: dg.DagsterInstance, job: dg.JobDefinition) -> dg.DagsterRun:
    origin = dg.reconstructable(getattr(launcher_defs, job.name)).get_python_origin()
    run = instance.create_run_for_job(job_def=job, job_code_origin=origin)
    instance.launch_run(run.run_id, workspace=None)
    return run


def _finished(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    _wait(f"run {run_id} to finish", lambda: instance.get_run_by_id(run_id).is_finished)
    return instance.get_run_by_id(run_id)


def _spare_ready(launcher: WarmRunLauncher) -> int:
    """The pid of the waiting worker once it has imported the code location (a taken worker
    is replaced once no run is running: wait for the replacement to exist first)."""
    _wait("a waiting worker", lambda: len(launcher._idle) == 1)
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


def _waiting_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    out = Path(os.environ["LAUNCHER_TEST_DIR"])
    run = _launch(instance, launcher_defs.waiting_job)
    _wait("the waiting op to start", lambda: (out / f"waiting-{run.run_id}").exists())
    return run


def _stop(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    assert instance.run_launcher.terminate(run.run_id)
    assert _finished(instance, run.run_id).status == dg.DagsterRunStatus.CANCELED


def test_replacements_wait_for_a_quiet_moment_unless_none_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two spares: the launch leaves one waiting, so its replacement waits for the run's end.
    instances = _instance(tmp_path / "a", monkeypatch, spares=2, refill_delay_seconds=0.5)
    instance = next(instances)
    launcher = instance.run_launcher
    launcher.prewarm()
    assert launcher.wait_ready(TIMEOUT_S) and len(launcher._idle) == 2
    run = _waiting_run(instance)
    time.sleep(2)  # four looks of the refill thread
    assert len(launcher._idle) == 1  # no replacement beside the running run
    _stop(instance, run)
    _wait("the replacement once no run runs", lambda: len(launcher._idle) == 2)
    next(instances, None)

    # One spare: the launch takes the last, so a replacement starts refill_delay_seconds later,
    # the run still going.
    instances = _instance(tmp_path / "b", monkeypatch, spares=1, refill_delay_seconds=0.5)
    instance = next(instances)
    launcher = instance.run_launcher
    launcher.prewarm()
    assert launcher.wait_ready(TIMEOUT_S)
    run = _waiting_run(instance)
    _wait("a replacement beside the running run", lambda: len(launcher._idle) == 1)
    assert not instance.get_run_by_id(run.run_id).is_finished
    _stop(instance, run)
    next(instances, None)


def test_the_queue_takes_a_fractional_dequeue_interval_and_starts_the_workers() -> None:
    overrides = {
        "run_coordinator": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmQueuedRunCoordinator",
            "config": {"max_concurrent_runs": 2, "dequeue_interval_seconds": 0.5},
        },
        "run_launcher": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmRunLauncher",
            "config": {"preload": ["dagster"], "spares": 1},
        },
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, WarmQueuedRunCoordinator)
        assert coordinator.dequeue_interval_seconds == 0.5  # what the daemon reads, once
        assert len(instance.run_launcher._idle) == 1  # ...which started the waiting worker
        instance.run_launcher.dispose()
    overrides["run_coordinator"]["config"]["dequeue_interval_seconds"] = 0.1
    with (
        pytest.raises(ValueError, match="at least 0.5"),
        dg.instance_for_test(overrides=overrides) as instance,
    ):
        instance.run_coordinator  # noqa: B018 - built on first use


SOURCE, DAY = "market_prices", dt.date(2026, 11, 16)


def _remote_origin(job: str) -> object:
    """The origin a run launched from the UI carries (the queue needs one)."""
    import sys

    from dagster._core.remote_origin import (
        InProcessCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    target = LoadableTargetOrigin(
        executable_path=sys.executable, module_name="synthcap_assets.definitions"
    )
    location = InProcessCodeLocationOrigin(loadable_target_origin=target, location_name="synthcap")
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job)


READINESS = dg.AssetKey("readiness_score")


def test_a_warmed_worker_runs_a_partition_and_requests_its_readiness_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from synthcap_assets.automation.readiness_sensor import AFTER_RUN_TAG
    from synthcap_assets.demo import install_bundled_sources
    from synthcap_assets.materialize import register_sources
    from synthcap_assets.partitions import partition_key

    sources, lake = tmp_path / "sources", tmp_path / "lake"
    install_bundled_sources(sources)
    monkeypatch.setenv("SYNTHCAP_SOURCES", str(sources))
    monkeypatch.setenv("SYNTHCAP_LAKE", str(lake))
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    overrides = {
        "run_coordinator": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmQueuedRunCoordinator",
            "config": {"dequeue_interval_seconds": 0.5},
        },
        "run_launcher": {
            "module": "synthcap_assets.run_launcher",
            "class": "WarmRunLauncher",
            "config": {
                "preload": [
                    "synthcap_assets.definitions",
                    "synthcap_assets.run_worker:warm_kernels",
                ],
                "spares": 1,
                "after_run": ["synthcap_assets.automation.readiness_sensor:request_after_run"],
            },
        },
    }
    with dg.instance_for_test(overrides=overrides) as instance:
        launcher = instance.run_launcher
        register_sources(instance, [SOURCE])
        launcher.prewarm()
        assert launcher.wait_ready(TIMEOUT_S)
        (spare,) = launcher._idle
        assert spare.import_seconds is not None  # imported, warmed up, instance opened

        repo = ReconstructableRepository.for_module(
            "synthcap_assets.definitions", "defs", working_directory=str(Path.cwd())
        )
        job = repo.get_reconstructable_job("daily_partition_job")
        key = partition_key(SOURCE, DAY)
        tags = {
            "dagster/partition": str(key),
            "dagster/partition/source": SOURCE,
            "dagster/partition/date": DAY.isoformat(),
        }
        run = instance.create_run_for_job(
            job_def=job.get_definition(),
            job_code_origin=job.get_python_origin(),
            remote_job_origin=_remote_origin("daily_partition_job"),  # as the UI's runs have
            tags=tags,
        )
        instance.launch_run(run.run_id, workspace=None)  # what the daemon does on dequeue
        done = _finished(instance, run.run_id)
        assert done.status == dg.DagsterRunStatus.SUCCESS
        assert int(done.tags[WORKER_PID_TAG]) == spare.process.pid

        # As its run ended, the worker queued the readiness run of the same partition.
        def queued() -> list[dg.DagsterRun]:
            runs = instance.get_runs(dg.RunsFilter(tags={AFTER_RUN_TAG: run.run_id}))
            return [r for r in runs if r.status != dg.DagsterRunStatus.NOT_STARTED]

        _wait("the readiness run after the partition run", lambda: bool(queued()))
        (readiness,) = queued()
        assert readiness.job_name == "readiness_job"
        assert readiness.status == dg.DagsterRunStatus.QUEUED
        assert readiness.tags["dagster/partition"] == str(key)
        instance.launch_run(readiness.run_id, workspace=None)
        assert _finished(instance, readiness.run_id).status == dg.DagsterRunStatus.SUCCESS
        scored = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=READINESS, asset_partitions=[str(key)]), limit=1
        )
        assert scored.records

        # The sensors' rule sees the request: no second readiness run for the same run.
        from synthcap_assets.automation.readiness_sensor import request_after_run

        assert "already requested" in request_after_run(instance, run.run_id)
        launcher.join(timeout=TIMEOUT_S)
        launcher.dispose()
