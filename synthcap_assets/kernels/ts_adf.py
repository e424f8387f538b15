"""Augmented Dickey–Fuller test for a batch of series, as statsmodels' ``adfuller(x,
maxlag=L, autolag=None, regression=...)`` with a fixed lag.

The regression Δx_t = γ x_{t-1} + Σ_{j=1..L} φ_j Δx_{t-j} + deterministic terms + e_t is solved
in JAX by QR least squares on the masked design (nulls and padding only at the end of a series,
so each series has its own number of observations). The regressors are centred (standing in for
the constant) and scaled to unit length first: the t-statistic of γ does not change, and the
least squares stays well conditioned for levels far from zero. ``regression`` is "n" (none),
"c" (constant) or "ct" (constant and linear trend).

The p-value is MacKinnon's (1994) approximation and the critical values MacKinnon's (2010)
response surfaces, ported from ``statsmodels.tsa.adfvalues`` (N = 1) as the same polynomials and
cut-offs, evaluated in JAX with the normal CDF from ``jax.scipy``; the coefficients are copied
here because statsmodels keeps them as numpy module data under private names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from jax.scipy.stats import norm

from synthcap_assets.kernels.timeseries import TimeSeriesInputError, prepare

Regression = Literal["n", "c", "ct"]

# MacKinnon (1994), N = 1: cut-offs and the p-value polynomials (ascending powers of tau).
_TAU_MAX = {"n": np.inf, "c": 2.74, "ct": 0.7}
_TAU_MIN = {"n": -19.04, "c": -18.83, "ct": -16.18}
_TAU_STAR = {"n": -1.04, "c": -1.61, "ct": -2.89}
_SMALL_P = {
    "n": (0.6344, 1.2378, 3.2496e-2),
    "c": (2.1659, 1.4412, 3.8269e-2),
    "ct": (3.2512, 1.6047, 4.9588e-2),
}
_LARGE_P = {
    "n": (0.4797, 9.3557e-1, -0.6999e-1, 3.3066e-2),
    "c": (1.7339, 9.3202e-1, -1.2745e-1, -1.0368e-2),
    "ct": (2.5261, 6.1654e-1, -3.7956e-1, -6.0285e-2),
}
# MacKinnon (2010), N = 1: critical values at 1%, 5%, 10% as polynomials in 1 / nobs.
_CRIT = {
    "n": ((-2.56574, -2.2358, -3.627, 0.0), (-1.941, -0.2686, -3.365, 31.223),
          (-1.61682, 0.2656, -2.714, 25.364)),
    "c": ((-3.43035, -6.5393, -16.786, -79.433), (-2.86154, -2.8903, -4.234, -40.04),
          (-2.56677, -1.5384, -2.809, 0.0)),
    "ct": ((-3.95877, -9.0531, -28.428, -134.155), (-3.41049, -4.3904, -9.036, -45.374),
           (-3.12705, -2.5856, -3.925, -22.38)),
}  # fmt: skip


def _poly(coefficients: tuple[float, ...], x: jax.Array) -> jax.Array:
    out = jnp.zeros_like(x)
    for c in reversed(coefficients):
        out = out * x + c
    return out


def mackinnon_pvalue(stat: jax.Array, regression: Regression = "c") -> jax.Array:
    """MacKinnon's approximate p-value of ADF statistics (statsmodels' ``mackinnonp``, N=1)."""
    stat = jnp.asarray(stat)
    small = norm.cdf(_poly(_SMALL_P[regression], stat))
    large = norm.cdf(_poly(_LARGE_P[regression], stat))
    p = jnp.where(stat <= _TAU_STAR[regression], small, large)
    p = jnp.where(stat > _TAU_MAX[regression], 1.0, jnp.where(stat < _TAU_MIN[regression], 0.0, p))
    return jnp.where(jnp.isnan(stat), jnp.nan, p)


def mackinnon_crit(nobs: jax.Array, regression: Regression = "c") -> jax.Array:
    """Critical values (…, 3) at 1%, 5%, 10% for ``nobs`` observations (``mackinnoncrit``)."""
    inv = 1.0 / jnp.asarray(nobs, dtype=jnp.result_type(float))
    return jnp.stack([_poly(c, inv) for c in _CRIT[regression]], axis=-1)


@partial(jax.jit, static_argnames=("maxlag", "regression"))
def _adf(x: jax.Array, valid: jax.Array, maxlag: int, regression: Regression) -> tuple:
    length = valid.sum(-1)
    diff = x[:, 1:] - x[:, :-1]
    rows = diff.shape[1] - maxlag  # rows i = maxlag .. T-2 of the diff
    y = diff[:, maxlag:]
    columns = [x[:, maxlag:-1]] + [
        diff[:, maxlag - j : maxlag - j + rows] for j in range(1, maxlag + 1)
    ]
    if regression == "ct":
        columns.append(jnp.broadcast_to(jnp.arange(rows, dtype=x.dtype), y.shape))
    design = jnp.stack(columns, axis=-1)  # series × rows × regressors
    used = jnp.arange(rows)[None, :] < (length - 1 - maxlag)[:, None]
    nobs = used.sum(-1)
    w = used[..., None].astype(x.dtype)
    if regression != "n":  # centring absorbs the constant
        design = design - (design * w).sum(1, keepdims=True) / nobs[:, None, None]
        y = y - (y * used).sum(1, keepdims=True) / nobs[:, None]
    design = design * w
    y = jnp.where(used, y, 0)
    norms = jnp.sqrt((design * design).sum(1, keepdims=True))
    design = design / jnp.where(norms > 0, norms, 1)
    q, r = jnp.linalg.qr(design)
    beta = solve_triangular(r, jnp.einsum("brk,br->bk", q, y)[..., None], lower=False)[..., 0]
    resid = y - jnp.einsum("brk,bk->br", design, beta)
    k = design.shape[-1] + (regression != "n")
    sigma2 = (resid * resid).sum(-1) / (nobs - k)
    eye = jnp.broadcast_to(jnp.eye(r.shape[-1], dtype=x.dtype), r.shape)
    r_inv = solve_triangular(r, eye, lower=False)
    var0 = (r_inv[:, 0, :] ** 2).sum(-1) * sigma2
    stat = beta[:, 0] / jnp.sqrt(var0)
    stat = jnp.where(norms[:, 0, 0] > 0, stat, jnp.nan)  # constant series: undefined
    return stat, mackinnon_pvalue(stat, regression), nobs, mackinnon_crit(nobs, regression)


@dataclass(frozen=True)
class ADFResult:
    """Per series: ADF statistic, MacKinnon p-value, lag used, observations in the regression
    and the critical values at 1%, 5%, 10% (last axis). NaN statistic for a constant series."""

    statistic: np.ndarray
    pvalue: np.ndarray
    usedlag: int
    nobs: np.ndarray
    critical_values: np.ndarray


def adf(
    x: np.ndarray, maxlag: int, mask: np.ndarray | None = None, *, regression: Regression = "c"
) -> ADFResult:
    """ADF test with ``maxlag`` lagged differences (contiguous series; nulls only at the end)."""
    if regression not in _TAU_MAX:
        raise TimeSeriesInputError(f"regression must be 'n', 'c' or 'ct', got {regression!r}")
    if maxlag < 0:
        raise TimeSeriesInputError(f"maxlag must be >= 0, got {maxlag}")
    s = prepare(x, mask, contiguous=True)
    ntrend = len(regression) if regression != "n" else 0
    shortest = int(s.counts.min())
    if maxlag > shortest // 2 - ntrend - 1:
        raise TimeSeriesInputError(
            f"maxlag={maxlag} must be at most nobs/2 - 1 - {ntrend} = "
            f"{shortest // 2 - ntrend - 1} for the shortest series ({shortest} points), as in "
            "statsmodels' adfuller"
        )
    stat, p, nobs, crit = _adf(s.values, s.valid, maxlag, regression)
    return ADFResult(
        statistic=s.out(stat),
        pvalue=s.out(p),
        usedlag=maxlag,
        nobs=s.out(nobs),
        critical_values=s.out(crit),
    )
