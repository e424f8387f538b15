"""``synthcap bench profile``: every tool on the same table, each in its own process, in one run.

Each tool computes the statistic set family by family (``families.FAMILIES``), each family
timed alone, and the whole set (``seconds``: one run of it where the tool has one, synthcap's
fused passes or polars' ``collect_all``; else the families' sum). Every family carries its
accuracy class (``exact``, or ``approximate`` with its method and bound); a row is ``exact``
only when all its families are. ``ratio`` is ``tool_seconds / synthcap_seconds`` (synthcap's
sketch path; above 1 means synthcap is faster). The one-pass floor (``floor``) is measured in
the same run and synthcap's fraction of it printed per family. ydata-profiling runs in an
environment of its own (``ydata_env``: its numpy/scipy pins clash with ours), on the whole table.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from synthcap_assets.bench.families import FAMILIES
from synthcap_assets.bench.floor import family_floors, memory_bandwidth
from synthcap_assets.bench.ydata_env import BenchEnvError, run_ydata

TOOLS = (
    "synthcap",
    "synthcap-exact",
    "polars",
    "duckdb",
    "duckdb-exact",
    "numpy",
    "ydata-profiling",
)
PEERS_ONLY = {"ydata-profiling"}
DEFAULT_ROWS = 10_000_000
SHORT = {
    "moments": "moments",
    "quantiles": "quant",
    "histograms": "hist",
    "distinct": "dist",
    "pearson": "pearson",
    "spearman": "spearman",
    "cramers_v": "cramer",
    "top_values": "top",
}


class BenchError(RuntimeError):
    """A benchmark worker failed; the message carries its error output."""


def _run_worker(tool: str, rows: int, seed: int) -> dict:
    if tool == "ydata-profiling":
        return run_ydata(rows, seed)
    command = [sys.executable, "-m", "synthcap_assets.bench.worker", tool, str(rows)]
    done = subprocess.run([*command, "--seed", str(seed)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"{tool} on {rows} rows failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _targets(results: list[dict]) -> dict:
    """The issue's bar, as measured: synthcap's sketch path against the fastest peer's whole
    run, and per family against the fastest peer that also approximates that family."""
    ours = next(r for r in results if r["tool"] == "synthcap")
    peers = [r for r in results if not r["tool"].startswith("synthcap")]
    out: dict = {}
    if peers:
        fastest = min(peers, key=lambda r: r["seconds"])
        out["whole"] = {
            "peer": fastest["tool"],
            "ratio": fastest["seconds"] / ours["seconds"],
            "target": 2.0,
        }
    for family in FAMILIES:
        approximating = [
            r for r in peers if r["families"].get(family, {}).get("accuracy") == "approximate"
        ]
        if approximating:
            best = min(approximating, key=lambda r: r["families"][family]["seconds"])
            mine = ours["families"][family]["seconds"]
            out[family] = {
                "peer": best["tool"],
                "target": 3.0,
                "ratio": best["families"][family]["seconds"] / mine,
            }
    return out


def run_profile_bench(rows: int, tools: list[str] | None = None, seed: int = 0) -> dict:
    """Measure every requested tool on ``rows`` rows and return the JSON document."""
    chosen = list(tools or TOOLS)
    if "synthcap" not in chosen:
        chosen.insert(0, "synthcap")
    bandwidth = memory_bandwidth()
    results, skipped = [], {}
    for tool in chosen:
        try:
            results.append(_run_worker(tool, rows, seed))
        except BenchEnvError as exc:  # no network for pip, say: the row says why it is missing
            skipped[tool] = str(exc).splitlines()[0]
    base = next(r for r in results if r["tool"] == "synthcap")
    for result in results:
        result["ratio"] = result["seconds"] / base["seconds"]
        for family, timing in result["families"].items():
            if family in base["families"]:
                timing["ratio"] = timing["seconds"] / base["families"][family]["seconds"]
    floors = family_floors(base["numeric_bytes"], base["categorical_bytes"], bandwidth)
    return {
        "bench": "profile",
        "rows": rows,
        "results": results,
        "skipped": skipped,
        "floor": {
            "bandwidth_gb_s": bandwidth / 1e9,
            "seconds": floors,
            "synthcap_fraction": {f: floors[f] / base["families"][f]["seconds"] for f in FAMILIES},
            "synthcap_whole_fraction": sum(floors[f] for f in FAMILIES if f not in ("histograms",))
            / base["seconds"],
        },
        "targets": _targets(results),
        "how": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
            "python": platform.python_version(),
            "method": "one fresh process per tool; table built in memory first (polars); "
            "imports warmed on 10k rows outside the clock (synthcap: JIT compilation warmed "
            "on a same-sized table, other seed); each family timed alone, then the whole set; "
            "peak_mb is the Linux high-water mark above the process size with the table "
            "loaded; floor = bytes read once / measured memory bandwidth",
        },
    }


def format_table(document: dict) -> str:
    """The results as a fixed-width text table: whole run, then seconds per family with its
    class (``e`` exact, ``a`` approximate)."""
    lines = [
        f"profile benchmark: {document['rows']:,} rows × 10 float64 (5% nulls) + 2 "
        "categorical columns",
        f"{'tool':<16}{'class':<7}{'seconds':>9}{'peak MB':>9}{'ratio':>7}  "
        + "".join(f"{SHORT[f]:>10}" for f in FAMILIES),
    ]
    for r in document["results"]:
        cells = ""
        for f in FAMILIES:
            timing = r["families"].get(f)
            cells += f"{timing['seconds']:>9.3f}{timing['accuracy'][0]}" if timing else f"{'-':>10}"
        lines.append(
            f"{r['tool']:<16}{r['accuracy'][:6]:<7}{r['seconds']:>9.3f}{r['peak_mb']:>9.0f}"
            f"{r['ratio']:>7.2f}  {cells}  {r.get('note', '')}"
        )
    for tool, why in document.get("skipped", {}).items():
        lines.append(f"{tool:<16}skipped: {why}")
    floor = document["floor"]
    lines.append(
        f"{'one-pass floor':<41}"
        + "".join(f"{floor['seconds'][f]:>9.4f} " for f in FAMILIES)
        + f" ({floor['bandwidth_gb_s']:.1f} GB/s measured)"
    )
    lines.append(
        f"{'synthcap / floor':<41}"
        + "".join(f"{1 / floor['synthcap_fraction'][f]:>9.1f}x" for f in FAMILIES)
    )
    base = next(r for r in document["results"] if r["tool"] == "synthcap")
    if "bounds" in base:
        b = base["bounds"]
        lines.append(
            f"synthcap's measured bounds: quantile rank error {b['quantile_rank_error']:.3%} "
            f"of the count; histogram bins within {b['histogram_count_bound']:,} counts; "
            f"Spearman within {b['spearman_bound']:.4f}; distinct exact for "
            f"{b['distinct_exact_columns']} of 10 numeric columns (else HLL, 0.81% s.e.)"
        )
    for name, t in document["targets"].items():
        mark = "met" if t["ratio"] >= t["target"] else "NOT met"
        what = "whole run" if name == "whole" else name
        lines.append(
            f"target {what}: {t['peer']} / synthcap = {t['ratio']:.2f} (target "
            f">= {t['target']:.0f}): {mark}"
        )
    lines.append(
        f"table size {base['table_mb']:.0f} MB; ratio = tool seconds / synthcap seconds; "
        "class per family: e exact, a approximate (methods and bounds in the JSON); "
        + document["how"]["method"]
    )
    return "\n".join(lines)


def write_json(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
