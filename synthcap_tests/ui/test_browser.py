"""The UI as a person sees it, in a real browser: Playwright (from PyPI, no browser download)
drives Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it) against a
real ``dagster-webserver`` on the repository's workspace and a temporary instance.

One source (``customers``, two days) is materialized first in this process, through every
report asset and the readiness run that writes the visual report; then: the asset graph loads
without a console error, the profile materialization shows its per-column table, the report
draws every chart (each SVG non-blank, counted against the file), and a materialization
launched from the UI runs through synthcap's run launcher and succeeds.
``SYNTHCAP_SCREENSHOTS=<folder>`` keeps a PNG of each page (the README's screenshots come
from there).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from synthcap_assets.automation.schedules import readiness_job
from synthcap_assets.definitions import ASSETS, CHECKS, build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_assets.run_launcher import WORKER_PID_TAG
from synthcap_assets.ui import serve_reports
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.report_files import REPORTS_ENV, REPORTS_URL_ENV, reports_root
from synthcap_tests.conftest import copy_bundled
from synthcap_tests.test_ui import _free_port, _wait_until_up

playwright = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("SYNTHCAP_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEBSERVER = Path(sys.executable).with_name("dagster-webserver")
SOURCE = "customers"
DAY1, DAY2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)
REPORT_ASSETS = ("raw_capture", "quality_report", "profile", "privacy_report", "drift_report")

# The webserver launches a run itself (no daemon here, so none of the daemon's sensors start
# runs of their own), through synthcap's run launcher; one launch, so no worker kept waiting.
INSTANCE_YAML = """telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: DefaultRunCoordinator
run_launcher:
  module: synthcap_assets.run_launcher
  class: WarmRunLauncher
  config:
    spares: 0
