"""Differentially private synthetic samples with smartnoise-synth (MST or AIM).

The frame is encoded to small integer codes with the profile's bins and categories
(:mod:`synthcap_assets.synthesis.prepare`), a marginal-based synthesizer is fitted to the codes
at the caller's epsilon, a sample is drawn and decoded back to the columns' own types.

The fitting pieces (and how and why they differ from smartnoise-synth's own) are in
:mod:`synthcap_assets.synthesis.engine`.

Privacy accounting. A synthesis at ``(epsilon, delta)`` is ``(epsilon, delta)``-DP as a whole:
half of ``delta`` converts zCDP to approximate DP (``rho = cdp_rho(epsilon, delta / 2)``, the
conversion MST and AIM use), the other half covers the category values the private domain
releases (:mod:`.dp_domain`). Up to ``preprocess_share`` of ``rho`` measures the domain
(ranges, categories, null codes; less when the catalog declares it); the rest goes to the
synthesizer, handed over as ``rho`` directly (both MST and AIM account in zCDP), so the two
parts compose exactly to the source's epsilon.
"""

from __future__ import annotations

import contextlib
import io
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
from synthcap_assets.synthesis.dp_domain import DomainError, private_profile
from synthcap_assets.synthesis.engine import (
    AIM_OPTIONS,
    cdp_rho_of,
    engine,
    project_to_simplex,
)
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
DEFAULT_DELTA = 1e-9
DEFAULT_PREPROCESS_SHARE = 0.1
DECLARED_CATEGORY_CAP = 64


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
    delta: float = DEFAULT_DELTA
    rho: float = 0.0
    rho_preprocess: float = 0.0
    domain: dict[str, str] | None = None
    cardinalities: dict[str, int] | None = None


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
    delta: float = DEFAULT_DELTA,
    preprocess_share: float = DEFAULT_PREPROCESS_SHARE,
    bounds: dict[str, tuple[float, float]] | None = None,
    categories: dict[str, list[str]] | None = None,
) -> SynthesisResult:
    """A DP synthetic sample of ``df``'s data columns (capture metadata ignored).

    The whole call is ``(epsilon, delta)``-DP (module docstring): ``profile`` supplies only each
    column's semantic type; bin edges, categories and null codes are measured privately from the
    rows with ``preprocess_share`` of the budget, unless ``bounds`` / ``categories`` (public,
    from the catalog) declare them. ``exclude`` columns (PII) and text/identifier/empty
    columns are never synthesized; at most ``max_columns`` columns are kept, continuous ones
    in ``bins`` quantile bins. ``rows`` defaults to ``len(df)``. ``seed`` fixes numpy's
    choices (tree selection, sampling, decoding); the Gaussian noise comes from OpenDP's
    cryptographic generator and cannot be seeded, so two runs give different samples. MST and
    AIM do not use torch, so it is neither imported nor seeded.
    """
    if synthesizer not in SYNTHESIZERS:
        raise SynthesisError(
            f"unknown synthesizer {synthesizer!r}: use one of {', '.join(SYNTHESIZERS)}"
        )
    if not (isinstance(epsilon, numbers.Real) and math.isfinite(epsilon) and epsilon > 0):
        raise SynthesisError(f"epsilon must be a finite number above 0, got {epsilon!r}")
    if rows is not None and rows < 0:
        raise SynthesisError(f"rows must be 0 or more, got {rows}")
    if not (0 < delta < 1e-3 and 0 < preprocess_share < 1):
        raise SynthesisError(
            f"delta must be in (0, 1e-3) and preprocess_share in (0, 1), "
            f"got {delta!r} and {preprocess_share!r}"
        )
    frame = without_meta(df)
    if frame.height < MIN_ROWS:
        raise SynthesisError(
            f"only {frame.height} rows: DP synthesis needs at least {MIN_ROWS}; capture more "
            "rows (or several days together) before synthesizing this source"
        )
    rho = cdp_rho_of(float(epsilon), delta / 2)
    rho_pre = preprocess_share * rho
    try:
        private, cost = private_profile(
            frame,
            profile,
            rho=rho_pre,
            delta=delta / 2,
            exclude=exclude,
            bounds=bounds,
            categories=categories,
        )
        # The private profile already capped discovered categories; declared lists stay whole.
        encoding = encode(
            frame,
            private,
            exclude=exclude,
            bins=bins,
            max_columns=max_columns,
            max_categories=DECLARED_CATEGORY_CAP,
        )
    except (EncodingError, DomainError) as exc:
        raise SynthesisError(str(exc)) from exc
    if len(encoding.columns) < MIN_COLUMNS:
        reasons = "; ".join(f"{c}: {r}" for c, r in encoding.dropped.items()) or "none"
        raise SynthesisError(
            f"only {len(encoding.columns)} usable column(s) {encoding.columns}: synthesis needs "
            f"at least {MIN_COLUMNS} numeric, date or categorical columns (dropped: {reasons})"
        )
    wanted = frame.height if rows is None else rows
    started = time.perf_counter()
    codes = _fit_and_sample(encoding, synthesizer, rho - cost.rho, wanted, seed)
    fit_seconds = time.perf_counter() - started
    sample = decode(codes, encoding, np.random.default_rng(seed))
    return SynthesisResult(
        sample=sample,
        columns=encoding.columns,
        dropped=dict(encoding.dropped),
        synthesizer=synthesizer,
        epsilon=float(epsilon),
        fit_seconds=fit_seconds,
        delta=delta,
        rho=rho,
        rho_preprocess=cost.rho,
        domain=dict(cost.columns),
        cardinalities={name: codec.cardinality for name, codec in encoding.codecs.items()},
    )


