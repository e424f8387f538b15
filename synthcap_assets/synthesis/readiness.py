"""Readiness: one 0-100 score saying whether a source's day is fit to use and to synthesize.

``score = sum(WEIGHTS[c] * component[c])``, five components each 0-100, then capped at
``SAMPLE_CAP`` when the day has no useful sample (below). A component whose report is missing
(its asset failed or was skipped) is *unknown*: it counts 0 (not known to be fit is not fit),
is stored as null, and ``unknown`` says why.

- quality: the quality report's score as is;
- privacy: 100 minus penalties: ``IDENTIFIER_PENALTY`` per direct identifier in the source
  (the synthesizer drops them, but the captured table still holds them), up to
  ``K_PENALTY`` when k-anonymity is below ``K_TARGET`` and ``UNIQUE_PENALTY`` times the share of
  rows unique on their quasi-identifiers; the synthetic sample's own risk and the budget below;
- drift: the share of compared columns that did not drift; 100 when nothing was compared
  (the first day has no reference, which is not a problem to fix);
- utility: 100 times the sample's utility (mean of column shapes and pair trends with every
  counted source column in, a column left out of the sample scoring 0); 0 when the synthesis
  was refused or failed;
- volume: whether the rows support the epsilon and the domain. Rule of thumb: MST measures
  one- and two-way marginals with Gaussian noise whose scale grows like 1/epsilon, so a marginal
  stays readable with about ``ROWS_PER_COLUMN`` rows per synthesized column per unit of epsilon:
  ``volume = min(100, 100 * rows * epsilon / (ROWS_PER_COLUMN * columns))``; the largest
  two-way marginal (``pair_cells``) needs ``ROWS_PER_CELL`` rows per cell, else volume is capped
  at that share; and when the day's delivery size can be judged (the quality report's volume
  dimension: catalog ``quality.min_rows``/``max_rows``, or at least ``HISTORY_DAYS_NEEDED``
  past days, whose median bounds the expected count at half to twice it) it caps volume at
  100 times that dimension. With neither, ``unknown`` says ``volume: delivery size unknown:
  N of 3 days of history``.

The cap: when the synthesis was refused or failed, did not run, or its sample failed its
usefulness check (all-placeholder column, broken constraint, utility under the floor), the
score is at most ``SAMPLE_CAP`` (40): the day is not fit to be synthesized, whatever else holds.

The privacy component also answers for the synthetic sample itself and the budget: a
membership-inference AUC above ``MIA_WARNING`` or a DCR ratio below ``DCR_WARNING`` (the sample
sits closer to the training rows than new people do) costs up to ``SAMPLE_RISK_PENALTY``; a
budget that cannot pay for the next synthesis costs ``BUDGET_PENALTY``.

Each problem found yields a recommendation, a sentence saying what to change: among them every
column left out of the sample with why, and for a refusal its reason and actions. ``ready`` and
``not_ready`` say in words what the day offers and what it does not (for a text source: the
label and structured columns synthesized, corpus size, PII and exact-duplicate shares; free
text is not modelled by marginal synthesizers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from synthcap_assets.synthesis.outcome import SAMPLE, Outcome

WEIGHTS: dict[str, float] = {
    "quality": 0.30,
    "privacy": 0.25,
    "drift": 0.15,
    "utility": 0.20,
    "volume": 0.10,
}
COMPONENTS = tuple(WEIGHTS)
IDENTIFIER_PENALTY = 10.0
MAX_IDENTIFIER_PENALTY = 30.0
K_TARGET = 5
K_PENALTY = 40.0
UNIQUE_PENALTY = 30.0
UNIQUE_SHARE_WARNING = 0.05
UTILITY_WARNING = 0.7
ROWS_PER_COLUMN = 200.0
ROWS_PER_CELL = 5.0
MIA_WARNING = 0.6
DCR_WARNING = 0.8
SAMPLE_RISK_PENALTY = 30.0
BUDGET_PENALTY = 20.0
MAX_SUGGESTED_EPSILON = 10.0
SAMPLE_CAP = 40.0
HISTORY_DAYS_NEEDED = 3


class ReadinessError(ValueError):
    """An input to the readiness score is out of range; the message names it."""


@dataclass(frozen=True)
class Readiness:
    """The score (0-100), its components (0-100 each, ``None`` when unknown), their weights,
    what to do, why components are unknown, and what the day offers and does not."""

    score: float
    breakdown: dict[str, float | None]
    weights: dict[str, float]
    recommendations: list[str]
    unknown: dict[str, str] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)
    not_ready: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryVolume:
    """What the quality report knows of the day's size: its volume dimension (0-1, ``None``
    when it could not be judged), the past days it had and whether the catalog declares
    bounds (``quality.min_rows`` / ``max_rows``)."""

    share: float | None
    history_days: int
    declared: bool = False


@dataclass(frozen=True)
class TextFacts:
    """A text source's corpus: the text column, its non-empty texts, the share holding PII
    (and which kinds), the share that repeats another text exactly."""

    column: str
    texts: int
    pii_share: float | None = None
    pii_types: Sequence[str] = ()
    duplicate_share: float | None = None
    # From the text stages (synthcap_assets/text/), None when not computed.
    near_duplicate_share: float | None = None
    pass_rate: float | None = None
    language_purity: float | None = None
    corpus_documents: int | None = None


def rows_needed(epsilon: float, columns: int) -> int:
    """Rows for a full volume component at ``epsilon`` with ``columns`` synthesized columns."""
    return math.ceil(ROWS_PER_COLUMN * max(columns, 1) / epsilon)


def epsilon_needed(rows: int, columns: int) -> float:
    """Epsilon (rounded up to 0.1) for a full volume component with ``rows`` rows."""
    if rows <= 0:
        return math.inf
    return math.ceil(10 * ROWS_PER_COLUMN * max(columns, 1) / rows) / 10


def _clamp(value: float) -> float:
    return float(min(100.0, max(0.0, value)))


def _privacy(
    identifiers: Sequence[str],
    k: int | None,
    unique_share: float | None,
    quasi: Sequence[str],
) -> tuple[float, list[str]]:
    advice = [f"drop column {c} before sharing: it directly identifies people" for c in identifiers]
    penalty = min(MAX_IDENTIFIER_PENALTY, IDENTIFIER_PENALTY * len(identifiers))
    on = f" on ({', '.join(quasi)})" if quasi else ""
    if k is not None and k < K_TARGET:
        penalty += K_PENALTY * (K_TARGET - max(k, 1)) / (K_TARGET - 1)
        advice.append(
            f"k-anonymity is {k}{on}: generalize those columns (age bands, month instead of "
            f"date, shorter zip prefixes) or suppress rare combinations until every combination "
            f"holds at least {K_TARGET} rows"
        )
    if unique_share is not None:
        share = min(1.0, max(0.0, unique_share))
        penalty += UNIQUE_PENALTY * share
        if share >= UNIQUE_SHARE_WARNING and not (k is not None and k < K_TARGET):
            advice.append(
                f"{share:.0%} of rows are unique{on}: generalize or suppress those columns "
                "before sharing"
            )
    return _clamp(100.0 - penalty), advice


def _sample_risk(
    mia_auc: float | None, dcr_ratio: float | None, budget_left: float | None, epsilon: float
) -> tuple[float, list[str]]:
    """Penalty and advice for the synthetic sample's own risk and the remaining budget."""
    penalty, advice = 0.0, []
    if mia_auc is not None and mia_auc > MIA_WARNING:
        penalty += SAMPLE_RISK_PENALTY * min(1.0, (mia_auc - MIA_WARNING) / (1 - MIA_WARNING))
        advice.append(
            f"membership inference AUC {mia_auc:.2f} > {MIA_WARNING}: the sample reveals who was "
            "in the data; lower epsilon or synthesize fewer, coarser columns"
        )
    if dcr_ratio is not None and dcr_ratio < DCR_WARNING:
        penalty += SAMPLE_RISK_PENALTY * min(1.0, (DCR_WARNING - dcr_ratio) / DCR_WARNING)
        advice.append(
            f"DCR ratio {dcr_ratio:.2f} < {DCR_WARNING}: synthetic rows sit closer to real "
            "training rows than new people do; lower epsilon or use fewer bins"
        )
    if budget_left is not None and budget_left < epsilon:
        penalty += BUDGET_PENALTY
        advice.append(
            f"privacy budget left {budget_left:g} < epsilon {epsilon:g}: the next synthesis will "
            "be refused; raise privacy.budget (a policy decision) or lower privacy.epsilon"
        )
    return penalty, advice


