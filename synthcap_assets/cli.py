"""The ``synthcap`` command: ``demo``, ``materialize``, ``sources``, ``sql`` and more."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# Nothing heavy at import time: `synthcap --help` and `synthcap sources` must answer in well
# under a second, so JAX, Dagster, polars, DuckDB and the synthesis stack are imported inside
# the commands that compute (tested in synthcap_tests/test_cli_imports.py).
if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console

# Subcommands whose parser lives in another module: name -> (module, function(subparsers) that
# adds the parser, one-line help for `synthcap --help`). The module is imported only when its
# command runs. To add a subcommand, add ONE line here (keep the help equal to the parser's).
PLUGIN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "lineage": (
        "synthcap_assets.lineage.cli",
        "add_lineage_parser",
        "upstream and downstream tables (and columns) from OpenLineage events",
    ),
    "erase": (
        "synthcap_assets.privacy.cli",
        "add_erase_parser",
        "erase a person's rows from a source's raw, feature and synthetic tables",
    ),
    "profile": (
        "synthcap_assets.profile.cli",
        "add_profile_parser",
        "profile of a source over a date range (merged)",
    ),
    "doctor": (
        "synthcap_assets.doctor",
        "add_doctor_parser",
        "check a deployment: storage, migrations, lake, broker, daemon, sensors",
    ),
    "report": (
        "synthcap_assets.reports.cli",
        "add_report_parser",
        "write the visual HTML report of one (source, date) and print its path",
    ),
    "ui": (
        "synthcap_assets.ui",
        "add_ui_parser",
        "start the Dagster UI and daemon on this instance, lake and catalog",
    ),
}

UI_COMMAND = "DAGSTER_HOME={home} .venv/bin/synthcap ui"
READINESS_QUERY = (
    "select source, date, round(score, 1) as score, round(quality, 1) as quality, "
    "round(privacy, 1) as privacy, round(drift, 1) as drift, round(utility, 1) as utility, "
    "round(volume, 1) as volume from readiness_score order by source, date"
)


def _printable(df: pl.DataFrame) -> pl.DataFrame:
    """Nested values (lists, structs) as JSON text, so every format can print them."""
    import polars as pl

    nested = [n for n, t in df.schema.items() if isinstance(t, (pl.List, pl.Struct, pl.Array))]
    return df.with_columns(
        pl.Series(
            n,
            [None if v is None else json.dumps(v, default=str) for v in df[n].to_list()],
            dtype=pl.Utf8,
        )
        for n in nested
    )


def render(df: pl.DataFrame, fmt: str, console: Console) -> None:
    """Print ``df`` as a table, CSV or JSON rows."""
    from rich.table import Table

    if fmt == "csv":
        sys.stdout.write(_printable(df).write_csv())
    elif fmt == "json":
        sys.stdout.write(json.dumps(df.to_dicts(), default=str, indent=2) + "\n")
    else:
        table = Table(*df.columns)
        for row in _printable(df).iter_rows():
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


def cmd_sources(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from synthcap_resources.catalog import scan_catalog, sources_dir

    folder = Path(args.folder) if args.folder else sources_dir()
    specs, errors = scan_catalog(folder)
    table = Table("id", "kind", "domain", "format", "start", "license", "enabled", "title")
    for spec in specs.values():
        table.add_row(
            spec.id,
            spec.kind,
            spec.domain.value,
            spec.format,
            str(spec.start_date),
            spec.license,
            "yes" if spec.enabled else "no",
            spec.title,
        )
    console.print(table if specs else f"no sources in {folder}")
    for error in errors:
        console.print(f"[red]invalid:[/red] {error}", highlight=False)
    return 1 if errors else 0


def cmd_sql(args: argparse.Namespace, console: Console) -> int:
    from rich.console import Console

    from synthcap_resources.lakehouse import LakehouseError, LakehouseResource, lake_root
    from synthcap_resources.sql import LakeQueryError, query_lake

    lakehouse = LakehouseResource(root=args.lake or lake_root())
    try:
        df = query_lake(lakehouse, args.query)
    except (LakeQueryError, LakehouseError) as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    render(df, args.format, console)
    return 0


def _run_with_progress(
    console: Console, label: str, runner: Callable[..., list]
) -> tuple[list, list]:
    """Run ``runner(on_start, on_partition)`` with a progress bar and a line per partition;
    returns the runs and the failed ones."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    failures = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(label, total=None)

        def on_start(total: int) -> None:
            progress.update(task, total=total, description="materializing partitions")

        def on_partition(run) -> None:
            mark = "[green]ok[/green]" if run.success else "[red]failed[/red]"
            note = f" checks failed: {', '.join(run.failed_checks)}" if run.failed_checks else ""
            if run.warned_checks:
                note += f" warnings: {', '.join(run.warned_checks)}"
            if not run.readiness:
                note += " (no readiness row)"
            progress.console.print(
                f"{mark} {run.source} {run.day}: {len(run.materialized)} assets "
                f"in {run.seconds:.1f}s{note}",
                highlight=False,
            )
            if not run.success:
                failures.append(run)
            if run.error:
                progress.console.print(f"   {run.error}", highlight=False)
            progress.advance(task)

        runs = runner(on_start, on_partition)
    return runs, failures


