"""Fixtures for the build pipeline's functional tests: fixture repos, the real lambda_src, the runtime site."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import BuildPaths
from lambda_build.elf import EM_X86_64
from lambda_build.testing import FakeDistribution, FakePipRunner, elf_bytes, write_files

REPO_ROOT = Path(__file__).resolve().parents[3]

HANDLER = "import atlas_shared\n\n\ndef lambda_handler(event, context):\n    return {'ok': atlas_shared.VALUE}\n"


@pytest.fixture
def repo(tmp_path: Path) -> BuildPaths:
    """A fixture repository: two functions (one with requirements) and the shared package."""
    write_files(
        tmp_path / "repo" / "lambda_src",
        {
            "atlas_shared/__init__.py": "VALUE = 1\n",
            "FnA/lambda_function.py": HANDLER,
            "FnA/requirements.txt": "tinylib==1.0.0\n",
            "FnB/lambda_function.py": HANDLER,
        },
    )
    return BuildPaths.for_root(tmp_path / "repo")


@pytest.fixture
def fake_pip() -> FakePipRunner:
    """A fake index with one package holding an x86_64 extension."""
    return FakePipRunner(
        [
            FakeDistribution(
                "tinylib",
                "1.0.0",
                {"tinylib/__init__.py": "", "tinylib/_c.cpython-312-x86_64-linux-gnu.so": elf_bytes(EM_X86_64)},
                requires=["botocore>=1.30"],
            )
        ]
    )


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run build.main(argv) in-process; returns (exit code, stdout, stderr)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import build

    def run(argv: list[str], **collaborators: object) -> tuple[int, str, str]:
        code = build.main(argv, clock=lambda: 0.0, **collaborators)  # type: ignore[arg-type]
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
