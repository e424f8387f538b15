"""One capture measurement in a fresh process: import the tool, reset the peak-memory mark,
capture one case, print seconds (wall and this process's CPU), rows/s and the peak memory
above the starting size as JSON.

Imports stay outside the clock for both tools alike (``WARM_IMPORTS``): each tool's own
modules for the case and the libraries it would otherwise import lazily on its first use
(dlt: its pyarrow and deltalake helpers, DuckDB, ConnectorX or SQLAlchemy; synthcap: its
connector, contract, erasure and commit modules, ConnectorX, pyarrow), so the clock measures
the capture, as in a long-running worker, not the Python imports.

``python -m synthcap_assets.bench.capture_worker TOOL CASE_JSON [BACKEND]``.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from functools import partial
from pathlib import Path

from synthcap_assets.bench.capture_tools import SYNTHCAP_BACKENDS, TOOLS, Case
from synthcap_assets.bench.memory import memory_mb, reset_peak

_SYNTHCAP = [
    "pyarrow",
    "synthcap_resources.sources.registry",
    "synthcap_assets.capture.commit",
    "synthcap_assets.capture.contract_store",
    "synthcap_assets.privacy.erasure",
]
_DLT = ["dlt", "dlt.common.libs.pyarrow", "dlt.common.libs.deltalake", "deltalake"]
WARM_IMPORTS: dict[tuple[str, str, str | None], list[str]] = {
    ("synthcap", "csv", None): [*_SYNTHCAP, "synthcap_resources.sources.files"],
    ("synthcap", "postgres", None): [*_SYNTHCAP, "synthcap_resources.sources.database"],
    ("synthcap", "nats", None): [*_SYNTHCAP, "synthcap_resources.sources.stream"],
    ("dlt", "csv", "read_csv_duckdb"): [*_DLT, "dlt.sources.filesystem", "duckdb"],
    ("dlt", "csv", "pyarrow.csv"): [*_DLT, "pyarrow.csv"],
    ("dlt", "postgres", "connectorx"): [*_DLT, "dlt.sources.sql_database", "connectorx"],
    ("dlt", "postgres", "pyarrow"): [*_DLT, "dlt.sources.sql_database", "psycopg"],
}


def measure(tool: str, case: Case, backend: str | None = None) -> dict:
    function = TOOLS[tool] if backend is None else partial(TOOLS[tool], backend=backend)
    for module in WARM_IMPORTS[(tool, case.name, backend)]:
        importlib.import_module(module)
    before = memory_mb("VmRSS")
    reset_peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = function(case)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return {
        "tool": tool,
        "case": case.name,
        "backend": backend or SYNTHCAP_BACKENDS[case.name],
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,  # this process's threads (not a database server's)
        "rows_per_s": rows / seconds if seconds else 0.0,
        "peak_mb": max(0.0, memory_mb("VmHWM") - before),
    }


def main(tool: str, case_json: str, backend: str | None = None) -> None:
    raw = json.loads(case_json)
    case = Case(**{k: Path(v) if k in ("workdir", "csv_path") and v else v for k, v in raw.items()})
    print(json.dumps(measure(tool, case, backend)))


if __name__ == "__main__":
    main(*sys.argv[1:])
