"""Helpers shared by the end-to-end tests (imported by conftest.py and the tests; not a test module)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO_ROOT / "scripts"
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

import local_run  # noqa: E402


@dataclass
class AppliedStack:
    """The local stack after the first apply: the live handle, the manifest it was applied with, its outputs, and
    what the apply printed (the deploy waits' lines among it)."""

    stack: local_run.LocalStack
    manifest: dict[str, Any]
    outputs: dict[str, Any]
    apply_stdout: str = ""


def plugin_dir() -> str | None:
    """The provider mirror `make` would pass (TF_PLUGIN_DIR, else scripts/tf-plugin-dir's answer), or None."""
    found = subprocess.run(
        [str(SCRIPTS_DIR / "tf-plugin-dir")], capture_output=True, text=True, check=False
    ).stdout.strip()
    return found or None
