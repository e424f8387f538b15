"""Time-series kernels for one series or a batch of equal-length series (series × time).

- ``acf``: autocorrelation by FFT, as ``statsmodels.tsa.stattools.acf(fft=True)``; nulls are
  handled like its ``missing="conservative"``: demeaned over the valid points, zero where null,
  every lag divided by the number of valid points.
- ``seasonal_period``: from the ACF of the linearly detrended series, the ACF peaks (local
  maxima) after its first zero crossing that reach ``min_strength``; of those, the first one at
  least 80% as high as the highest. The zero crossing keeps noise wiggles on the initial decay
  from counting, and the 80% rule picks the period rather than one of its multiples (which
  peak about as high) while still preferring a strong weekly peak over a weak daily one. That
  lag is then refined to the nearby integer period (±2 steps, ±20%) with the most periodogram
  power at its first three harmonics: exact on a noisy sine with 80 cycles, within ~3% with 20
  cycles of a long period (tests). 0 when no peak qualifies.
- ``trend``: OLS of the values on the time index (0, 1, ...) over the valid points, as
  ``scipy.stats.linregress``: slope, intercept, r², standard error of the slope.
- ``variance_ratio``: Lo & MacKinlay's (1988) VR(q) of the increments of a level series (pass
  log prices for prices), overlapping q-differences with their bias corrections, with the
  homoskedastic z and the heteroskedasticity-robust z*; chosen over a Hurst exponent because it
  comes with a test statistic and no fitting choices (window sizes, ranges).
- ``volatility_clustering``: autocorrelation of squared returns at lags 1..k (pass returns).
- The ADF test is in ``ts_adf``.

``variance_ratio`` (and ``ts_adf.adf``) need contiguous series: valid points first, nulls or
padding only at the end (one length per series); interior nulls must be filled or dropped by
the caller. Time is padded to a shape bucket (``synthcap_resources.compute.bucket_size``), so a
new series length does not recompile; the number of series and the lag counts are shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_resources.compute import bucket_size, runtime

HARMONIC_SHARE = 0.8


class TimeSeriesInputError(ValueError):
    """A series, mask or lag passed to a time-series kernel is unusable."""


@dataclass(frozen=True)
class Series:
    """Series prepared for the kernels: padded values and validity, true lengths."""

    values: jax.Array
    valid: jax.Array
    counts: np.ndarray  # valid points per series
    single: bool  # the caller passed one 1-D series

    def out(self, a: jax.Array) -> np.ndarray:
        """A per-series result as numpy, without the batch axis for a single series."""
        arr = np.asarray(a)
        return arr[0] if self.single else arr


def prepare(x: np.ndarray, mask: np.ndarray | None = None, *, contiguous: bool = False) -> Series:
    """Validate and pad series (``x``: time, or series × time; ``mask`` False = null)."""
    arr = np.asarray(x, dtype=np.float64)
    single = arr.ndim == 1
    arr = arr[None, :] if single else arr
    if arr.ndim != 2 or arr.size == 0:
        raise TimeSeriesInputError(f"expected a series or series × time, got {np.shape(x)}")
    valid = np.isfinite(arr)
    if mask is not None:
        if np.size(mask) != arr.size:
            raise TimeSeriesInputError(f"mask shape {np.shape(mask)} != series {np.shape(x)}")
        valid &= np.asarray(mask, dtype=bool).reshape(arr.shape)
    counts = valid.sum(axis=1)
    if contiguous:
        prefix = np.arange(arr.shape[1])[None, :] < counts[:, None]
        if not np.array_equal(valid, prefix):
            raise TimeSeriesInputError(
                "this statistic needs contiguous series (nulls only at the end); fill or drop "
                "interior and leading nulls first"
            )
    width = bucket_size(arr.shape[1])
    pad = [(0, 0), (0, width - arr.shape[1])]
    values = np.pad(np.where(valid, arr, 0.0), pad)
    return Series(
        values=jnp.asarray(values, dtype=runtime().dtype),
        valid=jnp.asarray(np.pad(valid, pad)),
        counts=counts,
        single=single,
    )


def _need(series: Series, points: int, what: str) -> None:
    if int(series.counts.min()) < points:
        raise TimeSeriesInputError(
            f"{what} needs at least {points} valid points per series; the shortest has "
            f"{int(series.counts.min())}"
        )


def _demean(x: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array]:
    n = valid.sum(axis=-1, keepdims=True).astype(x.dtype)
    mean = jnp.where(valid, x, 0).sum(axis=-1, keepdims=True) / jnp.maximum(n, 1)
    return jnp.where(valid, x - mean, 0), n


def _power(x: jax.Array, valid: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(|FFT|² of the demeaned series zero-padded to ≥ 2T, valid count): no wrap-around in the
    circular autocovariance, and a periodogram sampled twice as finely as 1/T."""
    xo, n = _demean(x, valid)
    nfft = 1 << (2 * x.shape[-1] - 1).bit_length()
    spectrum = jnp.fft.rfft(xo, nfft)
    return (spectrum * jnp.conj(spectrum)).real, n


