"""The statistic families of the profile benchmark, and how one tool's run is timed.

Every tool hands the worker a :class:`ToolRun`: one :class:`Family` per statistic family (what
computes it, its accuracy class and bound, and a call that computes only that family), and
optionally ``whole``, one call computing the full set in one go (synthcap's fused passes,
polars' ``collect_all``). A tool's total is the faster of that one run and the sum of its
families run one after another (``total_is`` says which), so no tool is held to the slower way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

FAMILIES = (
    "moments",
    "quantiles",
    "histograms",
    "distinct",
    "pearson",
    "spearman",
    "cramers_v",
    "top_values",
)
# Families that read only the categorical columns (their one-pass floor counts those bytes).
CATEGORICAL_FAMILIES = ("cramers_v", "top_values")
ACCURACY = ("exact", "approximate")


@dataclass(frozen=True)
class Family:
    accuracy: str  # "exact" or "approximate"
    method: str  # what computes it, with its bound when approximate
    run: Callable[[], object]

    def __post_init__(self) -> None:
        if self.accuracy not in ACCURACY:
            raise ValueError(f"accuracy must be one of {ACCURACY}, got {self.accuracy!r}")


@dataclass(frozen=True)
class ToolRun:
    families: dict[str, Family]
    whole: Callable[[], object] | None = None
    notes: dict[str, str] = field(default_factory=dict)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run_families(run: ToolRun) -> dict:
    """Seconds of each family and of the whole set, with the accuracy classes."""
    families = {
        name: {"seconds": timed(f.run), "accuracy": f.accuracy, "method": f.method}
        for name, f in run.families.items()
    }
    summed = sum(f["seconds"] for f in families.values())
    whole = timed(run.whole) if run.whole else float("inf")
    classes = {f["accuracy"] for f in families.values()}
    return {
        "seconds": min(whole, summed),
        "whole_seconds": None if run.whole is None else whole,
        "families_sum_seconds": summed,
        "accuracy": "exact" if classes == {"exact"} else "approximate",
        "families": families,
        "total_is": "one run of the whole set" if whole < summed else "sum of the families",
    }
