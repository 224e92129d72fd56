"""The whole pipeline with a fake pip: determinism, reuse, rebuilds, --check, --function, atomicity."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambda_build import Builder, BuildPaths
from lambda_build.bytecode import pyc_name
from lambda_build.config import RUNTIMES
from lambda_build.errors import FunctionNotFoundError, MissingHandlerError
from lambda_build.hashing import filebase64sha256
from lambda_build.testing import FakePipRunner
from lambda_build.workspace import LOCK_FILE

MakeRepo = Callable[..., BuildPaths]
BuilderFor = Callable[..., Builder]


def _zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_builds_every_function_with_the_contract_layout(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    report = builder_for(paths).build()
    assert report.ok and report.manifest_written
    assert [(r.name, r.status) for r in report.results] == [("FnA", "built"), ("FnB", "built")]
    names = _zip_names(paths.dist_dir / "FnA.zip")
    assert "lambda_function.py" in names and "helpers.py" in names and "run.sh" in names
    assert "atlas_shared/__init__.py" in names and "atlas_shared/settings.py" in names
    assert "tinylib/core.py" in names and "depone.py" in names and "tinylib-1.0.0.dist-info/METADATA" in names
    # Only our deterministic bytecode: one unchecked-hash pyc per shipped .py, in __pycache__/ under the
    # runtime's cache tag; the checkout's and the wheel's own .pyc files never ship.
    pycs = sorted(n for n in names if n.endswith(".pyc"))
    sources = sorted(n for n in names if n.endswith(".py"))
    assert pycs == sorted(pyc_name(n, RUNTIMES["python3.12"]) for n in sources)
    assert "stale.pyc" not in names
    with zipfile.ZipFile(paths.dist_dir / "FnA.zip") as archive:
        for source in sources:
            pyc = archive.read(pyc_name(source, RUNTIMES["python3.12"]))
            assert pyc[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(pyc[4:8], "little") == 0b01
            assert pyc[8:16] == importlib.util.source_hash(archive.read(source))
            assert marshal.loads(pyc[16:]).co_filename == f"/var/task/{source}"
    assert not [n for n in names if n.startswith("bin/") or n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED"))]
    assert not [n for n in names if "/tests/" in n or n.endswith((".c", ".pyx", ".pyi"))]
    assert ".env" not in names and "requirements.txt" not in names
    assert not [n for n in names if n.startswith(("botocore", "boto3"))]  # runtime-provided, not pinned
    manifest = json.loads(paths.manifest.read_text())
    entry = manifest["functions"]["FnA"]
    assert entry["zip_path"] == "FnA.zip"
    assert entry["source_code_hash"] == filebase64sha256(paths.dist_dir / "FnA.zip")
    assert entry["size_bytes"] == (paths.dist_dir / "FnA.zip").stat().st_size
    assert (entry["runtime"], entry["architecture"], entry["handler"]) == (
        "python3.12",
        "x86_64",
        "lambda_function.lambda_handler",
    )
    assert len(entry["content_hash"]) == 64


def test_same_inputs_give_identical_zips_and_manifest_whatever_path_umask_mtime_and_order(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_dists: list, source_files: dict
) -> None:
    first = make_repo("a/repo", mtime=1_000_000_000.0)
    order = list(source_files)
    random.Random(7).shuffle(order)
    previous_umask = os.umask(0o077)
    try:
        second = make_repo("b/elsewhere/deeper/checkout", order=order, mtime=1_700_000_000.0)
        # Group/other write bits and a different owner-only mode must not matter either.
        os.chmod(second.src_dir / "FnA" / "helpers.py", 0o600)
        report_two = builder_for(second, FakePipRunner(fake_dists)).build()
    finally:
        os.umask(previous_umask)
    report_one = builder_for(first, FakePipRunner(fake_dists)).build()
    assert report_one.ok and report_two.ok
    for name in ("FnA.zip", "FnB.zip", "manifest.json"):
        assert (first.dist_dir / name).read_bytes() == (second.dist_dir / name).read_bytes(), name


def test_no_change_run_reuses_everything_without_pip(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_pip: FakePipRunner
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    requests_before = len(fake_pip.requests)
    manifest_before = paths.manifest.stat().st_mtime_ns
    report = builder_for(paths).build()
    assert [(r.name, r.status) for r in report.results] == [("FnA", "reused"), ("FnB", "reused")]
    assert len(fake_pip.requests) == requests_before
    assert report.manifest_written is False
    assert paths.manifest.stat().st_mtime_ns == manifest_before


@pytest.mark.parametrize(
    "change",
    [
        lambda src: (src / "FnA" / "helpers.py").write_text("def helper():\n    return 3\n"),
        lambda src: os.chmod(src / "FnA" / "helpers.py", 0o755),
        lambda src: (src / "FnA" / "new_module.py").write_text(""),
        lambda src: (src / "atlas_shared" / "settings.py").write_text("LEVEL = 'DEBUG'\n"),
        lambda src: (src / "FnA" / "requirements.txt").write_text("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n"),
        lambda src: (src / "build.toml").write_text('[functions.FnA]\nexclude = ["tinylib/data"]\n'),
    ],
    ids=["source-bytes", "exec-bit", "new-file", "shared-package", "requirements", "exclude"],
)
def test_an_input_change_rebuilds(
    make_repo: MakeRepo, builder_for: BuilderFor, change: Callable[[Path], object]
) -> None:
    paths = make_repo()
    first = {r.name: r.entry for r in builder_for(paths).build().results}
    change(paths.src_dir)
    report = builder_for(paths).build()
    assert report.ok
    statuses = {r.name: r.status for r in report.results}
    assert statuses["FnA"] == "built"
    after = {r.name: r.entry for r in report.results}
    assert after["FnA"].content_hash != first["FnA"].content_hash
    assert after["FnA"].source_code_hash != first["FnA"].source_code_hash


def test_touching_files_does_not_rebuild(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    for path in paths.src_dir.rglob("*"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
    assert {r.status for r in builder_for(paths).build().results} == {"reused"}


def test_source_only_change_does_not_run_pip_again(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_pip: FakePipRunner
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    (paths.src_dir / "FnA" / "lambda_function.py").write_text("def lambda_handler(e, c):\n    return 2\n")
    report = builder_for(paths).build()
    assert {r.name: r.status for r in report.results} == {"FnA": "built", "FnB": "reused"}
    assert len(fake_pip.actions("install")) == 1


def test_a_modified_or_deleted_zip_is_rebuilt(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    good = (paths.dist_dir / "FnA.zip").read_bytes()
    (paths.dist_dir / "FnA.zip").write_bytes(good[:-1] + b"X")
    (paths.dist_dir / "FnB.zip").unlink()
    report = builder_for(paths).build()
    assert {r.name: r.status for r in report.results} == {"FnA": "built", "FnB": "built"}
    assert (paths.dist_dir / "FnA.zip").read_bytes() == good


def test_check_reports_stale_functions_and_builds_nothing(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder = builder_for(paths)
    assert [(s.function, s.reason) for s in builder.check()] == [
        ("FnA", "no entry in manifest.json"),
        ("FnB", "no entry in manifest.json"),
    ]
    assert not paths.dist_dir.exists()
    builder.build()
    assert builder.check() == []
    (paths.src_dir / "FnB" / "lambda_function.py").write_text("changed = True\n")
    (paths.dist_dir / "FnA.zip").write_bytes(b"tampered")
    stale = {s.function: s.reason for s in builder.check()}
    assert stale == {
        "FnA": "FnA.zip size differs from the manifest (modified after the build)",
        "FnB": "inputs changed since the last build (content hash differs)",
    }
    (paths.dist_dir / "FnA.zip").unlink()
    assert builder.check("FnA")[0].reason == "FnA.zip is missing"
    assert (paths.dist_dir / "FnB.zip").exists()  # --check never builds or deletes


def test_check_flags_manifest_entries_of_removed_functions(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    for path in sorted((paths.src_dir / "FnB").iterdir()):
        path.unlink()
    (paths.src_dir / "FnB").rmdir()
    assert [(s.function, s.reason) for s in builder_for(paths).check()] == [
        ("FnB", "in manifest.json but lambda_src/FnB/ is gone")
    ]
    builder_for(paths).build()
    assert list(json.loads(paths.manifest.read_text())["functions"]) == ["FnA"]


def test_function_option_builds_one_and_keeps_other_entries(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    before = json.loads(paths.manifest.read_text())["functions"]
    (paths.src_dir / "FnA" / "helpers.py").write_text("X = 1\n")
    (paths.src_dir / "FnB" / "lambda_function.py").write_text("Y = 1\n")
    report = builder_for(paths).build("FnA")
    assert [(r.name, r.status) for r in report.results] == [("FnA", "built")]
    after = json.loads(paths.manifest.read_text())["functions"]
    assert after["FnB"] == before["FnB"]
    assert after["FnA"] != before["FnA"]


def test_unknown_function_lists_the_known_ones(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    with pytest.raises(FunctionNotFoundError) as caught:
        builder_for(paths).build("FnZ")
    assert str(caught.value) == "FnZ: no function folder lambda_src/FnZ/\n  -> choose one of: FnA, FnB"


def test_function_folder_without_handler(make_repo: MakeRepo, builder_for: BuilderFor, source_files: dict) -> None:
    files = {**source_files, "FnC/README.md": "todo\n"}
    paths = make_repo(files=files)
    with pytest.raises(MissingHandlerError, match="FnC: lambda_src/FnC/ has no lambda_function.py"):
        builder_for(paths).build("FnC")


def test_pip_failure_leaves_previous_zip_and_manifest_intact(
    make_repo: MakeRepo, builder_for: BuilderFor, fake_dists: list
) -> None:
    paths = make_repo()
    builder_for(paths).build()
    zip_before = (paths.dist_dir / "FnA.zip").read_bytes()
    manifest_before = paths.manifest.read_bytes()
    (paths.src_dir / "FnA" / "requirements.txt").write_text("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n")
    (paths.src_dir / "FnB" / "lambda_function.py").write_text("def lambda_handler(e, c):\n    return 'new'\n")
    failing = FakePipRunner(fake_dists, fail_with="ERROR: Could not find a version that satisfies six==1.17.0")
    report = builder_for(paths, failing).build()
    assert not report.ok
    assert [e.function for e in report.errors] == ["FnA"]
    assert "Could not find a version that satisfies six==1.17.0" in str(report.errors[0])
    assert (paths.dist_dir / "FnA.zip").read_bytes() == zip_before
    manifest = json.loads(paths.manifest.read_text())["functions"]
    assert manifest["FnA"] == json.loads(manifest_before)["functions"]["FnA"]  # old entry, old zip: consistent
    assert manifest["FnB"]["source_code_hash"] == filebase64sha256(paths.dist_dir / "FnB.zip")  # FnB did build
    assert sorted(p.name for p in paths.dist_dir.iterdir()) == [LOCK_FILE, "FnA.zip", "FnB.zip", "manifest.json"]
    assert [p.name for p in (paths.cache_dir / "deps").iterdir() if p.name.startswith(".tmp")] == []


def test_bad_requirement_fails_that_function_only(
    make_repo: MakeRepo, builder_for: BuilderFor, source_files: dict
) -> None:
    files = {**source_files, "FnA/requirements.txt": "tinylib>=1.0\n"}
    paths = make_repo(files=files)
    report = builder_for(paths).build()
    assert [r.name for r in report.results] == ["FnB"]
    assert "FnA: lambda_src/FnA/requirements.txt line 1: 'tinylib>=1.0' is not pinned" in str(report.errors[0])
    assert not (paths.dist_dir / "FnA.zip").exists()
    assert list(json.loads(paths.manifest.read_text())["functions"]) == ["FnB"]


def test_leftover_temp_files_from_an_interrupted_run_are_removed(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    paths.dist_dir.mkdir(parents=True)
    (paths.dist_dir / ".lambda_build-FnA.zip.abc.tmp").write_bytes(b"half")
    (paths.dist_dir / "keep.txt").write_text("not ours")
    builder_for(paths).build()
    assert sorted(p.name for p in paths.dist_dir.iterdir()) == [
        LOCK_FILE,
        "FnA.zip",
        "FnB.zip",
        "keep.txt",
        "manifest.json",
    ]


def test_parallel_build_matches_sequential(make_repo: MakeRepo, fake_dists: list) -> None:
    one = make_repo("one")
    two = make_repo("two")
    Builder(one, pip_runner=FakePipRunner(fake_dists), jobs=1).build()
    Builder(two, pip_runner=FakePipRunner(fake_dists), jobs=4).build()
    assert one.manifest.read_bytes() == two.manifest.read_bytes()


def test_progress_callback_and_clock(make_repo: MakeRepo, fake_pip: FakePipRunner) -> None:
    ticks = iter(range(100))
    seen: list[tuple[str, str, float]] = []
    builder = Builder(
        make_repo(),
        pip_runner=fake_pip,
        clock=lambda: float(next(ticks)),
        on_result=lambda r: seen.append((r.name, r.status, r.seconds)),
    )
    builder.build()
    assert [(name, status) for name, status, _ in seen] == [("FnA", "built"), ("FnB", "built")]
    assert all(seconds > 0 for _, _, seconds in seen)


def test_exec_bit_survives_into_the_zip(make_repo: MakeRepo, builder_for: BuilderFor) -> None:
    paths = make_repo()
    builder_for(paths).build()
    with zipfile.ZipFile(paths.dist_dir / "FnA.zip") as archive:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert {modes["run.sh"], modes["tinylib/data/tool"]} == {0o755}
    assert modes["helpers.py"] == 0o644
