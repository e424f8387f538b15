"""Issue 14's Bar on a real text set kept outside the project, captured as a new user would.

The text is XZ Utils' messages in English and twelve translations, read from the gettext
catalogs the OS installed (``text_bar_data.py``, public domain); a catalog entry, daily CSV
files and a Dagster home are written under ``tmp_path`` and ``synthcap materialize`` runs over
them in a subprocess. Planted: one literal of every PII type the redactor knows per day,
exact copies (case, spacing, punctuation changed) and near copies (one character changed)
within the day, and verbatim and near copies of earlier days. The run must report PII per type
and keep every literal out of every table after ``raw/`` (values and the Delta logs' column
statistics), show a language mix, a text drift row, a readiness row per day, and count exactly
the planted duplicates (the real documents were picked with no two alike).

CI runs two days of 40 documents each (about a minute on an idle 2-core machine); the slow
variant runs three days of 150: ``pytest synthcap_tests/realdata/test_text_bar.py -m slow``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable

from synthcap_tests.realdata.text_bar_data import (
    LANGUAGES,
    PlantedDay,
    catalogs_present,
    jaccard,
    plant_days,
)

pytestmark = pytest.mark.skipif(
    not catalogs_present(), reason="xz's gettext catalogs are not all in /usr/share/locale"
)
REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = "xz_messages"
START = dt.date(2026, 12, 1)
TIMEOUT_S = 1800  # generous: the machine is shared and a loaded one is several times slower


@dataclass
class Captured:
    days: list[PlantedDay]
    lake: Path
    output: str
    returncode: int

    def table(self, path: str) -> pl.DataFrame:
        location = self.lake / path
        if not (location / "_delta_log").is_dir():
            return pl.DataFrame()
        return pl.read_delta(str(location))

    def report(self, name: str) -> pl.DataFrame:
        df = self.table(f"reports/{name}")
        return df.filter(pl.col("source") == SOURCE) if not df.is_empty() else df


def _catalog_entry(root: Path, days: list[PlantedDay]) -> str:
    canaries = ", ".join(f'"{v}"' for d in days for v in d.pii.values())
    return textwrap.dedent(f"""\
        id: {SOURCE}
        title: XZ Utils messages and their translations
        kind: file
        location: {root / "data"}/{{date}}.csv
        format: csv
        start_date: {START}
        license: LicenseRef-PublicDomain
        terms_url: https://tukaani.org/xz/
        domain: text
        text_column: body
        schema:
          msg_id: str
          lang: str
          body: str
        text:
          canaries: [{canaries}]
        """)


def capture(root: Path, n_days: int, per_day: int) -> Captured:
    """Write the catalog and the days under ``root`` and run ``synthcap materialize``."""
    days = plant_days(START, n_days, per_day)
    (root / "data").mkdir(parents=True)
    (root / "sources").mkdir()
    for d in days:
        pl.DataFrame(
            {
                "msg_id": [f"{d.day:%m%d}-{i}" for i in range(len(d.rows))],
                "lang": [lang for lang, _ in d.rows],
                "body": [text for _, text in d.rows],
            }
        ).write_csv(root / "data" / f"{d.day}.csv")
    (root / "sources" / f"{SOURCE}.yaml").write_text(_catalog_entry(root, days))
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SYNTHCAP_LAKE": str(root / "lake"),
        "SYNTHCAP_SOURCES": str(root / "sources"),
        "SYNTHCAP_LINEAGE_TRANSPORTS": "none",
    }
    synthcap = Path(sys.executable).with_name("synthcap")
    args = ["materialize", "--source", SOURCE, "--from", str(days[0].day), "--to"]
    done = subprocess.run(
        [str(synthcap), *args, str(days[-1].day)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    return Captured(days, root / "lake", done.stdout + done.stderr, done.returncode)


def _needles(days: list[PlantedDay]) -> list[str]:
    return [v for d in days for v in d.pii.values()]


# reports/profile keeps value labels of every column (top_values, value_labels); a text column's
# labels are whole documents, so the profile redacts them (profile.stats.redacted_counts).


def leaks(run: Captured) -> dict[str, list[str]]:
    """Per table after raw/ (values, and the Delta log's JSON with its column statistics),
    the planted literals found in it."""
    needles = _needles(run.days)
    found: dict[str, list[str]] = {}
    for log_dir in run.lake.rglob("_delta_log"):
        table = log_dir.parent
        if "raw" in table.parts:
            continue
        name = str(table.relative_to(run.lake))
        frame = pl.from_arrow(DeltaTable(str(table)).to_pyarrow_table())
        strings = frame.select(pl.col(pl.String), pl.col(pl.List(pl.String)).list.join(" "))
        logs = " ".join(p.read_text(encoding="utf-8") for p in log_dir.glob("*.json"))
        hits = [
            n
            for n in needles
            if n in logs
            or any(strings[c].str.contains(n, literal=True).any() for c in strings.columns)
        ]
        if hits:
            found[name] = hits
    return found


def check_bar(run: Captured) -> None:
    """Every assertion of the Bar (module doc) on one captured run."""
    days = run.days
    for d in days:  # the plants are what they claim to be (reference Jaccard, Python sets)
        for i, original in d.originals.items():
            assert jaccard(original, d.rows[i][1]) >= 0.9, (d.day, i)
    # Every partition ran to its verdict: a failure may only be a check saying no (a text
    # source's synthetic sample is not useful: its one column is free text), never a crash.
    failures = re.findall(r"^failed: \S+ \S+: (.*)$", run.output, re.MULTILINE)
    assert all(f.startswith("checks failed") for f in failures), run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    raw = run.table(f"raw/{SOURCE}")
    assert raw.height == sum(len(d.rows) for d in days)

    # PII per type, each day; none of the literals after raw/, in values or Delta logs.
    profile = run.report("text_profile")
    for d in days:
        pii = profile.filter((pl.col("date") == d.day) & (pl.col("metric") == "pii_type"))
        found = dict(pii.select("key", "value").iter_rows())
        assert found == dict.fromkeys(d.pii, 1.0), d.day  # the real documents hold none
    leaked = leaks(run)
    assert not leaked, leaked
    assert (run.lake / "features" / SOURCE / "_delta_log").is_dir()

    # A language mix with more than one language, the labels mostly agreeing.
    docs = run.report("text_documents").sort("date", "doc")
    mix = profile.filter(pl.col("metric") == "language").group_by("key").agg(pl.col("value").sum())
    assert len(set(mix["key"]) & {"en", *LANGUAGES.values()}) >= 8, mix
    assert mix["value"].max() < 0.3 * docs.height
    labels = pl.Series([lang for d in days for lang, _ in d.rows])
    assert (docs["language"] == labels).mean() >= 0.9

    # Exact and near duplicates within the day and across days: exactly the planted ones.
    for d in days:
        day = docs.filter(pl.col("date") == d.day)
        assert day.height == len(d.rows)
        assert day.filter("exact_duplicate")["doc"].to_list() == d.exact, d.day
        assert day.filter("near_duplicate")["doc"].to_list() == d.near, d.day
        seen = day.filter(pl.col("seen_before").is_not_null())["doc"].to_list()
        assert seen == d.seen_before, d.day
        counts = dict(
            profile.filter((pl.col("date") == d.day) & (pl.col("key") == ""))
            .select("metric", "value")
            .iter_rows()
        )
        assert counts["exact_duplicates"] == len(d.exact)
        assert counts["near_duplicates"] == len(d.near)
        assert counts["seen_before"] == len(d.seen_before)

    # The clean corpus: a partition per day without the duplicates, labels kept.
    corpus = run.table(f"features/{SOURCE}")
    for d in days:
        kept = corpus.filter(pl.col("_date") == d.day)
        dropped = len(d.exact) + len(d.near) + len(d.seen_before)
        assert kept.height == len(d.rows) - dropped
        assert {"lang", "body__language", "body__pii_types"} <= set(kept.columns)

    # A text drift row for every day after the first, a readiness row for every day.
    drift = run.report("drift_report").filter(pl.col("column") == "body")
    for d in days[1:]:
        row = drift.filter(pl.col("date") == d.day)
        assert row["kind"].to_list() == ["text"], row
        assert row["method"][0], row
    readiness = run.report("readiness_score")
    assert sorted(readiness["date"].to_list()) == [d.day for d in days]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Captured:
    return capture(tmp_path_factory.mktemp("text_bar"), n_days=2, per_day=40)


def test_text_bar_on_real_translations(captured: Captured) -> None:
    check_bar(captured)


@pytest.mark.slow
def test_text_bar_on_real_translations_three_days(tmp_path: Path) -> None:
    check_bar(capture(tmp_path, n_days=3, per_day=150))
