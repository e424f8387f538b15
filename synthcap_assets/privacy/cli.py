"""``synthcap erase``: the command line of the right to erasure (logic in :mod:`.erasure`)."""

from __future__ import annotations

import argparse

from rich.console import Console

from synthcap_assets.privacy.erasure import ErasureError, erase
from synthcap_resources.lakehouse import LakehouseError, LakehouseResource, lake_root


def cmd_erase(args: argparse.Namespace, console: Console) -> int:
    lakehouse = LakehouseResource(root=args.lake or lake_root())
    try:
        result = erase(lakehouse, args.source, args.where, who=args.by)
    except (ErasureError, LakehouseError) as exc:
        Console(stderr=True).print(f"[red]erasure refused:[/red] {exc}", highlight=False)
        return 2
    console.print(f"erased from {result.source} where {result.predicate}", highlight=False)
    for table, rows in result.rows_removed.items():
        console.print(f"  {table}: {rows} rows removed", highlight=False)
    console.print(
        f"  {result.files_removed} old data files vacuumed; history before this version purged",
        highlight=False,
    )
    if result.partitions:
        console.print(
            "  re-materialize feature_set and synthetic_sample for "
            + ", ".join(result.partitions)
            + " to rebuild them without these rows",
            highlight=False,
        )
    console.print("  audit row appended to audit/erasures", highlight=False)
    return 0


def add_erase_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``synthcap erase`` on the main parser's subcommands."""
    parser = sub.add_parser(
        "erase", help="erase a person's rows from a source's raw, feature and synthetic tables"
    )
    parser.add_argument("--source", required=True, help="source id")
    parser.add_argument(
        "--where",
        required=True,
        help="rows to erase: col op literal [and ...], op one of = != < <= > >= or "
        "in ('a', 'b'); e.g. \"email = 'ana@example.org'\"",
    )
    parser.add_argument("--by", help="who asked or carried it out (default: the OS user)")
    parser.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    parser.set_defaults(func=cmd_erase)
