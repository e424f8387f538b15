"""Time one (source, date) partition run through the Dagster daemon against the demo's path.

    .venv/bin/python scripts/time_daemon_partition.py [--source market_prices]
        [--date 2026-11-16] [--launchers warm,dagster] [--readiness follow|submit] [--rounds N]

A fresh instance and lake per path, under a temporary folder, the bundled sources in each:

1. the demo's path: ``synthcap_assets.materialize.run_partitions`` in a fresh process
   (``execute_in_process``: the partition job, then the readiness job), timed per partition
   (``PartitionRun.seconds``, the definitions already loaded, as in the demo);
2. the daemon's path, as the UI launches: ``dagster-daemon run`` on the workspace; the partition
   job submitted to the instance's queue as the UI's launch button submits it (the run is created
   beforehand from a code location this script holds, as the webserver holds one); the daemon
   dequeues and its run launcher starts the run. The readiness run that ends the partition is,
   with ``--readiness follow`` (the default, what a user of the UI gets), the one requested after
   the partition run by the launcher's worker or else by the readiness sensors; with ``submit``
   this script submits it as soon as the partition run ended (the way this script measured
   before the worker requested it; it leaves the sensors' hop out). ``launchers`` picks the
   instance's launcher: ``warm`` is ``dagster.yaml`` as shipped (``WarmRunLauncher``: a worker
   that imported the code location and warmed up before the run came), ``dagster`` the same file
   with Dagster's default launcher and dequeue interval (a process spawned by the code server per
   run, importing it after the launch; the readiness run then comes from the sensors, every
   30 s). Before the first launch the script waits until the daemon, its code server and any
   waiting worker are idle (a user opens the UI before clicking).

Per daemon run: ``queued_to_start_seconds`` from the submission (for the readiness run: from the
partition run's end) to its RUN_START (the queue, the dequeue interval, the launch and, when
cold, the imports), ``run_seconds`` from RUN_START to its end (the steps and Dagster's
bookkeeping), ``launched`` the launcher's own line about the process it used, ``step_seconds``
and ``timelines`` (each run's start, step and end events, seconds from its submission) where
the time goes. ``launch_to_end_seconds`` runs from the submission to the readiness run's end;
``ratio`` is that over the demo's ``partition_seconds``, ``steps_ratio`` the runs' own seconds
over it. Runs the daemon's sensors queue on their own (none on a fresh instance since the
capture sensors start stopped) are cancelled while the measured ones wait.

``--rounds N`` repeats the whole (daemons, then demo) N times, each demo in a fresh process,
and reports each round's ratios and their medians: on a shared machine the load changes within
a minute, and back-to-back rounds are what compare.

Prints one JSON object; exits 1 when a run fails. No assertion on the times: the README's
Run launcher paragraph records them with the machine's load.
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
READINESS_MODES = ("follow", "submit")
AFTER_RUN_TAG = "synthcap/after_run"


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
    import dagster as dg

    instance = dg.DagsterInstance.get()
    records = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)
    lines = [timeline(instance, r.dagster_run.run_id) for r in records]
    return {
        "partition_seconds": round(runs[0].seconds, 1),
        "with_definitions_seconds": round(time.perf_counter() - started, 1),
        "run_seconds": [round(r.end_time - r.start_time, 1) for r in records],
        "step_seconds": [step_seconds(line) for line in lines],
        "timelines": lines,
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


def _create_runs(instance, source: str, day: dt.date, jobs: tuple[str, ...]) -> list[str]:
    """Runs of ``jobs`` for the partition, created (not yet submitted) from a code location
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
            for job in jobs
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


def _cancel_others(instance, measured: set[str]) -> None:
    """Cancel queued runs that are neither measured nor the readiness run after one."""
    import dagster as dg

    for other in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])):
        if other.run_id not in measured and other.tags.get(AFTER_RUN_TAG) not in measured:
            instance.report_run_canceled(other, message="not the measured run")


