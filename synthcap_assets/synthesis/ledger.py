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
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from deltalake.exceptions import DeltaError

from synthcap_assets.synthesis.engine import cdp_rho_of
from synthcap_resources.catalog import PrivacySpec
from synthcap_resources.lakehouse import LakehouseResource

if TYPE_CHECKING:
    from deltalake import DeltaTable

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
# Every release appends one commit; Delta's own default checkpoints every 100.
CHECKPOINT_EVERY = 10
# The ledger as last read, per table URI: (its commit key, its rows) (read_ledger).
_READ: dict[str, tuple[tuple, pl.DataFrame]] = {}
_LOCK = threading.Lock()


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


def _state(lakehouse: LakehouseResource) -> tuple[tuple, DeltaTable | None] | None:
    """A key that changes with every commit of the ledger (its version first), and the table
    when it had to be opened for it; ``None`` before the first spend. On a local lake the key
    is read off the newest commit file (a few microseconds: no log replay); elsewhere from
    the table's version and last commit time. Either way a table removed and written again
    to the same version gets another key."""
    if lakehouse.is_local:
        log = Path(lakehouse.uri(LEDGER_TABLE)) / "_delta_log"
        try:
            commits = [n for n in os.listdir(log) if n.endswith(".json") and n[:-5].isdigit()]
        except FileNotFoundError:
            return None
        if not commits:
            return None
        last = max(commits, key=lambda n: int(n[:-5]))
        stat = (log / last).stat()
        return (int(last[:-5]), stat.st_mtime_ns, stat.st_size, stat.st_ino), None
    delta = lakehouse.delta_table(LEDGER_TABLE)
    if delta is None:
        return None
    version, history = delta.version(), delta.history(1)
    when = history[0].get("timestamp") if history and history[0].get("version") == version else None
    return (version, when), delta


def read_ledger(lakehouse: LakehouseResource) -> pl.DataFrame | None:
    """The whole ledger, or ``None`` before the first spend.

    A partition's run reads the ledger about eight times (budget asset and check, each
    release's write-ahead check, the outcome, readiness) and every release appends a file, so
    the rows last read are kept per table and returned while no commit has followed
    (``_state``), instead of reading every file again (0.1 s at 70 files).
    """
    state = _state(lakehouse)
    if state is None:
        return None
    (key, delta), uri = state, lakehouse.uri(LEDGER_TABLE)
    with _LOCK:
        hit = _READ.get(uri)
    if hit is not None and hit[0] == key:
        return hit[1]
    delta = delta or lakehouse.delta_table(LEDGER_TABLE)
    if delta is None:
        return None
    # Read after the key was taken: the rows are at least as new as the key says.
    frame = pl.from_arrow(delta.to_pyarrow_table())
    with _LOCK:
        _READ[uri] = (key, frame)
    return frame


def _remember_append(
    lakehouse: LakehouseResource, before: pl.DataFrame | None, row: pl.DataFrame, version: int
) -> None:
    """After appending ``row`` as ``version`` to the ledger last read as ``before`` (the
    version just below), keep ``before`` plus ``row`` as that version: the next read needs no
    file read. Anything else (another writer's commit between, a schema change) is left to
    the next read, which reads the table whole."""
    uri = lakehouse.uri(LEDGER_TABLE)
    with _LOCK:
        hit = _READ.pop(uri, None)
    if before is None or hit is None or hit[1] is not before or hit[0][0] != version - 1:
        return
    state = _state(lakehouse)
    if state is None or state[0][0] != version or set(row.columns) != set(before.columns):
        return
    try:
        frame = pl.concat([before, row.select(before.columns).cast(before.schema)])
    except pl.exceptions.PolarsError:
        return
    with _LOCK:
        _READ[uri] = (state[0], frame)


def record_spend(
    lakehouse: LakehouseResource, row: pl.DataFrame, budget: float, per_partition: bool = False
) -> BudgetDecision:
    """Append ``row`` to the ledger if it fits the budget; raise otherwise (nothing written)."""
    source, epsilon = row["source"][0], float(row["epsilon"][0])
    day = row["date"][0] if per_partition else None
    before = read_ledger(lakehouse)
    decision = decide(before, source, budget, epsilon, day)
    if not decision.allowed:
        raise BudgetExceededError(
            f"{decision.describe()}; raise privacy.budget in the catalog (a policy decision) "
            "or wait for a new data release"
        )
    written = lakehouse.append(LEDGER_TABLE, row)
    if written.version % CHECKPOINT_EVERY == 0:
        _checkpoint(lakehouse)
    _remember_append(lakehouse, before, row, written.version)
    return decision


def _checkpoint(lakehouse: LakehouseResource) -> None:
    """A Delta checkpoint of the ledger: opening the table then replays the commits since it
    only (3 ms instead of 29 ms at 70 commits, measured; every append opens it twice). Only
    a speed-up: a failure leaves the table as it was, and is not the release's concern."""
    delta = lakehouse.delta_table(LEDGER_TABLE)
    if delta is None:
        return
    try:
        delta.create_checkpoint()
    except (DeltaError, OSError) as exc:
        logging.getLogger(__name__).warning("ledger checkpoint not written: %s", exc)


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
