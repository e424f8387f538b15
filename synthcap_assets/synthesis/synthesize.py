"""Differentially private synthetic samples with smartnoise-synth (MST or AIM).

The frame is encoded to small integer codes with privately measured bins and categories
(:mod:`.dp_domain`, :mod:`.prepare`), a marginal-based synthesizer is fitted to the codes at the
caller's epsilon, a sample is drawn, decoded back to the columns' own types and held to the
declared constraints by rejection (:mod:`.constraints`).

The fitting pieces (and how and why they differ from smartnoise-synth's own) are in
:mod:`synthcap_assets.synthesis.engine`.

Privacy accounting. A synthesis at ``(epsilon, delta)`` is ``(epsilon, delta)``-DP as a whole:
half of ``delta`` converts zCDP to approximate DP (``rho = cdp_rho(epsilon, delta / 2)``, the
conversion MST and AIM use), the other half covers the category values the private domain
releases (:mod:`.dp_domain`). Up to ``preprocess_share`` of ``rho`` measures the domain
(ranges, categories, null codes; less when the catalog declares it); the rest goes to the
synthesizer, handed over as ``rho`` directly (both MST and AIM account in zCDP), so the parts
compose exactly to the source's epsilon. Every release is announced to ``on_release(what,
epsilon_share)`` before its noise is drawn, its share being ``epsilon * rho_i / rho``
(:mod:`.ledger`); a refusal raised there stops the synthesis before the release.

Refusals and failures raise :class:`SynthesisError` with structured attributes (the short
``reason``, the ``dropped`` columns with why, the ``actions`` that would change the outcome and
the ``spent_epsilon`` already released), so that readiness can say why and what to do.
"""

from __future__ import annotations

import contextlib
import io
import math
import numbers
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl

from synthcap_assets.columns import without_meta
from synthcap_assets.quality.rules import Rule
from synthcap_assets.synthesis.constraints import (
    ConstraintError,
    constrained_sample,
    parse_constraints,
)
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
from synthcap_assets.synthesis.shortfall import explain, rows_needed

SYNTHESIZERS = ("mst", "aim")
MIN_ROWS = 10
MIN_COLUMNS = 2
DEFAULT_DELTA = 1e-9
DEFAULT_PREPROCESS_SHARE = 0.3
DECLARED_CATEGORY_CAP = 64

OnRelease = Callable[[str, float], None]


