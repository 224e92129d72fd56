"""Every test here runs in a fresh, fake AWS environment and a cold container (see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(atlas_env: pytest.MonkeyPatch) -> None:
    """Switch on tests/conftest.py's ``atlas_env`` for every test in this folder."""


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bedrock's retry backoff doesn't sleep in tests; the deadline tests move a fake clock instead."""
    from atlas_shared import bedrock

    monkeypatch.setattr(bedrock, "_sleep", lambda seconds: None)
