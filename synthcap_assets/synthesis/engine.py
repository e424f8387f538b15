"""The smartnoise-synth pieces synthcap fits with, and why they differ from smartnoise's own.

MST's fit time was mostly JAX compilation inside private-pgm (mbi), which grows with the
number of columns and codes, so the defaults keep both small (12 bins, 6 columns; 12 bins scored
better than 8 or 16 on seattle-weather at epsilon 1, both in column shapes and in pair trends).
MST now estimates in numpy (below): on the 15 bundled days, synthesis with its evaluation took
0.7-3.7 s a day against 6-39 s through private-pgm's JAX path (the same loaded 2-core machine,
load 16, 2026-12-06; utility the same within the noise). These pieces wrap smartnoise-synth
rather than use it as is, all on the post-processing side of the privacy guarantee (the noisy
measurements and the budget split are smartnoise's):

- a fixed-cardinality column transformer: smartnoise's own one learns each column's codes from
  the rows, which reveals which codes occur and can never produce an unseen one;
- MST's pair selection scores pairs against the independent model of the noisy one-way
  marginals computed in closed form (a projection onto the simplex) instead of fitting and
  querying a graphical model (hundreds of JAX compilations, about half the fit time); written
  here because smartnoise offers no hook for it, and kept to its exponential mechanism;
- MST's measurements are smartnoise's (the same marginals, sigmas and OpenDP Gaussian noise),
  computed without private-pgm's JAX projection (an XLA compilation per marginal shape) and
  with the noise of each marginal drawn in one OpenDP call instead of one per cell
  (``gaussian_vector``; ``synthcap_tests/synthesis/test_fast_paths.py``);
- MST's final estimate runs ``MST_ITERATIONS`` mirror-descent steps instead of 5000: same
  column-shape scores on 500-2000 rows, a few seconds less; and it runs them in numpy on the
  tree (:mod:`.tree_model`, the same algorithm and sampler) instead of private-pgm's JAX
  path, whose XLA compilations (new for every fit: the noisy measurements are compiled in)
  were most of a partition's synthesis time.

AIM runs with 2 rounds per column instead of 16 (17-22 s down to about 5 s on the same
frames, same scores); it spends the same budget in fewer, less noisy measurements. Both
synthesizers take their zCDP budget as ``fit_rho`` when synthcap accounts it, else they convert
their epsilon as smartnoise does.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np

from synthcap_assets.synthesis.tree_model import TreeModel, fit_tree

MST_ITERATIONS = 1000
AIM_OPTIONS = {"rounds_per_column": 2, "max_model_size": 10}


def cdp_rho_of(epsilon: float, delta: float) -> float:
    """The zCDP ``rho`` that implies ``(epsilon, delta)``-DP (OpenDP's conversion, as MST's)."""
    return float(_cdp_rho_cached(round(epsilon, 12), delta))


@functools.lru_cache(maxsize=64)
def _cdp_rho_cached(epsilon: float, delta: float) -> float:
    from snsynth.utils import cdp_rho

    return cdp_rho(epsilon, delta)


def project_to_simplex(y: np.ndarray, total: float) -> np.ndarray:
    """The point of ``{x >= 0, sum(x) = total}`` nearest to ``y`` in L2 (sort-based algorithm of
    Held et al. / Duchi et al.); ``total <= 0`` gives zeros."""
    y = np.asarray(y, dtype=np.float64)
    if total <= 0 or y.size == 0:
        return np.zeros_like(y)
    ordered = np.sort(y)[::-1]
    excess = np.cumsum(ordered) - total
    ranks = np.arange(1, y.size + 1)
    last = np.nonzero(ordered - excess / ranks > 0)[0][-1]
    return np.maximum(y - excess[last] / (last + 1), 0.0)


def gaussian_vector(sigma: float, size: int) -> np.ndarray:
    """``size`` independent draws of OpenDP's continuous Gaussian of scale ``sigma``: the
    noise smartnoise's ``gaussian_noise(sigma, size)`` draws (the same ``make_gaussian`` on
    floats, sampled exactly), from one vector-valued measurement instead of ``size`` scalar
    ones. Each coordinate is the mechanism applied to 0, as smartnoise applies it."""
    import opendp.prelude as dp

    dp.enable_features("floating-point", "contrib")
    if size == 0:
        return np.zeros(0)
    measurement = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float), sigma
    )
    return np.asarray(measurement([0.0] * size), dtype=np.float64)


@dataclass(frozen=True)
class _Engine:
    synthesizer: type
    quick_mst: type
    table: type
    codes: type
    aim: type


@functools.cache
def engine() -> _Engine:
    """smartnoise-synth pieces, imported on first use (it pulls in jax: seconds to import)."""
    import networkx as nx
    from disjoint_set import DisjointSet
    from mbi import Dataset, LinearMeasurement, estimation, marginal_oracles
    from snsynth import Synthesizer, TableTransformer
    from snsynth.aim import AIMSynthesizer
    from snsynth.mst.mst import MSTSynthesizer
    from snsynth.transform.base import ColumnTransformer
    from snsynth.transform.definitions import ColumnType

    class FixedCodes(ColumnTransformer):
        """Passes codes ``0..cardinality-1`` through, with the cardinality known up front."""

        def __init__(self, cardinality: int) -> None:
            self._cardinality = cardinality
            super().__init__()

        @property
        def output_type(self) -> ColumnType:
            return ColumnType.CATEGORICAL

        @property
        def cardinality(self) -> list[int]:
            return [self._cardinality]

        def _fit(self, val: object) -> None:
            return None

        def _clear_fit(self) -> None:
            self._fit_complete = True
            self.output_width = 1

        def _transform(self, val: object) -> int:
            return int(val)

        def _inverse_transform(self, val: object) -> int:
            return int(val)

    class QuickMST(MSTSynthesizer):
        """smartnoise's MST with the same measurements, budget split and mechanisms, and two
        faster post-processing steps: the independent model that ``select`` compares pairs
        against is computed in closed form, and the final estimate runs ``MST_ITERATIONS``
        mirror-descent steps."""

        def MST(self, data, epsilon, delta):  # noqa: N802 - overrides smartnoise's name
            # ``fit_rho`` when synthcap accounts the budget; smartnoise's own conversion else.
            rho = getattr(self, "fit_rho", None) or cdp_rho_of(epsilon, delta)
            sigma = np.sqrt(3 / (2 * rho))
            total = len(data.df)
            log1 = self.measure(data, [(col,) for col in data.domain], sigma)
            data, log1, self.undo_compress_fn = self.compress_domain(data, log1)
            cliques = self.select(data, rho / 3.0, log1, total)
            log2 = self.measure(data, cliques, sigma)
            # The same mirror descent in numpy on the tree (no XLA compilations: tree_model);
            # private-pgm's JAX estimate only where the measurements are not a tree of pairs.
            tree = fit_tree(data.domain.config, log1 + log2, float(total), MST_ITERATIONS)
            self.synthesizer = (
                _TreeSynthesizer(tree, data.domain)
                if tree is not None
                else estimation.mirror_descent(
                    data.domain,
                    log1 + log2,
                    known_total=float(total),
                    iters=MST_ITERATIONS,
                    marginal_oracle=marginal_oracles.message_passing_stable,
                )
            )

        def measure(self, data, cliques, sigma, weights=None):
            # smartnoise's measure with the same marginals, sigmas and noise, computed faster:
            # the counts by private-pgm's numpy ``Dataset.datavector`` (``data.project``
            # wraps them in a JAX array: one XLA compilation per new shape, 0.2-0.4 s a fit),
            # the noise in one OpenDP call per marginal (``gaussian_vector``).
            weights = np.ones(len(cliques)) if weights is None else np.array(weights)
            weights = weights / np.linalg.norm(weights)
            frame, measurements = data.df, []
            for proj, wgt in zip(cliques, weights, strict=True):
                columns = {c: frame[c].to_numpy() for c in proj}
                x = Dataset(columns, data.domain.project(proj), data.weights).datavector()
                y = x + gaussian_vector(sigma / wgt, x.size)
                measurements.append(LinearMeasurement(y, proj, sigma / wgt))
            return measurements

        def select(self, data, rho, measurement_log, total, cliques=()):
            # smartnoise fits a graphical model to the one-way measurements and projects it
            # on every pair (hundreds of JAX compilations); with one-way cliques only, that
            # model is the product of each measurement's projection onto the scaled simplex.
            one_way = {
                m.clique[0]: project_to_simplex(np.asarray(m.noisy_measurement), total)
                for m in measurement_log
            }
            frame, sizes = data.df, data.domain.config
            weights = {}
            for a, b in itertools.combinations(data.domain.attrs, 2):
                cells = frame[a].to_numpy() * sizes[b] + frame[b].to_numpy()
                x = np.bincount(cells, minlength=sizes[a] * sizes[b])
                xhat = np.outer(one_way[a], one_way[b]).ravel() / max(total, 1)
                weights[a, b] = np.linalg.norm(x - xhat, 1)
            tree, joined = nx.Graph(), DisjointSet()
            tree.add_nodes_from(data.domain.attrs)
            for edge in cliques:
                tree.add_edge(*edge)
                joined.union(*edge)
            parts = nx.number_connected_components(tree)
            epsilon = np.sqrt(8 * rho / (parts - 1)) if parts > 1 else 0.0
            candidates = list(weights)
            for _ in range(parts - 1):
                candidates = [e for e in candidates if not joined.connected(*e)]
                scores = np.array([weights[e] for e in candidates])
                edge = candidates[self.exponential_mechanism(scores, epsilon, sensitivity=1.0)]
                tree.add_edge(*edge)
                joined.union(*edge)
            return list(tree.edges)

    class _TreeSynthesizer:
        """A fitted tree model where snsynth expects private-pgm's (``synthetic_data``)."""

        def __init__(self, tree: TreeModel, domain: object) -> None:
            self.tree, self.domain = tree, domain

        def synthetic_data(self, rows: int | None = None) -> Dataset:
            codes = self.tree.sample(rows or int(round(self.tree.total)))
            return Dataset({c: codes[c].to_numpy() for c in codes.columns}, self.domain)

    class BudgetAIM(AIMSynthesizer):
        """smartnoise's AIM spending exactly ``fit_rho`` (set before ``fit``)."""

        def AIM(self, data, workload):  # noqa: N802 - overrides smartnoise's name
            if getattr(self, "fit_rho", None):
                self.rho = self.fit_rho
            return super().AIM(data, workload)

    return _Engine(
        synthesizer=Synthesizer,
        quick_mst=QuickMST,
        table=TableTransformer,
        codes=FixedCodes,
        aim=BudgetAIM,
    )
