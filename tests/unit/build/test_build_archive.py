"""Zip assembly: layout, normalised metadata, ELF checks, atomic writes."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambda_build.archive import (
    SourceFile,
    collect_dependencies,
    collect_sources,
    merge,
    write_zip,
)
from lambda_build.config import ARCHITECTURES
from lambda_build.elf import EM_AARCH64, EM_X86_64
from lambda_build.errors import ArchitectureError, ArchiveError, ExcludeError
from lambda_build.testing import elf_bytes, write_files

X86 = ARCHITECTURES["x86_64"]
ARM = ARCHITECTURES["arm64"]


def _sources(tmp_path: Path) -> list[SourceFile]:
    src = tmp_path / "lambda_src"
    write_files(
        src,
        {
            "Fn/lambda_function.py": "def lambda_handler(e, c): pass\n",
            "Fn/requirements.txt": "six==1.17.0\n",
            "Fn/tool.sh": "#!/bin/sh\n",
            "Fn/pkg/mod.py": "",
            "Fn/pkg/__pycache__/mod.cpython-312.pyc": b"\x00",
            "Fn/.env": "SECRET=1\n",
            "Fn/.git/config": "",
            "atlas_shared/__init__.py": "",
            "atlas_shared/x.pyc": b"\x00",
        },
        executable={"Fn/tool.sh"},
    )
    return collect_sources(src / "Fn", src / "atlas_shared", function="Fn")


def test_sources_layout_skips_requirements_hidden_files_and_bytecode(tmp_path: Path) -> None:
    files = _sources(tmp_path)
    assert [(f.arcname, f.executable) for f in files] == [
        ("atlas_shared/__init__.py", False),
        ("lambda_function.py", False),
        ("pkg/mod.py", False),
        ("tool.sh", True),
    ]


def test_missing_shared_package_is_an_error(tmp_path: Path) -> None:
    write_files(tmp_path / "Fn", {"lambda_function.py": ""})
    with pytest.raises(ArchiveError, match="atlas_shared"):
        collect_sources(tmp_path / "Fn", tmp_path / "atlas_shared", function="Fn")


def test_zip_entries_are_sorted_with_fixed_times_and_normalised_modes(tmp_path: Path) -> None:
    previous_umask = os.umask(0o077)
    try:
        files = _sources(tmp_path)
    finally:
        os.umask(previous_umask)
    result = write_zip(files, tmp_path / "dist" / "Fn.zip", function="Fn", architecture=X86)
    with zipfile.ZipFile(tmp_path / "dist" / "Fn.zip") as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert names == ["atlas_shared/", "atlas_shared/__init__.py", "lambda_function.py", "pkg/", "pkg/mod.py", "tool.sh"]
    modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
    assert modes == {
        "atlas_shared/": 0o755,
        "atlas_shared/__init__.py": 0o644,
        "lambda_function.py": 0o644,
        "pkg/": 0o755,
        "pkg/mod.py": 0o644,
        "tool.sh": 0o755,
    }
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
    assert all(i.create_system == 3 and i.extra == b"" for i in infos)
    assert all(stat.S_ISDIR(i.external_attr >> 16) for i in infos if i.filename.endswith("/"))
    assert {i.compress_type for i in infos if not i.is_dir()} == {zipfile.ZIP_DEFLATED}
    assert result.size_bytes == (tmp_path / "dist" / "Fn.zip").stat().st_size


def test_wrong_architecture_shared_object_is_rejected_and_previous_zip_kept(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_files(site, {"fast/_x.cpython-312-x86_64-linux-gnu.so": elf_bytes(EM_X86_64), "fast/__init__.py": ""})
    files = collect_dependencies(site, (), function="Fn")
    dest = tmp_path / "dist" / "Fn.zip"
    dest.parent.mkdir()
    dest.write_bytes(b"previous zip")
    with pytest.raises(ArchitectureError) as caught:
        write_zip(files, dest, function="Fn", architecture=ARM)
    message = str(caught.value)
    assert message.startswith("Fn: ")
    assert "fast/_x.cpython-312-x86_64-linux-gnu.so: ELF for x86_64 (e_machine 62" in message
    assert "arm64" in message and "->" in message
    assert dest.read_bytes() == b"previous zip"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["Fn.zip"]  # no temp file left


def test_right_architecture_passes_and_non_elf_so_is_rejected(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_files(site, {"a/_x.so": elf_bytes(EM_AARCH64)})
    write_zip(collect_dependencies(site, (), function="Fn"), tmp_path / "ok.zip", function="Fn", architecture=ARM)
    write_files(site, {"a/_y.so": b"MZ\x90\x00 not an ELF"})
    with pytest.raises(ArchitectureError, match="a/_y.so: named like a shared object but is not an ELF"):
        write_zip(collect_dependencies(site, (), function="Fn"), tmp_path / "bad.zip", function="Fn", architecture=ARM)


def test_exclude_globs_remove_files_and_unmatched_globs_fail(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_files(site, {"lxml/etree.so": b"", "lxml/html/diff.py": "", "lxml/objectify.so": b""})
    kept = collect_dependencies(site, ("lxml/html", "lxml/objectify*.so"), function="Fn")
    assert [f.arcname for f in kept] == ["lxml/etree.so"]
    with pytest.raises(ExcludeError, match=r"\['lxml/htlm'\] match nothing"):
        collect_dependencies(site, ("lxml/html", "lxml/htlm"), function="Fn")


def test_requirement_shadowing_a_source_module_is_refused(tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    site = tmp_path / "site"
    write_files(site, {"pkg/other.py": ""})
    with pytest.raises(ArchiveError, match="provide pkg"):
        merge(sources, collect_dependencies(site, (), function="Fn"), function="Fn")
