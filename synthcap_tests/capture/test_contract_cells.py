"""Every cell of the README's contract table, shown: three modes × four changes (new, removed
and retyped column, a value that does not fit), each a later day after a clean first day,
materialized with ``raw_capture`` and its checks on real Delta tables. Each cell's outcome is
asserted, and the README's cell must read exactly as the outcome is described here.

One source per mode takes the four changes on four days, the one that evolves its contract
(a new column) last, so each day meets the first day's contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from synthcap_assets.capture.assets import (
    raw_capture,
    raw_capture_conforms_to_schema,
    raw_capture_not_empty,
)
from synthcap_assets.capture.contract_store import CONTRACTS_TABLE, schema_changes
from synthcap_assets.capture.quarantine import QUARANTINE_TABLE
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.registry import SourcesResource
from synthcap_tests.capture import malformed

README = Path(__file__).resolve().parents[2] / "README.md"
D1, D2 = malformed.DAY1, malformed.DAY2
MODES = ("evolve", "freeze", "discard_rows")
CHANGES = ("new", "removed", "retyped", "misfit")  # the README's column order
DAYS = {  # the day each change is delivered on; "new" (which may evolve the contract) last
    "misfit": D2,
    "retyped": D2 + dt.timedelta(days=1),
    "removed": D2 + dt.timedelta(days=2),
    "new": D2 + dt.timedelta(days=3),
}
LATER = {
    "new": "id,amount,city,note\n4,1.5,Oslo,x\n5,2.5,Bodø,y\n",
    "removed": "id,amount\n4,1.5\n5,2.5\n",
    "retyped": malformed.RETYPED_DAY2,
    "misfit": "id,amount,city\n4,1.5,Oslo\n5,n/a,Bodø\n6,3,Bergen\n",
}


@dataclass(frozen=True)
class Cell:
    """What one (mode, change) does, and the README's words for it."""

    readme: str
    landed: int | None  # day-2 rows in raw/<source>; None: the capture failed
    quarantined: int
    actions: set[tuple[str, str, str]]  # (column, change, action) in schema_changes
    contract_versions: int
    checks_pass: bool

    @property
    def failed_checks(self) -> set[str]:
        """The README's words: "check fails" is the schema check, "checks fail" both."""
        if "checks fail" in self.readme:
            return {"raw_capture_conforms_to_schema", "raw_capture_not_empty"}
        return {"raw_capture_conforms_to_schema"} if "check fails" in self.readme else set()


LANDS_NOTHING = "capture fails before any write, naming column, row and value; nothing lands"
CELLS = {
    ("evolve", "new"): Cell(
        "lands; recorded `accepted`; contract gains the column", 2, 0,
        {("note", "added", "accepted")}, 2, True,
    ),
    ("evolve", "removed"): Cell(
        "rows land with the column null; recorded `recorded`", 2, 0,
        {("city", "removed", "recorded")}, 1, True,
    ),
    ("evolve", "retyped"): Cell(LANDS_NOTHING, None, 0, set(), 1, False),
    ("evolve", "misfit"): Cell(LANDS_NOTHING, None, 0, set(), 1, False),
    ("freeze", "new"): Cell(
        "rows land without it; recorded `refused`; check fails", 2, 0,
        {("note", "added", "refused")}, 1, False,
    ),
    ("freeze", "removed"): Cell(
        "every row quarantined (column missing); recorded `refused`; checks fail", 0, 2,
        {("city", "removed", "refused"), ("*", "rows_rejected", "refused")}, 1, False,
    ),
    ("freeze", "retyped"): Cell(
        "rows with a value in it quarantined; recorded `refused`; checks fail", 0, 3,
        {("amount", "retyped", "refused"), ("*", "rows_rejected", "refused")}, 1, False,
    ),
    ("freeze", "misfit"): Cell(
        "row quarantined, the rest land; recorded `refused`; check fails", 2, 1,
        {("*", "rows_rejected", "refused")}, 1, False,
    ),
    ("discard_rows", "new"): Cell(
        "rows land without it; recorded `dropped`", 2, 0,
        {("note", "added", "dropped")}, 1, True,
    ),
    ("discard_rows", "removed"): Cell(
        "every row quarantined (column missing); recorded `dropped`; checks fail", 0, 2,
        {("city", "removed", "dropped"), ("*", "rows_rejected", "quarantined")}, 1, False,
    ),
    ("discard_rows", "retyped"): Cell(
        "rows with a value in it quarantined; recorded `dropped`; checks fail", 0, 3,
        {("amount", "retyped", "dropped"), ("*", "rows_rejected", "quarantined")}, 1, False,
    ),
    ("discard_rows", "misfit"): Cell(
        "row quarantined, the rest land; recorded `quarantined`", 2, 1,
        {("*", "rows_rejected", "quarantined")}, 1, True,
    ),
}  # fmt: skip