def _follower(instance, run_id: str, timeout: float) -> tuple[str, float]:
    """The id of the readiness run requested after ``run_id`` (by the launcher's worker or the
    readiness sensors), once it exists, and when it was created."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _cancel_others(instance, {run_id})
        records = instance.get_run_records(dg.RunsFilter(tags={AFTER_RUN_TAG: run_id}), limit=1)
        if records:
            return records[0].dagster_run.run_id, records[0].create_timestamp.timestamp()
        time.sleep(0.1)
    raise TimeoutError(f"no readiness run was requested after run {run_id} in {timeout:.0f}s")


def _wait(instance, run_id: str, timeout: float) -> tuple[object, float | None]:
    """The run's record once it finished, and the CPU-seconds (user + system, read from /proc)
    its process used from its RUN_START on (None when the process was never seen)."""
    deadline, first, cpu, pid = time.monotonic() + timeout, None, None, None
    while time.monotonic() < deadline:
        _cancel_others(instance, {run_id})
        record = instance.get_run_record_by_id(run_id)
        if record is not None and record.dagster_run.is_finished:
            return record, (round(cpu - first, 1) if cpu is not None else None)
        if pid is None and record and record.start_time:
            pid = _run_pid(instance, run_id)
        if pid is not None:
            with contextlib.suppress(OSError, IndexError):
                cpu = _cpu_seconds(pid)
                first = cpu if first is None else first
        time.sleep(0.1)
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


# Events of a run's timeline: the run's and each step's start and end, and the launcher's line.
_TIMELINE_EVENTS = (
    "RUN_STARTING",
    "RUN_START",
    "STEP_START",
    "STEP_SUCCESS",
    "STEP_FAILURE",
    "STEP_SKIPPED",
    "RUN_SUCCESS",
    "RUN_FAILURE",
)


def timeline(instance, run_id: str, zero: float | None = None) -> list[list]:
    """``[seconds, event, step]`` for the run's start and end events and each step's, seconds
    from ``zero`` (default the run's first event): where a run's time goes, step by step, and
    the gaps between steps (Dagster's own bookkeeping)."""
    rows = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        name = event.event_type.name if event is not None else None
        if entry.message and "Launched in" in entry.message:
            name = "LAUNCHED"
        if name in _TIMELINE_EVENTS or name == "LAUNCHED":
            rows.append([entry.timestamp, name, entry.step_key or ""])
    zero = rows[0][0] if zero is None and rows else zero
    return [[round(t - zero, 2), name, step] for t, name, step in rows]


def step_seconds(rows: list[list]) -> dict[str, float]:
    """Each step's seconds from its STEP_START to its end, from a ``timeline``."""
    starts, out = {}, {}
    for t, name, step in rows:
        if name == "STEP_START":
            starts[step] = t
        elif name in ("STEP_SUCCESS", "STEP_FAILURE") and step in starts:
            out[step] = round(t - starts[step], 2)
    return out


def _launched(instance, run_id: str) -> str:
    for entry in instance.all_logs(run_id):
        if entry.message and "Launched in" in entry.message:
            return entry.message
    return "Dagster's default launcher"


def daemon_path(
    root: Path, source: str, day: dt.date, launcher: str, timeout: float, readiness: str
) -> dict:
    """The partition launched as the UI launches it, run by the daemon's run launcher."""
    import dagster as dg

    from synthcap_assets.demo import install_bundled_sources
    from synthcap_assets.materialize import register_sources

    env = _env(root, launcher)
    os.environ.update(env)
    install_bundled_sources(root / "sources")
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    register_sources(instance, [source])
    jobs = ("daily_partition_job",) + (("readiness_job",) if readiness == "submit" else ())
    run_ids = _create_runs(instance, source, day, jobs)
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
        if readiness == "follow":
            # From the partition run's end: the hop to the readiness run is on the clock.
            follower, _ = _follower(instance, run_ids[0], timeout)
            submitted.append(records[0].end_time)
            record, seconds = _wait(instance, follower, timeout)
            records.append(record)
            cpu.append(seconds)
    except TimeoutError:
        print((root / "daemon.log").read_text()[-4000:], file=sys.stderr)
        raise
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        log.close()
    ids = [r.dagster_run.run_id for r in records]
    return {
        "launcher": launcher,
        "readiness": readiness,
        "settle_seconds": settled,
        "idle_cpu_seconds_per_second": round(idle, 3),
        "partition_seconds": round(sum(r.end_time - r.start_time for r in records), 1),
        "launch_to_end_seconds": round(records[-1].end_time - submitted[0], 1),
        "run_seconds": [round(r.end_time - r.start_time, 1) for r in records],
        # CPU-seconds of each run's process from its RUN_START on.
        "run_process_cpu_seconds": cpu,
        "slowest_steps": [_slowest_steps(instance, run_id) for run_id in ids],
        "queued_to_start_seconds": [
            round(r.start_time - t, 1) for r, t in zip(records, submitted, strict=True)
        ],
        "launched": [_launched(instance, run_id) for run_id in ids],
        "requested_by": [_requested_by(r.dagster_run) for r in records],
        "step_seconds": [step_seconds(timeline(instance, run_id)) for run_id in ids],
        # Seconds from each run's submission (the readiness run's: the partition run's end).
        "timelines": [timeline(instance, i, t) for i, t in zip(ids, submitted, strict=True)],
        "ok": all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records),
    }


def _requested_by(run) -> str:
    """Who asked for the run: the run worker after the partition run, a sensor, or this script."""
    tags = run.tags
    return tags.get("synthcap/requested_by") or tags.get("dagster/sensor_name") or "this script"


def _demo_in_fresh_process(root: Path, source: str, day: dt.date) -> dict:
    """``demo_path`` in a new interpreter, as ``synthcap demo`` starts: nothing traced yet."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--demo-only",
            str(root),
            "--source",
            source,
            "--date",
            day.isoformat(),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round((ordered[middle - 1] + ordered[middle]) / 2, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="market_prices")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 16))
    parser.add_argument("--launchers", default="warm", help="comma-separated: warm, dagster")
    parser.add_argument("--readiness", default="follow", choices=READINESS_MODES)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--demo-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.demo_only is not None:
        print(json.dumps(demo_path(args.demo_only, args.source, args.date)))
        return 0
    launchers = [name.strip() for name in args.launchers.split(",") if name.strip()]
    unknown = sorted(set(launchers) - set(LAUNCHERS))
    if unknown:
        parser.error(f"unknown launcher(s) {unknown}: pick from {', '.join(LAUNCHERS)}")
    out: dict = {"source": args.source, "date": args.date.isoformat(), "rounds": []}
    ok = True
    with tempfile.TemporaryDirectory(prefix="synthcap-daemon-") as tmp:
        for index in range(max(1, args.rounds)):
            load_before = round(os.getloadavg()[0], 1)
            daemons = [
                daemon_path(
                    Path(tmp) / f"{name}-{index}",
                    args.source,
                    args.date,
                    name,
                    args.timeout,
                    args.readiness,
                )
                for name in launchers
            ]
            demo = _demo_in_fresh_process(Path(tmp) / f"demo-{index}", args.source, args.date)
            for daemon in daemons:
                daemon["ratio"] = round(
                    daemon["launch_to_end_seconds"] / demo["partition_seconds"], 2
                )
                daemon["steps_ratio"] = round(
                    daemon["partition_seconds"] / demo["partition_seconds"], 2
                )
            ok = ok and all(d["ok"] for d in daemons) and demo["ok"]
            load = [load_before, round(os.getloadavg()[0], 1)]
            out["rounds"].append({"load_1min": load, "demo": demo, "daemon": daemons})
            summary = ", ".join(
                f"{d['launcher']} {d['launch_to_end_seconds']} s ({d['ratio']}x)" for d in daemons
            )
            print(
                f"round {index + 1}: load {load}, demo {demo['partition_seconds']} s, {summary}",
                file=sys.stderr,
            )
    out["median_ratio"] = {
        name: _median([r["daemon"][i]["ratio"] for r in out["rounds"]])
        for i, name in enumerate(launchers)
    }
    print(json.dumps(out))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
