"""Schema contracts on crafted frames (each mode, known outcomes) and in the lake (inferred,
frozen, stored, schema changes recorded, quarantined rows queryable with SQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from synthcap_assets.capture.contract_store import (
    plan_contract,
    refused_changes,
    schema_changes,
    store_contract,
    stored_contract,
    write_schema_changes,
)
from synthcap_assets.capture.contracts import (
    Contract,
    ContractViolationError,
    apply_contract,
    infer_contract,
    pandera_schema,
)
from synthcap_assets.capture.quarantine import write_quarantine
from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.sql import query_lake

DAY = dt.date(2026, 11, 16)
CONTRACT = Contract({"id": "int", "name": "str", "when": "date"}, not_null=("name",))


def delivery() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ["1", "two", "3", "4"],
            "name": ["a", "b", None, "d"],
            "when": ["2026-11-16", "2026-11-16", "2026-11-15", "not a date"],
            "extra": [1.5, 2.5, 3.5, 4.5],
        }
    )


def test_freeze_quarantines_bad_rows_and_refuses_the_new_column() -> None:
    out = apply_contract(delivery(), CONTRACT, "freeze", "src")
    assert out.rows.columns == ["id", "name", "when"]
    assert out.rows["id"].to_list() == [1]
    assert out.rows.schema == pl.Schema({"id": pl.Int64, "name": pl.Utf8, "when": pl.Date})
    assert out.rejected["_row"].to_list() == [2, 3, 4]
    reasons = dict(zip(out.rejected["_row"], out.rejected["_reason"], strict=True))
    assert reasons[2] == "column 'id': 'two' is not a valid int"
    assert reasons[3] == "column 'name' is null"
    assert reasons[4] == "column 'when': 'not a date' is not a valid date"
    assert out.rejected["extra"].to_list() == [2.5, 3.5, 4.5]  # the row as delivered
    changes = out.changes.rows()
    assert ("extra", "added", None, "float", "refused") in changes
    assert ("*", "rows_rejected", "0 rows", "3 of 4 rows", "refused") in changes
    assert out.violations == [
        "column 'extra' added (frozen contract)",
        "3 of 4 rows break the frozen contract",
    ]


def test_discard_rows_quarantines_without_violations() -> None:
    out = apply_contract(delivery(), CONTRACT, "discard_rows", "src")
    assert out.rows.height == 1 and out.rejected.height == 3
    assert out.violations == []
    assert ("extra", "added", None, "float", "dropped") in out.changes.rows()


def test_evolve_accepts_new_columns_and_stops_on_bad_values() -> None:
    good = delivery().filter(pl.col("id") != "two").with_columns(pl.col("name").fill_null("c"))
    with pytest.raises(ValueError, match="column 'when' declared date"):
        apply_contract(good, CONTRACT, "evolve", "source 's', partition 2026-11-16")
    fine = good.head(2)
    out = apply_contract(fine, CONTRACT, "evolve", "src")
    assert out.rows.columns == ["id", "name", "when", "extra"]
    assert out.contract.columns == {"id": "int", "name": "str", "when": "date", "extra": "float"}
    assert out.changes.rows() == [("extra", "added", None, "float", "accepted")]
    assert out.rejected.is_empty() and out.violations == []


def test_removed_and_retyped_columns() -> None:
    frame = pl.DataFrame({"id": ["x", "y"], "when": ["2026-11-16", "2026-11-16"]})
    out = apply_contract(frame, CONTRACT, "freeze", "src")
    changes = {(c, kind): (exp, obs) for c, kind, exp, obs, _ in out.changes.rows()}
    assert changes[("name", "removed")] == ("str", None)
    assert changes[("id", "retyped")] == ("int", "str")
    assert out.rows.is_empty() and out.rejected.height == 2
    # Delta cannot retype a column in place: evolve refuses before anything is written.
    with pytest.raises(ContractViolationError, match=r"column 'id' is int .* row 1: 'x'"):
        apply_contract(frame, CONTRACT, "evolve", "src")
    renamed = frame.rename({"id": "code"}).with_columns(pl.lit(7).alias("id"))
    evolved = apply_contract(renamed, CONTRACT, "evolve", "src")
    assert evolved.contract.columns == {**CONTRACT.columns, "code": "str"}
    assert ("name", "removed", "str", None, "recorded") in evolved.changes.rows()


def test_inferred_contract_and_pandera_schema() -> None:
    frame = pl.DataFrame({"a": [1], "b": [1.0], "c": ["x"], "d": [DAY], "e": [True]})
    contract = infer_contract(frame, origin="inferred")
    assert contract.columns == {"a": "int", "b": "float", "c": "str", "d": "date", "e": "bool"}
    schema = pandera_schema(Contract({"a": "int"}, not_null=("a",)))
    assert schema.columns["a"].nullable is False
    assert Contract.from_json(contract.to_json(), "x").columns == contract.columns


def _frozen_spec(folder: Path) -> Path:
    spec = {
        "id": "feed",
        "title": "Feed",
        "kind": "file",
        "location": "feed/{date}.csv",
        "format": "csv",
        "start_date": "2026-11-16",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
        "contract": {"mode": "freeze"},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feed.yaml").write_text(yaml.safe_dump(spec))
    return folder / "feed.yaml"


def _enforce(lakehouse: LakehouseResource, spec, rows: pl.DataFrame, day: dt.date):
    """Plan the contract and write what ``capture.commit`` writes after the data commit."""
    plan = plan_contract(lakehouse, spec, rows, day)
    if plan.store_version is not None:
        store_contract(lakehouse, spec.id, day, plan.outcome.contract, plan.store_version, 0)
    write_schema_changes(lakehouse, spec.id, day, plan.outcome, 0)
    return plan.outcome


def test_first_capture_freezes_an_inferred_contract_in_the_lake(tmp_path: Path) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    spec = parse_spec(_frozen_spec(tmp_path / "sources"))
    first = pl.DataFrame({"id": [1, 2], "price": [1.5, 2.5]})
    assert plan_contract(lakehouse, spec, first, DAY).store_version == 1
    assert lakehouse.read_table("state/contracts") is None  # planning writes nothing
    out = _enforce(lakehouse, spec, first, DAY)
    assert out.violations == [] and out.rows.height == 2
    frozen = stored_contract(lakehouse, "feed")
    assert frozen.columns == {"id": "int", "price": "float"}
    assert refused_changes(lakehouse, "feed", DAY) == []
    second_day = DAY + dt.timedelta(days=1)
    broken = pl.DataFrame({"id": ["3", "4"], "price": ["3.5", "n/a"], "note": ["x", "y"]})
    out = _enforce(lakehouse, spec, broken, second_day)
    assert out.rows.to_dicts() == [{"id": 3, "price": 3.5}]
    assert stored_contract(lakehouse, "feed").columns == frozen.columns  # still frozen
    recorded = schema_changes(lakehouse, "feed", second_day)
    assert set(recorded["change"]) == {"added", "rows_rejected"}
    assert set(recorded["mode"]) == {"freeze"}
    assert len(refused_changes(lakehouse, "feed", second_day)) == 2
    write_quarantine(lakehouse, "feed", second_day, [out.rejected])
    found = query_lake(
        lakehouse,
        "select source, cast(date as varchar) as day, row, reason, record from quarantine",
    )
    assert found.rows() == [
        (
            "feed",
            "2026-11-17",
            2,
            "column 'price': 'n/a' is not a valid float",
            '{"id": "4", "price": "n/a", "note": "y"}',
        )
    ]
