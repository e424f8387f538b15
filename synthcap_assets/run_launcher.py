"""``WarmRunLauncher``: each run in a fresh process that imported the code location before the
run was launched (configured in ``dagster.yaml``; used by the daemon for every run the UI,
sensors, schedules and backfills submit).

Why: Dagster's default launcher asks the code server to spawn a process per run, and that
process imports Dagster and the whole code location (JAX, polars, Delta, scipy, pandas...)
and, inside the steps, the synthesis and report stacks, before its first step: 5-15 s of a
partition that computes in 10-20 s, paid again by the readiness run after it. The demo pays
those imports once. This launcher keeps ``spares`` processes (``synthcap_assets.run_worker``)
that have already imported the ``preload`` modules, run its warm-ups and opened the instance's
storage, and wait for a run on stdin: a launch hands the run to one. Each run still gets a
process of its own that ends with it (isolation, memory returned, code reloads honoured: a
worker whose source files or catalog changed since it imported runs its run from a fresh
interpreter that imports them again). Workers are started with ``subprocess`` (fork and exec), never
forked from a process that has imported JAX: XLA's thread pools do not survive a fork (a
forkserver tried here hung in its first kernel).

Replacements wait for a quiet moment: a worker's imports and warm-ups take 5-10 CPU-seconds,
and on two cores a replacement started at a launch slowed the run it was launched beside
(measured: the readiness run's one step 1.2 s against 0.2 s). So while another worker is still
waiting, a taken one is replaced once none of this launcher's runs has been running for
``QUIET_S`` (1.5 s: the readiness run a partition run's worker requests is launched within
that); when none is left waiting, ``refill_delay_seconds`` after the launch that took the last
(the next run would otherwise start cold), runs going or not. A thread of the launching process
(the daemon's) looks every half second.

``after_run`` hooks (``module:function``) are called by the worker with the instance and the
run's id once its run ended: synthcap's submits the readiness run that follows a partition run
(``synthcap_assets.automation.readiness_sensor.request_after_run``) without waiting for the
readiness sensors' next tick.

The workers are children of the process that launches (the daemon under ``synthcap ui`` and
``dagster dev``), on the same machine: the embedded default. A run whose code location runs
on another interpreter than the launcher's gets a plain ``dagster api execute_run`` process.
Termination sends the worker SIGINT, as Dagster's code server does for its run processes;
``check_run_worker_health`` (for ``run_monitoring``) looks the worker's pid up.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import LaunchRunContext, RunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClass, ConfigurableClassData, serialize_value

from synthcap_assets.run_worker import INSTANCE_ENV, READY

WORKER_MODULE = "synthcap_assets.run_worker"
WORKER_PID_TAG = "synthcap/run_worker_pid"
DEFAULT_PRELOAD = ("synthcap_assets.definitions",)
DEFAULT_REFILL_DELAY_S = 2.0
WATCH_INTERVAL_S = 0.5
# Seconds without a running run before replacements start: a partition run's worker exits
# about 0.5 s before the readiness run it requested is launched, which should not find an
# importing replacement beside it.
QUIET_S = 1.5
# The daemon's loops wait in steps of 0.5 s: a shorter interval would spin.
MIN_DEQUEUE_INTERVAL_S = 0.5


@dataclass
class _Worker:
    process: subprocess.Popen
    started: float  # time.monotonic() at spawn
    import_seconds: float | None = None  # from the worker's "ready" line, once it came

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the worker has finished its imports (waits up to ``timeout`` seconds)."""
        stdout = self.process.stdout
        if self.import_seconds is None and stdout is not None and not stdout.closed:
            readable, _, _ = select.select([stdout], [], [], timeout)
            if readable:
                words = stdout.readline().split()
                if len(words) == 2 and words[0] == READY:
                    self.import_seconds = float(words[1])
        return self.import_seconds is not None


class RunWorkerError(DagsterLaunchFailedError):
    """A run could not be handed to a run worker process."""


