"""One capture measurement in a fresh process: import the tool, reset the peak-memory mark,
capture one case, print seconds, rows/s and the peak memory above the starting size as JSON.

``python -m synthcap_assets.bench.capture_worker TOOL CASE_JSON [BACKEND]``.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path

from synthcap_assets.bench.capture_tools import SYNTHCAP_BACKENDS, TOOLS, Case
from synthcap_assets.bench.memory import memory_mb, reset_peak


def measure(tool: str, case: Case, backend: str | None = None) -> dict:
    function = TOOLS[tool] if backend is None else partial(TOOLS[tool], backend=backend)
    if tool == "dlt":
        import dlt  # noqa: F401  (its import time stays outside the clock, like ours)
    else:
        import synthcap_resources.sources.registry  # noqa: F401
    before = memory_mb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    rows = function(case)
    seconds = time.perf_counter() - started
    return {
        "tool": tool,
        "case": case.name,
        "backend": backend or SYNTHCAP_BACKENDS[case.name],
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "peak_mb": max(0.0, memory_mb("VmHWM") - before),
    }


def main(tool: str, case_json: str, backend: str | None = None) -> None:
    raw = json.loads(case_json)
    case = Case(**{k: Path(v) if k in ("workdir", "csv_path") and v else v for k, v in raw.items()})
    print(json.dumps(measure(tool, case, backend)))


if __name__ == "__main__":
    main(*sys.argv[1:])