def _acf_from_power(power: jax.Array, n: jax.Array, lags: int) -> jax.Array:
    nfft = 2 * (power.shape[-1] - 1)
    acov = jnp.fft.irfft(power, nfft)[..., :lags] / n
    return acov / acov[..., :1]


@jax.jit
def _acf(x: jax.Array, valid: jax.Array) -> jax.Array:
    """Autocorrelations at every lag of the padded length (callers slice): one compiled kernel
    per shape bucket, whatever the number of lags."""
    return _acf_from_power(*_power(x, valid), x.shape[-1])


def acf(x: np.ndarray, nlags: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Autocorrelations at lags 0..nlags (per series)."""
    s = prepare(x, mask)
    if nlags < 0:
        raise TimeSeriesInputError(f"nlags must be >= 0, got {nlags}")
    _need(s, nlags + 1, f"acf with nlags={nlags}")
    return s.out(_acf(s.values, s.valid)[:, : nlags + 1])


def volatility_clustering(
    returns: np.ndarray, nlags: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Autocorrelation of squared returns at lags 1..nlags (per series)."""
    r = np.asarray(returns, dtype=np.float64)
    return acf(r * r, nlags, mask if mask is not None else np.isfinite(r))[..., 1:]


@jax.jit
def _trend(x: jax.Array, valid: jax.Array) -> tuple[jax.Array, ...]:
    t = jnp.broadcast_to(jnp.arange(x.shape[-1], dtype=x.dtype), x.shape)
    to, n = _demean(t, valid)
    xo, _ = _demean(x, valid)
    stt, sxx, stx = (to * to).sum(-1), (xo * xo).sum(-1), (to * xo).sum(-1)
    n = n[..., 0]
    slope = stx / stt
    intercept = (jnp.where(valid, x, 0).sum(-1) - slope * jnp.where(valid, t, 0).sum(-1)) / n
    r2 = jnp.where(sxx > 0, stx * stx / (stt * jnp.where(sxx > 0, sxx, 1)), 0.0)
    resid = jnp.maximum(sxx - slope * stx, 0)
    stderr = jnp.sqrt(resid / jnp.maximum(n - 2, 1) / stt)
    return slope, intercept, r2, jnp.where(n > 2, stderr, jnp.nan)


@dataclass(frozen=True)
class Trend:
    """OLS of value on time index: per-series slope, intercept, r², slope standard error."""

    slope: np.ndarray
    intercept: np.ndarray
    r_squared: np.ndarray
    stderr: np.ndarray


def trend(x: np.ndarray, mask: np.ndarray | None = None) -> Trend:
    """Linear trend of each series over its valid points (time index 0, 1, ... per step)."""
    s = prepare(x, mask)
    _need(s, 2, "trend")
    return Trend(*(s.out(a) for a in _trend(s.values, s.valid)))


@jax.jit
def _seasonal(
    x: jax.Array, valid: jax.Array, max_period: jax.Array, min_strength: jax.Array
) -> tuple[jax.Array, jax.Array]:
    slope, intercept, _, _ = _trend(x, valid)
    t = jnp.arange(x.shape[-1], dtype=x.dtype)
    detrended = jnp.where(valid, x - intercept[:, None] - slope[:, None] * t, 0)
    power, n = _power(detrended, valid)
    r = _acf_from_power(power, n, x.shape[-1])
    lags = jnp.arange(x.shape[-1])[1:-1]
    crossed = (jnp.cumsum(r <= 0, axis=-1) > 0)[:, 1:-1]
    peak = (r[:, 1:-1] > r[:, :-2]) & (r[:, 1:-1] >= r[:, 2:]) & crossed
    peak = peak & (lags >= 2) & (lags <= max_period) & (r[:, 1:-1] >= min_strength)
    score = jnp.where(peak, r[:, 1:-1], -jnp.inf)
    top = jnp.max(score, axis=-1, keepdims=True)
    # Multiples of the period peak about as high: take the first peak near the highest.
    first = jnp.argmax(score >= HARMONIC_SHARE * top, axis=-1) + 1
    found = jnp.isfinite(top[:, 0])
    period = _refine(power, first, max_period)
    strength = jnp.take_along_axis(r, period[:, None], axis=-1)[:, 0]
    return jnp.where(found, period, 0), jnp.where(found, strength, 0.0)


def _refine(power: jax.Array, period: jax.Array, max_period: jax.Array) -> jax.Array:
    """The integer period within ±20% (and ±2 steps) of ``period`` with the most periodogram
    power at its first three harmonics: the ACF peak's lag is noisy (neighbouring lags differ
    little), while the power at frequency 1/p falls fast as p leaves the true period."""
    nfft = 2 * (power.shape[-1] - 1)
    near = jnp.broadcast_to(jnp.asarray([-2, -1, 1, 2]), (period.shape[0], 4))
    relative = jnp.rint(period[:, None] * jnp.arange(-20, 21)[None, :] / 100).astype(period.dtype)
    candidates = jnp.clip(period[:, None] + jnp.concatenate([near, relative], axis=1), 2, None)
    candidates = jnp.minimum(candidates, max_period)  # series × candidates
    harmonics = jnp.arange(1, 4)
    bins = jnp.rint(harmonics[None, None, :] * nfft / candidates[..., None]).astype(jnp.int32)
    bins = jnp.abs(bins - nfft * jnp.rint(bins / nfft).astype(jnp.int32))  # aliases fold back
    flat = bins.reshape(bins.shape[0], -1)
    at = jnp.take_along_axis(power, flat, axis=-1).reshape(bins.shape).sum(-1)
    return jnp.take_along_axis(candidates, jnp.argmax(at, axis=-1)[:, None], axis=-1)[:, 0]


@dataclass(frozen=True)
class SeasonalPeriod:
    """Per series: the dominant period in steps (0 = none) and its ACF value."""

    period: np.ndarray
    strength: np.ndarray


def seasonal_period(
    x: np.ndarray,
    max_period: int | None = None,
    mask: np.ndarray | None = None,
    *,
    min_strength: float = 0.2,
) -> SeasonalPeriod:
    """Dominant seasonal period up to ``max_period`` (default: a third of the shortest series,
    at most 2000, so that the series holds three cycles of the longest candidate)."""
    s = prepare(x, mask)
    shortest = int(s.counts.min())
    period = max_period if max_period is not None else min(shortest // 3, 2000)
    if period < 2 or period + 2 > shortest:
        raise TimeSeriesInputError(
            f"max_period must lie in [2, {shortest - 2}] for series of {shortest} valid "
            f"points, got {period}"
        )
    found, strength = _seasonal(
        s.values, s.valid, jnp.asarray(period), jnp.asarray(min_strength, s.values.dtype)
    )
    return SeasonalPeriod(period=s.out(found), strength=s.out(strength))


@partial(jax.jit, static_argnames="q")
def _variance_ratio(x: jax.Array, valid: jax.Array, q: int) -> tuple[jax.Array, ...]:
    length = valid.sum(-1)
    n = (length - 1).astype(x.dtype)  # increments
    last = jnp.take_along_axis(x, (length - 1)[:, None], axis=-1)[:, 0]
    mu = (last - x[:, 0]) / n
    inc = valid[:, 1:] & valid[:, :-1]
    dev = jnp.where(inc, x[:, 1:] - x[:, :-1] - mu[:, None], 0)
    sq = dev * dev
    ss = sq.sum(-1)
    var_a = ss / (n - 1)
    span = valid[:, q:] & valid[:, :-q]
    dev_q = jnp.where(span, x[:, q:] - x[:, :-q] - q * mu[:, None], 0)
    m = q * (n - q + 1) * (1 - q / n)
    ratio = (dev_q * dev_q).sum(-1) / m / var_a
    z = (ratio - 1) / jnp.sqrt(2 * (2 * q - 1) * (q - 1) / (3 * q * n))
    theta = jnp.zeros_like(ratio)
    for j in range(1, q):
        delta = n * (sq[:, j:] * sq[:, :-j]).sum(-1) / (ss * ss)
        theta = theta + (2 * (q - j) / q) ** 2 * delta
    return ratio, z, (ratio - 1) / jnp.sqrt(theta)


@dataclass(frozen=True)
class VarianceRatio:
    """Per series: Lo–MacKinlay VR(q), its homoskedastic z and robust z* statistics."""

    ratio: np.ndarray
    z: np.ndarray
    z_robust: np.ndarray


def variance_ratio(x: np.ndarray, q: int, mask: np.ndarray | None = None) -> VarianceRatio:
    """VR(q) of the increments of level series ``x`` (contiguous; see the module doc)."""
    if q < 2:
        raise TimeSeriesInputError(f"the variance ratio needs q >= 2, got {q}")
    s = prepare(x, mask, contiguous=True)
    _need(s, 2 * q + 1, f"variance_ratio with q={q}")
    return VarianceRatio(*(s.out(a) for a in _variance_ratio(s.values, s.valid, q)))
