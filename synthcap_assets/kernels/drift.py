"""Drift decisions per column from two raw samples (yesterday's rows and today's).

Every statistic is computed on the rows themselves, by the kernels of ``drift_stats`` (so it
equals scipy's up to rounding; see the tests):

- numeric columns: KS statistic and asymptotic p-value, Wasserstein-1 divided by the reference
  standard deviation (ddof 0, floored at 0.001 as Evidently), PSI over the reference deciles
  and Jensen–Shannon distance (base 2 by default, so it lies in [0, 1]) over bins at every 5%
  reference quantile; bins are right-closed, so tied values always share a bin;
- categorical columns: counts per bucket (the caller chooses the buckets), chi-square test of
  homogeneity, PSI and Jensen–Shannon distance over them.

Which statistic is reported as the verdict follows Evidently's defaults (``choose_method``): a
test on a reference of at most ``small_reference_max`` rows (KS, chi-square), a distance on a
larger one (Wasserstein, Jensen–Shannon), where a test alone flags negligible differences. A
distance alone has no false-alarm rate, though: Jensen–Shannon over 30 buckets of two
1,000-row samples of one distribution is about 0.1 by chance alone. So a distance verdict
flags a column only when the distance exceeds its threshold *and* the column's test (KS or
chi-square) rejects at its level; a test verdict flags when the test rejects. Either way a
column of two samples of one distribution is flagged with probability at most the test's level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.drift_stats import (
    DriftInputError,
    chi2_homogeneity,
    decile_shares,
    jensenshannon,
    numeric_drift_samples,
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
    """When a column counts as drifted; defaults follow Evidently's (JS in base 2)."""

    small_reference_max: int = 1000
    ks_pvalue: float = 0.05
    chisquare_pvalue: float = 0.05
    wasserstein: float = 0.1  # Wasserstein-1 / reference std
    jensenshannon: float = 0.1
    psi: float = 0.2
    js_base: float = 2.0

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
    """One column's verdict: the method, its statistic, the p-value of the column's test (KS
    or chi-square, which a distance verdict needs too), whether the column drifted, the
    threshold the statistic was judged by, and every statistic computed for the column."""

    method: str
    statistic: float
    p_value: float
    drifted: bool
    threshold: float
    statistics: dict[str, float]


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


def decide(
    method: Method, statistics: dict[str, float], kind: Kind, thresholds: DriftThresholds
) -> DriftResult:
    """The verdict of ``method`` on a column's ``statistics`` (module doc: a distance flags
    only when the column's test rejects too)."""
    test = "ks" if kind == "numeric" else "chisquare"
    level = thresholds.ks_pvalue if test == "ks" else thresholds.chisquare_pvalue
    p = statistics[f"{test}_pvalue"]
    rejects = bool(p < level)
    if method == test:
        return DriftResult(method, statistics[method], p, rejects, level, statistics)
    limits = {"wasserstein": thresholds.wasserstein, "jensenshannon": thresholds.jensenshannon}
    limits["psi"] = thresholds.psi
    if method not in limits or method not in statistics:
        raise DriftInputError(f"{kind} drift methods are {_methods(kind)}, got {method!r}")
    value = statistics[method]
    return DriftResult(
        method, value, p, rejects and value > limits[method], limits[method], statistics
    )


def _methods(kind: Kind) -> tuple[str, ...]:
    return NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS


def numeric_statistics(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    reference_mask: np.ndarray | None = None,
    current_mask: np.ndarray | None = None,
    js_base: float = 2.0,
) -> list[dict[str, float]]:
    """Every numeric statistic (module doc) per column of two raw samples (rows × columns,
    or one column each; non-finite values and masked-out cells are left out)."""
    found = numeric_drift_samples(reference, current, reference_mask, current_mask)
    expected, actual = found["expected"], found["actual"]
    psi_value = np.asarray(
        psi(jnp.asarray(decile_shares(actual)), jnp.asarray(decile_shares(expected)))
    )
    js = np.asarray(jensenshannon(jnp.asarray(actual), jnp.asarray(expected), js_base))
    return [
        {
            "ks": float(found["ks"][i]),
            "ks_pvalue": float(found["ks_pvalue"][i]),
            "wasserstein": float(found["wasserstein"][i] / max(found["std"][i], STD_FLOOR)),
            "psi": float(psi_value[i]),
            "jensenshannon": float(js[i]),
            "reference_rows": int(found["n"][i]),
            "current_rows": int(found["m"][i]),
        }
        for i in range(found["ks"].size)
    ]


def drift_numeric(
    reference: np.ndarray,
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
    found = numeric_statistics(
        reference,
        current,
        reference_mask=reference_mask,
        current_mask=current_mask,
        js_base=t.js_base,
    )
    return [
        decide(method or choose_method(s["reference_rows"], "numeric", t), s, "numeric", t)
        for s in found
    ]


def category_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts of integer codes 0..n_categories-1 (negative codes are nulls)."""
    c = np.asarray(codes)
    if not np.issubdtype(c.dtype, np.integer) or c.ndim != 1:
        raise DriftInputError("categorical codes must be a 1-D integer array")
    if c.size and int(c.max()) >= n_categories:
        raise DriftInputError(f"a code is {int(c.max())}, not below n_categories={n_categories}")
    return np.bincount(c[c >= 0], minlength=n_categories)


def categorical_statistics(
    reference: np.ndarray, current: np.ndarray, js_base: float = 2.0
) -> dict[str, float]:
    """Chi-square (statistic, p-value), PSI and Jensen–Shannon distance of two count vectors
    over the same buckets."""
    ref, cur = np.asarray(reference, np.float64), np.asarray(current, np.float64)
    if ref.shape != cur.shape or ref.ndim != 1 or (ref < 0).any() or (cur < 0).any():
        raise DriftInputError("category counts must be equal-length non-negative vectors")
    if ref.sum() == 0 or cur.sum() == 0:
        raise DriftInputError("both sides need at least one counted category")
    # Zero-padded to a power of two so a new bucket count rarely recompiles: buckets empty on
    # both days add nothing to chi-square (dropped), PSI or Jensen–Shannon.
    width = max(8, 1 << (ref.size - 1).bit_length())
    r, c = (jnp.asarray(np.pad(x, (0, width - x.size)), runtime().dtype) for x in (ref, cur))
    chi2, p = chi2_homogeneity(r, c)
    return {
        "chisquare": float(chi2),
        "chisquare_pvalue": float(p),
        "psi": float(psi(c / c.sum(), r / r.sum())),
        "jensenshannon": float(jensenshannon(c, r, js_base)),
        "reference_rows": int(ref.sum()),
        "current_rows": int(cur.sum()),
    }


def drift_categorical(
    reference: np.ndarray,
    current: np.ndarray,
    *,
    method: Method | None = None,
    thresholds: DriftThresholds | None = None,
    codes: bool = False,
) -> DriftResult:
    """One categorical column: bucket counts of the reference and current samples, or with
    ``codes`` their integer codes (negative = null), counted here."""
    t = thresholds or DriftThresholds()
    if codes:
        width = int(max(np.max(reference, initial=-1), np.max(current, initial=-1))) + 1
        reference, current = category_counts(reference, width), category_counts(current, width)
    found = categorical_statistics(reference, current, t.js_base)
    chosen = method or choose_method(found["reference_rows"], "categorical", t)
    if chosen not in CATEGORICAL_METHODS:
        raise DriftInputError(
            f"categorical drift methods are {CATEGORICAL_METHODS}, got {chosen!r}"
        )
    return decide(chosen, found, "categorical", t)
