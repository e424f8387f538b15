"""Dagster wiring for synthesis: ``synthetic_sample`` with its no-PII and usefulness gates.

``synthetic_sample`` always records its outcome (``reports/synthetic_outcome``, see
:mod:`.outcome`): a refusal is an answer, not a crash; ``readiness_score``
(:mod:`.readiness_asset`) reads it.
"""

import datetime as dt
from collections.abc import Mapping

import dagster as dg
import polars as pl

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.columns import DATE_COLUMN, as_report_rows, as_source_rows, without_meta
from synthcap_assets.lineage.hooks import emits_check_lineage, emits_lineage
from synthcap_assets.lineage.recording import record_column_lineage, record_write
from synthcap_assets.metadata import preview, written_metadata
from synthcap_assets.partitions import source_and_day, source_date_partitions
from synthcap_assets.privacy.assets import (
    columns_to_drop,
    no_pii_check,
    pii_handling,
    privacy_report,
)
from synthcap_assets.privacy.handling import SAMPLE_HANDLINGS
from synthcap_assets.profile.assets import PROFILE, profile
from synthcap_assets.reads import captured_rows, report_rows
from synthcap_assets.synthesis import ledger
from synthcap_assets.synthesis.budget import decide_for, privacy_budget
from synthcap_assets.synthesis.evaluate import summary
from synthcap_assets.synthesis.outcome import (
    FAILED,
    REFUSED,
    SAMPLE,
    SYNTHETIC_OUTCOME,
    Outcome,
    counted_scores,
    judge_sample,
    outcome_from_row,
    shape_scores,
)
from synthcap_assets.synthesis.pipeline import synthesize_evaluated
from synthcap_assets.synthesis.prepare import DROP_REASONS
from synthcap_assets.synthesis.readiness_inputs import (
    SYNTHETIC_UTILITY,
)
from synthcap_assets.synthesis.synthesize import SynthesisError
from synthcap_resources.catalog import CatalogResource, Domain, SourceSpec
from synthcap_resources.lakehouse import (
    LakehouseResource,
    raw_table,
    report_table,
    synthetic_table,
)

TEXT_REASON = "free text: not modelled by marginal synthesizers (MST/AIM)"
PII_REASON = "personal data: its privacy handling keeps it out of samples"


def counted_columns(
    columns: list[str], excluded: Mapping[str, str], dropped: Mapping[str, str] | None
) -> list[str]:
    """The source columns a sample's utility is judged on: all but those kept out by policy
    (PII by its handling, a text source's free text) and keys unique per row, whose values
    carry no distribution to reproduce. Every other column left out of the sample scores 0."""
    keys = {c for c, why in (dropped or {}).items() if why == DROP_REASONS["identifier"]}
    return [c for c in columns if c not in excluded and c not in keys]


class SynthesisFailedError(RuntimeError):
    """An unexpected error in a synthesis; its outcome row is written before this is raised."""


def policy_exclusions(lakehouse: LakehouseResource, spec: SourceSpec, day: dt.date) -> dict:
    """Columns kept out of synthesis by policy, with why: PII (by its handling) and the free
    text of a text source. They are not counted in utility."""
    out = dict.fromkeys(columns_to_drop(lakehouse, spec.id, day, spec.pii_columns), PII_REASON)
    if spec.domain is Domain.text and spec.text_column:
        out[spec.text_column] = TEXT_REASON
    return out


def spent_in_run(lakehouse: LakehouseResource, source: str, day: dt.date, run_id: str) -> float:
    """Epsilon the ledger holds for this (source, day) from this run."""
    rows = ledger.read_ledger(lakehouse)
    if rows is None:
        return 0.0
    mine = rows.filter(
        (pl.col("source") == source) & (pl.col("date") == day) & (pl.col("run_id") == run_id)
    )
    return float(mine["epsilon"].sum()) if mine.height else 0.0


def _clear_sample(lakehouse: LakehouseResource, source: str, day: dt.date) -> None:
    """No stale sample or evaluation stays beside a refusal or failure of the same day."""
    lakehouse.delete_where(synthetic_table(source), f"{DATE_COLUMN} = '{day.isoformat()}'")
    lakehouse.delete_where(
        report_table(SYNTHETIC_UTILITY), f"source = '{source}' AND date = '{day.isoformat()}'"
    )