def _fit_and_sample(
    encoding: Encoding, synthesizer: str, rho: float, rows: int, seed: int
) -> pl.DataFrame:
    if rows == 0:
        return encoding.codes.clear()
    # Importing smartnoise's stack draws from numpy's global generator too, so save it first.
    state = np.random.get_state()
    try:
        pieces = engine()
        # The epsilon given here is never spent: both synthesizers spend exactly ``fit_rho``.
        if synthesizer == "mst":
            model = pieces.quick_mst(epsilon=1.0)
        else:
            model = pieces.aim(
                epsilon=1.0,
                rounds=AIM_OPTIONS["rounds_per_column"] * len(encoding.columns),
                max_model_size=AIM_OPTIONS["max_model_size"],
            )
        model.fit_rho = rho
        transformer = pieces.table([pieces.codes(k) for k in encoding.cardinalities])
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


def fit_smartnoise_default(
    frame: pd.DataFrame,
    *,
    synthesizer: str,
    epsilon: float,
    delta: float,
    preprocessor_eps: float,
    categorical: Sequence[str],
    continuous: Sequence[str],
    rows: int,
    seed: int = 0,
) -> pd.DataFrame:
    """A sample from smartnoise-synth's *default* preprocessing (its inferred TableTransformer,
    bounds of continuous columns inferred with ``preprocessor_eps`` taken out of ``epsilon``,
    categories learnt from the rows) with the same MST/AIM fitting code as :func:`synthesize`,
    so that a comparison isolates the preprocessing. Used by ``synthcap bench synth``."""
    state = np.random.get_state()
    try:
        pieces = engine()
        if synthesizer == "mst":
            model = pieces.quick_mst(epsilon=float(epsilon), delta=delta)
        else:
            model = pieces.aim(
                epsilon=float(epsilon),
                delta=delta,
                rounds=AIM_OPTIONS["rounds_per_column"] * len(frame.columns),
                max_model_size=AIM_OPTIONS["max_model_size"],
            )
        np.random.seed(seed % 2**32)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            model.fit(
                frame,
                categorical_columns=list(categorical),
                continuous_columns=list(continuous),
                preprocessor_eps=preprocessor_eps,
                nullable=bool(frame.isna().any().any()),
            )
            sample = model.sample(rows)
    except ValueError as exc:
        raise SynthesisError(f"smartnoise default {synthesizer} failed: {exc}") from exc
    finally:
        np.random.set_state(state)
    if not isinstance(sample, pd.DataFrame):
        sample = pd.DataFrame(list(sample), columns=frame.columns)
    return sample


__all__ = [
    "SynthesisError",
    "SynthesisResult",
    "fit_smartnoise_default",
    "project_to_simplex",
    "synthesize",
]
