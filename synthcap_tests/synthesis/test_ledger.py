"""The privacy-budget ledger: spends add up per source, and a spend past the budget is refused,
by the pure decision, by the lake-backed ledger and by the blocking check before synthesis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest
import yaml

from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.synthesis.budget import privacy_budget, privacy_budget_available
from synthcap_assets.synthesis.ledger import (
    LEDGER_TABLE,
    BudgetExceededError,
    decide,
    read_ledger,
    record_spend,
    spend_row,
)
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled

DAY = dt.date(2026, 11, 16)


def _row(source: str, epsilon: float, day: dt.date = DAY):
    return spend_row(
        source,
        day,
        epsilon=epsilon,
        delta=1e-9,
        rho=0.1,
        rho_preprocess=0.01,
        synthesizer="mst",
        run_id="r",
    )


def test_the_third_synthesis_of_a_3_budget_at_1_5_is_refused(tmp_path: Path) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    first = record_spend(lakehouse, _row("s", 1.5), budget=3.0)
    second = record_spend(lakehouse, _row("s", 1.5), budget=3.0)
    assert (first.spent, first.remaining_after) == (0.0, 1.5)
    assert (second.spent, second.remaining_after) == (1.5, 0.0)
    with pytest.raises(BudgetExceededError, match=r"spent 3 of 3 epsilon in 2 synthesis"):
        record_spend(lakehouse, _row("s", 1.5), budget=3.0)
    ledger = read_ledger(lakehouse)
    assert ledger.height == 2 and ledger["epsilon"].sum() == 3.0  # the refusal wrote nothing
    # Other sources have budgets of their own.
    assert record_spend(lakehouse, _row("t", 1.5), budget=3.0).spent == 0.0


def test_decide_sums_per_source_and_tolerates_float_rounding() -> None:
    import polars as pl

    ledger = pl.concat([_row("a", 0.1) for _ in range(3)] + [_row("b", 5.0)])
    decision = decide(ledger, "a", budget=0.4, epsilon=0.1)
    assert decision.spent == pytest.approx(0.3) and decision.allowed  # 0.1 * 4 > 0.4 in floats
    assert decision.syntheses == 3 and decision.remaining == pytest.approx(0.1)
    assert not decide(ledger, "a", budget=0.4, epsilon=0.2).allowed
    assert decide(None, "a", budget=1.0, epsilon=1.0).allowed
    with pytest.raises(ValueError, match="above 0"):
        decide(None, "a", budget=0.0, epsilon=1.0)


def _catalog(tmp_path: Path, budget: float, epsilon: float) -> Path:
    folder = copy_bundled(tmp_path / "sources", "customers")
    spec_path = folder / "customers.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    spec["privacy"].update({"budget": budget, "epsilon": epsilon})
    spec_path.write_text(yaml.safe_dump(spec))
    return folder


def test_the_blocking_check_refuses_when_the_budget_would_be_exceeded(tmp_path: Path) -> None:
    lake, sources = str(tmp_path / "lake"), _catalog(tmp_path, budget=3.0, epsilon=1.5)
    lakehouse = LakehouseResource(root=lake)
    passed, remaining = [], []
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["customers"])
        for _ in range(3):
            result = dg.materialize(
                [privacy_budget, privacy_budget_available],
                partition_key=partition_key("customers", DAY),
                instance=instance,
                resources=build_resources(lake, str(sources)),
                raise_on_error=False,
            )
            (evaluation,) = result.get_asset_check_evaluations()
            passed.append(evaluation.passed)
            remaining.append(evaluation.metadata["remaining_epsilon"].value)
            if evaluation.passed:  # what synthetic_sample records when it runs
                record_spend(lakehouse, _row("customers", 1.5), budget=3.0)
    assert passed == [True, True, False]
    assert remaining == [3.0, 1.5, 0.0]
    assert lakehouse.read_table(LEDGER_TABLE).height == 2
    report = lakehouse.read_table("reports/privacy_budget")
    assert report["allowed"].to_list() == [False]  # the partition's latest statement


def test_partition_scope_gives_each_day_its_own_budget(tmp_path: Path) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    next_day = DAY + dt.timedelta(days=1)
    for day in (DAY, DAY, next_day, next_day):
        record_spend(lakehouse, _row("s", 1.5, day), budget=3.0, per_partition=True)
    with pytest.raises(BudgetExceededError):
        record_spend(lakehouse, _row("s", 1.5, DAY), budget=3.0, per_partition=True)
    ledger = read_ledger(lakehouse)
    assert decide(ledger, "s", 3.0, 1.5).spent == 6.0  # the source as a whole spent 6
    assert decide(ledger, "s", 3.0, 1.5, next_day).spent == 3.0
