"""``synthcap report --source S --date D [--open]``: (re)write the visual report of one
(source, date) from the lake's tables and print where it is."""

from __future__ import annotations

import argparse
import datetime as dt
import webbrowser
from pathlib import Path

from rich.console import Console


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    from synthcap_assets.columns import DATE_COLUMN
    from synthcap_assets.reports import write_report
    from synthcap_resources.catalog import scan_catalog, sources_dir
    from synthcap_resources.lakehouse import LakehouseResource, lake_root, raw_table
    from synthcap_resources.report_files import ReportFileError, report_url

    lakehouse = LakehouseResource(root=args.lake or lake_root())
    specs, _ = scan_catalog(Path(args.sources) if args.sources else sources_dir())
    spec = specs.get(args.source)
    if lakehouse.read_partition(raw_table(args.source), {DATE_COLUMN: args.date}) is None:
        Console(stderr=True).print(
            f"[red]error:[/red] source {args.source!r}, partition {args.date}: nothing captured "
            f"in {lakehouse.uri('')}; run `synthcap materialize --source {args.source} "
            f"--date {args.date}` first",
            highlight=False,
        )
        return 2
    try:
        where = write_report(lakehouse, args.source, args.date, spec.columns if spec else None)
    except ReportFileError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    console.print(f"report of {args.source} {args.date}: {where}", highlight=False)
    url = report_url(args.source, args.date)
    if url:
        console.print(f"served at {url}", highlight=False)
    if args.open:
        webbrowser.open(url or Path(where).resolve().as_uri())
    return 0


def add_report_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="write the visual HTML report of one (source, date) and print its path",
        description="Charts of one (source, date) — distributions, drift, PII, quality, "
        "real vs synthetic, readiness — as one self-contained HTML file beside the reports "
        "in the lake (<lake>/reports/html/<source>/<date>.html).",
    )
    parser.add_argument("--source", required=True, help="source id")
    parser.add_argument("--date", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--open", action="store_true", help="open it in the default browser")
    parser.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    parser.add_argument("--sources", help="catalog folder (default $SYNTHCAP_SOURCES or ./sources)")
    parser.set_defaults(func=cmd_report)