class WarmRunLauncher(RunLauncher, ConfigurableClass):
    """Launches each run in a fresh run worker process started, with the code location
    imported, before the run came (see the module docstring)."""

    def __init__(
        self,
        inst_data: ConfigurableClassData | None = None,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        spares: int = 1,
        after_run: Sequence[str] = (),
        refill_delay_seconds: float = DEFAULT_REFILL_DELAY_S,
    ) -> None:
        if spares < 0:
            raise ValueError(f"WarmRunLauncher: spares must be 0 or more, not {spares}")
        if refill_delay_seconds < 0:
            raise ValueError(
                "WarmRunLauncher: refill_delay_seconds must be 0 or more, "
                f"not {refill_delay_seconds}"
            )
        self._inst_data = inst_data
        self.preload = list(preload)
        self.spares = spares
        self.after_run = list(after_run)
        self.refill_delay_seconds = float(refill_delay_seconds)
        self._idle: list[_Worker] = []
        self._busy: list[subprocess.Popen] = []
        self._emptied_at: float | None = None  # when a launch took the last waiting worker
        self._busy_at = -math.inf  # when a run worker of this launcher was last seen running
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None
        super().__init__()

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict[str, dg.Field]:
        return {
            "preload": dg.Field(
                [str],
                is_required=False,
                default_value=list(DEFAULT_PRELOAD),
                description="Modules a waiting worker imports before its run comes.",
            ),
            "spares": dg.Field(
                int,
                is_required=False,
                default_value=1,
                description="Workers kept waiting (0: each run starts and imports on launch).",
            ),
            "after_run": dg.Field(
                [str],
                is_required=False,
                default_value=[],
                description="module:function hooks a worker calls with the instance and the "
                "run's id once its run ended.",
            ),
            "refill_delay_seconds": dg.Field(
                float,
                is_required=False,
                default_value=DEFAULT_REFILL_DELAY_S,
                description="When a launch took the last waiting worker, seconds before its "
                "replacement starts even though runs are going (else: once none is).",
            ),
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> WarmRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    # -- workers ------------------------------------------------------------------------------

    def worker_command(self) -> list[str]:
        hooks = [arg for hook in self.after_run for arg in ("--after-run", hook)]
        return [sys.executable, "-m", WORKER_MODULE, *hooks, *self.preload]

    def _spawn(self) -> _Worker:
        env = dict(os.environ)
        if self.has_instance:
            env[INSTANCE_ENV] = serialize_value(self._instance.get_ref())
        process = subprocess.Popen(
            self.worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            close_fds=True,
            env=env,
        )
        return _Worker(process, time.monotonic())

    def _take(self) -> _Worker | None:
        """A waiting worker that is still alive, oldest first; dead ones are dropped."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop(0)
                if worker.process.poll() is None:
                    if not self._idle:
                        self._emptied_at = time.monotonic()
                    return worker
        return None

    def _refill(self, now: bool = False) -> int:
        """Start replacements as the module docstring says (``now``: all of them at once);
        returns how many were started."""
        started = 0
        with self._lock:
            if self._closed.is_set():
                return 0
            self._idle = [w for w in self._idle if w.process.poll() is None]
            # Finished run workers are reaped here (no zombies left behind the daemon).
            self._busy = [p for p in self._busy if p.poll() is None]
            if self._busy:
                self._busy_at = time.monotonic()
            quiet = time.monotonic() - self._busy_at >= QUIET_S
            if len(self._idle) >= self.spares:
                self._emptied_at = None
                return 0
            if not self._idle and self._emptied_at is None:
                self._emptied_at = time.monotonic()
            waited = time.monotonic() - (self._emptied_at or time.monotonic())
            if now or quiet:
                wanted = self.spares - len(self._idle)
            elif not self._idle and waited >= self.refill_delay_seconds:
                wanted = 1  # runs are going: one at a time
            else:
                wanted = 0
            for _ in range(wanted):
                self._idle.append(self._spawn())
                started += 1
            if self._idle:
                self._emptied_at = None
        return started

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_INTERVAL_S):
            self._refill()

    def _start_watching(self) -> None:
        with self._lock:
            if self._watcher is None and self.spares and not self._closed.is_set():
                self._watcher = threading.Thread(
                    target=self._watch, name="WarmRunLauncher-refill", daemon=True
                )
                self._watcher.start()

    def prewarm(self) -> None:
        """Start the waiting workers now rather than at the first launch."""
        self._refill(now=True)
        self._start_watching()

    def wait_ready(self, timeout: float) -> bool:
        """Whether every waiting worker finished its imports within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            idle = list(self._idle)
        return all(w.ready(max(0.0, deadline - time.monotonic())) for w in idle)

    @staticmethod
    def _hand_over(worker: _Worker, payload: str) -> bool:
        worker.ready()  # note its import time if it has said it
        try:
            worker.process.stdin.write(payload + "\n")
            worker.process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            return False
        finally:
            worker.process.stdout.close()  # the worker sends the rest of its output to stderr
        return True

    def _tag(self, run: dg.DagsterRun, pid: int) -> None:
        self._instance.add_run_tags(run.run_id, {WORKER_PID_TAG: str(pid)})

    # -- RunLauncher --------------------------------------------------------------------------

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin = run.job_code_origin
        if origin is None:
            raise RunWorkerError(
                f"run {run.run_id} has no code origin: launch it from a code location "
                "(the UI, a sensor, a schedule or `dagster job launch`)"
            )
        args = ExecuteRunArgs(
            job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref()
        )
        payload = serialize_value(args)
        if os.path.realpath(origin.executable_path) != os.path.realpath(sys.executable):
            # Another interpreter: synthcap's worker may not be importable there.
            process = subprocess.Popen(args.get_command_args(), close_fds=True)
            self._tag(run, process.pid)
            how = f"a new `dagster api execute_run` process on {origin.executable_path}"
        else:
            worker = self._take()
            waited = worker is not None
            if worker is None:
                worker = self._spawn()
            # Tagged before the hand-over, so a terminate from the UI finds the process at once.
            self._tag(run, worker.process.pid)
            if not self._hand_over(worker, payload):
                worker, waited = self._spawn(), False
                self._tag(run, worker.process.pid)
                if not self._hand_over(worker, payload):
                    raise RunWorkerError(
                        f"run worker (pid {worker.process.pid}) for run {run.run_id} exited "
                        f"before taking the run (status {worker.process.poll()}); see the "
                        "daemon's output for its error"
                    )
            process = worker.process
            age = time.monotonic() - worker.started
            if not waited:
                how = "a new run worker (none was waiting): it imports the code location first"
            elif worker.import_seconds is not None:
                how = (
                    f"a run worker that had done {', '.join(self.preload)} "
                    f"({worker.import_seconds:.1f} s, started {age:.0f} s before)"
                )
            else:
                how = f"a run worker still doing {', '.join(self.preload)} ({age:.0f} s in)"
        self._instance.report_engine_event(
            f"Launched in {how} (pid {process.pid}).", run, cls=self.__class__
        )
        with self._lock:
            self._busy.append(process)
        self._refill()
        self._start_watching()

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        pid = _worker_pid(run)
        if pid is None or not _is_run_worker(pid, run_id):
            self._instance.report_engine_event(
                f"No run worker process of run {run_id} to interrupt (pid {pid}).",
                run,
                cls=self.__class__,
            )
            return False
        # What Dagster's code server sends its run processes: the run stops at the next step
        # boundary and reports itself canceled.
        os.kill(pid, signal.SIGINT)
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = _worker_pid(run)
        if pid is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no run worker pid tag")
        if _is_run_worker(pid, run.run_id):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"run worker pid {pid} is gone", run_worker_id=str(pid)
        )

    def join(self, timeout: int = 30) -> None:
        """Wait for the run workers this launcher started (tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            busy = list(self._busy)
        for process in busy:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))

    def dispose(self) -> None:
        """Waiting workers end (their stdin closes); running runs go on."""
        with self._lock:
            self._closed.set()
            idle, self._idle = self._idle, []
        for worker in idle:
            with contextlib.suppress(OSError):
                worker.process.stdin.close()
            try:
                worker.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                worker.process.kill()


def _worker_pid(run: dg.DagsterRun) -> int | None:
    value = run.tags.get(WORKER_PID_TAG)
    return int(value) if value and value.isdigit() else None


def _is_run_worker(pid: int, run_id: str) -> bool:
    """Whether ``pid`` is alive (not a zombie) and is a run worker: on Linux its command line
    names the worker module or the run (a pid can be reused once its process ends)."""
    proc = Path(f"/proc/{pid}")
    if not Path("/proc/self").exists():
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes().decode(errors="replace")
    except (OSError, IndexError):
        return False
    return state != "Z" and (WORKER_MODULE in command or run_id in command)


class WarmQueuedRunCoordinator(QueuedRunCoordinator):
    """Dagster's queued run coordinator that starts the launcher's waiting workers when the
    daemon starts, so the first run after ``synthcap ui`` is warm too, and whose
    ``dequeue_interval_seconds`` may be a fraction of a second.

    The daemon reads ``dequeue_interval_seconds`` once, when it builds its run queue loop: the
    one moment that happens in the daemon's process only (the webserver also holds a run
    coordinator, to enqueue, and must not start workers it would never hand a run). Were a
    Dagster release to read it elsewhere or not at all, the workers would start at the first
    launch instead, as with a plain ``QueuedRunCoordinator``.

    Dagster's field takes whole seconds; the daemon's loop sleeps in steps of 0.5 s, so 0.5 is
    the shortest interval that does not spin: a run waits 0.25 s in the queue on average
    instead of 0.5 s at 1 s (twice, for a partition and its readiness run).
    """

    _interval: float | None = None

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        fields = dict(super().config_type())
        fields["dequeue_interval_seconds"] = dg.Field(
            float,
            is_required=False,
            description="Seconds between the daemon's looks at the queue (0.5 or more).",
        )
        return fields

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> WarmQueuedRunCoordinator:
        config = dict(config_value)
        interval = config.pop("dequeue_interval_seconds", None)
        if interval is not None and interval < MIN_DEQUEUE_INTERVAL_S:
            raise ValueError(
                f"WarmQueuedRunCoordinator: dequeue_interval_seconds must be at least "
                f"{MIN_DEQUEUE_INTERVAL_S}, not {interval}"
            )
        if interval is not None and float(interval).is_integer():
            config["dequeue_interval_seconds"] = int(interval)
            interval = None
        coordinator = super().from_config_value(inst_data, config)
        coordinator._interval = None if interval is None else float(interval)
        return coordinator

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override]
        launcher = self._instance.run_launcher if self.has_instance else None
        if isinstance(launcher, WarmRunLauncher):
            launcher.prewarm()
        if self._interval is not None:
            return self._interval
        return super().dequeue_interval_seconds
