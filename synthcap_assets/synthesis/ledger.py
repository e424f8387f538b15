"""The privacy-budget ledger: every release of private information spends epsilon from its
source's budget, and is recorded *before* its noisy value is drawn (write-ahead).

The ledger is an append-only Delta table (``audit/privacy_budget``), one row per release: source,
partition day, Dagster run, asset, ``release`` (what was released: ``domain: ranges``, ``domain:
first zoom``, ``domain: zoom 2`` and ``3`` where needed, ``domain: zoom, categories and nulls``,
``fit: mst`` / ``fit: aim``), epsilon, delta, the zCDP ``rho`` of that release and the time. Rows
written before releases were recorded one by one hold a whole synthesis and no ``release``. A
source's spent budget is the sum of its rows' epsilons (basic sequential composition: each
synthesis reads the source's rows again, and days of the same source may hold the same people, so
nothing is assumed disjoint). Re-materializing a partition spends again: its noise is fresh, so it
is a new release.

Shares. A synthesis at ``(epsilon, delta)`` runs in zCDP with ``rho = cdp_rho(epsilon, delta /
2)`` (:mod:`.synthesize`); its releases (the domain measurements of :mod:`.dp_domain` and the
synthesizer's fit) split that ``rho``, and each is booked at the same fraction of ``epsilon`` and
``delta`` as of ``rho``: ``epsilon_i = epsilon * rho_i / rho``. The shares add up to the
synthesis's epsilon when everything runs; a synthesis that fails after its domain measurements
has booked exactly their share. (Alone, a release of ``rho_i`` implies a larger epsilon than its
proportional share, since the conversion is concave; the ledger books the share, so that a
source's spend is the sum of what each completed synthesis was granted.)

:func:`release_recorder` is the write-ahead hook handed to ``synthesize(on_release=...)``: each
call checks the budget and appends its row at once, and refuses (raises
:class:`BudgetExceededError`, nothing written, nothing released) when the release does not fit.
:func:`decide` is pure; :func:`read_ledger` and :func:`record_spend` go through the lakehouse
resource. The check before synthesis and the spend inside it are two steps, so two runs of one
source started at the same instant could both pass the check; the schedules run one partition
per source at a time, and the spend is still recorded by both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from synthcap_assets.synthesis.engine import cdp_rho_of
from synthcap_resources.catalog import PrivacySpec
from synthcap_resources.lakehouse import LakehouseResource

LEDGER_TABLE = "audit/privacy_budget"
TOLERANCE = 1e-9  # 1.5 + 1.5 must fit a budget of 3.0 despite float rounding
LEDGER_SCHEMA = {
    "source": pl.String,
    "date": pl.Date,
    "run_id": pl.String,
    "asset": pl.String,
    "synthesizer": pl.String,
    "epsilon": pl.Float64,
    "delta": pl.Float64,
    "rho": pl.Float64,
    "rho_preprocess": pl.Float64,
    "spent_at": pl.Datetime("us", "UTC"),
    "release": pl.String,
}
DOMAIN_PREFIX = "domain"


class BudgetExceededError(RuntimeError):
    """A synthesis would spend more than its source's remaining privacy budget."""


@dataclass(frozen=True)
class BudgetDecision:
    """The source's budget, what is spent, what this request asks, and whether it fits."""

    source: str
    budget: float
    spent: float
    requested: float
    syntheses: int

    @property
    def remaining(self) -> float:
        return max(self.budget - self.spent, 0.0)

    @property
    def allowed(self) -> bool:
        return self.spent + self.requested <= self.budget + TOLERANCE

    @property
    def remaining_after(self) -> float:
        return max(self.budget - self.spent - self.requested, 0.0) if self.allowed else 0.0

    def describe(self) -> str:
        verdict = "fits" if self.allowed else "would exceed the budget"
        return (
            f"source {self.source!r}: spent {self.spent:g} of {self.budget:g} epsilon in "
            f"{self.syntheses} synthesis(es); this one asks {self.requested:g}, which {verdict}"
        )


