"""Outlier counts (robust z with median/MAD, IQR fences) against numpy/scipy references:
exact on small data, within the stated count bound on large merged data, exact recounts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats as ss

from synthcap_assets.kernels.outliers import exact_outliers, outliers
from synthcap_assets.kernels.profile import merge_many, profile_block
from synthcap_resources.compute import column_block, runtime

runtime()


def _reference(v: np.ndarray) -> dict[str, float]:
    q1, median, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    mad = float(ss.median_abs_deviation(v))
    reach = 3.5 * 1.4826 * mad
    iqr = q3 - q1
    return {
        "median": median,
        "mad": mad,
        "robust": int((np.abs(v - median) > reach).sum()),
        "iqr": int(((v < q1 - 1.5 * iqr) | (v > q3 + 1.5 * iqr)).sum()),
    }


def _data(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.stack([rng.standard_normal(n), rng.standard_t(2, n), rng.lognormal(0, 1, n)], 1)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def _found(x: np.ndarray):
    return jax.tree.map(np.asarray, outliers(profile_block(*column_block(x)).quantiles))


def test_small_data_matches_numpy() -> None:
    x = _data(1, 3000)
    found = _found(x)
    for j in range(x.shape[1]):
        ref = _reference(x[:, j][np.isfinite(x[:, j])])
        assert found.median[j] == ref["median"]
        # MAD from the summary: within the count bound of the exact median |x - median|.
        assert abs(found.mad[j] - ref["mad"]) <= 1e-2 * ref["mad"]
        assert abs(found.robust_count[j] - ref["robust"]) <= found.count_bound[j] + 2
        assert abs(found.iqr_count[j] - ref["iqr"]) <= found.count_bound[j]


def test_merged_days_within_the_bound() -> None:
    x = _data(2, 120_000)
    merged = merge_many([profile_block(*column_block(p)) for p in np.array_split(x, 3)])
    found = jax.tree.map(np.asarray, outliers(merged.quantiles))
    for j in range(x.shape[1]):
        v = x[:, j][np.isfinite(x[:, j])]
        ref = _reference(v)
        assert found.count_bound[j] <= 2e-3 * v.size
        # Counts at the found thresholds, and the thresholds close to the exact ones.
        robust = ((v < found.robust_low[j]) | (v > found.robust_high[j])).sum()
        iqr = ((v < found.iqr_low[j]) | (v > found.iqr_high[j])).sum()
        assert abs(found.robust_count[j] - robust) <= found.count_bound[j]
        assert abs(found.iqr_count[j] - iqr) <= found.count_bound[j]
        assert abs(found.robust_count[j] - ref["robust"]) <= 3e-3 * v.size
        assert abs(found.mad[j] - ref["mad"]) <= 1e-2 * ref["mad"]


def test_exact_recount_on_the_rows() -> None:
    x = _data(3, 50_000)
    block, _ = column_block(x)
    found = outliers(profile_block(block, 50_000).quantiles)
    exact = jax.tree.map(np.asarray, exact_outliers(jax.device_put(block), found))
    assert np.all(exact.count_bound == 0)
    for j in range(x.shape[1]):
        v = x[:, j][np.isfinite(x[:, j])]
        robust = ((v < exact.robust_low[j]) | (v > exact.robust_high[j])).sum()
        assert exact.robust_count[j] == robust
        assert exact.iqr_count[j] == ((v < exact.iqr_low[j]) | (v > exact.iqr_high[j])).sum()


def test_constant_column_has_no_robust_z() -> None:
    x = np.stack([np.full(100, 2.0), np.r_[np.zeros(60), np.arange(40.0)]], 1)
    found = _found(x)
    assert np.isnan(found.robust_count).tolist() == [True, True]  # MAD = 0 in both
    assert found.iqr_count.tolist() == [0.0, float(_reference(x[:, 1])["iqr"])]
    assert jnp.isnan(found.median).tolist() == [False, False]
