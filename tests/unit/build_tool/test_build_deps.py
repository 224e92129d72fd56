"""Installing, trimming and checking requirements with a fake pip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lambda_build.archive import apply_excludes
from lambda_build.config import ARCHITECTURES, RUNTIMES, FunctionConfig, marker_environment
from lambda_build.deps import (
    cached_wheel,
    check_complete,
    check_excludes,
    fetch_wheels,
    prepare_dependencies,
    supported_tags,
    top_level_module,
    trim,
)
from lambda_build.elf import EM_X86_64
from lambda_build.errors import ArchitectureError, ArchiveError, ExcludeError, IncompleteDependenciesError, PipError
from lambda_build.requirements import applicable, parse_requirements
from lambda_build.testing import FakeDistribution, FakePipRunner, elf_bytes, write_files
from lambda_build.zipwriter import read_members

CONFIG = FunctionConfig("Fn", RUNTIMES["python3.12"], ARCHITECTURES["x86_64"])
ENV = marker_environment(CONFIG.runtime, CONFIG.architecture)


def _pins(text: str):  # noqa: ANN202 - a list of PinnedRequirement
    return parse_requirements(text, function="Fn")


def _site(tmp_path: Path, dists: list[FakeDistribution], text: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    runner = FakePipRunner(dists)
    for pin in _pins(text):
        runner._install(runner.index[pin.key], site)
    return site


def test_pip_gets_target_platform_flags_and_only_the_applicable_pins(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    pins = _pins('tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0 ; platform_machine == "aarch64"\n')
    tree = prepare_dependencies(CONFIG, applicable(pins, ENV, function="Fn"), cache_dir=tmp_path, pip_runner=fake_pip)
    assert tree is not None
    names = [m.name for m in read_members(tree.members_file.read_bytes())]
    assert "tinylib/core.py" in names and "depone.py" in names
    assert "six.py" not in names
    download, install = fake_pip.actions("download"), fake_pip.actions("install")
    assert len(download) == 1 and len(install) == 1
    assert (install[0].python_version, install[0].abi, install[0].no_deps) == ("3.12", "cp312", True)
    assert install[0].platforms[0] == "manylinux_2_34_x86_64"
    assert (install[0].no_index, install[0].find_links) == (True, tmp_path / "wheels")
    assert download[0].cache_dir == tmp_path / "pip"
    assert download[0].requirements_file.name == "requirements.txt"


def test_trim_keeps_what_imports_need(tmp_path: Path, fake_dists: list[FakeDistribution]) -> None:
    site = _site(tmp_path, fake_dists, "tinylib==1.0.0\n")
    write_files(site, {"lxml/includes/x.h": "", "lxml/etree.py": "", "tests/keep.py": ""})
    trim(site)
    remaining = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert remaining == [
        "lxml/etree.py",
        "tests/keep.py",  # a top-level package called tests is importable code, not a test suite
        "tinylib-1.0.0.dist-info/METADATA",
        "tinylib-1.0.0.dist-info/top_level.txt",
        "tinylib/__init__.py",
        "tinylib/_speed.cpython-312-x86_64-linux-gnu.so",
        "tinylib/core.py",
        "tinylib/data/tool",
    ]


def test_complete_when_every_requirement_is_pinned_or_runtime_provided(
    tmp_path: Path, fake_dists: list[FakeDistribution]
) -> None:
    text = "tinylib==1.0.0\ndepone==1.2.0\n"
    site = _site(tmp_path, fake_dists, text)
    check_complete(site, _pins(text), ENV, function="Fn")  # botocore is the runtime's; pywin32 is Windows-only


def test_missing_requirement_names_function_dependent_and_package(
    tmp_path: Path, fake_dists: list[FakeDistribution]
) -> None:
    text = "tinylib==1.0.0\n"
    site = _site(tmp_path, fake_dists, text)
    with pytest.raises(IncompleteDependenciesError) as caught:
        check_complete(site, _pins(text), ENV, function="LexFulfillmentHandler")
    message = str(caught.value)
    assert message.startswith("LexFulfillmentHandler: ")
    assert "tinylib 1.0.0 requires depone>=1.0 which is not pinned" in message
    assert "botocore" not in message.split("->")[0]
    assert "lambda_src/LexFulfillmentHandler/requirements.txt" in message


def test_extras_requested_in_requirements_are_followed(tmp_path: Path) -> None:
    dists = [
        FakeDistribution("PyJWT", "2.10.1", {"jwt/__init__.py": ""}, requires=['cryptography>=3.4; extra == "crypto"']),
    ]
    site = _site(tmp_path, dists, "PyJWT==2.10.1\n")
    check_complete(site, _pins("PyJWT==2.10.1\n"), ENV, function="Fn")  # no extra: no cryptography needed
    with pytest.raises(IncompleteDependenciesError, match="requires cryptography>=3.4"):
        check_complete(site, _pins("PyJWT[crypto]==2.10.1\n"), ENV, function="Fn")


def test_extras_requested_by_a_dependency_are_followed(tmp_path: Path) -> None:
    dists = [
        FakeDistribution("app", "1.0", {"app.py": ""}, requires=["requests[socks]>=2"]),
        FakeDistribution(
            "requests", "2.32.3", {"requests/__init__.py": ""}, requires=['PySocks>=1.5; extra == "socks"']
        ),
    ]
    text = "app==1.0\nrequests==2.32.3\n"
    site = _site(tmp_path, dists, text)
    with pytest.raises(IncompleteDependenciesError, match="requests 2.32.3 requires PySocks"):
        check_complete(site, _pins(text), ENV, function="Fn")


def test_a_pin_that_violates_a_dependents_range_is_reported(tmp_path: Path) -> None:
    dists = [
        FakeDistribution("app", "1.0", {"app.py": ""}, requires=["depone>=2"]),
        FakeDistribution("depone", "1.2.0", {"depone.py": ""}),
    ]
    text = "app==1.0\ndepone==1.2.0\n"
    site = _site(tmp_path, dists, text)
    with pytest.raises(IncompleteDependenciesError, match="requires depone>=2, but depone==1.2.0 is pinned"):
        check_complete(site, _pins(text), ENV, function="Fn")


def test_markers_for_other_platforms_are_ignored(tmp_path: Path) -> None:
    dists = [
        FakeDistribution(
            "app",
            "1.0",
            {"app.py": ""},
            requires=['armdep; platform_machine == "aarch64"', 'olddep; python_version < "3.8"'],
        )
    ]
    site = _site(tmp_path, dists, "app==1.0\n")
    check_complete(site, _pins("app==1.0\n"), ENV, function="Fn")
    arm_env = marker_environment(CONFIG.runtime, ARCHITECTURES["arm64"])
    with pytest.raises(IncompleteDependenciesError, match="armdep"):
        check_complete(site, _pins("app==1.0\n"), arm_env, function="Fn")


def test_dependency_tree_is_cached_by_pins_and_target(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    pins = _pins("depone==1.2.0\nsix==1.17.0\n")  # pure Python: installable for both architectures
    first = prepare_dependencies(CONFIG, pins, cache_dir=tmp_path, pip_runner=fake_pip)
    second = prepare_dependencies(CONFIG, pins, cache_dir=tmp_path, pip_runner=fake_pip)
    assert first == second
    assert len(fake_pip.actions("install")) == 1
    arm = FunctionConfig("Fn", CONFIG.runtime, ARCHITECTURES["arm64"])
    assert prepare_dependencies(arm, pins, cache_dir=tmp_path, pip_runner=fake_pip) != first
    assert len(fake_pip.actions("install")) == 2
    assert len(fake_pip.actions("download")) == 1  # py3-none-any wheels serve both architectures


def test_an_x86_64_extension_fails_an_arm64_build(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    arm = FunctionConfig("Fn", CONFIG.runtime, ARCHITECTURES["arm64"])
    with pytest.raises(ArchitectureError, match="tinylib/_speed.cpython-312-x86_64-linux-gnu.so: ELF for x86_64"):
        prepare_dependencies(arm, _pins("tinylib==1.0.0\ndepone==1.2.0\n"), cache_dir=tmp_path, pip_runner=fake_pip)
    assert list(tmp_path.glob("deps/*")) == []


def test_no_requirements_means_no_pip(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    assert prepare_dependencies(CONFIG, [], cache_dir=tmp_path, pip_runner=fake_pip) is None
    assert fake_pip.requests == []


@pytest.mark.parametrize(("fail_with", "error"), [("ERROR: boom", PipError), (None, IncompleteDependenciesError)])
def test_failed_install_leaves_nothing_in_the_cache(
    tmp_path: Path, fake_dists: list[FakeDistribution], fail_with: str | None, error: type
) -> None:
    runner = FakePipRunner(fake_dists, fail_with=fail_with)
    with pytest.raises(error):
        prepare_dependencies(CONFIG, _pins("tinylib==1.0.0\n"), cache_dir=tmp_path, pip_runner=runner)
    assert list(tmp_path.glob("deps/*")) == []
    assert list(tmp_path.glob("wheels/.tmp*")) == []


def test_files_holding_the_build_path_are_refused(tmp_path: Path, fake_dists: list[FakeDistribution]) -> None:
    class LeakyPip(FakePipRunner):
        def install(self, request):  # noqa: ANN001, ANN202
            super().install(request)
            (request.dest / "tinylib" / "paths.py").write_text(f"ROOT = {str(request.dest)!r}\n")

    runner = LeakyPip(fake_dists)
    with pytest.raises(ArchiveError, match="tinylib/paths.py"):
        prepare_dependencies(CONFIG, _pins("tinylib==1.0.0\ndepone==1.2.0\n"), cache_dir=tmp_path, pip_runner=runner)


def test_only_wheels_missing_from_the_wheel_folder_are_downloaded(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    prepare_dependencies(CONFIG, _pins("tinylib==1.0.0\ndepone==1.2.0\n"), cache_dir=tmp_path, pip_runner=fake_pip)
    prepare_dependencies(
        CONFIG, _pins("tinylib==1.0.0\ndepone==1.2.0\nsix==1.17.0\n"), cache_dir=tmp_path, pip_runner=fake_pip
    )
    downloads = fake_pip.actions("download")
    assert len(downloads) == 2
    assert downloads[1].requirements_file.exists() is False  # temp folder cleaned up
    assert sorted(p.name for p in (tmp_path / "wheels").iterdir()) == [
        "depone-1.2.0-py3-none-any.whl",
        "six-1.17.0-py3-none-any.whl",
        "tinylib-1.0.0-py3-none-any.whl",
    ]


def test_a_cached_wheel_with_the_wrong_hash_is_fetched_again(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    (wheel_dir / "six-1.17.0-py3-none-any.whl").write_bytes(b"other bytes")
    good = hashlib.sha256(b"six 1.17.0").hexdigest()
    pins = _pins(f"six==1.17.0 --hash=sha256:{good}\n")
    assert cached_wheel(wheel_dir, pins[0], supported_tags(CONFIG)) is None
    assert fetch_wheels(CONFIG, pins, wheel_dir=wheel_dir, cache_dir=tmp_path, pip_runner=fake_pip) == ["six"]
    assert cached_wheel(wheel_dir, pins[0], supported_tags(CONFIG)) == wheel_dir / "six-1.17.0-py3-none-any.whl"


def test_wheels_for_another_platform_do_not_count(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    for name in (
        "fast-1.0-cp312-cp312-manylinux_2_28_aarch64.whl",
        "fast-1.0-cp312-cp312-macosx_11_0_arm64.whl",
        "fast-1.0-cp312-cp312-manylinux_2_39_x86_64.whl",  # newer glibc than Amazon Linux 2023's 2.34
        "fast-1.0-cp313-cp313-manylinux_2_28_x86_64.whl",
    ):
        (wheel_dir / name).write_bytes(b"")
    pin = _pins("fast==1.0\n")[0]
    assert cached_wheel(wheel_dir, pin, supported_tags(CONFIG)) is None
    (wheel_dir / "fast-1.0-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl").write_bytes(b"")
    assert cached_wheel(wheel_dir, pin, supported_tags(CONFIG)) is not None


def test_import_names_come_from_record_before_trimming(tmp_path: Path) -> None:
    # PyJWT's import name is jwt; the fake's top_level.txt says "PyJWT", so only RECORD gets it right.
    dists = [
        FakeDistribution(
            "PyJWT",
            "2.10.1",
            {
                "jwt/__init__.py": "",
                "jwt/tests/test_x.py": "",
                "_jwt_speed.cpython-312-x86_64-linux-gnu.so": elf_bytes(EM_X86_64),
            },
        ),
        FakeDistribution("six", "1.17.0", {"six.py": ""}, console_scripts=["six-tool"]),
    ]
    runner = FakePipRunner(dists)
    tree = prepare_dependencies(CONFIG, _pins("PyJWT==2.10.1\nsix==1.17.0\n"), cache_dir=tmp_path, pip_runner=runner)
    assert tree is not None
    assert [(d.name, d.import_names) for d in tree.distributions] == [
        ("PyJWT", ("_jwt_speed", "jwt")),
        ("six", ("six",)),
    ]
    assert tree.import_names() == {"_jwt_speed": "PyJWT==2.10.1", "jwt": "PyJWT==2.10.1", "six": "six==1.17.0"}
    again = prepare_dependencies(CONFIG, _pins("PyJWT==2.10.1\nsix==1.17.0\n"), cache_dir=tmp_path, pip_runner=runner)
    assert again == tree  # read back from the cache's distributions.json
    assert len(runner.actions("install")) == 1


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("pkg/sub/mod.py", "pkg"),
        ("six.py", "six"),
        ("_cffi_backend.cpython-312-x86_64-linux-gnu.so", "_cffi_backend"),
        ("cffi.libs/libffi.so.8", None),
        ("six-1.17.0.dist-info/METADATA", None),
        ("../../bin/tool", None),
        ("README.txt", None),
        ("__pycache__/x.pyc", None),
    ],
)
def test_top_level_module_of_a_path(path: str, module: str | None) -> None:
    assert top_level_module(path) == module


def _tree_and_selection(tmp_path: Path, runner: FakePipRunner, exclude: tuple[str, ...]):  # noqa: ANN202
    pins = _pins("tinylib==1.0.0\ndepone==1.2.0\n")
    tree = prepare_dependencies(CONFIG, pins, cache_dir=tmp_path, pip_runner=runner)
    assert tree is not None
    selection = apply_excludes(read_members(tree.members_file.read_bytes()), exclude, function="Fn")
    return tree, selection, pins


def test_excluding_part_of_a_package_passes(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    tree, selection, pins = _tree_and_selection(tmp_path, fake_pip, ("tinylib/data", "tinylib/_speed*.so"))
    check_excludes(tree, selection, pins, ENV, function="Fn")


def test_excluding_a_pinned_package_whole_names_the_glob_the_package_and_who_needs_it(
    tmp_path: Path, fake_pip: FakePipRunner
) -> None:
    tree, selection, pins = _tree_and_selection(tmp_path, fake_pip, ("tinylib/data", "depone*"))
    with pytest.raises(ExcludeError) as caught:
        check_excludes(tree, selection, pins, ENV, function="LexFulfillmentHandler")
    assert str(caught.value).splitlines()[:2] == [
        "LexFulfillmentHandler: exclude would remove packages the function needs:",
        "    exclude glob 'depone*' removes the whole top-level package depone of depone 1.2.0, which "
        "requirements.txt pins and tinylib 1.0.0 requires",
    ]
    assert "lambda_src/LexFulfillmentHandler/requirements.txt" in str(caught.value)


def test_a_damaged_cache_entry_says_what_to_delete(tmp_path: Path, fake_pip: FakePipRunner) -> None:
    tree = prepare_dependencies(CONFIG, _pins("depone==1.2.0\n"), cache_dir=tmp_path, pip_runner=fake_pip)
    assert tree is not None
    (tree.members_file.parent / "distributions.json").unlink()
    with pytest.raises(ArchiveError, match=f"delete {tree.members_file.parent} and build again"):
        prepare_dependencies(CONFIG, _pins("depone==1.2.0\n"), cache_dir=tmp_path, pip_runner=fake_pip)
