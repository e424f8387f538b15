"""Retrying a write that lost a race for the same partition, and nothing else.

A step whose write lost a race (``lakehouse.ConcurrentWriteError``) runs again: by then the
winner has committed, so the retry reads the new version and replaces the partition again. A bad
input fails once, with its own message: hence a targeted ``dg.RetryRequested``, not an op-wide
``RetryPolicy``. ``lineage.hooks.emits_lineage``, which every synthcap asset carries, applies it.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

import dagster as dg

from synthcap_resources.lakehouse import ConcurrentWriteError

LOST_WRITE_RETRIES = 3
LOST_WRITE_DELAY_SECONDS = 1.0  # doubled per retry, times a random factor in [0.5, 1.5)


def lost_write(exc: BaseException) -> ConcurrentWriteError | None:
    """The ``ConcurrentWriteError`` behind ``exc`` (itself, or down the chain a traceback
    shows, as when a capture undoes its writes and raises its own error from it), else ``None``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ConcurrentWriteError):
            return current
        seen.add(id(current))
        implicit = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or implicit
    return None


def lost_write_delay(retry_number: int) -> float:
    """Seconds before retry ``retry_number + 1``: exponential, jittered so that the losers of
    one race do not meet again at the same instant."""
    return LOST_WRITE_DELAY_SECONDS * 2**retry_number * random.uniform(0.5, 1.5)


def retries_lost_writes(compute: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an asset's compute function (first argument: its context) so that a write that
    lost a race (``ConcurrentWriteError``, however wrapped) asks Dagster for a retry, up to
    ``LOST_WRITE_RETRIES`` times; every other failure propagates unchanged and fails once.
    ``lineage.hooks.emits_lineage``, which every synthcap asset carries, applies it."""

    @functools.wraps(compute)
    def wrapper(context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return compute(context, *args, **kwargs)
        except Exception as exc:
            lost = lost_write(exc)
            if lost is None:
                raise
            attempt = int(getattr(context, "retry_number", 0))
            context.log.warning(f"write lost a race (attempt {attempt + 1}); retrying: {lost}")
            raise dg.RetryRequested(
                max_retries=LOST_WRITE_RETRIES, seconds_to_wait=lost_write_delay(attempt)
            ) from exc

    return wrapper
