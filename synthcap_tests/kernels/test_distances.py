"""Nearest-record distances (the DCR kernel) against scipy's cdist in float64."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from synthcap_assets.kernels.distances import DistanceInputError, nearest_distances


@pytest.mark.parametrize(
    ("queries", "reference", "features"), [(700, 1500, 5), (3, 1, 2), (1030, 257, 9)]
)
def test_matches_cdist_on_random_data(queries: int, reference: int, features: int) -> None:
    rng = np.random.default_rng(queries)
    q = rng.normal(size=(queries, features)) * rng.uniform(0.1, 50, features)
    r = rng.normal(size=(reference, features)) * rng.uniform(0.1, 50, features)
    distance, index = nearest_distances(q, r)
    full = cdist(q, r)
    assert distance.dtype == np.float64
    np.testing.assert_allclose(distance, full.min(axis=1), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(index, full.argmin(axis=1))


def test_near_duplicates_keep_their_small_distances() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(size=(50, 3)) * 1e6  # large values: |q|^2 + |r|^2 - 2qr would cancel
    q = r[:10] + 1e-3
    distance, index = nearest_distances(q, r)
    np.testing.assert_allclose(distance, np.sqrt(3) * 1e-3, rtol=1e-6)
    np.testing.assert_array_equal(index, np.arange(10))
    assert nearest_distances(r, r)[0].max() == 0.0  # exact copies are at distance 0


def test_bad_inputs_raise() -> None:
    with pytest.raises(DistanceInputError, match="feature counts"):
        nearest_distances(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(DistanceInputError, match="empty"):
        nearest_distances(np.zeros((2, 2)), np.zeros((0, 2)))
    with pytest.raises(DistanceInputError, match="finite"):
        nearest_distances(np.array([[np.nan, 0.0]]), np.zeros((1, 2)))
    assert nearest_distances(np.zeros((0, 2)), np.ones((3, 2)))[0].size == 0
