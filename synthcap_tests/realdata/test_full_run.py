"""The larger real-data run (marked slow, not in CI): every test of this folder again, on the
full tables split into four days, in a child pytest so the session lake is built that way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthcap_tests.realdata.conftest import FULL_DAYS_ENV, REPO_ROOT

FULL_DAYS = 4


@pytest.mark.slow
def test_every_realdata_assertion_holds_on_full_tables_over_four_days() -> None:
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(here),
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
        ],
        env={**os.environ, FULL_DAYS_ENV: str(FULL_DAYS)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-4000:]
