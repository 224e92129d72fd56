"""Zips with bytecode stay byte-identical across processes, hash seeds, paths, umasks and mtimes; the pycs load.

Marshal output can depend on the compiling process (FLAG_REF from reference counts, set order from string
hashes: https://github.com/python/cpython/issues/78274), so these tests build in separate processes whose
state differs as much as a developer's machine and a CI runner would, and compare bytes.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lambda_build import bytecode
from lambda_build.config import RUNTIMES
from lambda_build.testing import write_files

REPO_ROOT = Path(__file__).resolve().parents[3]
PY312 = RUNTIMES["python3.12"]

pytestmark = pytest.mark.skipif(
    bytecode.unavailable_reason(PY312) is not None, reason="needs CPython 3.12, the runtime the fixtures target"
)

# Code whose marshalled form has been unstable somewhere: set and frozenset constants of strings (their
# order follows the hash seed), strings shared between code objects (FLAG_REF), floats, bytes, nested
# functions and classes, f-strings, a non-ASCII identifier and a coding cookie.
TRICKY = '''# -*- coding: utf-8 -*-
"""Module docstring."""
NAMES = frozenset({"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"})
PAIRS = {("a", 1), ("b", 2.5), ("c", b"bytes")}


def member(x):
    return x in {"alpha", "beta", "gamma", "delta", "epsilon"}


class Thing:
    shared = "a string shared by several code objects"

    def method(self, value: float = 1.25) -> str:
        def inner(y):
            return f"{y!r} {self.shared} {value:.2f}"
        return inner("a string shared by several code objects")


café = "non-ascii identifier"
'''

# The child: build.main over a repo with the fake pip; the parent chooses seed, umask and extra imports.
CHILD = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
os.umask(int(sys.argv[3], 8))
if sys.argv[4] == "perturb":
    import asyncio, email.parser, json, typing, xml.dom.minidom  # other interned strings and live objects
    keep = [("alpha", "beta", "gamma")] * 1000 + [compile("x = 'a string shared by several code objects'", "f", "exec")]
import build
from lambda_build.testing import FakeDistribution, FakePipRunner
pip = FakePipRunner([FakeDistribution("tinylib", "1.0.0", {
    "tinylib/__init__.py": "from tinylib.core import *\n",
    "tinylib/core.py": open(sys.argv[5], encoding="utf-8").read(),
    "tinylib/broken_template.py": "def oops(:\n",
})])
sys.exit(build.main(["--root", sys.argv[2], "--jobs", sys.argv[6]], pip_runner=pip))
"""


def _repo(root: Path, *, mtime: float) -> None:
    write_files(
        root / "lambda_src",
        {
            "atlas_shared/__init__.py": "VALUE = 1\n",
            "atlas_shared/tricky.py": TRICKY,
            "FnA/lambda_function.py": "import tinylib\nimport atlas_shared.tricky\n\n\ndef lambda_handler(e, c):\n    return 1\n",
            "FnA/requirements.txt": "tinylib==1.0.0\n",
            "FnB/lambda_function.py": TRICKY,
        },
        mtime=mtime,
    )


def _build_in_child(root: Path, tricky: Path, *, seed: str, umask: str, state: str, jobs: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = seed
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO_ROOT), str(root), umask, state, str(tricky), jobs],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no bytecode" not in done.stdout


def test_zips_with_bytecode_are_identical_across_processes_seeds_paths_umasks_and_mtimes(tmp_path: Path) -> None:
    tricky = tmp_path / "tricky.py"
    tricky.write_text(TRICKY, encoding="utf-8")
    first, second = tmp_path / "one" / "repo", tmp_path / "two" / "a" / "much" / "deeper" / "checkout"
    _repo(first, mtime=1_000_000_000.0)
    _repo(second, mtime=1_700_000_000.0)
    _build_in_child(first, tricky, seed="1", umask="022", state="plain", jobs="1")
    _build_in_child(second, tricky, seed="4242", umask="077", state="perturb", jobs="2")
    for name in ("FnA.zip", "FnB.zip", "manifest.json"):
        assert (first / "dist" / name).read_bytes() == (second / "dist" / name).read_bytes(), name
    with zipfile.ZipFile(first / "dist" / "FnA.zip") as archive:
        names = set(archive.namelist())
        body = b"".join(archive.read(n) for n in sorted(names) if n.endswith(".pyc"))
    assert {
        "__pycache__/lambda_function.cpython-312.pyc",
        "atlas_shared/__pycache__/tricky.cpython-312.pyc",
        "tinylib/__pycache__/core.cpython-312.pyc",
        "tinylib/__pycache__/__init__.cpython-312.pyc",
    } <= names
    # A dependency file that does not compile ships as source only, as pip's compileall leaves it.
    assert "tinylib/broken_template.py" in names
    assert "tinylib/__pycache__/broken_template.cpython-312.pyc" not in names
    # Nothing names the build folders.
    assert str(tmp_path).encode() not in body


