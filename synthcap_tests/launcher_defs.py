"""A small code location for ``test_run_launcher.py``: jobs that say which process ran them and
when that process imported this module, and one that waits to be terminated.

``LAUNCHER_TEST_DIR`` (set by the test) is where the ops write: ``run-<run id>.json`` (the
process and when it imported this module), ``waiting-<run id>`` once the waiting op started.
"""

import json
import os
import time
from pathlib import Path

import dagster as dg

import synthcap_resources.catalog  # noqa: F401 - the worker then watches the catalog folder

IMPORTED_AT = time.time()
OUT = Path(os.environ.get("LAUNCHER_TEST_DIR", "."))


@dg.op
def report_process(context: dg.OpExecutionContext) -> None:
    record = {"pid": os.getpid(), "imported_at": IMPORTED_AT, "ran_at": time.time()}
    (OUT / f"run-{context.run_id}.json").write_text(json.dumps(record))


@dg.op
def wait_for_termination(context: dg.OpExecutionContext) -> None:
    (OUT / f"waiting-{context.run_id}").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # interrupted by the launcher's terminate()
        time.sleep(0.2)
    raise TimeoutError("wait_for_termination was not terminated within 120 s")


@dg.job(executor_def=dg.in_process_executor)
def report_job() -> None:
    report_process()


@dg.job(executor_def=dg.in_process_executor)
def waiting_job() -> None:
    wait_for_termination()
