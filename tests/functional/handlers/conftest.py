"""Every test here runs in a fresh, fake AWS environment and a cold container (see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated(atlas_env: pytest.MonkeyPatch) -> None:
    """Switch on tests/conftest.py's ``atlas_env`` for every test in this folder."""