def _print_readiness(console: Console, lake: str, where: str = "") -> None:
    from synthcap_resources.lakehouse import LakehouseResource
    from synthcap_resources.sql import LakeQueryError, query_lake

    query = READINESS_QUERY.replace(" order by", f"{where} order by")
    try:
        render(query_lake(LakehouseResource(root=lake), query), "table", console)
    except LakeQueryError as exc:
        console.print(f"[red]no readiness scores:[/red] {exc}", highlight=False)


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from synthcap_assets.demo import (  # Dagster and torch load only when needed
        budget_lines,
        run_demo,
        step_seconds,
    )
    from synthcap_resources.catalog import sources_dir
    from synthcap_resources.lakehouse import LakehouseResource, lake_root

    lake = args.lake or lake_root()
    sources = Path(args.sources) if args.sources else sources_dir()
    started = time.perf_counter()
    since = dt.datetime.now(dt.UTC)
    runs, failures = _run_with_progress(
        console,
        "registering bundled sources",
        lambda on_start, on_partition: run_demo(lake, sources, on_start, on_partition),
    )
    console.print(
        f"\n{len(runs)} partitions in {time.perf_counter() - started:.1f}s; "
        f"lake at {LakehouseResource(root=lake).uri('')}"
    )
    _print_readiness(console, lake)
    console.print("Open the UI:  " + UI_COMMAND.format(home=os.environ["DAGSTER_HOME"]))
    console.print('Query:        synthcap sql "select * from readiness_score"')
    workers = len({run.worker for run in runs}) or 1  # SYNTHCAP_DEMO_WORKERS processes
    for line in budget_lines(time.perf_counter() - started, step_seconds(since), workers):
        console.print(line, highlight=False)
    # The demo shows verdicts: a day a blocking check held back (too few rows for a useful
    # sample, say) is an answer its readiness row explains; only errors fail the demo.
    held = [run for run in failures if run.held_by_gate]
    if held:
        console.print(
            f"{len(held)} partition(s) held back by a blocking check; their readiness rows say "
            "why: " + ", ".join(f"{r.source} {r.day}" for r in held),
            highlight=False,
        )
    return 1 if len(held) < len(failures) or not runs else 0


def cmd_materialize(args: argparse.Namespace, console: Console) -> int:
    from rich.console import Console

    from synthcap_assets.materialize import PlanError, plan_for, run_partitions  # loads torch
    from synthcap_resources.catalog import sources_dir
    from synthcap_resources.lakehouse import LakehouseResource, lake_root

    lake = args.lake or lake_root()
    sources = Path(args.sources) if args.sources else sources_dir()
    try:
        plan, notes = plan_for(sources, args.source, args.date, args.start, args.end)
    except PlanError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    started = time.perf_counter()
    runs, failures = _run_with_progress(
        console,
        "registering sources",
        lambda on_start, on_partition: run_partitions(lake, sources, plan, on_start, on_partition),
    )
    console.print(
        f"\n{len(runs)} partitions, {len(failures)} failed, in "
        f"{time.perf_counter() - started:.1f}s; lake at {LakehouseResource(root=lake).uri('')}"
    )
    ids = ", ".join(f"'{s}'" for s in sorted({s for s, _ in plan}))
    days = ", ".join(f"DATE '{d}'" for d in sorted({d for _, d in plan}))
    _print_readiness(console, lake, f" where source in ({ids}) and date in ({days})")
    for run in failures:
        Console(stderr=True).print(
            f"[red]failed:[/red] {run.source} {run.day}: "
            + (f"checks failed: {', '.join(run.failed_checks)}; " if run.failed_checks else "")
            + (run.error or "run failed"),
            highlight=False,
        )
    return 1 if failures else 0