def _volume(
    rows: int, epsilon: float, columns: int, pair_cells: int | None = None
) -> tuple[float, list[str]]:
    if columns <= 0:
        return 0.0, [
            "no column could be synthesized: check the synthetic sample's dropped columns and "
            "capture at least two numeric, date or categorical columns"
        ]
    if rows <= 0:
        return 0.0, ["no rows were captured: capture data before synthesizing"]
    volume = _clamp(100.0 * rows * epsilon / (ROWS_PER_COLUMN * columns))
    domain_advice = []
    if pair_cells and rows < ROWS_PER_CELL * pair_cells:
        volume = min(volume, _clamp(100.0 * rows / (ROWS_PER_CELL * pair_cells)))
        domain_advice.append(
            f"{rows} rows for a largest two-way table of {pair_cells} cells: use fewer bins or "
            f"categories (at most {int(rows // ROWS_PER_CELL)} cells) or capture more rows"
        )
    if rows * epsilon >= ROWS_PER_COLUMN * columns:
        return volume, domain_advice
    need_rows, need_eps = rows_needed(epsilon, columns), epsilon_needed(rows, columns)
    fix = f"capture at least {need_rows} rows"
    if need_eps <= MAX_SUGGESTED_EPSILON:
        fix = f"raise epsilon to {need_eps:g} or {fix}"
    return volume, [
        f"too few rows for epsilon {epsilon:g}: {rows} rows over {columns} columns give noisy "
        f"marginals; {fix}",
        *domain_advice,
    ]


