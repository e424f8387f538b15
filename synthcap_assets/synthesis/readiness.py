"""Readiness: one 0-100 score saying whether a source's day is fit to use and to synthesize.

Five components, each 0-100, combined with fixed weights (``WEIGHTS``):

- quality: the quality report's score as is;
- privacy: 100 minus penalties: ``IDENTIFIER_PENALTY`` per direct identifier in the source
  (the synthesizer drops them, but the captured table still holds them), up to
  ``K_PENALTY`` when k-anonymity is below ``K_TARGET`` and ``UNIQUE_PENALTY`` times the share of
  rows unique on their quasi-identifiers;
- drift: the share of compared columns that did not drift; 100 when nothing was compared
  (the first day has no reference, which is not a problem to fix);
- utility: 100 times the synthetic sample's mean column-shape score, 0 when there is none;
- volume: whether the rows support the epsilon and the domain. Rule of thumb: MST measures
  one- and two-way marginals with Gaussian noise whose scale grows like 1/epsilon, so a marginal
  stays readable with about ``ROWS_PER_COLUMN`` rows per synthesized column per unit of epsilon:
  ``volume = min(100, 100 * rows * epsilon / (ROWS_PER_COLUMN * synthesized_columns))``; and
  the largest two-way marginal (``pair_cells``, the product of the two largest code counts)
  needs ``ROWS_PER_CELL`` rows per cell, else volume is capped at that share.

The privacy component also answers for the synthetic sample itself and the budget: a
membership-inference AUC above ``MIA_WARNING`` or a DCR ratio below ``DCR_WARNING`` (the sample
sits closer to the training rows than new people do) costs up to ``SAMPLE_RISK_PENALTY``; a
budget that cannot pay for the next synthesis costs ``BUDGET_PENALTY``.

Each problem found also yields a recommendation: a sentence saying what to change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WEIGHTS: dict[str, float] = {
    "quality": 0.30,
    "privacy": 0.25,
    "drift": 0.15,
    "utility": 0.20,
    "volume": 0.10,
}
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


class ReadinessError(ValueError):
    """An input to the readiness score is out of range; the message names it."""


@dataclass(frozen=True)
class Readiness:
    """The score (0-100), its components (0-100 each), their weights and what to do."""

    score: float
    breakdown: dict[str, float]
    weights: dict[str, float]
    recommendations: list[str]


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


def readiness(
    *,
    quality_score: float,
    quality_threshold: float,
    direct_identifiers: Sequence[str],
    k_anonymity: int | None,
    unique_share: float | None,
    drifted_columns: Sequence[str],
    compared_columns: int,
    utility: float | None,
    rows: int,
    epsilon: float,
    synthesized_columns: int,
    quasi_identifiers: Sequence[str] = (),
    mia_auc: float | None = None,
    dcr_ratio: float | None = None,
    budget_left: float | None = None,
    pair_cells: int | None = None,
) -> Readiness:
    """Score a source's day from its reports; see the module docstring for the components.

    ``quasi_identifiers`` only names the columns in the k-anonymity recommendation;
    ``mia_auc`` and ``dcr_ratio`` come from the sample's evaluation, ``budget_left`` from the
    ledger after this synthesis, ``pair_cells`` from the encoding (all optional).
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ReadinessError(f"epsilon must be a finite number above 0, got {epsilon!r}")
    if rows < 0 or compared_columns < 0 or synthesized_columns < 0:
        raise ReadinessError(
            "rows, compared_columns and synthesized_columns must be 0 or more, got "
            f"{rows}, {compared_columns}, {synthesized_columns}"
        )
    advice: list[str] = []
    quality = _clamp(quality_score)
    if quality < quality_threshold:
        advice.append(
            f"quality {quality:.0f} < threshold {quality_threshold:.0f}: fix the failing rules "
            "and columns listed in the quality report before using or synthesizing this day"
        )
    privacy, privacy_advice = _privacy(
        direct_identifiers, k_anonymity, unique_share, quasi_identifiers
    )
    risk, risk_advice = _sample_risk(mia_auc, dcr_ratio, budget_left, epsilon)
    privacy = _clamp(privacy - risk)
    advice += privacy_advice + risk_advice
    drifted = list(drifted_columns)
    compared = max(compared_columns, len(drifted))
    drift = 100.0 if compared == 0 else _clamp(100.0 * (1 - len(drifted) / compared))
    if drifted:
        advice.append(
            f"columns {', '.join(drifted)} drifted since the previous day: investigate the "
            "source before synthesizing"
        )
    if utility is None:
        utility_part = 0.0
        advice.append("no synthetic sample was scored: materialize synthetic_sample for this day")
    else:
        utility_part = _clamp(100.0 * utility)
        if utility < UTILITY_WARNING:
            advice.append(
                f"synthetic utility {utility:.2f} < {UTILITY_WARNING}: raise epsilon, use fewer "
                "bins or synthesize fewer columns"
            )
    volume, volume_advice = _volume(rows, epsilon, synthesized_columns, pair_cells)
    advice += volume_advice
    breakdown = {
        "quality": quality,
        "privacy": privacy,
        "drift": drift,
        "utility": utility_part,
        "volume": volume,
    }
    score = _clamp(sum(WEIGHTS[k] * v for k, v in breakdown.items()))
    return Readiness(
        score=score, breakdown=breakdown, weights=dict(WEIGHTS), recommendations=advice
    )
