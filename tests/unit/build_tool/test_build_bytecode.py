"""Bytecode in the zips: names, orphans, the version rule, syntax errors, content hash (lambda_build.bytecode)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import Builder, BuildPaths, bytecode
from lambda_build.config import RUNTIMES, Runtime
from lambda_build.zipwriter import file_member

MakeRepo = Callable[..., BuildPaths]
BuilderFor = Callable[..., Builder]
PY312 = RUNTIMES["python3.12"]
needs_312 = pytest.mark.skipif(bytecode.unavailable_reason(PY312) is not None, reason="needs CPython 3.12")


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.mark.parametrize(
    ("arcname", "expected"),
    [
        ("lambda_function.py", "__pycache__/lambda_function.cpython-312.pyc"),
        ("atlas_shared/__init__.py", "atlas_shared/__pycache__/__init__.cpython-312.pyc"),
        ("a/b/c.d.py", "a/b/__pycache__/c.d.cpython-312.pyc"),
    ],
)
def test_pyc_name_is_where_the_importer_looks(arcname: str, expected: str) -> None:
    assert bytecode.pyc_name(arcname, PY312) == expected
    assert bytecode.pyc_name(arcname, RUNTIMES["python3.13"]).endswith(".cpython-313.pyc")


def test_unavailable_reason_names_both_versions() -> None:
    reason = bytecode.unavailable_reason(Runtime("python3.99", "3.99", (2, 34)))
    assert reason is not None and "3.99" in reason
    assert bytecode.identity(Runtime("python3.99", "3.99", (2, 34))) == "none"


def test_orphan_pycs_go_with_their_sources() -> None:
    members = [
        file_member(name, b"x", 0o644, 6)
        for name in (
            "pkg/kept.py",
            "pkg/__pycache__/kept.cpython-312.pyc",
            "pkg/__pycache__/gone.cpython-312.pyc",
            "__pycache__/top.cpython-312.pyc",
            "top.py",
            "__pycache__/dropped.cpython-312.pyc",
        )
    ]
    kept = [m.name for m in bytecode.without_orphans(members)]
    assert kept == ["pkg/kept.py", "pkg/__pycache__/kept.cpython-312.pyc", "__pycache__/top.cpython-312.pyc", "top.py"]


@needs_312
def test_compile_sources_reports_syntax_errors_and_keeps_the_rest() -> None:
    compiled = bytecode.compile_sources([("ok.py", b"X = 1\n"), ("bad.py", b"def f(:\n")], function="Fn")
    assert set(compiled.pycs) == {"ok.py"}
    assert compiled.failed["bad.py"].startswith("SyntaxError line 1")


@needs_312
def test_a_source_syntax_error_fails_the_function_and_keeps_its_previous_zip(
    make_repo: MakeRepo, builder_for: BuilderFor
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    before = (paths.dist_dir / "FnA.zip").read_bytes()
    (paths.src_dir / "FnA" / "helpers.py").write_text("def helper(:\n")
    report = builder_for(paths).build()
    assert [e.function for e in report.errors] == ["FnA"]
    assert "helpers.py: SyntaxError line 1" in str(report.errors[0])
    assert (paths.dist_dir / "FnA.zip").read_bytes() == before


@needs_312
def test_an_excluded_module_takes_its_pyc_with_it(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    (paths.src_dir / "build.toml").write_text('[functions.FnA]\nexclude = ["tinylib/core.py"]\n')
    report = builder_for(paths).build()
    assert report.ok, report.errors
    names = _names(paths.dist_dir / "FnA.zip")
    assert "tinylib/core.py" not in names and "tinylib/__pycache__/core.cpython-312.pyc" not in names
    assert "tinylib/__pycache__/__init__.cpython-312.pyc" in names


@needs_312
def test_a_runtime_the_build_python_cannot_compile_for_ships_sources_only_and_says_so(
    make_repo: MakeRepo, builder_for: BuilderFor
) -> None:
    paths = make_repo()
    (paths.src_dir / "build.toml").write_text('[functions.FnB]\nruntime = "python3.13"\n')
    report = builder_for(paths).build()
    assert report.ok, report.errors
    by_name = {r.name: r for r in report.results}
    assert by_name["FnA"].no_bytecode is None
    assert by_name["FnB"].no_bytecode == "build Python 3.12 is not the runtime's 3.13"
    assert not [n for n in _names(paths.dist_dir / "FnB.zip") if "__pycache__" in n]
    assert [n for n in _names(paths.dist_dir / "FnA.zip") if n.endswith(".pyc")]
    again = builder_for(paths).build()
    assert {r.name: (r.status, r.no_bytecode) for r in again.results}["FnB"] == (
        "reused",
        "build Python 3.12 is not the runtime's 3.13",
    )


@needs_312
def test_the_bytecode_compiler_is_an_input_of_the_content_hash(
    make_repo: MakeRepo, builder_for: BuilderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    assert builder_for(paths).check() == []
    monkeypatch.setattr(bytecode, "identity", lambda runtime: "none")
    stale = builder_for(paths).check()
    assert [s.function for s in stale] == ["FnA", "FnB"]
