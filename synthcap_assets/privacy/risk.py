"""Re-identification risk per record and l-diversity, from group counts on encoded columns.

Each record's quasi-identifier (QI) combination is encoded as one dense integer code (null is a
value of its own); the equivalence-class sizes are then exact counts of those codes, taken by
the JAX counting kernel (:func:`synthcap_assets.kernels.topk.category_counts`) on codes padded
to shape buckets. From the class size ``f`` of each record:

- per-record risk (prosecutor model: the attacker knows the person is in the table) ``1 / f``;
  the table's maximum is ``1 / k`` and its mean is ``classes / rows``;
- ``high_risk_share``: records whose risk exceeds ``1 / HIGH_RISK_K`` (in a class under 5);
- distinct l-diversity of a sensitive column: the fewest distinct sensitive values in any class
  (nulls count as a value). Counted with the same kernel: each distinct (class, value) pair adds
  one to its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import polars as pl

from synthcap_assets.kernels.topk import category_counts
from synthcap_resources.compute import bucket_size, runtime

HIGH_RISK_K = 5


@dataclass(frozen=True)
class RiskResult:
    """Record-level risk over the QIs, and l per sensitive column (``None`` when undefined)."""

    risk: np.ndarray
    max_risk: float
    mean_risk: float
    high_risk_share: float
    l_diversity: dict[str, int | None]


def class_codes(df: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Dense codes 0..classes-1 of each record's combination of ``columns`` (all 0 if none)."""
    if not columns:
        return np.zeros(df.height, dtype=np.int32)
    codes = df.select((pl.struct(list(columns)).rank("dense") - 1).alias("c")).to_series()
    return codes.cast(pl.Int32).to_numpy()


def code_counts(codes: np.ndarray) -> np.ndarray:
    """How many times each code 0..max occurs, counted by the JAX kernel on padded codes."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    runtime()
    n_codes = int(codes.max()) + 1
    padded = np.full(bucket_size(codes.size), -1, dtype=np.int32)
    padded[: codes.size] = codes
    counts = category_counts(jnp.asarray(padded[None, :]), bucket_size(n_codes))
    return np.asarray(counts)[0, :n_codes].astype(np.int64)


def class_sizes(df: pl.DataFrame, quasi_identifiers: Sequence[str]) -> np.ndarray:
    """Per record, the size of its equivalence class over ``quasi_identifiers``."""
    codes = class_codes(df, quasi_identifiers)
    return code_counts(codes)[codes] if codes.size else np.zeros(0, dtype=np.int64)


def l_diversity(df: pl.DataFrame, quasi_identifiers: Sequence[str], sensitive: str) -> int:
    """Fewest distinct values of ``sensitive`` in any equivalence class (0 for no rows)."""
    if df.height == 0:
        return 0
    classes = class_codes(df, quasi_identifiers)
    values = class_codes(df, [sensitive])
    pairs = np.unique(np.stack([classes, values], axis=1), axis=0)
    return int(code_counts(pairs[:, 0].astype(np.int32)).min())


def assess_risk(
    df: pl.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = ()
) -> RiskResult:
    """Record risks over ``quasi_identifiers`` and l-diversity of each ``sensitive`` column
    present in ``df`` (absent ones map to ``None``)."""
    sizes = class_sizes(df, quasi_identifiers)
    risk = 1.0 / sizes if sizes.size else np.zeros(0)
    diversity = {
        column: l_diversity(df, quasi_identifiers, column) if column in df.columns else None
        for column in sensitive
    }
    return RiskResult(
        risk=risk,
        max_risk=float(risk.max()) if risk.size else 0.0,
        mean_risk=float(risk.mean()) if risk.size else 0.0,
        high_risk_share=float(np.mean(risk > 1.0 / HIGH_RISK_K)) if risk.size else 0.0,
        l_diversity=diversity,
    )
