"""Why a column's domain stayed hidden under the noise, and what would reveal it.

A range or a category is found only when a noisy count clears a threshold ``offset + sigma *
z`` (:mod:`.dp_domain`). A count grows with the rows, the noise shrinks with the budget (``sigma
= sqrt(1 / (2 rho))``), so a hidden column is fixed by more rows at this epsilon, by a larger
epsilon for these rows, or by declaring its domain in the catalog (which costs nothing). The
estimates read the busiest noisy cell's share of the rows (post-processing of the release);
when nothing was counted at all, a share of ``FALLBACK_SHARE`` is assumed.
"""

from __future__ import annotations

import math

from synthcap_assets.synthesis.dp_domain import Shortfall

FALLBACK_SHARE = 0.25
# The busiest noisy value under 5% of the rows and within 5 noise sigmas: nothing stands out
# of the noise, the values are nearly unique, and more rows would not help.
SPREAD_SHARE = 0.05
MAX_EPSILON = 1000.0


def epsilon_for_rho(rho: float, delta: float) -> float:
    """The epsilon at which ``rho``-zCDP is ``(epsilon, delta)``-DP, by OpenDP's conversion (the
    inverse of :func:`~.engine.cdp_rho_of`); ``inf`` past ``MAX_EPSILON``."""
    import opendp.prelude as dp

    dp.enable_features("floating-point", "contrib")
    gaussian = dp.m.make_gaussian(
        dp.atom_domain(T=float, nan=False),
        dp.absolute_distance(T=float),
        scale=1 / math.sqrt(2 * rho),
    )
    epsilon = float(dp.c.make_zCDP_to_approxDP(gaussian).map(1.0).epsilon(delta))
    return epsilon if epsilon <= MAX_EPSILON else math.inf


def rows_needed(shortfall: Shortfall) -> int:
    """Rows at which the busiest cell's expected count reaches the threshold."""
    share = shortfall.top_share or FALLBACK_SHARE
    return math.ceil(shortfall.threshold / share)


def epsilon_needed(shortfall: Shortfall, rows: int, rho: float, delta: float) -> float:
    """Epsilon (whole synthesis, same preprocessing share) at which ``rows`` rows clear the
    threshold; ``inf`` when no epsilon would (the count cannot pass the offset)."""
    share = shortfall.top_share or FALLBACK_SHARE
    wanted_sigma = (rows * share - shortfall.offset) / shortfall.z
    if wanted_sigma <= 0:
        return math.inf
    factor = (shortfall.sigma / wanted_sigma) ** 2
    return epsilon_for_rho(rho * factor, delta)


def explain(
    column: str, shortfall: Shortfall, rows: int, epsilon: float, rho: float, delta: float
) -> tuple[str, list[str]]:
    """(reason, actions) for one hidden column of a ``rows``-row frame at ``epsilon``."""
    needed = rows_needed(shortfall)
    wider = epsilon_needed(shortfall, rows, rho, delta)
    what = "its range" if shortfall.kind == "range" else "any of its categories"
    top = (shortfall.top_share or 0.0) * rows
    if shortfall.kind == "categories" and top < SPREAD_SHARE * rows and top < 5 * shortfall.sigma:
        reason = (
            f"no value is held by enough rows at epsilon {epsilon:g}: a category needs about "
            f"{shortfall.threshold:.0f} of the {rows} rows and no value comes near (nearly "
            "unique values: high cardinality)"
        )
        return reason, [
            f"declare privacy.categories for {column!r} (the public list of its values)",
            f"generalize {column!r} into fewer, larger groups, or drop it from synthesis",
        ]
    reason = (
        f"too few rows for epsilon {epsilon:g}: {rows} rows, about {needed} needed to find "
        f"{what} under the noise (threshold {shortfall.threshold:.0f} rows in one cell)"
    )
    declare = "privacy.bounds" if shortfall.kind == "range" else "privacy.categories"
    actions = [
        f"capture about {needed} rows (or synthesize several days together) at epsilon {epsilon:g}",
        f"declare {declare} for {column!r} in the catalog (public knowledge costs no budget)",
        f"drop {column!r} from synthesis to leave its budget to the other columns",
    ]
    if math.isfinite(wider):
        actions.insert(1, f"raise epsilon to about {wider:.2g} for these {rows} rows")
    return reason, actions
