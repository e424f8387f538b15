"""Dagster wiring for the privacy budget: the ``privacy_budget`` asset and its blocking check.

``privacy_budget`` runs before ``synthetic_sample`` and states, for the partition about to be
synthesized, the source's budget, what the ledger says is spent and what this synthesis asks;
its blocking check ``privacy_budget_available`` fails when the synthesis would exceed the budget,
so Dagster skips ``synthetic_sample`` (and what depends on it) instead of spending.
"""

import datetime as dt

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import as_report_rows
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.metadata import written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.synthesis.ledger import BudgetDecision, decide, read_ledger
from synthcap_resources.catalog import CatalogResource, PrivacySpec
from synthcap_resources.lakehouse import LakehouseResource, report_table

PRIVACY_BUDGET = "privacy_budget"


def decide_for(
    lakehouse: LakehouseResource, source: str, day: dt.date, privacy: PrivacySpec
) -> BudgetDecision:
    """The ledger's decision for one synthesis of (source, day) at the source's settings."""
    scoped = day if privacy.budget_scope == "partition" else None
    return decide(read_ledger(lakehouse), source, privacy.budget, privacy.epsilon, scoped)


def budget_metadata(decision: BudgetDecision) -> dict[str, float | int]:
    """What the UI shows about a source's budget."""
    return {
        "budget_epsilon": decision.budget,
        "spent_epsilon": decision.spent,
        "requested_epsilon": decision.requested,
        "remaining_epsilon": decision.remaining,
        "remaining_after_epsilon": decision.remaining_after,
        "syntheses_so_far": decision.syntheses,
    }


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture],
    group_name="synthesis",
    kinds={"delta", "polars"},
)
@emits_lineage
def privacy_budget(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """The source's privacy budget before this partition's synthesis: total epsilon, spent so
    far (from the ``audit/privacy_budget`` ledger), this synthesis's epsilon and delta, what
    would remain, and whether it fits; one row per (source, date) in ``privacy_budget``."""
    source, day = source_and_day(context)
    privacy = catalog.get(source).privacy
    decision = decide_for(lakehouse, source, day, privacy)
    row = pl.DataFrame(
        {
            **{k: [float(v)] for k, v in budget_metadata(decision).items()},
            "delta": [privacy.delta],
            "allowed": [decision.allowed],
        }
    )
    report = as_report_rows(row, source, day)
    written = lakehouse.write_partition(
        report_table(PRIVACY_BUDGET), report, {"source": source, "date": day}
    )
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            report,
            {**budget_metadata(decision), "allowed": decision.allowed},
        )
    )


@dg.asset_check(asset=privacy_budget, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def privacy_budget_available(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """The synthesis of this partition fits the source's remaining privacy budget; blocking, so
    an exhausted budget skips ``synthetic_sample`` rather than spending beyond it."""
    source, day = source_and_day(context)
    decision = decide_for(lakehouse, source, day, catalog.get(source).privacy)
    return dg.AssetCheckResult(
        passed=decision.allowed,
        metadata=budget_metadata(decision),
        description=decision.describe()
        + ("" if decision.allowed else "; raise privacy.budget in the catalog to go on"),
    )