def _synthesis(outcome: Outcome) -> tuple[list[str], list[str], list[str]]:
    """(advice, ready, not_ready) from a synthesis outcome."""
    advice, ready, not_ready = [], [], []
    if outcome.status == SAMPLE:
        columns = ", ".join(outcome.synthesized) or "none"
        utility = "unscored" if outcome.utility is None else f"utility {outcome.utility:.2f}"
        line = f"synthetic sample: {outcome.sample_rows} rows of {columns} ({utility})"
        (ready if outcome.passed else not_ready).append(line)
        advice += [f"sample fails its check: {p}" for p in outcome.problems]
        advice += list(outcome.actions)
    else:
        reason = outcome.reason or "no reason given"
        not_ready.append(f"no synthetic sample: synthesis {outcome.status}: {reason}")
        advice.append(f"synthesis {outcome.status}: {reason}")
        advice += list(outcome.actions)
    advice += [
        f"column {column} is not in the sample: {why}" for column, why in outcome.dropped.items()
    ]
    return advice, ready, not_ready


def _text(facts: TextFacts, outcome: Outcome | None) -> tuple[list[str], list[str]]:
    """(ready, not_ready) of a text source's corpus."""
    ready = [f"corpus: {facts.texts} texts in {facts.column}"]
    if facts.pii_share is not None:
        kinds = f" ({', '.join(facts.pii_types)})" if facts.pii_types else ""
        ready.append(f"PII in {facts.pii_share:.1%} of texts{kinds}")
    if facts.duplicate_share is not None:
        ready.append(f"exact duplicates: {facts.duplicate_share:.1%} of texts")
    if facts.near_duplicate_share is not None:
        ready.append(f"near duplicates: {facts.near_duplicate_share:.1%} of texts")
    if facts.language_purity is not None:
        ready.append(f"language purity: {facts.language_purity:.1%}")
    if facts.pass_rate is not None:
        ready.append(f"quality filters passed: {facts.pass_rate:.1%} of texts")
    if facts.corpus_documents is not None:
        ready.append(f"clean corpus (before earlier days' duplicates): {facts.corpus_documents}")
    if outcome is not None and outcome.status == SAMPLE and outcome.synthesized:
        ready.append("label and structured columns synthesized: " + ", ".join(outcome.synthesized))
    not_ready = [
        f"free text ({facts.column}) is not modelled by marginal synthesizers (MST/AIM): the "
        "sample has no text column; use the corpus with its PII redacted instead"
    ]
    return ready, not_ready


def _delivery(volume: float, delivery: DeliveryVolume) -> tuple[float, str | None, list[str]]:
    """(volume capped by the delivery size, unknown reason, advice)."""
    if delivery.share is not None:
        share = min(1.0, max(0.0, delivery.share))
        advice = []
        if share < 1.0:
            advice.append(
                f"the day's row count is off its expected range (quality volume {share:.2f}): "
                "check the delivery before synthesizing"
            )
        return min(volume, 100.0 * share), None, advice
    if delivery.declared:
        return volume, None, []
    days = min(delivery.history_days, HISTORY_DAYS_NEEDED)
    return (
        volume,
        f"delivery size unknown: {days} of {HISTORY_DAYS_NEEDED} days of history (declare "
        "quality.min_rows/max_rows to judge it from the first day)",
        [],
    )


