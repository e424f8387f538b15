"""Pure builders of the data quality facets: profile rows as ``dataQualityMetrics``, check
outcomes as ``dataQualityAssertions`` and as the run's ``testRun``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from openlineage.client.facet_v2 import (
    data_quality_assertions_dataset,
    data_quality_metrics_input_dataset,
    test_run,
)

from synthcap_assets.lineage.facets import PRODUCER

# Quantiles published per column: enough to see a distribution's shape, far fewer than the 101
# the profile keeps.
PUBLISHED_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


@dataclass(frozen=True)
class CheckOutcome:
    """One asset check's result as lineage reports it."""

    name: str
    success: bool
    severity: str  # "error" (blocks downstream) or "warn"
    description: str | None = None
    column: str | None = None


def _number(value: object) -> float | None:
    return None if value is None else float(value)


def data_quality_metrics_facet(
    profile: pl.DataFrame,
) -> data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet:
    """The profile's rows (one per column) as the metrics of the dataset that was profiled.

    Uses the profile table's columns ``column, count, nulls, distinct, min, max, quantiles``
    (101 quantiles at 0.00 … 1.00); dates are days since 1970-01-01, as the profile keeps them.
    """
    metrics = {}
    rows = 0
    for row in profile.iter_rows(named=True):
        rows = max(rows, int(row["count"]) + int(row["nulls"]))
        quantiles = row.get("quantiles")
        published = (
            {str(q): float(quantiles[round(q * 100)]) for q in PUBLISHED_QUANTILES}
            if quantiles is not None and len(quantiles) == 101
            else {}
        )
        metrics[row["column"]] = data_quality_metrics_input_dataset.ColumnMetrics(
            nullCount=int(row["nulls"]),
            distinctCount=int(row["distinct"]),
            count=float(row["count"]),
            min=_number(row.get("min")),
            max=_number(row.get("max")),
            quantiles=published,
        )
    return data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics=metrics, rowCount=rows, producer=PRODUCER
    )


def assertions_facet(
    outcomes: Sequence[CheckOutcome],
) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet:
    """Check outcomes as assertions on the checked dataset."""
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
        assertions=[
            data_quality_assertions_dataset.Assertion(
                assertion=o.name,
                success=o.success,
                column=o.column,
                severity=o.severity,
                name=o.name,
                description=o.description,
            )
            for o in outcomes
        ],
        producer=PRODUCER,
    )


def run_tests_facet(outcomes: Sequence[CheckOutcome]) -> test_run.TestRunFacet:
    """Check outcomes as the run's test executions (pass or fail, with severity)."""
    return test_run.TestRunFacet(
        tests=[
            test_run.TestExecution(
                name=o.name,
                status="pass" if o.success else "fail",
                severity=o.severity,
                type="asset_check",
                description=o.description,
            )
            for o in outcomes
        ],
        producer=PRODUCER,
    )
