"""The executor of every job in the code location (UI launches, sensors, schedules, backfills).

Default: ``in_process_executor``, one process per run with its steps in it. The partition job
is a chain (capture, quality, profile, privacy, drift, features, budget, synthesis) with
little to run side by side on a 2-core machine, and with Dagster's default multiprocess
executor each step was a fresh Python process paying the imports (JAX, Dagster, polars, torch:
5-25 s between steps), so a partition launched from the UI took minutes where the demo (one
process, ``execute_in_process``) takes seconds. Runs still go side by side, up to the run
coordinator's ``max_concurrent_runs``.

``SYNTHCAP_EXECUTOR`` picks another: ``multiprocess`` (Dagster's default: a fresh process per
step, isolated, paying the imports each time) or ``celery`` (``dagster_celery``'s executor,
for the production deployment in ``infra/``). A forkserver with synthcap preloaded is not
offered: a step forked from a process that has imported JAX hung in its first kernel (measured
here: the profile step made no progress for 5 minutes; XLA's thread pools do not survive a
fork).
"""

from __future__ import annotations

import os

import dagster as dg

EXECUTORS = ("in_process", "multiprocess", "celery")


class ExecutorChoiceError(ValueError):
    """``SYNTHCAP_EXECUTOR`` names no executor synthcap knows."""


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor ``SYNTHCAP_EXECUTOR`` names (default ``in_process``)."""
    choice = os.environ.get("SYNTHCAP_EXECUTOR", "in_process").strip().lower()
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "multiprocess":
        return dg.multiprocess_executor
    if choice == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    raise ExecutorChoiceError(f"SYNTHCAP_EXECUTOR={choice!r} is not one of {', '.join(EXECUTORS)}")
