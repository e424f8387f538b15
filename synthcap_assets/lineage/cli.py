"""``synthcap lineage``: upstream and downstream tables (and columns) from recorded events.

Reads the JSON Lines file the ``file`` transport writes (``<lake>/_lineage/events.jsonl`` by
default); ``--flush`` delivers events still queued for an unreachable transport.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from synthcap_assets.lineage.graph import (
    Step,
    column_edges,
    known_nodes,
    scope_of,
    table_edges,
    table_name,
    walk,
)
from synthcap_resources.lakehouse import lake_root
from synthcap_resources.lineage import LineageConfigError, LineageResource, lineage_from_env


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a JSON Lines file, oldest first; a torn last line is skipped."""
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being appended by a running step
    return events


def _print_steps(title: str, steps: list[Step], out) -> None:
    out.write(f"{title}:\n")
    if not steps:
        out.write("  (none)\n")
    for step in steps:
        out.write(f"  {'  ' * (step.depth - 1)}{step.node}  [{step.edge.how}]\n")


def _flush(lake: str, out) -> int:
    try:
        report = lineage_from_env(lake).flush(force=True)
    except LineageConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    out.write(f"delivered {report.delivered} queued events\n")
    for kind, left in report.queued.items():
        out.write(f"  {kind}: {left} still queued ({report.errors.get(kind, 'unknown error')})\n")
    return 1 if report.queued else 0


def lineage_command(args: argparse.Namespace, console: object = None) -> int:
    """Print what ``args.table`` (or ``args.table.args.column``) derives from and feeds."""
    out = sys.stdout
    lake = args.lake or lake_root()
    if args.flush:
        return _flush(lake, out)
    if not args.table:
        sys.stderr.write("error: name a table (e.g. raw/market_prices) or pass --flush\n")
        return 2
    state_dir = os.environ.get("SYNTHCAP_LINEAGE_DIR")  # as lineage_from_env reads it
    recorded = LineageResource(lake=lake, state_dir=state_dir).events_path()
    path = Path(args.events) if args.events else recorded
    if not path.is_file():
        sys.stderr.write(
            f"error: no lineage events at {path}; they are recorded by the 'file' transport "
            "while assets run\n"
        )
        return 2
    events = read_events(path)
    table = table_name(args.table)
    node = f"{table}.{args.column}" if args.column else table
    edges = column_edges(events) if args.column else table_edges(events)
    if node not in known_nodes(edges):
        kind = "column" if args.column else "table"
        sys.stderr.write(f"error: no recorded lineage for {kind} {node!r} in {path}\n")
        return 1
    out.write(f"{node}\n")
    scope = scope_of(table)
    _print_steps("upstream", walk(node, edges, upstream=True, scope=scope), out)
    _print_steps("downstream", walk(node, edges, upstream=False, scope=scope), out)
    return 0


def add_lineage_parser(subparsers: Any) -> None:
    """Add ``lineage`` to the ``synthcap`` command's subcommands."""
    parser = subparsers.add_parser(
        "lineage", help="upstream and downstream tables (and columns) from OpenLineage events"
    )
    parser.add_argument(
        "table", nargs="?", help="table path (raw/market_prices) or SQL name (profile)"
    )
    parser.add_argument("--column", help="follow this column instead of the whole table")
    parser.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    parser.add_argument("--events", help="events file (default <lake>/_lineage/events.jsonl)")
    parser.add_argument(
        "--flush", action="store_true", help="deliver events queued for a failed transport"
    )
    parser.set_defaults(func=lineage_command)
