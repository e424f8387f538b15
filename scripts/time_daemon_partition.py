"""Time one (source, date) partition run through the Dagster daemon against the demo's path.

    .venv/bin/python scripts/time_daemon_partition.py [--source market_prices]
        [--date 2026-11-16] [--launchers warm,dagster]

A fresh instance and lake per path, under a temporary folder, the bundled sources in each:

1. the demo's path: ``synthcap_assets.materialize.run_partitions`` in this process
   (``execute_in_process``: the partition job, then the readiness job), timed per partition
   (``PartitionRun.seconds``, the definitions already loaded, as in the demo);
2. the daemon's path, as the UI launches: ``dagster-daemon run`` on the workspace; the partition
   job and then, when it has ended, the readiness job submitted to the instance's queue as the
   UI's launch button submits them (the runs are created beforehand from a code location this
   script holds, as the webserver holds one); the daemon dequeues and its run launcher starts
   the run. ``launchers`` picks the instance's launcher: ``warm`` is ``dagster.yaml`` as
   shipped (``WarmRunLauncher``: a worker that imported the code location before the run
   came), ``dagster`` the same file with Dagster's default launcher and dequeue interval (a
   process spawned by the code server per run, importing it after the launch). Before the
   first launch the script waits until the daemon, its code server and any waiting worker are
   idle (a user opens the UI before clicking).

Per daemon run: ``queued_to_start_seconds`` from the submission to its RUN_START (the queue,
the dequeue interval, the launch and, when cold, the imports), ``run_seconds`` from RUN_START to
its end (the steps and Dagster's bookkeeping), ``launched`` the launcher's own line about the
process it used. ``launch_to_end_seconds`` runs from the first submission to the last end;
``ratio`` is that over the demo's ``partition_seconds``, ``steps_ratio`` the runs' own seconds
over it. Runs the daemon's sensors queue on their own (none on a fresh instance since the
capture sensors start stopped) are cancelled while the measured ones wait.

Prints one JSON object; exits 1 when a run fails. No assertion on the times: the README's
Executor paragraph records them with the machine's load.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LAUNCHERS = ("warm", "dagster")


def _env(root: Path, launcher: str = "warm") -> dict[str, str]:
    """A fresh instance's environment; its ``dagster.yaml`` is the repository's, or for
    ``dagster`` the same with Dagster's default launcher and queue settings."""
    import yaml

    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    if launcher == "dagster":
        config.pop("run_launcher", None)
        config["run_coordinator"]["module"] = "dagster.core.run_coordinator"
        config["run_coordinator"]["class"] = "QueuedRunCoordinator"
        config["run_coordinator"]["config"].pop("dequeue_interval_seconds", None)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
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


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants (the daemon, its code server, its waiting worker)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    family, todo = [], [pid]
    while todo:
        current = todo.pop()
        family.append(current)
        todo.extend(children.get(current, []))
    return family


def _family_cpu_seconds(pid: int) -> float:
    seconds = 0.0
    for member in _family(pid):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            seconds += _cpu_seconds(member)
    return seconds


def _settle(pid: int, timeout: float = 300.0) -> float:
    """Wait until the daemon's processes used under 0.3 CPU-seconds in 3 s; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = _family_cpu_seconds(pid)
        time.sleep(3)
        if _family_cpu_seconds(pid) - before < 0.3 and time.monotonic() - started > 10:
            break
    return round(time.monotonic() - started, 1)


def _create_runs(instance, source: str, day: dt.date) -> list[str]:
    """The partition run and the readiness run, created (not yet submitted) from a code location
    this process holds, as the webserver creates the runs its launch button submits."""
    from dagster._cli.job import _create_run
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    from synthcap_assets.partitions import partition_key

    tags = {
        "dagster/partition": str(partition_key(source, day)),
        "dagster/partition/date": day.isoformat(),
        "dagster/partition/source": source,
    }
    target = WorkspaceFileTarget(paths=[str(REPO / "workspace.yaml")])
    with WorkspaceProcessContext(instance, target) as context:
        workspace = context.create_request_context()
        location = workspace.get_code_location("synthcap")
        (repo,) = location.get_repositories().values()
        return [
            _create_run(
                instance=instance,
                code_location=location,
                remote_repo=repo,
                remote_job=repo.get_full_job(job),
                run_config={},
                tags=tags,
                op_selection=None,
                run_id=None,
            ).run_id
            for job in ("daily_partition_job", "readiness_job")
        ]


def _run_pid(instance, run_id: str) -> int | None:
    """The pid of the run's process: the launcher's tag, or Dagster's "Started process" line."""
    record = instance.get_run_by_id(run_id)
    if record and record.tags.get("synthcap/run_worker_pid", "").isdigit():
        return int(record.tags["synthcap/run_worker_pid"])
    for entry in instance.all_logs(run_id):
        found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message or "")
        if found:
            return int(found.group(1))
    return None


