"""The numpy tree estimate of MST (synthesis/tree_model.py) against private-pgm's own
``mirror_descent`` (JAX) on the same random noisy measurements, and its sampler against the
fitted marginals."""

from __future__ import annotations

import numpy as np
import pytest

from synthcap_assets.synthesis.tree_model import fit_tree
from synthcap_resources.compute import runtime


def _problem(rng: np.random.Generator, sizes: dict[str, int], rows: int = 400):
    from mbi import Dataset, Domain
    from mbi.marginal_loss import LinearMeasurement

    attrs = list(sizes)
    # A random spanning tree, and data with dependence along it.
    edges = [(attrs[rng.integers(0, i)], attrs[i]) for i in range(1, len(attrs))]
    data = {attrs[0]: rng.integers(0, sizes[attrs[0]], rows)}
    for parent, child in edges:
        shift = rng.integers(0, sizes[child], rows)
        data[child] = (data[parent] + (rng.random(rows) < 0.3) * shift) % sizes[child]
    domain = Domain(attrs, [sizes[a] for a in attrs])
    dataset = Dataset(data, domain)
    sigma = 6.0
    measurements = []
    for clique in [(a,) for a in attrs] + edges:
        x = np.asarray(dataset.project(clique).datavector(), dtype=np.float64)
        measurements.append(LinearMeasurement(x + rng.normal(0, sigma, x.size), clique, sigma))
    return domain, edges, measurements, float(rows)


@pytest.mark.parametrize(
    ("seed", "iters", "tolerance"), [(0, 150, 1e-9), (1, 150, 1e-9), (2, 1000, 1e-3)]
)
def test_tree_estimate_matches_private_pgm(seed: int, iters: int, tolerance: float) -> None:
    """Step for step the same as private-pgm (to rounding) over the first iterations; later a
    line-search test that rounding decides either way can make the two paths part, both
    converging on the same optimum (1000 iterations: within 1e-3 of the total per cell)."""
    runtime()  # float64 JAX on the CPU, as the synthesis runs it
    from mbi import estimation, marginal_oracles

    rng = np.random.default_rng(seed)
    sizes = {f"c{i}": int(rng.integers(2, 13)) for i in range(int(rng.integers(2, 7)))}
    domain, edges, measurements, total = _problem(rng, sizes)
    ours = fit_tree(sizes, measurements, total, iters)
    assert ours is not None
    theirs = estimation.mirror_descent(
        domain,
        measurements,
        known_total=total,
        iters=iters,
        marginal_oracle=marginal_oracles.message_passing_stable,
    )
    for a, b in edges:
        expected = np.asarray(theirs.project((a, b)).datavector(flatten=False))
        got = ours.marginals[a, b] if (a, b) in ours.marginals else ours.marginals[b, a].T
        np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance * total)
        assert got.sum() == pytest.approx(total)


def test_not_a_tree_is_left_to_private_pgm() -> None:
    from mbi.marginal_loss import LinearMeasurement

    sizes = {"a": 2, "b": 2, "c": 2}
    pairs = [("a", "b"), ("b", "c"), ("a", "c")]
    cycle = [LinearMeasurement(np.ones(4), pair, 1.0) for pair in pairs]
    assert fit_tree(sizes, cycle, 4.0, 10) is None
    triple = [LinearMeasurement(np.ones(8), ("a", "b", "c"), 1.0)]
    assert fit_tree(sizes, triple, 8.0, 10) is None


def test_sample_follows_the_marginals() -> None:
    rng = np.random.default_rng(7)
    sizes = {"a": 4, "b": 5, "c": 3}
    _, edges, measurements, total = _problem(rng, sizes, rows=2000)
    model = fit_tree(sizes, measurements, total, 200)
    np.random.seed(3)
    rows = 20_000
    codes = model.sample(rows)
    assert list(codes.columns) == list(sizes) and len(codes) == rows
    for a, b in edges:
        joint = np.zeros((sizes[a], sizes[b]))
        np.add.at(joint, (codes[a].to_numpy(), codes[b].to_numpy()), 1)
        expected = model.marginals[a, b] / model.total
        # Stratified rounding: far closer than i.i.d. sampling's ~1/sqrt(rows) per cell.
        np.testing.assert_allclose(joint / rows, expected, atol=0.01)
    for a in sizes:  # the root column is rounded to its marginal: off by under one row per code
        counts = np.bincount(codes[a].to_numpy(), minlength=sizes[a])
        assert counts.min() >= 0 and counts.sum() == rows