def test_compiling_real_libraries_gives_the_same_bytes_in_processes_with_different_state(tmp_path: Path) -> None:
    # A few hundred real modules (the standard library's email and json, and what the venv holds of the
    # zips' libraries), compiled by compile_sources from two processes with different seeds and state.
    roots = [Path(importlib.util.find_spec(n).origin).parent for n in ("email", "json")]  # type: ignore[arg-type]
    for name in ("requests", "jwt", "simple_salesforce", "zeep", "urllib3"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            roots.append(Path(spec.origin).parent)
    # A snapshot, so a package upgraded in the shared virtualenv between the two runs cannot differ.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sources = sorted(p for root in roots for p in root.rglob("*.py"))
    assert len(sources) > 100
    for index, source in enumerate(sources):
        (corpus / f"m{index}.py").write_bytes(source.read_bytes())
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(str(corpus / f"m{i}.py") for i in range(len(sources))), encoding="utf-8")
    script = r"""
import hashlib, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[3] == "perturb":
    import asyncio, typing, decimal
    keep = [compile(open(f, "rb").read(), f, "exec") for f in open(sys.argv[2]).read().split()[:50]]
from lambda_build import bytecode
files = open(sys.argv[2]).read().split()
out = bytecode.compile_sources(((f"lib/{i}.py", open(f, "rb").read()) for i, f in enumerate(files)), function="t")
digest = hashlib.sha256()
for name in sorted(out.pycs):
    digest.update(name.encode() + out.pycs[name])
print(len(out.pycs), digest.hexdigest())
"""
    results = []
    for seed, state in (("0", "plain"), ("987", "perturb")):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONHASHSEED"] = seed
        done = subprocess.run(
            [sys.executable, "-c", script, str(REPO_ROOT), str(listing), state],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(done.stdout.strip())
    assert results[0] == results[1]
    assert int(results[0].split()[0]) > 100


def test_compile_sources_writes_what_py_compile_writes_with_unchecked_hash(tmp_path: Path) -> None:
    source = tmp_path / "tricky.py"
    source.write_text(TRICKY, encoding="utf-8")
    expected = tmp_path / "tricky.pyc"
    py_compile.compile(
        str(source),
        cfile=str(expected),
        dfile="/var/task/pkg/tricky.py",
        doraise=True,
        optimize=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    compiled = bytecode.compile_sources([("pkg/tricky.py", source.read_bytes())], function="t")
    assert compiled.pycs["pkg/tricky.py"] == expected.read_bytes()
    assert not compiled.failed


def test_lambda_style_import_uses_the_shipped_bytecode_from_a_read_only_folder(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _repo(root, mtime=1_000_000_000.0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "build.py"), "--root", str(root), "--function", "FnB"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    task = tmp_path / "task"
    with zipfile.ZipFile(root / "dist" / "FnB.zip") as archive:
        archive.extractall(task)
    # Unchecked-hash: the importer trusts the pyc and never reads the source to validate it. Changing the
    # source after the build shows which one was loaded.
    (task / "lambda_function.py").write_text("raise SystemExit('the source was compiled, not the shipped pyc')\n")
    for path in [task, *task.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        probe = (
            "import sys; sys.path.insert(0, sys.argv[1]); import lambda_function as m; "
            "print(m.__spec__.cached, m.Thing().method.__code__.co_filename, m.member('beta'))"
        )
        ran = subprocess.run(
            [sys.executable, "-I", "-S", "-c", probe, str(task)], capture_output=True, text=True, check=False
        )
    finally:
        for path in [task, *task.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert ran.returncode == 0, ran.stderr
    cached, filename, result = ran.stdout.split()
    assert cached == str(task / "__pycache__" / "lambda_function.cpython-312.pyc")
    # The pyc embeds /var/task/lambda_function.py; the importer rewrites co_filename to where it really
    # loaded from (/var/task in Lambda), so tracebacks name the real file either way.
    assert (filename, result) == (str(task / "lambda_function.py"), "True")
    assert not list(task.rglob("*.pyc.*"))  # nothing written next to the shipped files
