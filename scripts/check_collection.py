"""Fail when a test file under tests/ is not collected by pytest (`make test` runs this; issue 6 section 1).

pytest skips, without a word, every folder that matches ``norecursedirs`` (by default ``*.egg``, ``.*``,
``_darcs``, ``build``, ``CVS``, ``dist``, ``node_modules``, ``venv``, ``{arch}``), every folder that holds a
virtualenv, and every path a ``conftest.py`` puts in ``collect_ignore``. Tests in such a place pass for ever
because they never run: 174 of them did, in tests/unit/build and tests/functional/build, until those were
renamed. See https://docs.pytest.org/en/stable/reference/reference.html#confval-norecursedirs.

What it does:

1. Lists the test files on disk: every ``test_*.py`` and ``*_test.py`` (pytest's default ``python_files``)
   under ``<root>/tests``, at any depth, hidden and ``build``/``dist`` folders included (``__pycache__`` aside).
2. Runs ``python -m pytest --collect-only -q`` in ``<root>`` with no paths, exactly as ``make pytest`` collects
   (``testpaths`` and the rest of the root's pytest configuration apply), with this file loaded as a plugin
   (``-p check_collection``) that records every file pytest opens for collection. A file is collected when
   pytest opens it, even if every test in it is then skipped (e.g. ``pytest.skip(allow_module_level=True)``
   when terraform is missing); its node ids alone would miss such a file.
3. Compares the two lists.

Usage::

    .venv/bin/python scripts/check_collection.py [--root DIR] [--python PYTHON]

Exit codes: 0 every test file is collected; 1 some are not (listed, with the likely reason); 2 pytest's
collection itself failed (import errors and the like; its output is printed) or bad arguments.

It needs nothing but the repository and an interpreter with pytest, so it works on a fresh clone.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
RECORD_ENV = "CHECK_COLLECTION_RECORD"
# pytest's default norecursedirs, for the hint on each missing file (the configured value decides, not this).
DEFAULT_NORECURSEDIRS = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def pytest_collectstart(collector: object) -> None:
    """pytest hook (this module is loaded with ``-p check_collection``): append each file collector's path to
    the file named by $CHECK_COLLECTION_RECORD."""
    import pytest

    record = os.environ.get(RECORD_ENV)
    if record and isinstance(collector, pytest.File):
        with open(record, "a", encoding="utf-8") as out:
            out.write(f"{collector.path}\n")


def files_on_disk(tests_dir: Path) -> set[Path]:
    """Every file under ``tests_dir`` whose name matches TEST_FILE_PATTERNS (absolute, resolved paths)."""
    found: set[Path] = set()
    for folder, subfolders, files in os.walk(tests_dir):
        subfolders[:] = [d for d in subfolders if d != "__pycache__"]
        for name in files:
            if any(fnmatch.fnmatch(name, pattern) for pattern in TEST_FILE_PATTERNS):
                found.add((Path(folder) / name).resolve())
    return found


def collected_files(root: Path, python: str) -> tuple[set[Path], subprocess.CompletedProcess[str]]:
    """Run ``python -m pytest --collect-only -q`` in ``root`` with the recording plugin.

    Returns:
        The resolved paths of the files pytest opened for collection, and the finished process (its exit code
        is pytest's: 0 collected, 5 nothing collected, 2 errors during collection, 4 usage error).
    """
    with tempfile.TemporaryDirectory(prefix="check-collection-") as scratch:
        record = Path(scratch) / "collected.txt"
        record.touch()
        env = {
            **os.environ,
            RECORD_ENV: str(record),
            "PYTHONPATH": os.pathsep.join(
                filter(None, (str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH")))
            ),
        }
        # -p no:cacheprovider: a check must not write .pytest_cache (nor read --lf state from it).
        process = subprocess.run(
            [python, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "check_collection"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        paths = {Path(line).resolve() for line in record.read_text(encoding="utf-8").splitlines() if line}
    return paths, process


def _reason(path: Path, tests_dir: Path) -> str:
    """A likely reason pytest skipped ``path``: the first folder on its way that a default pattern matches."""
    for part in path.relative_to(tests_dir).parts[:-1]:
        for pattern in DEFAULT_NORECURSEDIRS:
            if fnmatch.fnmatch(part, pattern):
                return f"folder {part!r} matches pytest's norecursedirs pattern {pattern!r}: rename it"
    return "check norecursedirs, --ignore and collect_ignore in pyproject.toml and conftest.py files"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit code described in the module docstring."""
    parser = argparse.ArgumentParser(
        prog="check_collection.py", description="Fail when a test file under tests/ is not collected by pytest."
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: this script's repository)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with pytest (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    tests_dir = root / "tests"
    if not tests_dir.is_dir():
        print(f"check_collection: {tests_dir} is not a folder", file=sys.stderr)
        return 2

    on_disk = files_on_disk(tests_dir)
    collected, process = collected_files(root, args.python)
    if process.returncode not in (0, 5):
        print(
            f"check_collection: `pytest --collect-only` exited with {process.returncode} in {root}; its output:\n"
            f"{process.stdout}{process.stderr}",
            file=sys.stderr,
        )
        return 2

    missing = sorted(on_disk - collected)
    if missing:
        print(
            f"check_collection: {len(missing)} of {len(on_disk)} test files under tests/ are not collected by pytest:"
        )
        for path in missing:
            print(f"  {path.relative_to(root)}  ({_reason(path, tests_dir)})")
        return 1
    print(f"check_collection: all {len(on_disk)} test files under tests/ are collected by pytest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
