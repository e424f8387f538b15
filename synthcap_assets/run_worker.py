"""A run worker started before its run:
``python -m synthcap_assets.run_worker [--after-run MODULE:FUNCTION] ENTRY ...``.

``WarmRunLauncher`` (``synthcap_assets/run_launcher.py``) keeps ``spares`` of these waiting. Before
any run exists for it, a worker does what a fresh run process would otherwise do on the run's
clock:

- imports each ``ENTRY`` that names a module (the code location, and the libraries its steps
  import inside their bodies), and calls each ``MODULE:FUNCTION`` entry after importing its
  module (warm-ups: ``warm_kernels`` below runs the profile kernels once on a small frame, so the
  run's first kernel call finds JAX's backend up, its compilation cache open and the kernels of
  small partitions traced, and numba's cached machine code loaded);
- opens the instance the launcher named (``SYNTHCAP_RUN_WORKER_INSTANCE``, a serialized
  ``InstanceRef``): its run and event storage, and for the embedded SQLite storage the empty
  run database each new run's database is copied from (``synthcap_assets.sqlite_engines``:
  about half a second of disk waits otherwise paid by the run's first event).

It then blocks on one line of stdin: the serialized ``ExecuteRunArgs`` of the run it is to
execute, exactly what ``dagster api execute_run`` takes on its command line. It executes that one
run through the same code as that command (the run's code pointer resolves to the modules already
imported), calls each ``--after-run`` hook with the instance and the run's id (synthcap's: the
readiness run that follows a partition run, requested at once instead of at the readiness
sensors' next tick), and exits: one fresh process per run, as with Dagster's default launcher.
The exit skips the interpreter's teardown of its modules (``os._exit`` after the ``atexit``
handlers and a flush): 1.5-2 CPU-seconds measured here, spent while the next run starts.

A worker never runs stale code: it notes the modification time of every module it imported
from outside the interpreter's own and installed libraries (synthcap's sources, editable) and
of the catalog's files (the definitions read the catalog's start dates when they load); if any
changed, appeared or went away before its run came, it replaces itself (``exec``) with a fresh
interpreter that imports everything afresh and runs the run through ``dagster api
execute_run``'s own code (``--run``), its after-run hooks after it. End of input without
a run (the launcher's process ended) ends the worker. Once its imports are done it writes
``ready <seconds>`` on stdout, a pipe the launcher reads to say in the run's log whether the
run got a worker that was ready.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

READY = "ready"
INSTANCE_ENV = "SYNTHCAP_RUN_WORKER_INSTANCE"
# Rows of the warm-up frame: under the smallest shape bucket (1024), as a small partition is.
WARM_ROWS = 256


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.realpath(r) + os.sep for r in roots)


def _catalog_folder() -> Path | None:
    if "synthcap_resources.catalog" not in sys.modules:
        return None
    return sys.modules["synthcap_resources.catalog"].sources_dir()


def _stamp(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _catalog_stamps() -> dict[str, int]:
    folder = _catalog_folder()
    if folder is None or not folder.is_dir():
        return {}
    files = {}
    for entry in sorted(folder.iterdir()):
        try:
            files[str(entry.resolve())] = entry.stat().st_mtime_ns
        except OSError:
            files[str(entry)] = -1
    return files


def fingerprint() -> dict[str, int]:
    """Modification time (ns) of every imported module file outside the interpreter's and
    installed libraries, and of every file in the catalog folder (absent files count too)."""
    roots = _library_roots()
    files: dict[str, int] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        real = os.path.realpath(path)
        if not real.startswith(roots):
            files[real] = _stamp(real)
    return {**files, **_catalog_stamps()}


def changed_since(before: dict[str, int]) -> list[str]:
    """Files of ``before`` whose time changed, and catalog files added since. Only the files
    of ``before`` and the catalog folder are looked at again (not every module's path: that
    took 0.1-0.2 s on the run's clock)."""
    now = _catalog_stamps()
    changed = [path for path, stamp in before.items() if now.get(path, _stamp(path)) != stamp]
    return changed + sorted(set(now) - set(before))


def resolve(entry: str) -> Callable[..., Any] | None:
    """Import ``entry``'s module; for ``module:function``, return that function."""
    module_name, _, function = entry.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, function) if function else None


