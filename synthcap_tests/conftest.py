"""Shared fixtures: a temporary lake, a catalog folder with bundled sources, a real instance."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

# The date dimension starts at the catalog's earliest start_date (synthcap_assets.partitions);
# tests use their own catalogs and days, so a ./sources left in the checkout must not move it.
os.environ.setdefault("SYNTHCAP_START_DATE", "2024-01-01")
# Readiness runs write a visual report (about 2 s of charts); tests that look at it turn it on.
os.environ.setdefault("SYNTHCAP_REPORTS", "off")

from synthcap_resources.catalog import BUNDLED_SOURCES_DIR

warnings.filterwarnings("ignore", category=UserWarning, module="dagster")


def copy_bundled(folder: Path, *source_ids: str) -> Path:
    """Copy the bundled specs of ``source_ids`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for source_id in source_ids:
        shutil.copy(BUNDLED_SOURCES_DIR / f"{source_id}.yaml", folder / f"{source_id}.yaml")
    return folder


@pytest.fixture
def lake(tmp_path: Path) -> str:
    return str(tmp_path / "lake")


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return copy_bundled(tmp_path / "sources", "market_prices", "customers")