def _wait(instance, run_id: str, timeout: float) -> tuple[object, float | None]:
    """The run's record once it finished, and the CPU-seconds (user + system, read from /proc)
    its process used from its RUN_START on (None when the process was never seen)."""
    import dagster as dg

    deadline, first, cpu = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        for other in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])):
            if other.run_id != run_id:
                instance.report_run_canceled(other, message="not the measured run")
        record = instance.get_run_record_by_id(run_id)
        if record is not None and record.dagster_run.is_finished:
            return record, (round(cpu - first, 1) if cpu is not None else None)
        pid = _run_pid(instance, run_id) if record and record.start_time else None
        if pid is not None:
            with contextlib.suppress(OSError, IndexError):
                cpu = _cpu_seconds(pid)
                first = cpu if first is None else first
        time.sleep(0.2)
    record = instance.get_run_record_by_id(run_id)
    status = record.dagster_run.status.value if record else "not in the instance"
    raise TimeoutError(f"run {run_id} did not finish in {timeout:.0f}s (status {status})")


def _slowest_steps(instance, run_id: str, count: int = 4) -> dict[str, float]:
    import dagster as dg

    steps = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
        steps[entry.step_key] = entry.dagster_event.event_specific_data.duration_ms / 1000
    slowest = sorted(steps.items(), key=lambda item: -item[1])[:count]
    return {key: round(seconds, 1) for key, seconds in slowest}


def _launched(instance, run_id: str) -> str:
    for entry in instance.all_logs(run_id):
        if entry.message and "Launched in" in entry.message:
            return entry.message
    return "Dagster's default launcher"


def daemon_path(root: Path, source: str, day: dt.date, launcher: str, timeout: float) -> dict:
    """The partition launched as the UI launches it, run by the daemon's run launcher."""
    import dagster as dg

    from synthcap_assets.demo import install_bundled_sources
    from synthcap_assets.materialize import register_sources

    env = _env(root, launcher)
    os.environ.update(env)
    install_bundled_sources(root / "sources")
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    register_sources(instance, [source])
    run_ids = _create_runs(instance, source, day)
    log = (root / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        settled = _settle(daemon.pid)
        # What the idle daemon costs (its queue polling, sensor ticks, code server, workers).
        idle_before = _family_cpu_seconds(daemon.pid)
        time.sleep(15)
        idle = (_family_cpu_seconds(daemon.pid) - idle_before) / 15
        submitted, records, cpu = [], [], []
        for run_id in run_ids:
            submitted.append(time.time())
            instance.submit_run(run_id, workspace=None)
            record, seconds = _wait(instance, run_id, timeout)
            records.append(record)
            cpu.append(seconds)
    except TimeoutError:
        print((root / "daemon.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        log.close()
    return {
        "launcher": launcher,
        "settle_seconds": settled,
        "idle_cpu_seconds_per_second": round(idle, 3),
        "partition_seconds": round(sum(r.end_time - r.start_time for r in records), 1),
        "launch_to_end_seconds": round(records[-1].end_time - submitted[0], 1),
        "run_seconds": [round(r.end_time - r.start_time, 1) for r in records],
        # CPU-seconds of each run's process from its RUN_START on.
        "run_process_cpu_seconds": cpu,
        "slowest_steps": [_slowest_steps(instance, r.dagster_run.run_id) for r in records],
        "queued_to_start_seconds": [
            round(r.start_time - t, 1) for r, t in zip(records, submitted, strict=True)
        ],
        "launched": [_launched(instance, r.dagster_run.run_id) for r in records],
        "ok": all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="market_prices")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    parser.add_argument("--launchers", default="warm", help="comma-separated: warm, dagster")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    launchers = [name.strip() for name in args.launchers.split(",") if name.strip()]
    unknown = sorted(set(launchers) - set(LAUNCHERS))
    if unknown:
        parser.error(f"unknown launcher(s) {unknown}: pick from {', '.join(LAUNCHERS)}")
    out: dict = {"source": args.source, "date": args.date.isoformat()}
    with tempfile.TemporaryDirectory(prefix="synthcap-daemon-") as tmp:
        daemons = [
            daemon_path(Path(tmp) / name, args.source, args.date, name, args.timeout)
            for name in launchers
        ]
        demo = demo_path(Path(tmp) / "demo", args.source, args.date)
    out["load_1min"] = round(os.getloadavg()[0], 1)
    out["demo"] = demo
    for daemon in daemons:
        daemon["ratio"] = round(daemon["launch_to_end_seconds"] / demo["partition_seconds"], 2)
        daemon["steps_ratio"] = round(daemon["partition_seconds"] / demo["partition_seconds"], 2)
    out["daemon"] = daemons
    print(json.dumps(out))
    return 0 if all(d["ok"] for d in daemons) and demo["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
