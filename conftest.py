"""Repository-wide test setup, for tests/ and the package's doctests alike."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own privsynth state folder (the ledger witness), never ~/.local."""
    monkeypatch.setenv("PRIVSYNTH_STATE_DIR", str(tmp_path_factory.mktemp("state")))
