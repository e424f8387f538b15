"""A run worker started before its run: ``python -m synthcap_assets.run_worker MODULE ...``.

``WarmRunLauncher`` (``synthcap_assets/run_launcher.py``) keeps ``spares`` of these waiting. It
imports the modules it is given (the code location, and the libraries its steps import inside
their bodies) while no run is waiting for it, then blocks on one line of stdin: the serialized
``ExecuteRunArgs`` of the run it is to execute, exactly what ``dagster api execute_run`` takes
on its command line. It executes that one run through the same code as that command (the run's
code pointer resolves to the modules already imported) and exits: one fresh process per run, as
with Dagster's default launcher, minus the 5-15 s of imports the run would otherwise wait for.

A worker never runs stale code: it notes the modification time of every module it imported
from outside the interpreter's own and installed libraries (synthcap's sources, editable) and
of the catalog's files (the definitions read the catalog's start dates when they load); if any
changed, appeared or went away before its run came, it replaces itself (``exec``) with a plain
``dagster api execute_run`` of that run, which imports everything afresh. End of input without
a run (the launcher's process ended) ends the worker. Once its imports are done it writes
``ready <seconds>`` on stdout, a pipe the launcher reads to say in the run's log whether the
run got a worker that was ready.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import sysconfig
import time
import traceback
from pathlib import Path

READY = "ready"


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.realpath(r) + os.sep for r in roots)


def _catalog_folder() -> Path | None:
    if "synthcap_resources.catalog" not in sys.modules:
        return None
    return sys.modules["synthcap_resources.catalog"].sources_dir()


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
        if real.startswith(roots):
            continue
        try:
            files[real] = os.stat(real).st_mtime_ns
        except OSError:
            files[real] = -1
    folder = _catalog_folder()
    if folder is not None and folder.is_dir():
        for entry in sorted(folder.iterdir()):
            try:
                files[str(entry.resolve())] = entry.stat().st_mtime_ns
            except OSError:
                files[str(entry)] = -1
    return files


def changed_since(before: dict[str, int]) -> list[str]:
    """Files of ``before`` whose time changed, and catalog files added since."""
    now = fingerprint()
    changed = [path for path, stamp in before.items() if now.get(path, -1) != stamp]
    return changed + sorted(set(now) - set(before))


def preload(modules: list[str]) -> list[str]:
    """Import ``modules``; returns one line per module that failed. A failure is not fatal: the
    run's own load of its code location fails the same way and says so in its event log."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by the run itself; see the docstring
            failed.append(f"{name}: {traceback.format_exc(limit=1).strip().splitlines()[-1]}")
    return failed


def _cold(input_json: str) -> None:
    """Replace this process with Dagster's own run worker for the run."""
    command = [sys.executable, "-m", "dagster", "api", "execute_run", input_json]
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


def main(argv: list[str]) -> int:
    started = time.monotonic()
    failed = preload(argv)
    for line in failed:
        print(f"synthcap run worker: preloading {line}", file=sys.stderr)
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
        _cold(input_json)
    from dagster._cli.api import execute_run_command

    # The body of `dagster api execute_run`: interrupts captured, the instance from the
    # run's instance ref, the run executed, exit status 1 when asked to on failure.
    execute_run_command.callback(input_json=input_json, compressed_input_json=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