def _write_outcome(lakehouse, outcome: Outcome, source: str, day: dt.date) -> pl.DataFrame:
    rows = as_report_rows(outcome.as_frame(), source, day)
    record_write(
        lakehouse.write_partition(
            report_table(SYNTHETIC_OUTCOME), rows, {"source": source, "date": day}
        ),
        rows,
    )
    return rows


def _not_in_sample(columns: list[str], synthesized: list[str], *reasons: dict) -> dict:
    """Every column of ``columns`` not synthesized, with the first reason given for it."""
    merged: dict[str, str] = {}
    for given in reasons:
        for column, why in (given or {}).items():
            merged.setdefault(column, why)
    left = [c for c in columns if c not in synthesized]
    return {c: merged.get(c, "not synthesized (no reason recorded)") for c in left}


def _refused(lakehouse, exc: Exception, status: str, known: dict) -> Outcome:
    """The outcome of a synthesis that raised, with the synthesis core's structured refusal
    (reason, actions, dropped) where the exception carries it; the epsilon spent is what the
    write-ahead ledger holds for this run (releases before the failure included)."""
    spec, day, columns, excluded = known["spec"], known["day"], known["columns"], known["excluded"]
    reason = getattr(exc, "reason", None) or str(exc)
    if status == FAILED:
        reason = f"{type(exc).__name__}: {exc}"
    spent = spent_in_run(lakehouse, spec.id, day, known["run_id"])
    return Outcome(
        status=status,
        reason=reason,
        actions=list(getattr(exc, "actions", None) or []),
        dropped=_not_in_sample(columns, [], excluded, getattr(exc, "dropped", None)),
        spent_epsilon=spent,
        synthesizer=spec.privacy.synthesizer,
        counted_columns=counted_columns(columns, excluded, getattr(exc, "dropped", None)),
        utility_floor=spec.privacy.utility_floor,
    )


@dg.asset(
    partitions_def=source_date_partitions,
    deps=[raw_capture, profile, privacy_report, privacy_budget],
    group_name="synthesis",
    kinds={"delta", "smartnoise"},
)
@emits_lineage
def synthetic_sample(
    context: dg.AssetExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.MaterializeResult:
    """A differentially private synthetic version of the day's table: smartnoise-synth MST or
    AIM at the source's (epsilon, delta), bins and categories measured privately inside that
    budget, PII columns and a text source's free text left out, 20% of rows held out for
    evaluation; every release in the ``audit/privacy_budget`` ledger before it is used. Stored
    in ``synthetic/<source>``, evaluated in ``synthetic_utility``; the outcome (sample, refusal
    or failure, why, what to change, every column left out) in ``synthetic_outcome``."""
    source, day = source_and_day(context)
    spec = catalog.get(source)
    privacy, run_id = spec.privacy, context.run.run_id
    real = without_meta(captured_rows(lakehouse, source, day))
    excluded = policy_exclusions(lakehouse, spec, day)
    known = {
        "spec": spec,
        "day": day,
        "run_id": run_id,
        "columns": real.columns,
        "excluded": excluded,
    }
    decision = decide_for(lakehouse, source, day, privacy)
    if not decision.allowed:  # the blocking budget check stops this first in a job run
        refusal = ledger.BudgetExceededError(decision.describe())
        refusal.actions = [
            "raise privacy.budget in the catalog (a policy decision) or lower privacy.epsilon"
        ]
        return _answer_refusal(lakehouse, _refused(lakehouse, refusal, REFUSED, known), known)
    handling = pii_handling(lakehouse, source, day)
    generalized = handling.filter(pl.col("handling") == "generalize")
    generalize = dict(
        zip(generalized["column"], generalized["pii_type"].fill_null("category"), strict=True)
    )
    # A declared quasi-identifier with no detected type is a category: its rare values are
    # suppressed ("other" would pass it raw).
    for column in generalize:  # these enter synthesis generalized (age bands, birth years)
        excluded.pop(column, None)
    try:
        done = synthesize_evaluated(
            real,
            profile=report_rows(lakehouse, PROFILE, source, day).drop("source", "date"),
            privacy=privacy,
            exclude=sorted(excluded),
            rules=spec.quality.rules,
            generalize=generalize,
            on_release=ledger.release_recorder(lakehouse, source, day, privacy, run_id),
        )
    except (SynthesisError, ledger.BudgetExceededError) as exc:
        return _answer_refusal(lakehouse, _refused(lakehouse, exc, REFUSED, known), known)
    except Exception as exc:  # recorded as a failure for readiness, then raised for the run
        _clear_sample(lakehouse, source, day)
        _write_outcome(lakehouse, _refused(lakehouse, exc, FAILED, known), source, day)
        raise SynthesisFailedError(f"source {source!r}, partition {day}: {exc}") from exc
    return _answer_sample(context, lakehouse, done, known)


def _answer_refusal(lakehouse, outcome: Outcome, known: dict) -> dg.MaterializeResult:
    source, day = known["spec"].id, known["day"]
    _clear_sample(lakehouse, source, day)
    rows = _write_outcome(lakehouse, outcome, source, day)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 0,
            "outcome": outcome.status,
            "reason": outcome.reason or "",
            "actions": dg.MetadataValue.json(outcome.actions),
            "dropped_columns": dg.MetadataValue.json(outcome.dropped),
            "spent_epsilon": outcome.spent_epsilon,
            "outcome_rows": rows.height,
        }
    )


