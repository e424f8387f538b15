"""Runs on two ``dagster-celery`` workers over the local RabbitMQ, four partitions at once, on
the production instance (``infra/dagster.yaml``: PostgreSQL storage, step logs on S3/moto).

Each test uses its own Celery queue, so no stray worker takes its tasks; the workers run in
their own process groups and are stopped by group at the end (stopping the launcher alone
leaves Celery workers running)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import dagster as dg
import pytest

from synthcap_resources.lakehouse import LakehouseResource
from synthcap_tests.conftest import copy_bundled
from synthcap_tests.infra import celery_defs
from synthcap_tests.infra.conftest import INFRA, LOG_BUCKET, REPO
from synthcap_tests.services import require_service

BROKER = "amqp://guest:guest@127.0.0.1:5672//"
BIN = Path(sys.executable).parent


class Workers:
    """Two Celery workers (``w1``, ``w2``) on one queue, each with its log file."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.queue = f"synthcap_test_{uuid.uuid4().hex[:8]}"
        self.logs = [tmp_path / f"w{i}.log" for i in (1, 2)]
        self.procs: list[subprocess.Popen] = []
        for i, log in enumerate(self.logs, 1):
            cmd = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"]
            cmd += ["-n", f"w{i}-{self.queue}@%h", "-q", self.queue]
            cmd += ["-y", str(INFRA / "celery.yaml"), "--", "--concurrency=1"]
            worker_env = {**env, celery_defs.WORKER_ENV: f"w{i}"}
            with log.open("w") as out:
                self.procs.append(
                    subprocess.Popen(
                        cmd,
                        env=worker_env,
                        cwd=REPO,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not all(" ready." in log.read_text() for log in self.logs):
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                pytest.fail(
                    f"Celery workers not ready: {[log.read_text()[-2000:] for log in self.logs]}"
                )
            time.sleep(0.5)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def run_config(self) -> dict:
        config = celery_defs.CELERY_CONFIG["execution"]["config"]
        return {
            "execution": {"config": {**config, "config_source": {"task_default_queue": self.queue}}}
        }


@pytest.fixture
def celery_env(prod_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    require_service("127.0.0.1", 5672, "RabbitMQ")
    monkeypatch.setenv("SYNTHCAP_CELERY_BROKER", BROKER)
    monkeypatch.setenv("SYNTHCAP_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("SYNTHCAP_SOURCES", str(copy_bundled(tmp_path / "sources", "market_prices")))
    with dg.DagsterInstance.get() as instance:
        instance.upgrade()
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # workers call `celery`
        "PYTHONPATH": str(REPO),  # the workers import this test's job module
    }


@pytest.fixture
def workers(celery_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path, celery_env)
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def _launch_all(job: str, run_config: dict, partitions: list[str]) -> list[tuple[bool, str]]:
    """One run per partition, all at once, each launched from its own process."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "DAGSTER_", "SYNTHCAP_"))}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(partitions)) as pool:
        return pool.starmap(
            celery_defs.launch,
            [(job, env, run_config, {"dagster/partition": p}) for p in partitions],
        )


def _step_logs(run_ids: list[str]) -> str:
    """Every compute-log object written for ``run_ids``, read back from S3."""
    s3 = boto3.client("s3")
    prefix = os.environ["SYNTHCAP_LOG_PREFIX"]
    text = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LOG_BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            if any(run_id in item["Key"] for run_id in run_ids):
                body = s3.get_object(Bucket=LOG_BUCKET, Key=item["Key"])["Body"].read()
                text.append(body.decode(errors="replace"))
    return "\n".join(text)


def _keys() -> list[str]:
    s3 = boto3.client("s3")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=LOG_BUCKET).get("Contents", [])]


def test_four_partitions_at_once_on_two_celery_workers(workers: Workers) -> None:
    outcomes = _launch_all("smoke", workers.run_config(), celery_defs.DAYS)
    assert all(ok for ok, _ in outcomes), outcomes
    table = LakehouseResource(root=os.environ["SYNTHCAP_LAKE"]).read_table("reports/worker_day")
    assert sorted(table["day"]) == celery_defs.DAYS  # each partition once
    assert set(table["worker"]) == {"w1", "w2"}  # both workers took runs
    logs = _step_logs([run_id for _, run_id in outcomes])
    for day in celery_defs.DAYS:
        assert f"worker_day {day} on w" in logs, _keys()  # the step's stdout reached S3


@pytest.mark.slow
def test_synthcap_partitions_on_celery_workers(workers: Workers) -> None:
    """capture -> quality -> profile of four bundled days as four Celery runs at once."""
    from synthcap_assets.materialize import register_sources
    from synthcap_assets.partitions import partition_key

    with dg.DagsterInstance.get() as instance:
        register_sources(instance, ["market_prices"])
    days = ["2026-11-16", "2026-11-17", "2026-11-18"]
    keys = [
        partition_key("market_prices", __import__("datetime").date.fromisoformat(d)) for d in days
    ]
    outcomes = _launch_all("partition", workers.run_config(), keys)
    assert all(ok for ok, _ in outcomes), outcomes
    lake = LakehouseResource(root=os.environ["SYNTHCAP_LAKE"])
    profile = lake.read_table("reports/profile")
    assert sorted({str(d) for d in profile["date"]}) == days
