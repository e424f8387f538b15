"""Time one (source, date) partition run through the Dagster daemon against the demo's path.

    .venv/bin/python scripts/time_daemon_partition.py [--source market_prices] [--date 2026-11-16]

Two fresh instances and lakes under a temporary folder, the bundled sources in each:

1. the demo's path: ``synthcap_assets.materialize.run_partitions`` in this process
   (``execute_in_process``: the partition job, then the readiness job), timed per partition
   (``PartitionRun.seconds``, the definitions already loaded, as in the demo);
2. the daemon's path, as the UI launches: ``dagster-daemon run`` on the workspace, the partition
   job and then the readiness job submitted with ``dagster job launch`` (the queued run
   coordinator of ``dagster.yaml``; the daemon dequeues, the default run launcher starts a run
   process on the code location's executor): ``partition_seconds`` sums each run from its
   start (its RUN_START event: the run process up, the code loaded) to its end;
   ``launch_to_end_seconds`` runs from the first launch to the last end, the queue, the
   daemon's dequeue interval and each run process's start and imports included. Runs the
   default-on automation queues on the fresh instance are cancelled while the measured ones
   wait (runs it had already started still hold their slots).

Prints one JSON object; exits 1 when a run fails. No assertion on the times: the README's
Executor paragraph records them with the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(root: Path) -> dict[str, str]:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(root / "lake"),
        "SYNTHCAP_SOURCES": str(root / "sources"),
    }


def demo_path(root: Path, source: str, day: dt.date) -> dict:
    """The partition through the demo's in-process path, in this process."""
    os.environ.update(_env(root))
    from synthcap_assets.demo import install_bundled_sources
    from synthcap_assets.materialize import run_partitions

    install_bundled_sources(root / "sources")
    started = time.perf_counter()
    runs = run_partitions(str(root / "lake"), root / "sources", [(source, day)])
    return {
        "partition_seconds": round(runs[0].seconds, 1),
        "with_definitions_seconds": round(time.perf_counter() - started, 1),
        "ok": runs[0].readiness,
    }


def _launch(env: dict, job: str, key: str, source: str, day: dt.date) -> str:
    tags = {
        "dagster/partition": key,
        "dagster/partition/date": day.isoformat(),
        "dagster/partition/source": source,
    }
    run_id = os.urandom(16).hex()
    subprocess.run(
        [str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", job]
        + ["--tags", json.dumps(tags), "--run-id", run_id],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    return run_id


def _wait(instance, run_id: str, timeout: float) -> object:
    import dagster as dg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # On a fresh instance the default-on automation queues every missing partition since
        # the catalog's start date; the measured run is not to wait behind them.
        for other in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])):
            if other.run_id != run_id:
                instance.report_run_canceled(other, message="not the measured run")
        record = instance.get_run_record_by_id(run_id)
        if record is not None and record.dagster_run.status in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.CANCELED,
        ):
            return record
        time.sleep(0.5)
    record = instance.get_run_record_by_id(run_id)
    status = record.dagster_run.status.value if record else "not in the instance"
    raise TimeoutError(f"run {run_id} did not finish in {timeout:.0f}s (status {status})")


def daemon_path(root: Path, source: str, day: dt.date, timeout: float) -> dict:
    """The partition launched as the UI launches it, run by the daemon's run launcher."""
    import dagster as dg

    from synthcap_assets.demo import install_bundled_sources
    from synthcap_assets.materialize import register_sources
    from synthcap_assets.partitions import partition_key

    env = {**os.environ, **_env(root)}
    install_bundled_sources(root / "sources")
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    register_sources(instance, [source])
    log = (root / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        key = partition_key(source, day)
        runs = []
        for job in ("daily_partition_job", "readiness_job"):
            run_id = _launch(env, job, key, source, day)
            runs.append(_wait(instance, run_id, timeout))
    except TimeoutError:
        print((root / "daemon.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        log.close()
    created = runs[0].create_timestamp.timestamp()
    return {
        # Each run from its RUN_START (process up, code loaded) to its end: the steps.
        "partition_seconds": round(sum(r.end_time - r.start_time for r in runs), 1),
        "launch_to_end_seconds": round(runs[-1].end_time - created, 1),
        "run_seconds": [round(r.end_time - r.start_time, 1) for r in runs],
        "queued_to_start_seconds": [
            round(r.start_time - r.create_timestamp.timestamp(), 1) for r in runs
        ],
        "ok": all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="market_prices")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synthcap-daemon-") as tmp:
        daemon = daemon_path(Path(tmp) / "daemon", args.source, args.date, args.timeout)
        demo = demo_path(Path(tmp) / "demo", args.source, args.date)
    load = os.getloadavg()[0]
    ratio = daemon["partition_seconds"] / demo["partition_seconds"]
    out = {"source": args.source, "date": args.date.isoformat(), "load_1min": round(load, 1)}
    print(json.dumps(out | {"demo": demo, "daemon": daemon, "ratio": round(ratio, 2)}))
    return 0 if daemon["ok"] and demo["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