def _answer_sample(context, lakehouse, done, known: dict) -> dg.MaterializeResult:
    spec, day, columns, excluded = known["spec"], known["day"], known["columns"], known["excluded"]
    source, result, privacy = spec.id, done.result, spec.privacy
    counted = counted_columns(columns, excluded, result.dropped)
    shapes, pairs, utility = counted_scores(done.evaluation, counted)
    verdict = judge_sample(
        result.sample,
        synthesized=result.columns,
        constraints=privacy.constraints,
        known_columns=columns,
        utility=utility,
        utility_floor=privacy.utility_floor,
        column_shapes=shape_scores(done.evaluation),
    )
    record_column_lineage(
        synthetic_table(source),
        raw_table(source),
        {column: [column] for column in result.columns},
        f"DP synthesis ({result.synthesizer.upper()})",
        masking=True,
        same_name_is_identity=False,
    )
    stored = as_source_rows(result.sample, source, day)
    written = lakehouse.write_partition(synthetic_table(source), stored, {DATE_COLUMN: day})
    evaluation = as_report_rows(done.evaluation, source, day)
    record_write(
        lakehouse.write_partition(
            report_table(SYNTHETIC_UTILITY), evaluation, {"source": source, "date": day}
        ),
        evaluation,
    )
    outcome = Outcome(
        status=SAMPLE,
        actions=list(getattr(result, "actions", None) or []),
        dropped=_not_in_sample(columns, result.columns, excluded, result.dropped),
        spent_epsilon=spent_in_run(lakehouse, source, day, known["run_id"]),
        synthesizer=result.synthesizer,
        sample_rows=result.sample.height,
        synthesized=list(result.columns),
        counted_columns=counted,
        column_shapes=shapes,
        pair_trends=pairs,
        utility=utility,
        utility_floor=privacy.utility_floor,
        verdict=verdict,
    )
    _write_outcome(lakehouse, outcome, source, day)
    budget = decide_for(lakehouse, source, day, privacy)
    return dg.MaterializeResult(
        metadata=written_metadata(
            written,
            stored,
            {
                "outcome": SAMPLE,
                "useful": outcome.passed,
                "problems": dg.MetadataValue.json(outcome.problems),
                "synthesizer": result.synthesizer,
                "epsilon": result.epsilon,
                "spent_epsilon": outcome.spent_epsilon,
                "delta": result.delta,
                "rho_preprocess": result.rho_preprocess,
                "fit_seconds": result.fit_seconds,
                **summary(done.evaluation),
                "utility": utility,
                "budget_remaining_epsilon": budget.remaining,
                "train_rows": done.train_rows,
                "holdout_rows": done.holdout_rows,
                "synthesized_columns": result.columns,
                "domain": result.domain,
                # Each continuous column's privately measured range (dates: days since 1970):
                # every sample value lies inside it.
                "ranges": dg.MetadataValue.json(
                    {c: [float(lo), float(hi)] for c, (lo, hi) in result.ranges.items()}
                ),
                "dropped_columns": outcome.dropped,
                "preview": preview(result.sample),
            },
        )
    )


