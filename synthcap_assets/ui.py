"""``synthcap ui [--port P]``: the Dagster UI (webserver and daemon, through ``dagster dev``)
on the right ``DAGSTER_HOME`` and workspace, plus a small HTTP server for the visual reports.

It resolves the instance (``DAGSTER_HOME``, default ``./.dagster_home`` seeded with
``./dagster.yaml``), the lake and the catalog to absolute paths, so the UI, the daemon and
every run they launch see the same ones; sets ``SYNTHCAP_UI_URL`` (alert links) and
``SYNTHCAP_REPORTS_URL`` (report links in readiness metadata: browsers refuse ``file://``
links from an http page) to what it serves; and starts ``dagster dev`` from inside
``DAGSTER_HOME``, where Dagster has no stray ``dagster.yaml`` to warn about.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

WORKSPACE = "workspace.yaml"
WORKSPACE_TEXT = """load_from:
  - python_module:
      module_name: synthcap_assets.definitions
      location_name: synthcap
"""


DEV_NOTICE_FILTER = "ignore:Function `dev_command` is superseded"
INSTANCE_TEXT = """# Written by `synthcap ui`: Dagster defaults (SQLite here), no telemetry.
telemetry:
  enabled: false
"""


@dataclass(frozen=True)
class UiPlan:
    """What ``synthcap ui`` starts: the command, its folder and environment, and the URLs."""

    command: list[str]
    cwd: Path
    env: dict[str, str]
    url: str
    reports_url: str
    reports_dir: Path


def workspace_file(home: Path) -> Path:
    """``./workspace.yaml`` when run from the repository, else one written into ``home``."""
    local = Path(WORKSPACE).resolve()
    if local.is_file():
        return local
    target = home / WORKSPACE
    target.write_text(WORKSPACE_TEXT)
    return target


def plan_ui(host: str, port: int, reports_port: int) -> UiPlan:
    """The ``dagster dev`` command and environment for the UI on ``host:port``."""
    from synthcap_assets.materialize import ensure_dagster_home
    from synthcap_resources.catalog import sources_dir
    from synthcap_resources.lakehouse import LakehouseResource, lake_root
    from synthcap_resources.report_files import REPORTS_URL_ENV, reports_root

    home = ensure_dagster_home().resolve()
    if not (home / "dagster.yaml").exists():
        # Outside the repository there is no ./dagster.yaml to seed it: an explicit default
        # instead of Dagster's "no dagster.yaml found" warning on every start.
        (home / "dagster.yaml").write_text(INSTANCE_TEXT)
    lake = LakehouseResource(root=lake_root())
    root = lake.uri("") if lake.is_local else lake.root
    url = f"http://{host}:{port}"
    reports_url = f"http://{host}:{reports_port}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(root).rstrip("/"),
        "SYNTHCAP_SOURCES": str(sources_dir().resolve()),
        "SYNTHCAP_UI_URL": url,
        REPORTS_URL_ENV: reports_url,
        # `dagster dev` says it is superseded by `dg dev` (dagster-dg, not installed): a notice
        # about Dagster's CLI, not about anything the user did. Matched by its message only.
        "PYTHONWARNINGS": ",".join(
            w for w in (os.environ.get("PYTHONWARNINGS"), DEV_NOTICE_FILTER) if w
        ),
    }
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(workspace_file(home)), "-h", host, "-p", str(port)]
    return UiPlan(command, home, env, url, reports_url, reports_root(lake))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Requests are not logged: the console is for the URLs and Dagster's own lines."""


def serve_reports(folder: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """Serve ``folder`` (the reports) read-only over HTTP in a daemon thread."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="reports").start()
    return server


def cmd_ui(args: argparse.Namespace, console: Console) -> int:
    plan = plan_ui(args.host, args.port, args.reports_port or args.port + 1)
    try:
        server = serve_reports(plan.reports_dir, args.host, args.reports_port or args.port + 1)
    except OSError as exc:
        Console(stderr=True).print(
            f"[red]error:[/red] cannot serve the reports on port "
            f"{args.reports_port or args.port + 1}: {exc}; pass --reports-port",
            highlight=False,
        )
        return 2
    console.print(f"Dagster UI:  {plan.url}", highlight=False)
    console.print(f"Reports:     {plan.reports_url}/<source>/<date>.html", highlight=False)
    console.print(f"Instance:    {plan.env['DAGSTER_HOME']}  (Ctrl-C stops)", highlight=False)
    process = subprocess.Popen(plan.command, cwd=plan.cwd, env=plan.env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
    finally:
        server.shutdown()


def add_ui_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ui",
        help="start the Dagster UI and daemon on this instance, lake and catalog",
        description="Start `dagster dev` (webserver and daemon) on DAGSTER_HOME (default "
        "./.dagster_home), the lake and the catalog, and serve the visual reports over HTTP.",
    )
    parser.add_argument("--port", type=int, default=3000, help="UI port (default 3000)")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--reports-port", type=int, help="port of the report server (default: UI port + 1)"
    )
    parser.set_defaults(func=cmd_ui)
