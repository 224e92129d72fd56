"""Fixtures for the AtlasEngineWorkflow definition tests (helpers live in workflow_template.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from workflow_template import TEMPLATE_PATH, render_definition


@pytest.fixture(scope="session")
def template_text() -> str:
    return TEMPLATE_PATH.read_text()


@pytest.fixture(scope="session")
def definition(template_text: str) -> dict[str, Any]:
    """The module's default definition, rendered with the test alias ARNs and parsed."""
    return json.loads(render_definition(template_text))