def _outcome_of(lakehouse: LakehouseResource, source: str, day: dt.date) -> Outcome | None:
    stored = report_rows(lakehouse, SYNTHETIC_OUTCOME, source, day, required=False)
    return None if stored is None else outcome_from_row(stored.row(0, named=True))


@dg.asset_check(asset=synthetic_sample, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def synthetic_sample_has_no_pii(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """No PII column, and no PII-shaped value, is in the synthetic sample (a refused synthesis
    wrote none: nothing to leak; its usefulness check fails instead)."""
    source, day = source_and_day(context)
    outcome = _outcome_of(lakehouse, source, day)
    if outcome is not None and outcome.status != SAMPLE:
        return dg.AssetCheckResult(
            passed=True,
            description=f"no sample written (synthesis {outcome.status}): no PII to leak",
        )
    # Generalized columns are synthesized in their generalized form (year of birth, 3-digit
    # postcode): they may stay, treated, like kept ones.
    return no_pii_check(context, lakehouse, catalog, synthetic_table, SAMPLE_HANDLINGS)


@dg.asset_check(asset=synthetic_sample, blocking=True, partitions_def=source_date_partitions)
@emits_check_lineage
def synthetic_sample_is_useful(
    context: dg.AssetCheckExecutionContext, lakehouse: LakehouseResource, catalog: CatalogResource
) -> dg.AssetCheckResult:
    """The day has a sample and it is useful: no column all placeholder (``__other__`` or
    null), every ``privacy.constraints`` rule holds in every stored row, utility (every
    counted source column in) at least ``privacy.utility_floor``. Blocking (severity error):
    whatever consumes samples downstream runs only on a useful one."""
    source, day = source_and_day(context)
    privacy = catalog.get(source).privacy
    outcome = _outcome_of(lakehouse, source, day)
    if outcome is None:
        return dg.AssetCheckResult(
            passed=False, description=f"source {source!r}, partition {day}: no outcome recorded"
        )
    facts = {
        "outcome": outcome.status,
        "utility": outcome.utility,
        "utility_floor": privacy.utility_floor,
        "dropped_columns": dg.MetadataValue.json(outcome.dropped),
    }
    if outcome.status != SAMPLE:
        return dg.AssetCheckResult(
            passed=False,
            description=f"no sample: synthesis {outcome.status}: {outcome.reason}",
            metadata=facts | {"actions": dg.MetadataValue.json(outcome.actions)},
        )
    stored = lakehouse.read_partition(synthetic_table(source), {DATE_COLUMN: day})
    if stored is None and outcome.sample_rows:
        return dg.AssetCheckResult(
            passed=False,
            description=f"source {source!r}, partition {day}: the sample's rows are missing",
        )
    sample = pl.DataFrame() if stored is None else without_meta(stored)
    verdict = judge_sample(
        sample,
        synthesized=[c for c in outcome.synthesized if c in sample.columns],
        constraints=privacy.constraints,
        known_columns=[*outcome.counted_columns, *outcome.dropped],
        utility=outcome.utility,
        utility_floor=privacy.utility_floor,
        column_shapes=shape_scores(
            report_rows(lakehouse, SYNTHETIC_UTILITY, source, day, required=False)
        ),
    )
    return dg.AssetCheckResult(
        passed=verdict.passed,
        description="; ".join(verdict.problems)
        or "useful: real values, constraints hold, "
        f"utility {outcome.utility:.3f} >= {privacy.utility_floor:g}",
        metadata=facts
        | {
            "placeholder_columns": dg.MetadataValue.json(verdict.placeholder_columns),
            "broken_constraints": dg.MetadataValue.json(verdict.broken_constraints),
        },
    )
