"""Drift decisions per column, with sample-size-dependent defaults in the manner of Evidently.

``choose_method(n_reference, kind)``: a small reference (at most ``small_reference_max`` = 1000
valid rows) gets a test whose p-value is meaningful at that size — KS for numeric columns,
chi-square for categorical ones, drift when p < 0.05; a large reference, where any test would
flag negligible differences, gets a distance — Wasserstein-1 divided by the reference standard
deviation (floored at 0.001, as Evidently) for numeric columns, Jensen–Shannon distance (natural
log) for categorical ones, drift when the distance > 0.1. PSI (> 0.2) and the other methods can
be asked for by name; every threshold is a field of ``DriftThresholds`` so the catalog can set
them per source.

The reference is a raw sample (numpy values with an optional mask), a ``ReferenceQuantiles``
(yesterday's profile: quantiles + count, see ``drift_quantiles``) or, for categorical columns,
``CategoryCounts`` (or integer codes, counted here). Statistics come from ``drift_stats`` and
``drift_quantiles``; ``drift_numeric`` runs many numeric columns at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.drift_quantiles import (
    ReferenceQuantiles,
    binned_shares_quantiles,
    ks_quantiles,
    reference_std,
    wasserstein_quantiles,
)
from synthcap_assets.kernels.drift_stats import (
    DECILES,
    JS_PROBS,
    DriftInputError,
    binned_shares_samples,
    chi2_homogeneity,
    jensenshannon,
    ks_wasserstein_samples,
    prepare_sample,
    psi,
)
from synthcap_resources.compute import runtime

Kind = Literal["numeric", "categorical"]
Method = Literal["ks", "wasserstein", "psi", "jensenshannon", "chisquare"]
NUMERIC_METHODS = ("ks", "wasserstein", "psi", "jensenshannon")
CATEGORICAL_METHODS = ("chisquare", "jensenshannon", "psi")
STD_FLOOR = 0.001


@dataclass(frozen=True)
class DriftThresholds:
    """When a column counts as drifted; defaults follow Evidently's."""

    small_reference_max: int = 1000
    ks_pvalue: float = 0.05
    chisquare_pvalue: float = 0.05
    wasserstein: float = 0.1  # Wasserstein-1 / reference std
    jensenshannon: float = 0.1
    psi: float = 0.2
    js_base: float = math.e

    def __post_init__(self) -> None:
        for name in ("ks_pvalue", "chisquare_pvalue"):
            if not 0 < getattr(self, name) < 1:
                raise DriftInputError(f"{name} must lie strictly between 0 and 1")
        for name in ("wasserstein", "jensenshannon", "psi"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise DriftInputError(f"{name} threshold must be a positive number, got {value}")
        if self.small_reference_max < 0 or not self.js_base > 1:
            raise DriftInputError("small_reference_max must be >= 0 and js_base > 1")


@dataclass(frozen=True)
class DriftResult:
    """One column's verdict: the method, its statistic, the p-value (tests only), whether the
    column drifted and the threshold it was judged by."""

    method: str
    statistic: float
    p_value: float | None
    drifted: bool
    threshold: float


@dataclass(frozen=True)
class CategoryCounts:
    """Counts per category, in one category order shared by reference and current."""

    counts: np.ndarray


def choose_method(
    n_reference: int, kind: Kind, thresholds: DriftThresholds | None = None
) -> Method:
    """The default method for a reference of ``n_reference`` valid rows (module doc)."""
    small = n_reference <= (thresholds or DriftThresholds()).small_reference_max
    if kind == "numeric":
        return "ks" if small else "wasserstein"
    if kind == "categorical":
        return "chisquare" if small else "jensenshannon"
    raise DriftInputError(f"kind must be 'numeric' or 'categorical', got {kind!r}")


@jax.jit
def _std(x: jax.Array, valid: jax.Array) -> jax.Array:
    n = valid.sum(0)
    mean = jnp.where(valid, x, 0).sum(0) / n
    return jnp.sqrt(jnp.where(valid, (x - mean) ** 2, 0).sum(0) / n)


def _numeric_stats(
    method: Method,
    reference: np.ndarray | ReferenceQuantiles,
    current: np.ndarray,
    reference_mask: np.ndarray | None,
    current_mask: np.ndarray | None,
    base: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    quantiles = isinstance(reference, ReferenceQuantiles)
    if method == "ks":
        if quantiles:
            return ks_quantiles(reference, current, current_mask)
        d, p, _ = ks_wasserstein_samples(reference, current, reference_mask, current_mask)
        return d, p
    if method == "wasserstein":
        if quantiles:
            w1, std = (
                wasserstein_quantiles(reference, current, current_mask),
                reference_std(reference),
            )
        else:
            _, _, w1 = ks_wasserstein_samples(reference, current, reference_mask, current_mask)
            std = np.asarray(_std(*prepare_sample(reference, reference_mask, "reference")[:2]))
        return w1 / np.maximum(std, STD_FLOOR), None
    probs = DECILES if method == "psi" else JS_PROBS
    if quantiles:
        expected, actual, _ = binned_shares_quantiles(reference, current, probs, current_mask)
    else:
        expected, actual, _ = binned_shares_samples(
            reference, current, probs, reference_mask, current_mask
        )
    if method == "psi":
        return np.asarray(psi(jnp.asarray(actual), jnp.asarray(expected))), None
    return np.asarray(jensenshannon(jnp.asarray(actual), jnp.asarray(expected), base)), None


def _verdict(method: str, statistic: float, p: float | None, t: DriftThresholds) -> DriftResult:
    if method in ("ks", "chisquare"):
        limit = t.ks_pvalue if method == "ks" else t.chisquare_pvalue
        return DriftResult(method, statistic, p, bool(p is not None and p < limit), limit)
    limit = {"wasserstein": t.wasserstein, "jensenshannon": t.jensenshannon, "psi": t.psi}[method]
    return DriftResult(method, statistic, None, bool(statistic > limit), limit)


def drift_numeric(
    reference: np.ndarray | ReferenceQuantiles,
    current: np.ndarray,
    *,
    method: Method | None = None,
    thresholds: DriftThresholds | None = None,
    reference_mask: np.ndarray | None = None,
    current_mask: np.ndarray | None = None,
) -> list[DriftResult]:
    """One verdict per numeric column (columns of ``current``; rows × columns or one sample).
    Without ``method`` each column gets ``choose_method`` by its own reference count."""
    t = thresholds or DriftThresholds()
    if method is not None and method not in NUMERIC_METHODS:
        raise DriftInputError(f"numeric drift methods are {NUMERIC_METHODS}, got {method!r}")
    if isinstance(reference, ReferenceQuantiles):
        n_ref = reference.count
    else:
        n_ref = prepare_sample(reference, reference_mask, "reference")[2]
    methods = [method or choose_method(int(n), "numeric", t) for n in n_ref]
    results: list[DriftResult | None] = [None] * len(methods)
    for chosen in dict.fromkeys(methods):
        stat, p = _numeric_stats(
            chosen, reference, current, reference_mask, current_mask, t.js_base
        )
        for i, m in enumerate(methods):
            if m == chosen:
                p_i = None if p is None else float(p[i])
                results[i] = _verdict(chosen, float(stat[i]), p_i, t)
    return [r for r in results if r is not None]


def category_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts of integer codes 0..n_categories-1 (negative codes are nulls)."""
    c = np.asarray(codes)
    if not np.issubdtype(c.dtype, np.integer) or c.ndim != 1:
        raise DriftInputError("categorical codes must be a 1-D integer array")
    if c.size and int(c.max()) >= n_categories:
        raise DriftInputError(f"a code is {int(c.max())}, not below n_categories={n_categories}")
    return np.bincount(c[c >= 0], minlength=n_categories)


def drift_categorical(
    reference: CategoryCounts | np.ndarray,
    current: CategoryCounts | np.ndarray,
    *,
    method: Method | None = None,
    thresholds: DriftThresholds | None = None,
) -> DriftResult:
    """One categorical column: counts (or codes) of the reference and current samples."""
    t = thresholds or DriftThresholds()
    if isinstance(reference, CategoryCounts) != isinstance(current, CategoryCounts):
        raise DriftInputError("pass both sides as CategoryCounts or both as integer codes")
    if isinstance(reference, CategoryCounts) and isinstance(current, CategoryCounts):
        ref, cur = np.asarray(reference.counts), np.asarray(current.counts)
    else:
        width = int(max(np.max(reference, initial=-1), np.max(current, initial=-1))) + 1
        ref, cur = category_counts(reference, width), category_counts(current, width)
    if ref.shape != cur.shape or ref.ndim != 1 or (ref < 0).any() or (cur < 0).any():
        raise DriftInputError("category counts must be equal-length non-negative vectors")
    if ref.sum() == 0 or cur.sum() == 0:
        raise DriftInputError("both sides need at least one counted category")
    chosen = method or choose_method(int(ref.sum()), "categorical", t)
    if chosen not in CATEGORICAL_METHODS:
        raise DriftInputError(
            f"categorical drift methods are {CATEGORICAL_METHODS}, got {chosen!r}"
        )
    r, c = jnp.asarray(ref, runtime().dtype), jnp.asarray(cur, runtime().dtype)
    if chosen == "chisquare":
        stat, p = chi2_homogeneity(r, c)
        return _verdict(chosen, float(stat), float(p), t)
    if chosen == "psi":
        return _verdict(chosen, float(psi(c / c.sum(), r / r.sum())), None, t)
    return _verdict(chosen, float(jensenshannon(c, r, t.js_base)), None, t)


def drift_column(
    reference: np.ndarray | ReferenceQuantiles | CategoryCounts,
    current: np.ndarray | CategoryCounts,
    kind: Kind,
    *,
    method: Method | None = None,
    thresholds: DriftThresholds | None = None,
    reference_mask: np.ndarray | None = None,
    current_mask: np.ndarray | None = None,
) -> DriftResult:
    """(method, statistic, p-value or None, drifted) for one column (module doc)."""
    if kind == "categorical":
        if reference_mask is not None or current_mask is not None:
            raise DriftInputError("categorical codes mark nulls as negative codes, not masks")
        return drift_categorical(reference, current, method=method, thresholds=thresholds)  # type: ignore[arg-type]
    if kind != "numeric":
        raise DriftInputError(f"kind must be 'numeric' or 'categorical', got {kind!r}")
    if isinstance(current, CategoryCounts) or isinstance(reference, CategoryCounts):
        raise DriftInputError("CategoryCounts are for categorical columns")
    cur = np.asarray(current)
    one_reference = (
        reference.quantiles.shape[0] == 1
        if isinstance(reference, ReferenceQuantiles)
        else np.ndim(reference) == 1
    )
    if cur.ndim != 1 or not one_reference:
        raise DriftInputError("drift_column takes one column; use drift_numeric for many")
    return drift_numeric(
        reference,
        cur,
        method=method,
        thresholds=thresholds,
        reference_mask=reference_mask,
        current_mask=current_mask,
    )[0]