def decide(
    ledger: pl.DataFrame | None,
    source: str,
    budget: float,
    epsilon: float,
    day: dt.date | None = None,
) -> BudgetDecision:
    """Whether a synthesis of ``source`` at ``epsilon`` fits its ``budget`` given ``ledger``.

    With ``day`` (budget scope "partition": days hold disjoint people, so their syntheses
    compose in parallel) only that day's spends count; otherwise all of the source's.
    """
    if not (budget > 0 and epsilon > 0):
        raise ValueError(f"budget and epsilon must be above 0, got {budget!r} and {epsilon!r}")
    rows = ledger.filter(pl.col("source") == source) if ledger is not None else None
    if rows is not None and day is not None:
        rows = rows.filter(pl.col("date") == day)
    spent = 0.0 if rows is None or rows.height == 0 else float(rows["epsilon"].sum())
    count = 0 if rows is None else _syntheses(rows)
    return BudgetDecision(source, float(budget), spent, float(epsilon), count)


def _syntheses(rows: pl.DataFrame) -> int:
    """Syntheses in ``rows``: a row without ``release`` is one; rows with one are counted by
    run and day (one synthesis books several releases)."""
    if "release" not in rows.columns:
        return rows.height
    whole = rows.filter(pl.col("release").is_null()).height
    parts = rows.filter(pl.col("release").is_not_null()).select("run_id", "date").unique()
    return whole + parts.height


def spend_row(
    source: str,
    day: dt.date,
    *,
    epsilon: float,
    delta: float,
    rho: float,
    rho_preprocess: float,
    synthesizer: str,
    run_id: str,
    asset: str = "synthetic_sample",
    at: dt.datetime | None = None,
    release: str | None = None,
) -> pl.DataFrame:
    """One ledger row (schema :data:`LEDGER_SCHEMA`)."""
    row = {
        "source": source,
        "date": day,
        "run_id": run_id,
        "asset": asset,
        "synthesizer": synthesizer,
        "epsilon": float(epsilon),
        "delta": float(delta),
        "rho": float(rho),
        "rho_preprocess": float(rho_preprocess),
        "spent_at": at or dt.datetime.now(dt.UTC),
        "release": release,
    }
    return pl.DataFrame([row], schema=LEDGER_SCHEMA)


def read_ledger(lakehouse: LakehouseResource) -> pl.DataFrame | None:
    """The whole ledger, or ``None`` before the first spend."""
    return lakehouse.read_table(LEDGER_TABLE)


def record_spend(
    lakehouse: LakehouseResource, row: pl.DataFrame, budget: float, per_partition: bool = False
) -> BudgetDecision:
    """Append ``row`` to the ledger if it fits the budget; raise otherwise (nothing written)."""
    source, epsilon = row["source"][0], float(row["epsilon"][0])
    day = row["date"][0] if per_partition else None
    decision = decide(read_ledger(lakehouse), source, budget, epsilon, day)
    if not decision.allowed:
        raise BudgetExceededError(
            f"{decision.describe()}; raise privacy.budget in the catalog (a policy decision) "
            "or wait for a new data release"
        )
    lakehouse.append(LEDGER_TABLE, row)
    return decision


def release_recorder(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    privacy: PrivacySpec,
    run_id: str,
    asset: str = "synthetic_sample",
) -> Callable[[str, float], None]:
    """The write-ahead hook for ``synthesize(on_release=...)``: each call ``(what, epsilon)``
    appends one ledger row for that release (module docs: its epsilon share, the same share of
    ``delta`` and of the synthesis's ``rho``) before the release happens, or raises
    :class:`BudgetExceededError` (nothing written) when it does not fit the budget."""
    rho = cdp_rho_of(float(privacy.epsilon), privacy.delta / 2)
    per_partition = privacy.budget_scope == "partition"

    def record(what: str, epsilon: float) -> None:
        share = float(epsilon) / float(privacy.epsilon)
        row = spend_row(
            source,
            day,
            epsilon=epsilon,
            delta=privacy.delta * share,
            rho=rho * share,
            rho_preprocess=rho * share if what.startswith(DOMAIN_PREFIX) else 0.0,
            synthesizer=privacy.synthesizer,
            run_id=run_id,
            asset=asset,
            release=what,
        )
        try:
            record_spend(lakehouse, row, privacy.budget, per_partition=per_partition)
        except BudgetExceededError as exc:
            raise BudgetExceededError(
                f"source {source!r}, partition {day}: release {what!r} refused: {exc}"
            ) from exc

    return record