def preload(entries: list[str]) -> list[str]:
    """Import each module of ``entries`` and call each ``module:function`` one; returns one line
    per entry that failed. A failure is not fatal: the run's own load of its code location fails
    the same way and says so in its event log, and a warm-up that failed only leaves its work to
    the run."""
    failed = []
    for entry in entries:
        try:
            function = resolve(entry)
            if function is not None:
                function()
        except Exception:  # noqa: BLE001 - reported by the run itself; see the docstring
            failed.append(f"{entry}: {traceback.format_exc(limit=1).strip().splitlines()[-1]}")
    return failed


def warm_kernels(rows: int = WARM_ROWS) -> None:
    """Profile a small frame of every column kind synthcap profiles (floats with nulls, NaN and
    infinities, integers, strings, booleans, dates, timestamps) and its time-series statistics,
    computing nothing that is kept: the kernels' imports, JAX's backend and compilation cache,
    the traces of the column-block kernels at the smallest shape bucket (what partitions under
    1024 rows use), numba's cached code for these dtypes. A partition of another shape still
    traces its own; the fixed costs are paid here."""
    import datetime as dt

    import numpy as np
    import polars as pl

    from synthcap_assets.profile.stats import profile_frame
    from synthcap_assets.profile.timeseries import timeseries_profile

    rng = np.random.default_rng(0)
    price = 100 + np.cumsum(rng.normal(0, 1, rows))
    heavy = rng.standard_t(2, rows)
    heavy[::17] = np.nan
    heavy[5] = np.inf
    start = dt.datetime(2026, 1, 1)
    frame = pl.DataFrame(
        {
            "entity": [f"e{i % 4}" for i in range(rows)],
            "at": [start + dt.timedelta(hours=i) for i in range(rows)],
            "day": [start.date() + dt.timedelta(days=i % 30) for i in range(rows)],
            "price": price,
            "heavy": heavy,
            "count": rng.integers(0, 50, rows),
            "flag": rng.random(rows) < 0.3,
            "label": [f"v{i % 7}" if i % 11 else None for i in range(rows)],
        }
    ).with_columns(pl.when(pl.col("count") % 13 == 0).then(None).otherwise(pl.col("count")))
    profile_frame(frame)
    timeseries_profile(frame, "at", "entity", ["price", "heavy"])


def open_instance(ref_json: str | None) -> Any:
    """The instance ``ref_json`` names, its storages opened (see the module docstring); ``None``
    when none was named or it cannot be opened (the run then opens it itself, as before)."""
    if not ref_json:
        return None
    try:
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef
        from dagster._serdes import deserialize_value

        instance = dg.DagsterInstance.from_ref(deserialize_value(ref_json, InstanceRef))
        instance.get_run_records(limit=1)
        instance.fetch_run_status_changes(dg.DagsterEventType.RUN_SUCCESS, limit=1)
        _prepare_run_database(instance.event_log_storage)
    except Exception:  # noqa: BLE001 - only a head start; the run opens its instance itself
        print(
            "synthcap run worker: could not open the instance ahead of the run: "
            + traceback.format_exc(limit=1).strip().splitlines()[-1],
            file=sys.stderr,
        )
        return None
    return instance


def _prepare_run_database(storage: object) -> None:
    """Make the empty run database a new run's database is copied from, where the definitions
    pool the SQLite engines (``synthcap_assets.sqlite_engines``; nothing for other storage)."""
    engines = sys.modules.get("synthcap_assets.sqlite_engines")
    if engines is not None:
        engines.prepare_run_template(storage)