def readiness(
    *,
    quality_score: float | None,
    quality_threshold: float,
    direct_identifiers: Sequence[str] | None,
    k_anonymity: int | None,
    unique_share: float | None,
    drifted_columns: Sequence[str] | None,
    compared_columns: int | None,
    utility: float | None,
    rows: int,
    epsilon: float,
    synthesized_columns: int,
    quasi_identifiers: Sequence[str] = (),
    mia_auc: float | None = None,
    dcr_ratio: float | None = None,
    budget_left: float | None = None,
    pair_cells: int | None = None,
    synthesis: Outcome | None = None,
    delivery: DeliveryVolume | None = None,
    text: TextFacts | None = None,
    unknown: Mapping[str, str] | None = None,
) -> Readiness:
    """Score a source's day from its reports; see the module docstring for the components.

    ``None`` for ``quality_score``, ``direct_identifiers`` or ``compared_columns`` makes that
    component unknown (``unknown`` may give the reason, e.g. the report is missing; a reason
    for ``utility`` says the synthesis did not run, and caps the score). ``synthesis`` is the
    day's outcome (status, reason, actions, dropped columns, verdict): given, it decides the
    utility component and the cap. ``quasi_identifiers`` only names the columns in the
    k-anonymity recommendation; ``mia_auc`` and ``dcr_ratio`` come from the sample's
    evaluation, ``budget_left`` from the ledger, ``pair_cells`` from the encoding,
    ``delivery`` from the quality report, ``text`` from a text source's corpus (all optional).
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ReadinessError(f"epsilon must be a finite number above 0, got {epsilon!r}")
    if rows < 0 or (compared_columns or 0) < 0 or synthesized_columns < 0:
        raise ReadinessError(
            "rows, compared_columns and synthesized_columns must be 0 or more, got "
            f"{rows}, {compared_columns}, {synthesized_columns}"
        )
    why = dict(unknown or {})
    bad = set(why) - set(COMPONENTS)
    if bad:
        raise ReadinessError(f"unknown components must be among {COMPONENTS}, got {sorted(bad)}")
    advice: list[str] = []
    ready: list[str] = []
    not_ready: list[str] = []
    breakdown: dict[str, float | None] = {}
    if quality_score is None or "quality" in why:
        why.setdefault("quality", "no quality report for this day")
        breakdown["quality"] = None
    else:
        breakdown["quality"] = _clamp(quality_score)
        if breakdown["quality"] < quality_threshold:
            advice.append(
                f"quality {breakdown['quality']:.0f} < threshold {quality_threshold:.0f}: fix the "
                "failing rules and columns listed in the quality report before using or "
                "synthesizing this day"
            )
    risk, risk_advice = _sample_risk(mia_auc, dcr_ratio, budget_left, epsilon)
    if direct_identifiers is None or "privacy" in why:
        why.setdefault("privacy", "no privacy report for this day")
        breakdown["privacy"] = None
        advice += risk_advice
    else:
        privacy, privacy_advice = _privacy(
            direct_identifiers, k_anonymity, unique_share, quasi_identifiers
        )
        breakdown["privacy"] = _clamp(privacy - risk)
        advice += privacy_advice + risk_advice
    if compared_columns is None or drifted_columns is None or "drift" in why:
        why.setdefault("drift", "no drift report for this day")
        breakdown["drift"] = None
    else:
        drifted = list(drifted_columns)
        compared = max(compared_columns, len(drifted))
        breakdown["drift"] = (
            100.0 if compared == 0 else _clamp(100.0 * (1 - len(drifted) / compared))
        )
        if drifted:
            advice.append(
                f"columns {', '.join(drifted)} drifted since the previous day: investigate the "
                "source before synthesizing"
            )
    capped = False
    if synthesis is not None:
        synthesis_advice, ready, not_ready = _synthesis(synthesis)
        advice += synthesis_advice
        capped = not synthesis.passed
        utility = synthesis.utility if synthesis.status == SAMPLE else 0.0
    if "utility" in why:
        breakdown["utility"] = None
        capped = True
        advice.append(f"synthesis unknown: {why['utility']}")
    elif utility is None:
        breakdown["utility"] = 0.0
        advice.append("no synthetic sample was scored: materialize synthetic_sample for this day")
    else:
        breakdown["utility"] = _clamp(100.0 * utility)
        if utility < UTILITY_WARNING and (synthesis is None or synthesis.status == SAMPLE):
            advice.append(
                f"synthetic utility {utility:.2f} < {UTILITY_WARNING}: raise epsilon, use fewer "
                "bins or synthesize fewer columns"
            )
    volume, volume_advice = _volume(rows, epsilon, synthesized_columns, pair_cells)
    if delivery is not None:
        volume, delivery_unknown, delivery_advice = _delivery(volume, delivery)
        volume_advice += delivery_advice
        if delivery_unknown:
            why.setdefault("volume", delivery_unknown)
    breakdown["volume"] = volume
    advice += volume_advice
    if text is not None:
        text_ready, text_not_ready = _text(text, synthesis)
        ready += text_ready
        not_ready += text_not_ready
    score = _clamp(sum(WEIGHTS[k] * (v or 0.0) for k, v in breakdown.items()))
    if capped:
        score = min(score, SAMPLE_CAP)
    return Readiness(
        score=score,
        breakdown=breakdown,
        weights=dict(WEIGHTS),
        recommendations=list(dict.fromkeys(advice)),
        unknown=why,
        ready=ready,
        not_ready=not_ready,
    )
