"""``synthcap doctor``: checks a deployment and says what to fix.

Each check names what it looked at (never a password: URLs are shown without credentials) and,
when it fails, the fix. Checks: the Dagster instance's storage answers; its schema migrations
are current (run, event log and schedule storages); the lake root takes a Delta write and, on
S3, honours conditional puts (``If-None-Match``: a second put of the same key must fail, or
concurrent Delta commits could overwrite each other); the Celery broker
(``SYNTHCAP_CELERY_BROKER``) and the Dask scheduler (``SYNTHCAP_DASK_ADDRESS``) answer when
configured; the daemon's heartbeats are fresh and sensors are running. Exits 1 when any check
fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import polars as pl

from synthcap_resources.distributed import DASK_ADDRESS_ENV, DaskResource
from synthcap_resources.lakehouse import LakehouseResource, lake_root

BROKER_ENV = "SYNTHCAP_CELERY_BROKER"
OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Check:
    """One check's verdict: what was looked at, and the fix when it failed."""

    name: str
    status: str
    detail: str
    fix: str = ""


def _safe_url(url: str) -> str:
    """``url`` without its credentials."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url, mask="***")


def check_storage(instance: dg.DagsterInstance) -> Check:
    kind = type(instance.run_storage).__name__
    try:
        instance.get_runs_count()
    except Exception as exc:  # any driver error: the point is to report it
        return Check(
            "instance storage",
            FAILED,
            f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "check DAGSTER_HOME/dagster.yaml and the DAGSTER_PG_* variables; the database must "
            "accept connections from this host",
        )
    return Check("instance storage", OK, f"{kind} answers")


def check_migrations(instance: dg.DagsterInstance) -> Check:
    behind = []
    for name in ("run_storage", "event_log_storage", "schedule_storage"):
        storage = getattr(instance, name)
        version = getattr(storage, "alembic_version", None)
        if version is None:
            continue
        current, head = version()
        if current != head:
            behind.append(f"{name} at {current}, head {head}")
    if behind:
        return Check("migrations", FAILED, "; ".join(behind), "run `dagster instance migrate` once")
    return Check("migrations", OK, "run, event log and schedule storages at head")


def check_lake(root: str) -> Check:
    lake = LakehouseResource(root=root)
    probe = f"_doctor/{uuid.uuid4().hex}"
    try:
        lake.append(probe, pl.DataFrame({"ok": [True]}))
        readable = lake.read_table(probe)
        delta = lake.delta_table(probe)
        if delta is not None and not lake.is_local:
            delta.delete()
    except Exception as exc:
        return Check(
            "lake",
            FAILED,
            f"{root}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "check SYNTHCAP_LAKE and write access (on S3: AWS_* variables, the bucket, and "
            "AWS_ALLOW_HTTP=true for a plain-HTTP endpoint)",
        )
    finally:
        if lake.is_local:
            import shutil

            shutil.rmtree(lake.uri("_doctor"), ignore_errors=True)
    if readable is None or readable.height != 1:
        return Check("lake", FAILED, f"{root}: the probe table did not read back", "")
    if lake.is_local:
        return Check("lake", OK, f"{lake.uri('')} takes Delta writes")
    conditional = _conditional_put(root)
    if conditional:
        return Check("lake", FAILED, conditional, "use an S3 store that supports If-None-Match")
    return Check("lake", OK, f"{root} takes Delta writes; conditional puts honoured")


def _conditional_put(root: str) -> str:
    """'' when a second ``If-None-Match: *`` put of one key is refused, else why not."""
    import boto3
    from botocore.exceptions import ClientError

    bucket, _, prefix = root.removeprefix("s3://").partition("/")
    key = f"{prefix.rstrip('/')}/_doctor/{uuid.uuid4().hex}".lstrip("/")
    s3 = boto3.client("s3")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1", IfNoneMatch="*")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=b"2", IfNoneMatch="*")
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (409, 412):
                return ""
            return f"second conditional put failed oddly: {exc}"
        return f"s3://{bucket}/{key}: a second If-None-Match put succeeded"
    finally:
        s3.delete_object(Bucket=bucket, Key=key)


def check_broker() -> Check:
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url:
        return Check("celery broker", SKIPPED, f"{BROKER_ENV} not set (no Celery runs)")
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return Check(
            "celery broker",
            FAILED,
            f"{_safe_url(url)}: {type(exc).__name__}: {exc}",
            f"start the broker or correct {BROKER_ENV}",
        )
    return Check("celery broker", OK, f"{_safe_url(url)} answers")


def check_dask() -> Check:
    dask = DaskResource.from_env()
    if dask.in_process:
        return Check("dask", SKIPPED, f"{DASK_ADDRESS_ENV} not set (profiles run in-process)")
    try:
        with dask.client() as client:
            workers = len(client.scheduler_info()["workers"])
    except Exception as exc:
        return Check("dask", FAILED, str(exc), f"start the scheduler or unset {DASK_ADDRESS_ENV}")
    if not workers:
        return Check("dask", FAILED, f"{dask.address}: no workers", "start dask workers")
    return Check("dask", OK, f"{dask.address}: {workers} worker(s)")


def check_daemon(instance: dg.DagsterInstance) -> Check:
    statuses = instance.get_daemon_statuses()
    down = sorted(kind for kind, status in statuses.items() if not status.healthy)
    if down:
        return Check(
            "daemon",
            FAILED,
            f"no fresh heartbeat from: {', '.join(down)}",
            "start `dagster-daemon run` with the same DAGSTER_HOME (schedules, sensors, run "
            "queue and run monitoring stop without it)",
        )
    return Check("daemon", OK, f"{len(statuses)} daemon(s) healthy")


def check_sensors(instance: dg.DagsterInstance) -> Check:
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
    running = sorted(s.name for s in states if s.status == InstigatorStatus.RUNNING)
    if not running:
        return Check(
            "sensors",
            FAILED,
            "no sensor is running",
            "turn on catalog_sensor and synthcap_automation_sensor in the UI "
            "(Automation) or with `dagster sensor start`",
        )
    return Check("sensors", OK, f"running: {', '.join(running)}")


def run_checks(instance: dg.DagsterInstance, lake: str | None = None) -> list[Check]:
    """Every check, in order; a check that cannot run reports why instead of raising."""
    root = lake or lake_root()
    steps: list[Callable[[], Check]] = [
        lambda: check_storage(instance),
        lambda: check_migrations(instance),
        lambda: check_lake(root),
        check_broker,
        check_dask,
        lambda: check_daemon(instance),
        lambda: check_sensors(instance),
    ]
    checks = []
    for step in steps:
        try:
            checks.append(step())
        except Exception as exc:  # report, don't crash: the rest still tells the operator
            checks.append(Check(getattr(step, "__name__", "check"), FAILED, repr(exc)[:300]))
    return checks


def cmd_doctor(args, console) -> int:  # (argparse.Namespace, rich Console)
    """Print every check with its fix; exit 1 when any failed."""
    from rich.table import Table

    with dg.DagsterInstance.get() as instance:
        checks = run_checks(instance, args.lake)
    table = Table("check", "status", "detail", "fix")
    colour = {OK: "green", FAILED: "red", SKIPPED: "yellow"}
    for check in checks:
        status = f"[{colour[check.status]}]{check.status}[/{colour[check.status]}]"
        table.add_row(check.name, status, check.detail, check.fix)
    console.print(table)
    return 1 if any(c.status == FAILED for c in checks) else 0


def add_doctor_parser(sub) -> None:  # argparse._SubParsersAction
    """``synthcap doctor [--lake ROOT]``."""
    doctor = sub.add_parser(
        "doctor",
        help="check a deployment: storage, migrations, lake, broker, daemon, sensors",
        description="Check the Dagster instance (DAGSTER_HOME), the lake, the Celery broker "
        "and the Dask scheduler, and say what to fix; exits 1 when a check fails.",
    )
    doctor.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    doctor.set_defaults(func=cmd_doctor)