def after_run(hooks: list[str], instance: Any, ref_json: str, run_id: str) -> None:
    """Call each ``module:function`` hook with the instance and the id of the run that ended;
    a hook that fails is reported on stderr (the daemon's output) and the others still run."""
    if not hooks:
        return
    if instance is None:
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef
        from dagster._serdes import deserialize_value

        instance = dg.DagsterInstance.from_ref(deserialize_value(ref_json, InstanceRef))
    for hook in hooks:
        try:
            function = resolve(hook)
            if function is None:
                raise ValueError(f"{hook!r} names no function (module:function)")
            said = function(instance, run_id)
            if said:
                print(f"synthcap run worker: {said}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - see the docstring
            print(
                f"synthcap run worker: after-run hook {hook} failed for run {run_id}:\n"
                + traceback.format_exc(),
                file=sys.stderr,
            )


def _cold(input_json: str, hooks: list[str]) -> None:
    """Replace this process with a fresh interpreter that imports everything again, runs the
    run through ``dagster api execute_run``'s own code and calls the after-run hooks."""
    after = [arg for hook in hooks for arg in ("--after-run", hook)]
    command = [sys.executable, "-m", "synthcap_assets.run_worker", *after, "--run", input_json]
    os.execv(sys.executable, command)


def _say_ready(seconds: float) -> None:
    """Tell the launcher (our stdout is its pipe) that the imports are done, then send what
    the run prints to stdout to stderr instead: nobody reads that pipe once the run is handed
    over."""
    sys.stdout.flush()
    # OSError: the launcher handed the run over before we were ready and stopped listening.
    with contextlib.suppress(OSError):
        os.write(sys.stdout.fileno(), f"{READY} {seconds:.1f}\n".encode())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())


def _exit(code: int) -> None:
    """End the process without tearing its modules down (see the module docstring): what is
    written is flushed and the ``atexit`` handlers run (temporary files removed), as on a
    normal exit."""
    with contextlib.suppress(Exception):
        import logging

        logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def execute(input_json: str, run_args: Any, instance: Any) -> int:
    """Execute the run as ``dagster api execute_run`` does (interrupts captured, its events
    stored, exit status 1 when asked to on failure); in ``instance`` when it is the run's,
    already open (its storages' schema checks done: about 0.2 s), else in one opened from the
    run's instance ref, by the command's own code. Returns the exit status."""
    from dagster._cli import api

    body = getattr(api, "_execute_run_command_body", None)
    if instance is not None and body is not None:
        from dagster._utils.interrupts import capture_interrupts

        with capture_interrupts():
            return body(
                run_args.run_id,
                instance,
                lambda event: None,  # the command buffers its events for nobody to read
                set_exit_code_on_failure=bool(run_args.set_exit_code_on_failure),
            )
    try:
        api.execute_run_command.callback(input_json=input_json, compressed_input_json=None)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m synthcap_assets.run_worker")
    parser.add_argument("--after-run", action="append", default=[], metavar="MODULE:FUNCTION")
    # A run to execute at once, nothing preloaded (what a worker whose files changed execs).
    parser.add_argument("--run", metavar="EXECUTE_RUN_ARGS_JSON")
    parser.add_argument("entries", nargs="*", metavar="MODULE[:FUNCTION]")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    args = _parse(argv)
    if args.run:
        return _run(args.run, None, None, args.after_run)
    failed = preload(args.entries)
    for line in failed:
        print(f"synthcap run worker: preloading {line}", file=sys.stderr)
    ref_json = os.environ.get(INSTANCE_ENV)
    instance = open_instance(ref_json)
    stamps = fingerprint()
    _say_ready(time.monotonic() - started)
    input_json = sys.stdin.readline().strip()
    if not input_json:
        return 0  # the launcher went away before handing over a run
    stale = changed_since(stamps)
    if stale:
        print(
            f"synthcap run worker: {len(stale)} file(s) changed since preloading "
            f"(first: {stale[0]}); running the run in a fresh process",
            file=sys.stderr,
        )
        _cold(input_json, args.after_run)
    return _run(input_json, instance, ref_json, args.after_run)


def _run(input_json: str, instance: Any, ref_json: str | None, hooks: list[str]) -> int:
    """Execute the run, then the hooks; returns the exit status."""
    from dagster._core.instance.ref import InstanceRef
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import deserialize_value, serialize_value

    run_args = deserialize_value(input_json, ExecuteRunArgs)
    if instance is not None and run_args.instance_ref != deserialize_value(ref_json, InstanceRef):
        instance = None  # the run names another instance: it is the one the run must use
    code = execute(input_json, run_args, instance)
    after_run(hooks, instance, serialize_value(run_args.instance_ref), run_args.run_id)
    return code


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
