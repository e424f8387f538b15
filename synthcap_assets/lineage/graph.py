"""The lineage graph recorded in OpenLineage events: which tables (and columns) feed which.

Pure: takes event dicts, returns edges and walks. A table edge joins every input of a completed
run to every output of that run; a column edge comes from an output's ``columnLineage`` facet.
Datasets are named by their OpenLineage name (``raw/market_prices``, a source file's path).

Report tables hold every source, so each edge keeps the source its run was for, and a walk that
has reached a source's data follows only that source's edges: ``raw/customers`` feeds
``reports/privacy_report``, which feeds ``features/market_prices`` too, but not from customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from synthcap_assets.lineage.recording import FOLDER_OF_ASSET
from synthcap_resources.lakehouse import BOOKKEEPING_FOLDERS, report_table

Node = str  # a table name, or "table.column"


@dataclass(frozen=True)
class Edge:
    """``source`` feeds ``target``; ``how`` is the job (tables) or the transformation (columns);
    ``scope`` is the catalog source the run was for, if known."""

    source: Node
    target: Node
    how: str
    scope: str | None = None


@dataclass(frozen=True)
class Step:
    """A node reached by a walk, ``depth`` edges away, through ``edge``."""

    depth: int
    node: Node
    edge: Edge


def table_name(name: str) -> str:
    """A table path from a path (``raw/x``) or a SQL name (``raw_capture__x``, ``profile``)."""
    if "/" in name:
        return name
    asset, _, source = name.partition("__")
    if source and asset in FOLDER_OF_ASSET:
        return f"{FOLDER_OF_ASSET[asset]}/{source}"
    if source and asset in BOOKKEEPING_FOLDERS:
        return f"{asset}/{source}"
    return report_table(name)


def _completed(events: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    return (e for e in events if e.get("eventType") == "COMPLETE")


def _scope(dataset: Mapping[str, Any]) -> str | None:
    """The catalog source of a written dataset: its ``source`` partition, or its table name."""
    subset = (dataset.get("outputFacets") or {}).get("subset") or {}
    for partition in (subset.get("outputCondition") or {}).get("partitions") or []:
        if "source" in partition.get("dimensions", {}):
            return str(partition["dimensions"]["source"])
    return scope_of(dataset["name"])


def table_edges(events: Iterable[Mapping[str, Any]]) -> set[Edge]:
    """Input table -> output table, for every completed run."""
    edges = set()
    for event in _completed(events):
        job = event["job"]["name"]
        for out in event.get("outputs") or []:
            for inp in event.get("inputs") or []:
                edges.add(Edge(inp["name"], out["name"], job, _scope(out)))
    return edges


def column_edges(events: Iterable[Mapping[str, Any]]) -> set[Edge]:
    """Input ``table.column`` -> output ``table.column``, from ``columnLineage`` facets."""
    edges = set()
    for event in _completed(events):
        for out in event.get("outputs") or []:
            lineage = (out.get("facets") or {}).get("columnLineage") or {}
            for column, derivation in (lineage.get("fields") or {}).items():
                for field in derivation.get("inputFields", []):
                    how = ", ".join(
                        t.get("description") or t.get("subtype") or t["type"]
                        for t in field.get("transformations") or []
                    )
                    edges.add(
                        Edge(f"{field['name']}.{field['field']}", f"{out['name']}.{column}", how)
                    )
    return edges


def walk(
    start: Node, edges: Iterable[Edge], *, upstream: bool, scope: str | None = None
) -> list[Step]:
    """Every node reachable from ``start``, breadth first, each listed once, nearest first.

    Once the walk is within one catalog source (``scope``, or the first scoped edge taken), it
    only follows edges of that source or of none.
    """
    neighbours: dict[Node, list[Edge]] = {}
    for edge in sorted(edges, key=lambda e: (e.source, e.target, e.how, e.scope or "")):
        key = edge.target if upstream else edge.source
        neighbours.setdefault(key, []).append(edge)
    listed, steps = {start}, []
    visited, frontier = {(start, scope)}, [(start, scope)]
    depth = 0
    while frontier:
        depth += 1
        following = []
        for node, within in frontier:
            for edge in neighbours.get(node, []):
                if within and edge.scope and edge.scope != within:
                    continue
                other, state = edge.source if upstream else edge.target, within or edge.scope
                if (other, state) in visited:
                    continue
                visited.add((other, state))
                following.append((other, state))
                if other not in listed:
                    listed.add(other)
                    steps.append(Step(depth, other, edge))
        frontier = following
    return steps


def scope_of(table: str) -> str | None:
    """The catalog source a per-source table belongs to (``raw/x`` -> ``x``), else None."""
    folder, _, source = table.partition("/")
    return source if source and folder in FOLDER_OF_ASSET.values() else None


def known_nodes(edges: Iterable[Edge]) -> set[Node]:
    return {node for edge in edges for node in (edge.source, edge.target)}
