"""Differentially private synthetic samples with smartnoise-synth (MST or AIM).

The frame is encoded to small integer codes with the profile's bins and categories
(:mod:`synthcap_assets.synthesis.prepare`), a marginal-based synthesizer is fitted to the codes
at the caller's epsilon, a sample is drawn and decoded back to the columns' own types.

Fit time is mostly JAX compilation inside private-pgm (mbi), which grows with the number of
columns and codes, so the defaults keep both small (8 bins, 6 columns). Measured on 2 shared
cores, one fit plus sample of 1000 rows at epsilon 1: 4 columns 4-6 s, 6 columns 5-7 s,
8 columns 6-7 s; 10 or 16 bins add 1-3 s. Three pieces wrap smartnoise-synth rather than use it
as is, all on the post-processing side of the privacy guarantee (the noisy measurements and the
budget split are smartnoise's):

- a fixed-cardinality column transformer: smartnoise's own one learns each column's codes from
  the rows, which reveals which codes occur and can never produce an unseen one;
- MST's pair selection scores pairs against the independent model of the noisy one-way
  marginals computed in closed form (a projection onto the simplex) instead of fitting and
  querying a graphical model (hundreds of JAX compilations, about half the fit time);
- MST's final estimate runs ``MST_ITERATIONS`` mirror-descent steps instead of 5000: same
  column-shape scores on 500-2000 rows, a few seconds less.

AIM runs with 2 rounds per column instead of 16 (17-22 s down to about 5 s on the same
frames, same scores); it spends the same budget in fewer, less noisy measurements.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import math
import numbers
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from synthcap_assets.columns import without_meta
from synthcap_assets.synthesis.prepare import (
    DEFAULT_BINS,
    DEFAULT_MAX_COLUMNS,
    Encoding,
    EncodingError,
    decode,
    encode,
)

SYNTHESIZERS = ("mst", "aim")
MIN_ROWS = 10
MIN_COLUMNS = 2
MST_ITERATIONS = 1000
AIM_OPTIONS = {"rounds_per_column": 2, "max_model_size": 10}


class SynthesisError(ValueError):
    """The frame cannot be synthesized as asked; the message says what to change."""


@dataclass(frozen=True)
class SynthesisResult:
    """A synthetic sample and how it was made.

    ``columns`` are the synthesized columns (the sample's columns, in order), ``dropped`` maps each
    left-out data column to the reason, ``fit_seconds`` is the wall time of fitting and sampling.
    """

    sample: pl.DataFrame
    columns: list[str]
    dropped: dict[str, str]
    synthesizer: str
    epsilon: float
    fit_seconds: float


def synthesize(
    df: pl.DataFrame,
    *,
    profile: pl.DataFrame,
    epsilon: float,
    exclude: Sequence[str] = (),
    synthesizer: str = "mst",
    rows: int | None = None,
    seed: int = 0,
    bins: int = DEFAULT_BINS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
) -> SynthesisResult:
    """A DP synthetic sample of ``df``'s data columns (capture metadata ignored).

    ``epsilon`` is spent by the synthesizer on the rows (delta 1e-9). Not accounted in this
    version: the bin edges and category lists come from ``profile``, which was computed from the
    same rows without noise, so they spend privacy that no budget records (a later budget ledger
    will). ``exclude`` columns (PII) and text/identifier/empty columns are never synthesized; at
    most ``max_columns`` columns are kept, continuous ones in ``bins`` quantile bins. ``rows``
    defaults to ``len(df)``. ``seed`` fixes numpy's choices (tree selection, sampling, decoding);
    the Gaussian noise comes from OpenDP's cryptographic generator and cannot be seeded, so two
    runs give different samples. MST and AIM do not use torch, so it is neither imported nor
    seeded.
    """
    if synthesizer not in SYNTHESIZERS:
        raise SynthesisError(
            f"unknown synthesizer {synthesizer!r}: use one of {', '.join(SYNTHESIZERS)}"
        )
    if not (isinstance(epsilon, numbers.Real) and math.isfinite(epsilon) and epsilon > 0):
        raise SynthesisError(f"epsilon must be a finite number above 0, got {epsilon!r}")
    if rows is not None and rows < 0:
        raise SynthesisError(f"rows must be 0 or more, got {rows}")
    frame = without_meta(df)
    if frame.height < MIN_ROWS:
        raise SynthesisError(
            f"only {frame.height} rows: DP synthesis needs at least {MIN_ROWS}; capture more "
            "rows (or several days together) before synthesizing this source"
        )
    try:
        encoding = encode(frame, profile, exclude=exclude, bins=bins, max_columns=max_columns)
    except EncodingError as exc:
        raise SynthesisError(str(exc)) from exc
    if len(encoding.columns) < MIN_COLUMNS:
        reasons = "; ".join(f"{c}: {r}" for c, r in encoding.dropped.items()) or "none"
        raise SynthesisError(
            f"only {len(encoding.columns)} usable column(s) {encoding.columns}: synthesis needs "
            f"at least {MIN_COLUMNS} numeric, date or categorical columns (dropped: {reasons})"
        )
    wanted = frame.height if rows is None else rows
    started = time.perf_counter()
    codes = _fit_and_sample(encoding, synthesizer, float(epsilon), wanted, seed)
    fit_seconds = time.perf_counter() - started
    sample = decode(codes, encoding, np.random.default_rng(seed))
    return SynthesisResult(
        sample=sample,
        columns=encoding.columns,
        dropped=dict(encoding.dropped),
        synthesizer=synthesizer,
        epsilon=float(epsilon),
        fit_seconds=fit_seconds,
    )


def _fit_and_sample(
    encoding: Encoding, synthesizer: str, epsilon: float, rows: int, seed: int
) -> pl.DataFrame:
    if rows == 0:
        return encoding.codes.clear()
    # Importing smartnoise's stack draws from numpy's global generator too, so save it first.
    state = np.random.get_state()
    try:
        engine = _engine()
        if synthesizer == "mst":
            model = engine.quick_mst(epsilon=epsilon)
        else:
            model = engine.synthesizer.create(
                "aim",
                epsilon=epsilon,
                rounds=AIM_OPTIONS["rounds_per_column"] * len(encoding.columns),
                max_model_size=AIM_OPTIONS["max_model_size"],
            )
        transformer = engine.table([engine.codes(k) for k in encoding.cardinalities])
        np.random.seed(seed % 2**32)
        # smartnoise prints progress (AIM) and warns about column names; neither is actionable.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            model.fit(encoding.codes.to_pandas(), transformer=transformer)
            sample = model.sample(rows)
    except ValueError as exc:
        raise SynthesisError(f"{synthesizer} could not fit the encoded frame: {exc}") from exc
    finally:
        np.random.set_state(state)
    if not isinstance(sample, pd.DataFrame):
        sample = pd.DataFrame(list(sample), columns=encoding.columns)
    return pl.from_pandas(sample.astype("int64"))


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


@dataclass(frozen=True)
class _Engine:
    synthesizer: type
    quick_mst: type
    table: type
    codes: type


@functools.cache
def _engine() -> _Engine:
    """smartnoise-synth pieces, imported on first use (it pulls in jax: seconds to import)."""
    import networkx as nx
    from disjoint_set import DisjointSet
    from mbi import estimation, marginal_oracles
    from snsynth import Synthesizer, TableTransformer
    from snsynth.mst.mst import MSTSynthesizer
    from snsynth.transform.base import ColumnTransformer
    from snsynth.transform.definitions import ColumnType
    from snsynth.utils import cdp_rho

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
            rho = cdp_rho(epsilon, delta)
            sigma = np.sqrt(3 / (2 * rho))
            total = len(data.df)
            log1 = self.measure(data, [(col,) for col in data.domain], sigma)
            data, log1, self.undo_compress_fn = self.compress_domain(data, log1)
            cliques = self.select(data, rho / 3.0, log1, total)
            log2 = self.measure(data, cliques, sigma)
            self.synthesizer = estimation.mirror_descent(
                data.domain,
                log1 + log2,
                known_total=float(total),
                iters=MST_ITERATIONS,
                marginal_oracle=marginal_oracles.message_passing_stable,
            )

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

    return _Engine(
        synthesizer=Synthesizer, quick_mst=QuickMST, table=TableTransformer, codes=FixedCodes
    )
