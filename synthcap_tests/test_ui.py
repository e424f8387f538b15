"""The Dagster UI a user opens: a real ``dagster-webserver`` on the repository's
``workspace.yaml`` against a temporary instance, asked over HTTP what the UI shows.

One partition is captured first (in this process, against the same instance on disk); the
webserver must then load the ``synthcap`` code location without errors, list every asset and
asset check of the definitions, show the captured partition's materialization and serve the
UI's page. GraphQL is what the UI's own pages query; no browser is driven here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources, defs
from synthcap_assets.demo import install_bundled_sources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
WEBSERVER = Path(sys.executable).with_name("dagster-webserver")
SOURCE = "market_prices"
TIMEOUT_S = 180

QUERY = """
{
  workspaceOrError {
    ... on Workspace {
      locationEntries {
        name
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
  assetNodes {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
  assetOrError(assetKey: {path: ["raw_capture"]}) {
    ... on Asset { assetMaterializations(limit: 10) { partition } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"dagster-webserver did not come up:\n{log.read_text()[-3000:]}")


@pytest.mark.skipif(not WEBSERVER.exists(), reason="dagster-webserver is not in this venv")
def test_webserver_shows_every_asset_check_and_the_captured_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    sources = tmp_path / "sources"
    install_bundled_sources(sources)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(tmp_path / "lake"),
        "SYNTHCAP_SOURCES": str(sources),
        "OPENLINEAGE_DISABLED": "true",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    day = load_catalog(sources)[SOURCE].start_date
    key = str(partition_key(SOURCE, day))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        captured = dg.materialize(
            [raw_capture],
            partition_key=key,
            resources=build_resources(env["SYNTHCAP_LAKE"], str(sources)),
            instance=instance,
        )
        assert captured.success

    port, log = _free_port(), tmp_path / "webserver.log"
    url = f"http://127.0.0.1:{port}"
    command = [str(WEBSERVER), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1"]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "-p", str(port)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, process, log)
        answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=60).json()
        page = httpx.get(url, timeout=30)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

    assert "errors" not in answer, answer.get("errors")
    data = answer["data"]
    (location,) = data["workspaceOrError"]["locationEntries"]
    assert location["name"] == "synthcap"
    assert location["locationOrLoadError"]["__typename"] == "RepositoryLocation", location

    graph = defs.resolve_asset_graph()
    expected_assets = {tuple(k.path) for k in graph.get_all_asset_keys()}
    shown = {tuple(node["assetKey"]["path"]): node for node in data["assetNodes"]}
    assert set(shown) == expected_assets
    expected_checks = {(tuple(k.asset_key.path), k.name) for k in graph.asset_check_keys}
    shown_checks = {
        (path, check["name"])
        for path, node in shown.items()
        for check in (node["assetChecksOrError"] or {}).get("checks", [])
    }
    assert shown_checks == expected_checks and len(expected_checks) >= 8

    partitions = [m["partition"] for m in data["assetOrError"]["assetMaterializations"]]
    assert partitions == [key]
    assert page.status_code == 200 and "<html" in page.text.lower()


@pytest.mark.skipif(not WEBSERVER.exists(), reason="dagster-webserver is not in this venv")
def test_synthcap_ui_starts_quietly_on_its_instance_and_serves_the_reports(
    tmp_path: Path,
) -> None:
    """``synthcap ui`` from the repository (where ``./dagster.yaml`` sits) prints its URLs,
    loads the code location and starts the daemon without one warning, and serves the lake's
    reports over HTTP. An empty catalog: the daemon's sensors have nothing to run."""
    home, lake, sources = tmp_path / "home", tmp_path / "lake", tmp_path / "sources"
    sources.mkdir()
    report = lake / "reports" / "html" / "demo" / "2026-11-17.html"
    report.parent.mkdir(parents=True)
    report.write_text("<!DOCTYPE html><title>r</title><p>drawn</p>")
    port, reports_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(lake),
        "SYNTHCAP_SOURCES": str(sources),
        "OPENLINEAGE_DISABLED": "true",
    }
    env.pop("PYTHONWARNINGS", None)
    log = tmp_path / "ui.log"
    command = [str(Path(sys.executable).with_name("synthcap")), "ui", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--reports-port", str(reports_port)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, log)
        deadline = time.monotonic() + TIMEOUT_S
        loaded = False
        while not loaded and time.monotonic() < deadline:
            answer = httpx.post(f"{url}/graphql", json={"query": QUERY}, timeout=60).json()
            (entry,) = answer["data"]["workspaceOrError"]["locationEntries"]
            loaded = entry["locationOrLoadError"] is not None
            time.sleep(1)
        # The daemon's first ticks come within seconds of the code location loading.
        while "SensorDaemon" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(1)
        served = httpx.get(f"http://127.0.0.1:{reports_port}/demo/2026-11-17.html", timeout=10)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    text = log.read_text()
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
    assert f"Dagster UI:  {url}" in text
    assert f"Reports:     http://127.0.0.1:{reports_port}/" in text
    assert f"Instance:    {home}" in text
    assert (home / "dagster.yaml").is_file()  # seeded from ./dagster.yaml
    assert served.status_code == 200 and "drawn" in served.text
    noise = [line for line in text.splitlines() if "warning" in line.lower()]
    assert noise == [], "\n".join(noise)
