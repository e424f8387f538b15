"""The code location's executor: in-process by default (a run's steps share one process, so a
partition launched from the UI or a sensor does not pay the imports once per step), others by
``SYNTHCAP_EXECUTOR``."""

from __future__ import annotations

import pytest

from synthcap_assets.executor import ExecutorChoiceError, executor_from_env


def test_every_partition_job_runs_in_process() -> None:
    from synthcap_assets.definitions import defs

    for name in ("daily_partition_job", "readiness_job", "daily_capture_job"):
        assert defs.resolve_job_def(name).executor_def.name == "in_process", name
    # The ad-hoc asset job the UI launches for "Materialize" takes the same executor.
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"


def test_the_environment_picks_another_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHCAP_EXECUTOR", "multiprocess")
    assert executor_from_env().name == "multiprocess"
    monkeypatch.setenv("SYNTHCAP_EXECUTOR", "threads")
    with pytest.raises(ExecutorChoiceError, match="threads"):
        executor_from_env()
    monkeypatch.delenv("SYNTHCAP_EXECUTOR")
    assert executor_from_env().name == "in_process"
