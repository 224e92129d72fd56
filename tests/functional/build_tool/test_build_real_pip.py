"""build.py with the real pip against the package index, for one tiny pure-Python wheel (slow, network)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable

import pytest

from lambda_build import BuildPaths, SubprocessPipRunner, bytecode
from lambda_build.config import RUNTIMES
from lambda_build.workspace import LOCK_FILE

# six 1.17.0's only wheel, six-1.17.0-py2.py3-none-any.whl, as published on PyPI.
SIX_SHA256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"

pytestmark = pytest.mark.slow
RunCli = Callable[..., tuple[int, str, str]]


def _args(repo: BuildPaths) -> list[str]:
    return ["--root", str(repo.src_dir.parent)]


def test_real_pip_installs_a_hashed_pin_for_lambda(repo: BuildPaths, run_cli: RunCli) -> None:
    # six is runtime-provided, but a function that pins it explicitly gets it in its zip.
    (repo.src_dir / "FnA" / "requirements.txt").write_text(f"six==1.17.0 \\\n    --hash=sha256:{SIX_SHA256}\n")
    code, out, err = run_cli(_args(repo), pip_runner=SubprocessPipRunner())
    assert code == 0, err
    assert "FnA" in out and "built" in out
    with zipfile.ZipFile(repo.dist_dir / "FnA.zip") as archive:
        names = archive.namelist()
    assert "six.py" in names and "six-1.17.0.dist-info/METADATA" in names
    assert not [n for n in names if n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED"))]
    # Only our own bytecode: one pyc per shipped .py (none if this Python is not the runtime's 3.12).
    expected = [] if bytecode.unavailable_reason(RUNTIMES["python3.12"]) else ["__pycache__/six.cpython-312.pyc"]
    assert [n for n in names if n.startswith("__pycache__/six")] == expected
    assert len([n for n in names if n.endswith(".pyc")]) == len(expected and [n for n in names if n.endswith(".py")])
    assert list((repo.cache_dir / "wheels").glob("six-1.17.0-*.whl"))
    code, out, _ = run_cli(_args(repo), pip_runner=SubprocessPipRunner())
    assert code == 0 and out.count("reused") == 2


def test_real_pip_rejects_a_wrong_hash_and_keeps_the_previous_zip(repo: BuildPaths, run_cli: RunCli) -> None:
    (repo.src_dir / "FnA" / "requirements.txt").write_text("")
    assert run_cli(_args(repo), pip_runner=SubprocessPipRunner())[0] == 0
    before = (repo.dist_dir / "FnA.zip").read_bytes()
    (repo.src_dir / "FnA" / "requirements.txt").write_text(f"six==1.17.0 --hash=sha256:{'0' * 64}\n")
    code, _, err = run_cli(_args(repo), pip_runner=SubprocessPipRunner())
    assert code == 1
    assert "error: FnA: pip download failed" in err
    assert "HASH" in err.upper()
    assert (repo.dist_dir / "FnA.zip").read_bytes() == before
    assert sorted(p.name for p in repo.dist_dir.iterdir()) == [LOCK_FILE, "FnA.zip", "FnB.zip", "manifest.json"]