class SynthesisError(ValueError):
    """The frame cannot be synthesized as asked; the message says what to change.

    Structured, for readiness: ``reason`` (the short cause), ``dropped`` (column -> why it was
    left out), ``actions`` (what would change the outcome) and ``spent_epsilon`` (epsilon
    released before the failure, already reported to ``on_release``).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        dropped: Mapping[str, str] | None = None,
        actions: Sequence[str] = (),
        spent_epsilon: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.reason: str = reason or message
        self.dropped: dict[str, str] = dict(dropped or {})
        self.actions: list[str] = list(actions)
        self.spent_epsilon: float = float(spent_epsilon)


@dataclass(frozen=True)
class SynthesisResult:
    """A synthetic sample and how it was made.

    ``columns`` are the synthesized columns (the sample's columns, in order), ``dropped`` maps each
    left-out data column to the reason, ``fit_seconds`` is the wall time of fitting and sampling.
    ``ranges`` holds each continuous column's measured range (days since 1970 for dates and
    times); every sample value lies inside it. ``releases`` lists (what, epsilon) as reported to
    ``on_release``; ``actions`` what would bring dropped columns back; ``acceptance`` the share
    of drawn rows that met ``constraints``.
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
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    releases: list[tuple[str, float]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    acceptance: float = 1.0


class _Releases:
    """Reports each release's share of epsilon (proportional to its share of ``rho``) before
    its noise is drawn, and keeps the running total for refusals."""

    def __init__(self, epsilon: float, rho: float, on_release: OnRelease | None) -> None:
        self.epsilon, self.rho, self.on_release = epsilon, rho, on_release
        self.done: list[tuple[str, float]] = []

    def __call__(self, what: str, rho: float) -> None:
        share = self.epsilon * rho / self.rho
        if self.on_release is not None:
            self.on_release(what, share)  # may refuse (budget): nothing is drawn then
        self.done.append((what, share))

    @property
    def spent(self) -> float:
        return float(sum(e for _, e in self.done))


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
    bounds: Mapping[str, tuple[float, float]] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    constraints: Sequence[str] = (),
    targets: Sequence[str] = (),
    on_release: OnRelease | None = None,
) -> SynthesisResult:
    """A DP synthetic sample of ``df``'s data columns (capture metadata ignored).

    The whole call is ``(epsilon, delta)``-DP (module docstring): ``profile`` supplies only each
    column's semantic type; bin edges, categories and null codes are measured privately from the
    rows with ``preprocess_share`` of the budget, unless ``bounds`` / ``categories`` (public,
    from the catalog) declare them. ``exclude`` columns (PII) and text/identifier/empty
    columns are never synthesized; at most ``max_columns`` columns are kept (``targets``
    first, :data:`~.prepare.KEEP_RULE`), continuous ones in ``bins`` quantile bins. Every
    sample row meets ``constraints`` (:mod:`.constraints`). ``rows`` defaults to ``len(df)``.
    ``on_release(what, epsilon)`` is called before each release of private information (write
    ahead: :mod:`.ledger`); if it raises, nothing more is released. ``seed`` fixes numpy's
    choices (tree selection, sampling, decoding); the Gaussian noise comes from OpenDP's
    cryptographic generator and cannot be seeded, so two runs give different samples.
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
            "rows (or several days together) before synthesizing this source",
            reason=f"too few rows: {frame.height}, at least {MIN_ROWS} needed",
            actions=[f"capture at least {MIN_ROWS} rows (or synthesize several days together)"],
        )
    try:  # a rule that does not parse is refused before anything is released
        declared = parse_constraints(constraints, frame.columns, frame.columns)
    except ConstraintError as exc:
        raise SynthesisError(
            str(exc), reason=str(exc), actions=["fix privacy.constraints"]
        ) from exc
    rho = cdp_rho_of(float(epsilon), delta / 2)
    releases = _Releases(float(epsilon), rho, on_release)
    try:
        private, cost = private_profile(
            frame,
            profile,
            rho=preprocess_share * rho,
            delta=delta / 2,
            exclude=exclude,
            bounds=bounds,
            categories=categories,
            on_measure=releases,
        )
        # The private profile already capped discovered categories; declared lists stay whole.
        encoding = encode(
            frame,
            private,
            exclude=exclude,
            bins=bins,
            max_columns=max_columns,
            max_categories=DECLARED_CATEGORY_CAP,
            targets=targets,
        )
    except (EncodingError, DomainError) as exc:
        raise SynthesisError(str(exc), spent_epsilon=releases.spent) from exc
    dropped, actions, needs = dict(encoding.dropped), [], []
    for name, shortfall in cost.shortfalls.items():
        if name in dropped:
            why, todo = explain(name, shortfall, frame.height, epsilon, rho, delta / 2)
            dropped[name] = why
            actions += todo
            needs.append(rows_needed(shortfall))
    if len(encoding.columns) < MIN_COLUMNS:
        raise _too_few_columns(encoding.columns, dropped, actions, needs, frame, epsilon, releases)
    rules = [r for r in declared if all(c in encoding.columns for c in r.columns)]
    wanted = frame.height if rows is None else rows
    started = time.perf_counter()
    sample, acceptance = _fit_and_sample(
        encoding, synthesizer, rho - cost.rho, wanted, seed, rules, releases, dropped
    )
    return SynthesisResult(
        sample=sample,
        columns=encoding.columns,
        dropped=dropped,
        synthesizer=synthesizer,
        epsilon=float(epsilon),
        fit_seconds=time.perf_counter() - started,
        delta=delta,
        rho=rho,
        rho_preprocess=cost.rho,
        domain=dict(cost.columns),
        cardinalities={name: codec.cardinality for name, codec in encoding.codecs.items()},
        ranges={c: s for c, s in cost.spans.items() if c in encoding.codecs},
        releases=list(releases.done),
        actions=list(dict.fromkeys(actions)),
        acceptance=acceptance,
    )


def _too_few_columns(
    columns: list[str],
    dropped: dict[str, str],
    actions: list[str],
    needs: list[int],
    frame: pl.DataFrame,
    epsilon: float,
    releases: _Releases,
) -> SynthesisError:
    missing = MIN_COLUMNS - len(columns)
    if len(needs) >= missing:
        needed = sorted(needs)[missing - 1]
        reason = f"too few rows for epsilon {epsilon:g}: {frame.height} rows, about {needed} needed"
    else:
        reason = (
            f"only {len(columns)} usable column(s): a marginal synthesizer needs at least "
            f"{MIN_COLUMNS} numeric, date or categorical columns (free text and identifiers "
            "are not modelled)"
        )
        actions = actions + ["declare privacy.bounds / privacy.categories for hidden columns"]
    listed = "; ".join(f"{c}: {r}" for c, r in dropped.items()) or "none"
    return SynthesisError(
        f"{reason}; usable columns {columns} (dropped: {listed})",
        reason=reason,
        dropped=dropped,
        actions=list(dict.fromkeys(actions)),
        spent_epsilon=releases.spent,
    )


def _fit_and_sample(
    encoding: Encoding,
    synthesizer: str,
    rho: float,
    rows: int,
    seed: int,
    rules: Sequence[Rule],
    releases: _Releases,
    dropped: dict[str, str],
) -> tuple[pl.DataFrame, float]:
    rng = np.random.default_rng(seed)
    if rows == 0:
        return decode(encoding.codes.clear(), encoding, rng), 1.0
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
        releases(f"fit: {synthesizer}", rho)
        # smartnoise prints progress (AIM) and warns about column names; neither is actionable.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            model.fit(encoding.codes.to_pandas(), transformer=transformer)

            def draw(n: int) -> pl.DataFrame:
                sample = model.sample(n)
                if not isinstance(sample, pd.DataFrame):
                    sample = pd.DataFrame(list(sample), columns=encoding.columns)
                return pl.from_pandas(sample.astype("int64"))

            return constrained_sample(
                draw, lambda codes: decode(codes, encoding, rng), rules, rows, rng
            )
    except (ValueError, ConstraintError) as exc:
        raise SynthesisError(
            f"{synthesizer} could not produce the sample: {exc}",
            reason=f"{synthesizer} failed: {exc}",
            dropped=dropped,
            spent_epsilon=releases.spent,
        ) from exc
    finally:
        np.random.set_state(state)


__all__ = [
    "SynthesisError",
    "SynthesisResult",
    "project_to_simplex",
    "synthesize",
]
