"""scripts/check_collection.py: `make test` fails when a test file under tests/ is not collected by pytest.

Each case builds a small repository in tmp_path with this repository's pytest configuration (pyproject.toml)
and runs the script on it as `make test` does, in a fresh interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "scripts" / "check_collection.py"
PASSING = "def test_ok():\n    assert 1 + 1 == 2\n"


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A repository at ``root`` with our pyproject.toml and ``files`` (relative path -> content)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(root)],
        cwd=root.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


SKIPPED_FOLDERS = ("build", "dist", ".hidden", "venv")  # a few of pytest's default norecursedirs


def test_test_folders_pytest_skips_fail_the_check(tmp_path: Path) -> None:
    files = {f"tests/unit/{folder}/test_in_{folder.strip('.')}.py": PASSING for folder in SKIPPED_FOLDERS}
    repo = make_repo(tmp_path / "repo", {**files, "tests/unit/other/test_seen.py": PASSING})

    result = check(repo)

    assert result.returncode == 1, result.stdout + result.stderr
    for relative in files:
        assert relative in result.stdout
    assert "test_seen.py" not in result.stdout
    assert f"{len(files)} of {len(files) + 1} test files" in result.stdout


def test_the_reason_names_the_matching_folder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"tests/functional/build/test_zip.py": PASSING})

    result = check(repo)

    assert result.returncode == 1
    assert "folder 'build' matches pytest's norecursedirs pattern 'build'" in result.stdout


def test_a_file_ignored_by_a_conftest_fails_the_check(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"tests/conftest.py": 'collect_ignore = ["x_test.py"]\n', "tests/x_test.py": PASSING},
    )

    result = check(repo)

    assert result.returncode == 1
    assert "tests/x_test.py" in result.stdout


def test_every_file_collected_passes_even_one_skipped_at_module_level(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "tests/unit/build_tool/test_a.py": PASSING,
            "tests/e2e/test_needs_terraform.py": (
                "import pytest\n\npytest.skip('no terraform', allow_module_level=True)\n\n\n" + PASSING
            ),
            "tests/unit/helpers.py": "X = 1\n",
        },
    )

    result = check(repo)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 2 test files under tests/ are collected" in result.stdout


def test_a_collection_error_is_exit_2_with_pytest_output(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"tests/test_broken.py": "def test_x(:\n"})

    result = check(repo)

    assert result.returncode == 2
    assert "test_broken.py" in result.stderr


def test_this_repository_collects_every_test_file() -> None:
    result = check(REPO_ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_make_test_runs_the_check() -> None:
    """`make test` depends on `check-collection`, whose recipe runs the script (dry run: nothing executes)."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    test_prerequisites = next(line for line in makefile.splitlines() if line.startswith("test:")).split()[1:]
    assert "check-collection" in test_prerequisites

    dry_run = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "check-collection"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert dry_run.returncode == 0, dry_run.stderr
    assert "scripts/check_collection.py" in dry_run.stdout
