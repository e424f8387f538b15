"""Profile states to and from plain per-column records, for storing day profiles in a table
(one row per column) and merging them later into date-range profiles without the raw rows.

A record is a dict of Python floats, a float64 array of quantile knots (only the real values
for an exact summary), the 2**14 HLL registers as bytes, and the exact small set (None once
dropped). ``to_records`` and ``from_records`` round-trip a ``ProfileState`` exactly (in float64,
which ``from_records`` ensures on the CPU).

The registers' bytes end with their hash version (``distinct.HLL_HASH_VERSION``, one byte), so
the stored form says which hash wrote them without a schema change. Registers of another hash
never merge: a version-1 record (2**14 bytes, no version byte, written before 2026-12-07) is
converted when its exact small set is stored (the registers of a value set are a function of
the set, so they are rebuilt from it exactly) and rejected otherwise, saying to re-profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.blocks import state_dtype
from synthcap_assets.kernels.distinct import (
    HLL_HASH_VERSION,
    REGISTERS,
    SMALL_SET,
    DistinctState,
    column_registers,
)
from synthcap_assets.kernels.moments import MomentState
from synthcap_assets.kernels.profile import ProfileError, ProfileState
from synthcap_assets.kernels.quantiles import KNOTS, QuantileSummary
from synthcap_resources.compute import FloatColumn, runtime

_MOMENTS = MomentState._fields


def to_records(state: ProfileState) -> list[dict[str, Any]]:
    """One record per column of ``state``."""
    mom = jax.tree.map(np.asarray, state.moments)
    values = np.asarray(state.quantiles.values, np.float64)
    count = np.asarray(state.quantiles.count)
    error = np.asarray(state.quantiles.error)
    regs = np.asarray(state.distinct.registers, np.uint8)
    small = np.asarray(state.distinct.small, np.float64)
    size = np.asarray(state.distinct.small_count)
    records = []
    for j in range(count.shape[0]):
        real = int(min(count[j], KNOTS)) if error[j] == 0 and count[j] <= KNOTS else KNOTS
        record: dict[str, Any] = {name: float(getattr(mom, name)[j]) for name in _MOMENTS}
        record.update(
            quantile_knots=values[j, :real].copy(),
            quantile_count=float(count[j]),
            quantile_error=float(error[j]),
            hll_registers=regs[j].tobytes() + bytes([HLL_HASH_VERSION]),
            small_set=small[j, : size[j]].copy() if size[j] >= 0 else None,
        )
        records.append(record)
    return records


def from_records(records: Sequence[dict[str, Any]]) -> ProfileState:
    """A multi-column state from records (in column order), as ``to_records`` wrote them."""
    if not records:
        raise ProfileError("from_records needs at least one record")
    # Configure JAX first (float64 on the CPU): a process that only merges stored states, such
    # as `synthcap profile --from --to`, runs no kernel that would have done it, and float32
    # would round every merged statistic and overflow on large moments.
    runtime()
    dtype = state_dtype()
    moments = MomentState(*(jnp.asarray([r[n] for r in records], dtype) for n in _MOMENTS))
    values = np.full((len(records), KNOTS), np.inf)
    small = np.full((len(records), SMALL_SET), np.inf)
    regs = np.zeros((len(records), REGISTERS), np.uint8)
    size = np.full(len(records), -1, np.int32)
    for j, r in enumerate(records):
        knots = np.asarray(r["quantile_knots"], np.float64)
        if knots.size > KNOTS or (knots.size < KNOTS and knots.size != r["quantile_count"]):
            raise ProfileError(
                f"record {j}: {knots.size} quantile knots for a count of "
                f"{r['quantile_count']:.0f} (expected {KNOTS} or the count)"
            )
        values[j, : knots.size] = knots
        if 0 < knots.size < KNOTS:
            values[j, knots.size :] = knots[-1]  # an exact summary repeats its maximum
        regs[j] = _registers(j, r)
        if r["small_set"] is not None:
            found = np.asarray(r["small_set"], np.float64)
            small[j, : found.size], size[j] = found, found.size
    quantiles = QuantileSummary(
        jnp.asarray(values, dtype),
        jnp.asarray([r["quantile_count"] for r in records], dtype),
        jnp.asarray([r["quantile_error"] for r in records], dtype),
    )
    distinct = DistinctState(jnp.asarray(regs), jnp.asarray(small, dtype), jnp.asarray(size))
    return ProfileState(moments, quantiles, distinct)


def _registers(j: int, record: dict[str, Any]) -> np.ndarray:
    """Record ``j``'s HLL registers under the current hash (see the module docstring)."""
    raw = np.frombuffer(record["hll_registers"], np.uint8)
    if raw.size == REGISTERS + 1 and raw[-1] == HLL_HASH_VERSION:
        return raw[:-1]
    if raw.size == REGISTERS + 1:
        raise ProfileError(
            f"record {j}: HLL registers of hash version {raw[-1]}, this synthcap reads "
            f"version {HLL_HASH_VERSION}; profile the day again with this version"
        )
    if raw.size != REGISTERS:
        raise ProfileError(
            f"record {j}: {raw.size} bytes of HLL registers, expected {REGISTERS + 1} "
            "(the registers and their hash version)"
        )
    if record["small_set"] is None:
        raise ProfileError(
            f"record {j}: HLL registers of hash version 1 (stored before 2026-12-07) cannot "
            f"merge with version {HLL_HASH_VERSION} ones and the column has no exact value set "
            "to rebuild them from; profile that day again (synthcap materialize) to merge it"
        )
    values = np.asarray(record["small_set"], np.float64)
    return column_registers([FloatColumn(values)])
