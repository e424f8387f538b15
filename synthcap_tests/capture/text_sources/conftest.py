"""Each test's HTTP cache and rate-limit state in its own folder (``SYNTHCAP_STATE_DIR``)."""

import pytest

from synthcap_resources.sources.registry import STATE_DIR_ENV


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
