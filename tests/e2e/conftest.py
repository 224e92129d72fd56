"""End-to-end fixtures: the `make run` flow of scripts/local_run.py, reused, not re-implemented.

`applied_stack` (module scope) builds the zips with build.py (incremental: a no-change run takes well under a
second), starts moto server, creates the Lex V2 bot and alias, and applies examples/local with fresh state in
.cache/e2e/. Tests that need it skip, with the reason, when terraform is not on PATH or build.py is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import REPO_ROOT, AppliedStack, local_run, plugin_dir


@pytest.fixture(scope="session")
def built_manifest() -> Path:
    """dist/manifest.json, brought up to date by `python build.py` (skips when terraform or build.py is missing)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the end-to-end tests apply examples/local with it")
    build_py = REPO_ROOT / "build.py"
    if not build_py.is_file():
        pytest.skip("build.py is missing, so there are no zips to deploy")
    result = subprocess.run([sys.executable, str(build_py)], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"python build.py failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    manifest = REPO_ROOT / "dist" / "manifest.json"
    if not manifest.is_file():
        pytest.skip("python build.py wrote no dist/manifest.json")
    return manifest


@pytest.fixture(scope="session")
def e2e_settings(built_manifest: Path) -> local_run.LocalRunSettings:
    """Settings of the end-to-end run: like `make run`, with its own work dir (.cache/e2e)."""
    return local_run.LocalRunSettings(
        manifest_path=built_manifest,
        work_dir=REPO_ROOT / ".cache" / "e2e",
        python=sys.executable,
        plugin_dir=plugin_dir(),
    )


@pytest.fixture(scope="module")
def applied_stack(e2e_settings: local_run.LocalRunSettings) -> Iterator[AppliedStack]:
    """moto server with examples/local applied once; moto is stopped after the module's tests."""
    manifest = local_run.read_manifest(e2e_settings.manifest_path)
    with local_run.local_stack(e2e_settings) as stack:
        applied = stack.apply()
        yield AppliedStack(stack=stack, manifest=manifest, outputs=stack.outputs(), apply_stdout=applied.stdout)
