"""The deployment files in ``infra/``: the compose file validated by ``docker-compose config``
(Debian's docker-compose, offline), the Helm values checked key by key against the values the
official Dagster chart documents at our Dagster version, the Dockerfile and instance config
read for what they must say, and no secret written in any of them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib.metadata import version
from typing import Any

import pytest
import yaml

from synthcap_tests.infra.conftest import INFRA, REPO

COMPOSE_ENV = {"DAGSTER_PG_PASSWORD": "x", "RABBITMQ_PASSWORD": "y", "MINIO_ROOT_PASSWORD": "z"}
ANY = "*"  # a free-form mapping: Kubernetes objects, env dicts, tag values

# The keys of the official chart's values.yaml (helm/dagster/values.yaml and its JSON schema,
# chart 1.13.x), as far as an operator sets them; lists hold the schema of their items.
_IMAGE = {"repository": None, "tag": None, "pullPolicy": None}
_NAMED = [{"name": None}]
_TAG_LIMIT = [{"key": None, "value": ANY, "limit": None}]
# What the webserver and the daemon deployments both take (their pod and container).
_POD: dict[str, Any] = {
    **dict.fromkeys(
        ["env", "deploymentLabels", "labels", "nodeSelector", "affinity", "tolerations"], ANY
    ),
    **dict.fromkeys(["podSecurityContext", "securityContext", "resources", "annotations"], ANY),
    **dict.fromkeys(["readinessProbe", "livenessProbe", "startupProbe"], ANY),
    **dict.fromkeys(["volumeMounts", "volumes"], ANY),
    "envConfigMaps": _NAMED,
    "envSecrets": _NAMED,
    "schedulerName": None,
}
CHART_KEYS: dict[str, Any] = {
    "global": {
        "postgresqlSecretName": None,
        "dagsterHome": None,
        "serviceAccountName": None,
        "celeryConfigSecretName": None,
    },
    "dagsterWebserver": {
        **_POD,
        "replicaCount": None,
        "image": _IMAGE,
        "nameOverride": None,
        "pathPrefix": None,
        "service": ANY,
        "workspace": {"enabled": None, "servers": ANY, "externalConfigmap": None},
        "enableReadOnly": None,
        "dbStatementTimeout": None,
        "dbPoolRecycle": None,
        "logLevel": None,
    },
    "dagster-user-deployments": {
        "enabled": None,
        "enableSubchart": None,
        "imagePullSecrets": ANY,
        "deployments": [
            {
                "name": None,
                "image": _IMAGE,
                "port": None,
                "dagsterApiGrpcArgs": None,
                "codeServerArgs": None,
                "includeConfigInLaunchedRuns": {"enabled": None},
                "env": ANY,
                "envConfigMaps": _NAMED,
                "envSecrets": _NAMED,
                "annotations": ANY,
                "nodeSelector": ANY,
                "affinity": ANY,
                "tolerations": ANY,
                "podSecurityContext": ANY,
                "securityContext": ANY,
                "resources": ANY,
                "livenessProbe": ANY,
                "readinessProbe": ANY,
                "startupProbe": ANY,
                "labels": ANY,
                "volumeMounts": ANY,
                "volumes": ANY,
                "schedulerName": None,
            }
        ],
    },
    "postgresql": {
        "enabled": None,
        "image": _IMAGE,
        "postgresqlHost": None,
        "postgresqlUsername": None,
        "postgresqlPassword": None,
        "postgresqlDatabase": None,
        "postgresqlParams": ANY,
        "postgresqlScheme": None,
        "service": {"port": None},
    },
    "generatePostgresqlPasswordSecret": None,
    "generateCeleryConfigSecret": None,
    "rabbitmq": {"enabled": None, "rabbitmq": ANY, "service": ANY, "volumePermissions": ANY},
    "redis": {
        "enabled": None,
        "internal": None,
        "usePassword": None,
        "password": None,
        "host": None,
        "port": None,
        "brokerDbNumber": None,
        "backendDbNumber": None,
    },
    "flower": ANY,
    "ingress": ANY,
    "imagePullSecrets": _NAMED,
    "computeLogManager": {
        "type": None,
        "config": {
            "s3ComputeLogManager": {
                "bucket": None,
                "localDir": None,
                "prefix": None,
                "useSsl": None,
                "verify": None,
                "verifyCertPath": None,
                "endpointUrl": None,
                "skipEmptyFiles": None,
                "uploadInterval": None,
                "uploadExtraArgs": ANY,
                "showUrlOnly": None,
                "region": None,
            },
            "gcsComputeLogManager": ANY,
            "azureBlobComputeLogManager": ANY,
            "customComputeLogManager": ANY,
        },
    },
    "scheduler": ANY,
    "runLauncher": {
        "type": None,
        "config": {
            "k8sRunLauncher": {
                "image": _IMAGE,
                "imagePullPolicy": None,
                "jobNamespace": None,
                "loadInclusterConfig": None,
                "kubeconfigFile": None,
                "envConfigMaps": _NAMED,
                "envSecrets": _NAMED,
                "envVars": None,
                "volumeMounts": ANY,
                "volumes": ANY,
                "labels": ANY,
                "resources": ANY,
                "schedulerName": None,
                "securityContext": ANY,
                "runK8sConfig": {
                    "containerConfig": ANY,
                    "podSpecConfig": ANY,
                    "podTemplateSpecMetadata": ANY,
                    "jobSpecConfig": ANY,
                    "jobMetadata": ANY,
                },
                "failPodOnRunFailure": None,
            },
            "celeryK8sRunLauncher": ANY,
            "customRunLauncher": ANY,
        },
    },
    "pythonLogs": ANY,
    "dagsterDaemon": {
        **_POD,
        "enabled": None,
        "image": _IMAGE,
        "heartbeatTolerance": None,
        "runCoordinator": {
            "enabled": None,
            "type": None,
            "config": {
                "queuedRunCoordinator": {
                    "maxConcurrentRuns": None,
                    "tagConcurrencyLimits": _TAG_LIMIT,
                    "dequeueIntervalSeconds": None,
                    "dequeueUseThreads": None,
                    "dequeueNumWorkers": None,
                },
                "customRunCoordinator": ANY,
            },
        },
        "runMonitoring": {
            "enabled": None,
            "startTimeoutSeconds": None,
            "cancelTimeoutSeconds": None,
            "maxRuntimeSeconds": None,
            "maxResumeRunAttempts": None,
            "pollIntervalSeconds": None,
            "freeSlotsAfterRunEndSeconds": None,
        },
        "runRetries": {"enabled": None, "maxRetries": None, "retryOnAssetOrOpFailure": None},
        "sensors": {"useThreads": None, "numWorkers": None, "numSubmitWorkers": None},
        "schedules": {"useThreads": None, "numWorkers": None, "numSubmitWorkers": None},
    },
    "busybox": ANY,
    "migrate": {"enabled": None, "extraContainers": ANY, "initContainers": ANY},
    "telemetry": {"enabled": None},
    "serviceAccount": ANY,
    "retention": ANY,
    "concurrency": ANY,
    "additionalInstanceConfig": ANY,
}


def _unknown_keys(values: Any, schema: Any, path: str = "") -> list[str]:
    """Key paths of ``values`` that the chart does not document."""
    if schema == ANY:
        return []
    if schema is None:  # a scalar, or a list of scalars (args, names)
        items = values if isinstance(values, list) else [values]
        bad = any(isinstance(v, dict | list) for v in items)
        return [f"{path} (expected a value, got a structure)"] if bad else []
    if isinstance(schema, list):
        if not isinstance(values, list):
            return [f"{path} (expected a list)"]
        return [
            k for i, v in enumerate(values) for k in _unknown_keys(v, schema[0], f"{path}[{i}]")
        ]
    if not isinstance(schema, dict) or not isinstance(values, dict):
        return [f"{path} (unexpected {type(values).__name__})"]
    found = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else key
        found += [here] if key not in schema else _unknown_keys(value, schema[key], here)
    return found


def _helm_values() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "helm" / "values.yaml").read_text())


def test_helm_values_use_only_documented_chart_keys() -> None:
    assert _unknown_keys(_helm_values(), CHART_KEYS) == []
    # The check itself catches a misspelt or misplaced key.
    assert _unknown_keys({"postgresql": {"postgresqlSchema": "x"}}, CHART_KEYS) == [
        "postgresql.postgresqlSchema"
    ]
    assert _unknown_keys({"runLauncher": {"config": {"k8sRunLauncher": {"cpu": 1}}}}, CHART_KEYS)


def test_helm_values_say_what_production_needs() -> None:
    values = _helm_values()
    assert values["postgresql"]["enabled"] is False
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert "postgresqlPassword" not in values["postgresql"]  # from the Secret only
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["computeLogManager"]["type"] == "S3ComputeLogManager"
    dagster = version("dagster")
    assert values["dagsterWebserver"]["image"]["tag"] == dagster
    assert values["dagsterDaemon"]["image"]["tag"] == dagster
    workflow = (REPO / ".github" / "workflows" / "helm.yml").read_text()
    assert f'DAGSTER_CHART_VERSION: "{dagster}"' in workflow
    assert "kubeconform" in workflow and "-f infra/helm/values.yaml" in workflow


def test_docker_compose_config_is_valid() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        reason = "docker-compose not installed (apt-get install -y docker-compose)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI installs it in .ci/run")
        pytest.skip(reason)
    compose = str(INFRA / "docker-compose.yml")
    env = {**os.environ, **COMPOSE_ENV}
    ok = subprocess.run([binary, "-f", compose, "config", "-q"], env=env, capture_output=True)
    assert ok.returncode == 0, ok.stderr.decode()
    # Without the secrets in the environment it refuses, naming the variable.
    bare = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    refused = subprocess.run([binary, "-f", compose, "config", "-q"], env=bare, capture_output=True)
    assert refused.returncode != 0 and b"DAGSTER_PG_PASSWORD" in refused.stderr
    rendered = yaml.safe_load(
        subprocess.run([binary, "-f", compose, "config"], env=env, capture_output=True).stdout
    )
    services = rendered["services"]
    assert {"postgres", "minio", "rabbitmq", "code", "webserver", "daemon"} <= set(services)
    workers = [s for s in services.values() if "dagster-celery" in (s.get("command") or [])]
    assert len(workers) == 2


def test_instance_config_reads_every_credential_from_the_environment() -> None:
    config = yaml.safe_load((INFRA / "dagster.yaml").read_text())
    pg = config["storage"]["postgres"]["postgres_db"]
    assert pg["scheme"] == "postgresql+psycopg2"
    for key in ("hostname", "db_name", "username", "password", "port"):
        assert set(pg[key]) == {"env"}, key
    assert config["compute_logs"]["class"] == "S3ComputeLogManager"
    assert config["run_monitoring"]["enabled"] is True
    assert isinstance(config["concurrency"]["runs"]["max_concurrent_runs"], int)


SECRET_PATTERNS = [
    re.compile(r"(?i)(password|secret|token)[\"']?\s*[:=]\s*[\"']?(?!\$\{|\{env)[A-Za-z0-9/+]{6,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"://[^/\s:@]+:[^/\s@$]+@"),  # credentials inside a URL
]


def test_no_secret_is_written_in_infra() -> None:
    files = [p for p in INFRA.rglob("*") if p.is_file()]
    files.append(REPO / ".github" / "workflows" / "helm.yml")
    assert len(files) >= 6
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern in SECRET_PATTERNS:
                assert not pattern.search(line), f"{path}:{number}: {line.strip()}"
    # The patterns do find what they are for.
    assert SECRET_PATTERNS[0].search("password: hunter2hunter2")
    assert SECRET_PATTERNS[2].search("amqp://guest:guest@rabbitmq:5672//")
    assert not SECRET_PATTERNS[2].search("amqp://synthcap:${RABBITMQ_PASSWORD}@rabbitmq:5672//")


def test_dockerfile_builds_the_code_location() -> None:
    text = (INFRA / "Dockerfile").read_text()
    assert "download.pytorch.org/whl/cpu" in text  # no multi-GB CUDA torch
    assert re.search(r"COPY infra/dagster.yaml .*\$?DAGSTER_HOME|/opt/dagster/dagster_home", text)
    assert '"synthcap_assets.definitions"' in text
    assert "USER dagster" in text
