"""``synthcap --help`` and ``synthcap sources`` stay light: building the parser and reading the
catalog import neither JAX, Dagster, torch, polars nor DuckDB (the modules whose import costs
seconds). Checked on ``sys.modules`` in a fresh interpreter, not by timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from synthcap_resources.catalog import BUNDLED_SOURCES_DIR

HEAVY = ("jax", "dagster", "torch", "polars", "duckdb", "snsynth", "deltalake")


def _loaded_after(code: str) -> list[str]:
    probe = (
        code + f"\nimport json, sys; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_builds_the_parser_without_heavy_imports() -> None:
    loaded = _loaded_after(
        "import synthcap_assets.cli as cli\n"
        "parser = cli.build_parser([])\n"
        "text = parser.format_help()\n"
        "assert all(name in text for name in cli.PLUGIN_COMMANDS), text"
    )
    assert loaded == []


def test_sources_lists_the_catalog_without_heavy_imports() -> None:
    loaded = _loaded_after(
        "import contextlib, io\n"
        "from synthcap_assets.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['sources', '--folder', {str(BUNDLED_SOURCES_DIR)!r}])\n"
        "assert code == 0 and 'market_prices' in out.getvalue(), out.getvalue()"
    )
    assert loaded == []


def test_a_plugin_command_gets_its_full_parser(tmp_path: Path) -> None:
    """A plugin command's module is loaded when it runs (its own options parse)."""
    done = subprocess.run(
        [sys.executable, "-m", "synthcap_assets.cli", "lineage", "--help"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "--column" in done.stdout
