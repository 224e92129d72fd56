"""The pip command lines: always for the Lambda platform, never the build machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_build.config import ARCHITECTURES, RUNTIMES, platform_tags
from lambda_build.errors import PipError
from lambda_build.pip import PipRequest, SubprocessPipRunner, pip_arguments

REQUEST = PipRequest(
    function="Fn",
    requirements_file=Path("/tmp/req.txt"),
    dest=Path("/tmp/site"),
    python_version="3.12",
    abi="cp312",
    platforms=platform_tags(RUNTIMES["python3.12"], ARCHITECTURES["arm64"]),
    cache_dir=Path("/tmp/cache/pip"),
    find_links=Path("/tmp/cache/wheels"),
    no_index=True,
)


def _pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_install_arguments_pin_platform_python_abi_and_binary_only() -> None:
    args = pip_arguments("install", REQUEST)
    assert args[:3] == ["install", "--target", "/tmp/site"]
    for flag in ("--only-binary=:all:", "--no-deps", "--no-compile", "--no-index"):
        assert flag in args
    assert _pairs(args, "--implementation") == ["cp"]
    assert _pairs(args, "--python-version") == ["3.12"]
    assert _pairs(args, "--abi") == ["cp312"]
    platforms = _pairs(args, "--platform")
    assert "manylinux2014_aarch64" in platforms and "manylinux_2_28_aarch64" in platforms
    assert all(p.endswith("_aarch64") for p in platforms)
    assert _pairs(args, "--find-links") == ["/tmp/cache/wheels"]
    assert _pairs(args, "-r") == ["/tmp/req.txt"]


def test_download_arguments() -> None:
    args = pip_arguments("download", REQUEST)
    assert args[:3] == ["download", "--dest", "/tmp/site"]
    assert "--no-compile" not in args and "--only-binary=:all:" in args


def test_a_failing_pip_raises_with_its_last_lines(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nfor i in 1 2 3 4 5; do echo line $i; done\necho 'ERROR: boom' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    with pytest.raises(PipError) as caught:
        SubprocessPipRunner(python=str(fake_python), tail_lines=3).install(REQUEST)
    message = str(caught.value)
    assert message.startswith("Fn: pip install failed (exit 3) for platform manylinux_2_34_aarch64")
    assert "    line 4\n    line 5\n    ERROR: boom" in message
    assert "line 2" not in message
    with pytest.raises(PipError, match="cannot run pip"):
        SubprocessPipRunner(python=str(tmp_path / "missing")).download(REQUEST)