def _readme_table() -> dict[tuple[str, str], str]:
    section = README.read_text().split("| mode | new column |", 1)[1].split("\n\n", 1)[0]
    cells = {}
    for line in section.splitlines()[2:]:
        mode, *texts = [t.strip() for t in line.strip().strip("|").split("|")]
        for change, text in zip(CHANGES, texts, strict=True):
            cells[(mode.strip("`"), change)] = text
    return cells


def test_the_readme_table_says_what_each_cell_does() -> None:
    assert _readme_table() == {key: cell.readme for key, cell in CELLS.items()}


def _source(root: Path, mode: str) -> str:
    spec = {
        "id": mode,
        "title": mode,
        "kind": "file",
        "location": f"../landing/{mode}/{{date}}.csv",
        "format": "csv",
        "start_date": "2026-11-01",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
        "contract": {"mode": mode},
    }
    (root / "sources").mkdir(parents=True, exist_ok=True)
    (root / "sources" / f"{mode}.yaml").write_text(yaml.safe_dump(spec))
    malformed.write_retyped_days(root / "landing" / mode)  # the first day as day 1 ...
    for change in CHANGES:  # ... each change on a day of its own
        (root / "landing" / mode / f"{DAYS[change]}.csv").write_text(LATER[change])
    return mode


def _run(root: Path, instance: dg.DagsterInstance, source: str, day: dt.date):
    resources = build_resources(lake=str(root / "lake"), sources=str(root / "sources"))
    resources["sources"] = SourcesResource(state_dir=str(root / "state"))
    return dg.materialize(
        [raw_capture, raw_capture_not_empty, raw_capture_conforms_to_schema],
        partition_key=partition_key(source, day),
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    error = result.get_step_failure_events()[0].event_specific_data.error
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def _show_cell(lake: LakehouseResource, instance, root: Path, mode: str, change: str) -> None:
    cell, day, source = CELLS[(mode, change)], DAYS[change], mode
    versions_before = lake.read_table(CONTRACTS_TABLE).filter(pl.col("source") == source).height
    raw_version = lake.version(raw_table(source))
    result = _run(root, instance, source, day)
    landed = lake.read_partition(raw_table(source), {"_date": day})
    quarantine = lake.read_table(QUARANTINE_TABLE).filter(
        (pl.col("source") == source) & (pl.col("date") == day)
    )
    changes = schema_changes(lake, source, day)
    contracts = lake.read_table(CONTRACTS_TABLE).filter(pl.col("source") == source)
    if cell.landed is None:
        assert not result.success
        message = _failure_text(result)
        row, value = (2, "n/a") if change == "misfit" else (1, "12.3 NOK")
        assert "column 'amount'" in message and f"row {row}: {value!r}" in message
        assert lake.version(raw_table(source)) == raw_version  # nothing landed
        assert landed is None and changes.is_empty()
    else:
        assert result.success or not cell.checks_pass
        assert (0 if landed is None else landed.height) == cell.landed
        checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
        assert {name for name, passed in checks.items() if not passed} == cell.failed_checks
        assert len(checks) == 2 and all(checks.values()) == cell.checks_pass
        actions = set(changes.select("column", "change", "action").rows())
        assert actions == cell.actions
        assert set(changes["raw_version"]) == {lake.version(raw_table(source))}
        if change == "new" and cell.landed:
            assert ("note" in landed.columns) == (mode == "evolve")
        if change == "removed" and cell.landed:
            assert landed["city"].null_count() == cell.landed  # the column lands as nulls
    assert quarantine.height == cell.quarantined
    assert contracts.height - versions_before == cell.contract_versions - 1


@pytest.mark.parametrize("mode", MODES)
def test_contract_cells_of_a_mode(tmp_path: Path, mode: str) -> None:
    source = _source(tmp_path, mode)
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
        first = _run(tmp_path, instance, source, D1)
        assert first.success and all(c.passed for c in first.get_asset_check_evaluations())
        for change in sorted(CHANGES, key=DAYS.__getitem__):  # "new" (evolves) last
            try:
                _show_cell(lake, instance, tmp_path, mode, change)
            except AssertionError as exc:
                raise AssertionError(f"cell ({mode}, {change}): {exc}") from exc