"""

if not CHROMIUM.exists():
    reason = f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)"
    if os.environ.get("CI"):
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)


@dataclass
class Ui:
    url: str
    reports_url: str
    lake: LakehouseResource
    browser: object
    shots: Path | None
    failures: Path

    def page(self):
        """A page recording console errors; the community pop-up is dismissed on load."""
        page = self.browser.new_page(viewport={"width": 1400, "height": 900})
        page.errors, page.offline = [], []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("requestfailed", lambda r: page.offline.append(r.url))
        return page

    def open(self, page, path: str) -> None:
        page.goto(f"{self.url}{path}", wait_until="networkidle")
        skip = page.get_by_role("button", name="Skip")
        if skip.count():
            skip.click()

    def shot(self, page, name: str, always: bool = False) -> None:
        """Keep a screenshot in ``SYNTHCAP_SCREENSHOTS``; ``always``: in ``failures`` too."""
        if self.shots:
            page.screenshot(path=str(self.shots / f"{name}.png"))
        if always:
            page.screenshot(path=str(self.failures / f"{name}.png"))


def own_errors(page) -> list[str]:
    """Console errors of the page, less the failed loads of off-machine URLs (Dagster's UI
    fetches its telemetry script from dagster.io; this machine has no route there)."""
    external = [u for u in page.offline if not u.startswith("http://127.0.0.1")]
    return [e for e in page.errors if not (e.startswith("Failed to load resource") and external)]


def _materialize(home: Path, lake: str, sources: Path) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [SOURCE])
        job = dg.define_asset_job("inputs", selection=dg.AssetSelection.assets(*REPORT_ASSETS))
        defs = dg.Definitions(
            assets=ASSETS,
            asset_checks=CHECKS,
            jobs=[job, readiness_job],
            resources=build_resources(lake, str(sources)),
        )
        for day in (DAY1, DAY2):
            key = partition_key(SOURCE, day)
            assert (
                defs.resolve_job_def("inputs")
                .execute_in_process(partition_key=key, instance=instance)
                .success
            )
        assert (
            defs.resolve_job_def(readiness_job.name)
            .execute_in_process(partition_key=partition_key(SOURCE, DAY2), instance=instance)
            .success
        )


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    root = tmp_path_factory.mktemp("ui")
    home, lake = root / "home", str(root / "lake")
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    sources = copy_bundled(root / "sources", SOURCE)
    reports_port = _free_port()
    env = {
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": lake,
        "SYNTHCAP_SOURCES": str(sources),
        "OPENLINEAGE_DISABLED": "true",
        REPORTS_ENV: "on",
        REPORTS_URL_ENV: f"http://127.0.0.1:{reports_port}",
    }
    mp = pytest.MonkeyPatch()
    for name, value in env.items():
        mp.setenv(name, value)
    _materialize(home, lake, sources)
    lakehouse = LakehouseResource(root=lake)
    server = serve_reports(reports_root(lakehouse), "127.0.0.1", reports_port)
    port, log = _free_port(), root / "webserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(WEBSERVER), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1"]
            + ["-p", str(port)],
            env={**os.environ, **env},
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    shots = os.environ.get("SYNTHCAP_SCREENSHOTS")
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            yield Ui(
                url,
                env[REPORTS_URL_ENV],
                lakehouse,
                browser,
                Path(shots) if shots else None,
                root,
            )
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        server.shutdown()
        mp.undo()


def test_asset_graph_loads_without_console_errors(ui: Ui) -> None:
    page = ui.page()
    ui.open(page, "/locations/synthcap/asset-groups/profile")
    for name in ("raw_capture", "profile", "drift_report", "readiness_score"):
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    ui.shot(page, "asset-graph")
    assert own_errors(page) == []


def test_profile_materialization_shows_its_per_column_table(ui: Ui) -> None:
    page = ui.page()
    key = str(partition_key(SOURCE, DAY2))
    ui.open(page, f"/assets/profile?view=events&partition={key}")
    page.get_by_text(f"Partition {key}").first.wait_for(timeout=60_000)
    # The per-column profile renders inline as a table: a header per statistic, a row per column.
    header = page.locator("th", has_text="null_share").first
    header.wait_for(timeout=60_000)
    table = page.locator("table", has=page.locator("th", has_text="null_share")).first
    cells = table.locator("td").all_inner_texts()
    for column in ("lifetime_value", "signup_channel", "email", "phone"):
        assert column in cells, column
    header.scroll_into_view_if_needed()
    ui.shot(page, "profile-metadata")
    assert own_errors(page) == []


def test_report_draws_every_chart(ui: Ui) -> None:
    from PIL import Image, ImageStat

    html = (reports_root(ui.lake) / SOURCE / f"{DAY2}.html").read_text()
    expected = re.findall(r'data-chart="([^"]+)"', html)
    assert len(expected) >= 6  # readiness, quality, PII and the non-personal distributions
    page = ui.page()
    page.goto(f"{ui.reports_url}/{SOURCE}/{DAY2}.html", wait_until="load")
    figures = page.locator("figure.chart svg")
    assert figures.count() == len(expected)
    blank = []
    for i in range(figures.count()):
        svg = figures.nth(i)
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        image = Image.open(io.BytesIO(svg.screenshot())).convert("L")
        # Drawn: a real size, and ink on the white (axes, bars, lines, labels).
        if box["width"] < 100 or box["height"] < 80 or ImageStat.Stat(image).stddev[0] < 10:
            blank.append(expected[i])
    assert blank == []
    page.evaluate("window.scrollTo(0, 0)")
    ui.shot(page, "report")
    assert own_errors(page) == []


RUNS_QUERY = """
query Runs($key: String!) {
  runsOrError(filter: {tags: [{key: "dagster/partition", value: $key}]}) {
    ... on Runs { results { runId status tags { key value } } }
  }
}
"""


def _partition_runs(ui: Ui, key: str) -> dict[str, dict]:
    """The runs of one partition, by run id (GraphQL, as the UI's Runs page asks)."""
    response = httpx.post(
        f"{ui.url}/graphql", json={"query": RUNS_QUERY, "variables": {"key": key}}, timeout=30
    )
    return {run["runId"]: run for run in response.json()["data"]["runsOrError"]["results"]}


def _open_materialize_dialog(ui: Ui, page):
    """Click "Materialize…" until its dialog is open: Dagster's UI can open a pop-up of its own
    over the page after it loaded (a click then lands on the pop-up), so pop-ups are dismissed
    and the click is tried again."""
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    for _attempt in range(4):
        try:
            page.get_by_role("button", name="Materialize…").first.click(timeout=20_000)
            dialog.wait_for(timeout=20_000)
            return dialog
        except playwright.TimeoutError:
            page.keyboard.press("Escape")
            skip = page.get_by_role("button", name="Skip")
            if skip.count():
                skip.first.click()
    ui.shot(page, "materialize-dialog-missing", always=True)
    raise AssertionError(f"the materialize dialog did not open; screenshot in {ui.failures}")


def test_a_materialization_launched_from_the_ui_succeeds(ui: Ui) -> None:
    """The materialize dialog launches one run of the chosen (source, date), the run launcher
    of the instance (synthcap's) runs it, and it succeeds. The test follows its own run (the
    partition's runs before the click are set aside), not whichever run is latest."""
    key = str(partition_key(SOURCE, DAY2))
    before = set(_partition_runs(ui, key))
    page = ui.page()
    ui.open(page, "/assets/quality_report")
    dialog = _open_materialize_dialog(ui, page)
    # The date picker renders once the partition sets have loaded (tens of seconds under load).
    dates = dialog.get_by_placeholder("ex: ", exact=False).first
    dates.wait_for(timeout=120_000)
    dates.fill(DAY2.isoformat())
    dates.press("Enter")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_text(SOURCE, exact=True).filter(visible=True).last.click()
    page.keyboard.press("Escape")
    ui.shot(page, "materialize-dialog")
    dialog.get_by_role("button", name="Launch 1 run").click()
    deadline = time.monotonic() + 300
    ours: list[dict] = []
    while time.monotonic() < deadline:
        ours = [run for run_id, run in _partition_runs(ui, key).items() if run_id not in before]
        if ours and all(run["status"] in ("SUCCESS", "FAILURE", "CANCELED") for run in ours):
            break
        time.sleep(2)
    assert [run["status"] for run in ours] == ["SUCCESS"], ours
    tags = {tag["key"]: tag["value"] for tag in ours[0]["tags"]}
    assert tags.get(WORKER_PID_TAG, "").isdigit()  # launched through WarmRunLauncher
    assert own_errors(page) == []