def cmd_bench(args: argparse.Namespace, console: Console) -> int:
    if args.suite == "synth":
        from synthcap_assets.bench.synth import run_from_args

        return run_from_args(args, console)
    if args.suite == "capture":
        from synthcap_assets.bench.capture import run_from_args as run_capture

        return run_capture(args, console)
    if args.suite == "text":
        from synthcap_assets.bench.text import run_from_args as run_text

        return run_text(args, console)
    from synthcap_assets.bench.runner import format_table, run_profile_bench, write_json

    if args.scale:
        from synthcap_assets.bench.scale import (
            SCALE_ROWS,
            format_scale,
            plot_scale,
            run_scale_bench,
        )

        document = run_scale_bench(tuple(args.sizes or SCALE_ROWS))
        console.print(format_scale(document), highlight=False)
        if args.plot:
            console.print(f"wrote {plot_scale(document, Path(args.plot))}")
        if args.json:
            write_json(document, Path(args.json))
        return 0
    document = run_profile_bench(args.rows or 10_000_000, args.tools)
    console.print(format_table(document), highlight=False)
    if args.json:
        write_json(document, Path(args.json))
        console.print(f"wrote {args.json}")
    return 0


def add_materialize_parser(sub: argparse._SubParsersAction) -> None:
    """``synthcap materialize --source ID [--date D | --from D [--to D]]``."""
    mat = sub.add_parser(
        "materialize",
        help="materialize every asset of a source's partitions (default: yesterday)",
        description="Register the sources and materialize every asset of each (source, date), "
        "one run per partition followed by its readiness run; exits 1 when any partition fails.",
    )
    mat.add_argument(
        "--source", action="append", required=True, help="source id (repeat for several)"
    )
    day = dt.date.fromisoformat
    when = mat.add_mutually_exclusive_group()
    when.add_argument("--date", type=day, help="one day, YYYY-MM-DD (default: yesterday)")
    when.add_argument("--from", dest="start", type=day, help="first day of a range")
    mat.add_argument("--to", dest="end", type=day, help="last day of a range (default yesterday)")
    mat.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    mat.add_argument("--sources", help="catalog folder (default $SYNTHCAP_SOURCES or ./sources)")
    mat.set_defaults(func=cmd_materialize)


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; a plugin command's full parser (and its module) only when ``argv`` names it,
    a one-line entry for ``--help`` otherwise."""
    command = _command_in(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="synthcap", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="register the bundled sources and materialize everything")
    demo.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    demo.add_argument("--sources", help="catalog folder (default $SYNTHCAP_SOURCES or ./sources)")
    demo.set_defaults(func=cmd_demo)
    add_materialize_parser(sub)
    sources = sub.add_parser("sources", help="list and validate the source catalog")
    sources.add_argument("--folder", help="catalog folder (default $SYNTHCAP_SOURCES or ./sources)")
    sources.set_defaults(func=cmd_sources)
    sql = sub.add_parser("sql", help="run DuckDB SQL over the lake")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    sql.set_defaults(func=cmd_sql)
    bench = sub.add_parser("bench", help="benchmarks against peer tools, measured in one run")
    bench.add_argument("suite", choices=["profile", "synth", "capture", "text"])
    bench.add_argument(
        "--rows", type=int, help="profile: rows (10M); synth: cap per table; capture: rows (1M)"
    )
    bench.add_argument("--tables", nargs="+", help="synth: bundled or real tables (default all)")
    bench.add_argument("--epsilons", nargs="+", type=float, help="synth: default 0.5 1 3")
    bench.add_argument("--synthesizers", nargs="+", choices=["mst", "aim"], help="synth")
    bench.add_argument(
        "--repeats",
        type=int,
        help="synth: runs per case, averaged; capture: runs per tool and case, median (default 3)",
    )
    bench.add_argument("--json", help="also write the results as JSON to this path")
    bench.add_argument("--tools", nargs="+", help="a subset of the tools (synthcap always runs)")
    bench.add_argument(
        "--peer-docs", type=int, help="text: datatrove gets the first N documents (default all)"
    )
    bench.add_argument(
        "--scale", action="store_true", help="profile: cost against rows, from Delta files"
    )
    bench.add_argument(
        "--sizes", nargs="+", type=int, help="profile --scale: row counts (1M 10M 100M)"
    )
    bench.add_argument("--plot", help="profile --scale: also draw seconds and memory to this PNG")
    bench.set_defaults(func=cmd_bench)
    for name, (module, adder, summary) in PLUGIN_COMMANDS.items():
        if name == command:
            getattr(importlib.import_module(module), adder)(sub)
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    from dagster_shared.utils.warnings import BetaWarning, PreviewWarning  # light, no dagster
    from rich.console import Console

    from synthcap_resources.catalog import CatalogError

    # Partitioned checks and multi-partition mappings are beta/preview in Dagster; say it once
    # in the docs, not on every run.
    for category in (BetaWarning, PreviewWarning, UserWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    try:
        # A pipe gets rich's 80 columns; tables here are wider than that.
        console = Console() if sys.stdout.isatty() else Console(width=160)
        return args.func(args, console)
    except CatalogError as exc:
        Console(stderr=True).print(f"[red]invalid source spec:[/red] {exc}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
