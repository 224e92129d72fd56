"""Fixtures for the build pipeline's unit tests: a fixture lambda_src tree and a fake pip index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import Builder, BuildPaths
from lambda_build.elf import EM_X86_64
from lambda_build.testing import FakeDistribution, FakePipRunner, elf_bytes, write_files

HANDLER_SOURCE = "import atlas_shared\n\n\ndef lambda_handler(event, context):\n    return {'ok': atlas_shared.VALUE}\n"

SOURCE_FILES: dict[str, str | bytes] = {
    "atlas_shared/__init__.py": "VALUE = 1\n",
    "atlas_shared/settings.py": "LEVEL = 'INFO'\n",
    "atlas_shared/__pycache__/settings.cpython-312.pyc": b"\x00bytecode",
    "FnA/lambda_function.py": HANDLER_SOURCE,
    "FnA/helpers.py": "def helper():\n    return 2\n",
    "FnA/run.sh": "#!/bin/sh\necho hi\n",
    "FnA/requirements.txt": "# pinned\ntinylib==1.0.0\ndepone==1.2.0\n",
    "FnA/.env": "SECRET=do-not-ship\n",
    "FnA/stale.pyc": b"\x00",
    "FnB/lambda_function.py": HANDLER_SOURCE,
}
EXECUTABLE = frozenset({"FnA/run.sh"})


def fake_distributions() -> list[FakeDistribution]:
    """The fake index: tinylib needs depone (pinned) and botocore (runtime-provided)."""
    return [
        FakeDistribution(
            name="tinylib",
            version="1.0.0",
            files={
                "tinylib/__init__.py": "from tinylib import core\n",
                "tinylib/core.py": "X = 1\n",
                "tinylib/_speed.cpython-312-x86_64-linux-gnu.so": elf_bytes(EM_X86_64),
                "tinylib/tests/test_core.py": "def test(): pass\n",
                "tinylib/__pycache__/core.cpython-312.pyc": b"\x00",
                "tinylib/_speed.c": "int x;\n",
                "tinylib/_speed.pyx": "cdef int x\n",
                "tinylib/core.pyi": "X: int\n",
                "tinylib/data/tool": "#!/bin/sh\n",
            },
            executables={"tinylib/data/tool"},
            requires=["depone>=1.0", "botocore>=1.30", 'pywin32>=300; sys_platform == "win32"'],
            console_scripts=["tinylib-cli"],
        ),
        FakeDistribution(name="depone", version="1.2.0", files={"depone.py": "Y = 2\n"}),
        FakeDistribution(name="six", version="1.17.0", files={"six.py": "# six\n"}),
    ]


@pytest.fixture
def source_files() -> dict[str, str | bytes]:
    """A fresh copy of the fixture lambda_src tree (relative path -> content)."""
    return dict(SOURCE_FILES)


@pytest.fixture
def fake_dists() -> list[FakeDistribution]:
    """A fresh copy of ``fake_distributions()``."""
    return fake_distributions()


@pytest.fixture
def fake_pip() -> FakePipRunner:
    """A fake pip runner holding ``fake_distributions()``."""
    return FakePipRunner(fake_distributions())


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., BuildPaths]:
    """Factory: write the fixture tree under ``tmp_path/<name>`` and return its BuildPaths."""

    def make(name: str = "repo", files: dict[str, str | bytes] | None = None, **kwargs: object) -> BuildPaths:
        root = tmp_path / name
        write_files(
            root / "lambda_src",
            dict(files if files is not None else SOURCE_FILES),
            executable=kwargs.pop("executable", EXECUTABLE),
            **kwargs,
        )  # type: ignore[arg-type]
        return BuildPaths.for_root(root)

    return make


@pytest.fixture
def builder_for(fake_pip: FakePipRunner) -> Callable[[BuildPaths], Builder]:
    """Factory: a sequential Builder over ``paths`` with the fake pip and a fixed clock."""

    def make(paths: BuildPaths, pip_runner: FakePipRunner | None = None) -> Builder:
        return Builder(paths, pip_runner=pip_runner or fake_pip, clock=lambda: 0.0, jobs=1)

    return make
