"""ydata-profiling for ``synthcap bench profile``, in a virtual environment of its own.

ydata-profiling pins numpy and scipy below what synthcap needs, so it cannot share our
environment. The bench makes one under ``.bench_envs/ydata`` (``SYNTHCAP_BENCH_ENVS`` moves it;
git-ignored) with ``python -m venv`` and pip, the first time it is needed, and reuses it while
the requirements it was made with are unchanged. The table is made here (same seed, same bytes)
and handed over as a Parquet file; ``ydata_worker.py``, which imports nothing of synthcap, runs
in that environment. ``ensure_env`` makes the other peers' environments too (datatrove for
``synthcap bench text``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

from synthcap_assets.bench.data import make_table

REQUIREMENTS = ("ydata-profiling>=4.10,<5", "setuptools<81", "pyarrow>=18,<27")
YDATA_MAX_ROWS = 10_000_000
WORKER = Path(__file__).with_name("ydata_worker.py")


class BenchEnvError(RuntimeError):
    """The peer's environment could not be made or its run failed."""


def env_dir(name: str = "ydata") -> Path:
    """Where the bench keeps peer environment ``name``."""
    return Path(os.environ.get("SYNTHCAP_BENCH_ENVS", ".bench_envs")).resolve() / name


def ensure_env(folder: Path | None = None, requirements: tuple[str, ...] = REQUIREMENTS) -> Path:
    """The python of the environment at ``folder`` (default: ydata's) holding ``requirements``,
    made (or remade) when missing or made with other requirements."""
    folder = folder or env_dir()
    python = folder / "bin" / "python"
    marker = folder / "synthcap-requirements.txt"
    wanted = "\n".join(requirements)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *requirements],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchEnvError(
            f"pip could not install {', '.join(requirements)} into {folder}:\n{done.stderr[-2000:]}"
        )
    marker.write_text(wanted)
    return python


def run_ydata(rows: int, seed: int = 0, max_rows: int = YDATA_MAX_ROWS) -> dict:
    """ydata-profiling's row of the profile benchmark (minimal mode, whole table up to
    ``max_rows``; beyond, that many rows with the time scaled linearly, said in ``note``)."""
    python = ensure_env()
    measured = min(rows, max_rows)
    with tempfile.TemporaryDirectory(prefix="synthcap_ydata_") as tmp:
        path = Path(tmp) / "table.parquet"
        make_table(measured, seed).write_parquet(path)
        done = subprocess.run([str(python), str(WORKER), str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchEnvError(f"ydata-profiling on {measured} rows failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(tool="ydata-profiling", rows=rows, python=str(python))
    if measured != rows:
        scale = rows / measured
        result.update(measured_rows=measured, note=f"measured on {measured} rows, time scaled")
        result["seconds"] *= scale
        for family in result["families"].values():
            family["seconds"] *= scale
    return result


if __name__ == "__main__":
    print(ensure_env(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
