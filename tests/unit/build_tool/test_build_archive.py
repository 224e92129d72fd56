"""Zip assembly: layout, normalised metadata, ELF checks, excludes, atomic writes, the zip writer."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambda_build.archive import (
    SourceFile,
    apply_excludes,
    collect_sources,
    collect_tree,
    compress_files,
    merge,
    select_dependencies,
    stage_zip,
    write_zip,
)
from lambda_build.config import ARCHITECTURES
from lambda_build.elf import EM_AARCH64, EM_X86_64
from lambda_build.errors import ArchitectureError, ArchiveError, ExcludeError
from lambda_build.testing import elf_bytes, write_files
from lambda_build.zipwriter import Member, dir_member, file_member, read_members, write_members

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


def _tree(tmp_path: Path, files: dict[str, str | bytes]) -> list[Member]:
    site = tmp_path / "site"
    write_files(site, files)
    return compress_files(collect_tree(site, function="Fn"), function="Fn", architecture=X86)


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
    members = merge(compress_files(files, function="Fn", architecture=X86), [], function="Fn")
    result = write_zip(members, tmp_path / "dist" / "Fn.zip", function="Fn")
    with zipfile.ZipFile(tmp_path / "dist" / "Fn.zip") as archive:
        assert archive.testzip() is None  # every CRC and size checks out with the stdlib reader
        infos = archive.infolist()
        assert archive.read("lambda_function.py") == b"def lambda_handler(e, c): pass\n"
    names = [i.filename for i in infos]
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
    assert all(i.create_system == 3 and i.extra == b"" and i.comment == b"" for i in infos)
    assert all(stat.S_ISDIR(i.external_attr >> 16) for i in infos if i.filename.endswith("/"))
    assert {i.compress_type for i in infos if not i.is_dir()} == {zipfile.ZIP_DEFLATED}
    assert result.size_bytes == (tmp_path / "dist" / "Fn.zip").stat().st_size
    assert oct(stat.S_IMODE((tmp_path / "dist" / "Fn.zip").stat().st_mode)) == oct(0o644)


def test_wrong_architecture_shared_object_is_rejected(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_files(site, {"fast/_x.cpython-312-x86_64-linux-gnu.so": elf_bytes(EM_X86_64), "fast/__init__.py": ""})
    with pytest.raises(ArchitectureError) as caught:
        compress_files(collect_tree(site, function="Fn"), function="Fn", architecture=ARM)
    message = str(caught.value)
    assert message.startswith("Fn: ")
    assert "fast/_x.cpython-312-x86_64-linux-gnu.so: ELF for x86_64 (e_machine 62" in message
    assert "arm64" in message and "->" in message


def test_right_architecture_passes_and_non_elf_so_is_rejected(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_files(site, {"a/_x.so": elf_bytes(EM_AARCH64)})
    assert len(compress_files(collect_tree(site, function="Fn"), function="Fn", architecture=ARM)) == 1
    write_files(site, {"a/_y.so": b"MZ\x90\x00 not an ELF"})
    with pytest.raises(ArchitectureError, match="a/_y.so: named like a shared object but is not an ELF"):
        compress_files(collect_tree(site, function="Fn"), function="Fn", architecture=ARM)


def test_failed_write_keeps_the_previous_zip_and_leaves_no_temp_file(tmp_path: Path) -> None:
    dest = tmp_path / "dist" / "Fn.zip"
    dest.parent.mkdir()
    dest.write_bytes(b"previous zip")

    def exploding() -> object:
        yield file_member("a.py", b"x", 0o644, 6)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_zip(exploding(), dest, function="Fn")  # type: ignore[arg-type]
    assert dest.read_bytes() == b"previous zip"
    assert [p.name for p in dest.parent.iterdir()] == ["Fn.zip"]


def test_exclude_globs_remove_members_and_unmatched_globs_fail(tmp_path: Path) -> None:
    members = _tree(tmp_path, {"lxml/etree.py": "", "lxml/html/diff.py": "", "lxml/objectify.py": ""})
    kept = select_dependencies(members, ("lxml/html", "lxml/objectify*.py"), function="Fn")
    assert [m.name for m in kept] == ["lxml/etree.py"]
    with pytest.raises(ExcludeError, match=r"\['lxml/htlm'\] match nothing"):
        select_dependencies(members, ("lxml/html", "lxml/htlm"), function="Fn")
    with pytest.raises(ExcludeError, match="installs no requirements"):
        select_dependencies(None, ("lxml/html",), function="Fn")


def test_requirement_shadowing_a_source_module_is_refused(tmp_path: Path) -> None:
    sources = compress_files(_sources(tmp_path), function="Fn", architecture=X86)
    with pytest.raises(ArchiveError, match="provide pkg"):
        merge(sources, _tree(tmp_path, {"pkg/other.py": ""}), function="Fn")


def test_zip_writer_round_trips_raw_members_and_matches_zipfile() -> None:
    members = [
        dir_member("pkg/"),
        file_member("pkg/é.py", b"print('hi')\n" * 50, 0o644, 6),
        file_member("run.sh", b"#!/bin/sh\n", 0o755, 6),
    ]
    buffer = io.BytesIO()
    write_members(buffer, members)
    assert read_members(buffer.getvalue()) == members
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert archive.testzip() is None
        assert archive.read("pkg/é.py") == b"print('hi')\n" * 50
        assert archive.getinfo("pkg/é.py").flag_bits & 0x800  # UTF-8 name flag
    again = io.BytesIO()
    write_members(again, read_members(buffer.getvalue()))
    assert again.getvalue() == buffer.getvalue()


@pytest.mark.parametrize("target", ["/etc/hostname", "lambda_function.py"], ids=["outside", "inside"])
def test_symlinked_files_are_refused_wherever_they_point(tmp_path: Path, target: str) -> None:
    src = tmp_path / "lambda_src"
    write_files(src, {"Fn/lambda_function.py": "", "atlas_shared/__init__.py": ""})
    (src / "Fn" / "host.txt").symlink_to(target)
    with pytest.raises(ArchiveError) as caught:
        collect_sources(src / "Fn", src / "atlas_shared", function="Fn")
    message = str(caught.value)
    assert message.startswith(f"Fn: {src / 'Fn' / 'host.txt'} is a symbolic link (to {target})")
    assert "-> replace it with a copy of the file" in message


def test_a_symlink_in_the_shared_package_is_refused_too(tmp_path: Path) -> None:
    src = tmp_path / "lambda_src"
    write_files(src, {"Fn/lambda_function.py": "", "atlas_shared/__init__.py": ""})
    (src / "atlas_shared" / "secrets.py").symlink_to("/nonexistent/secrets.py")  # dangling counts as well
    with pytest.raises(ArchiveError, match="secrets.py is a symbolic link"):
        collect_sources(src / "Fn", src / "atlas_shared", function="Fn")


def test_apply_excludes_tells_which_glob_removed_what(tmp_path: Path) -> None:
    members = _tree(tmp_path, {"lxml/etree.py": "", "lxml/html/diff.py": "", "six.py": ""})
    selection = apply_excludes(members, ("lxml/html", "six.py"), function="Fn")
    assert [m.name for m in selection.kept] == ["lxml/etree.py"]
    assert selection.removed == {"lxml/html/diff.py": "lxml/html", "six.py": "six.py"}
    with pytest.raises(ExcludeError, match=r"Fn: exclude glob 'lxml/\[z-a\]' is not a valid glob: bad character range"):
        apply_excludes(members, ("lxml/[z-a]",), function="Fn")


def test_a_staged_zip_leaves_the_published_one_alone_until_moved(tmp_path: Path) -> None:
    dest = tmp_path / "dist" / "Fn.zip"
    dest.parent.mkdir()
    dest.write_bytes(b"previous zip")
    staged = stage_zip([file_member("a.py", b"x", 0o644, 6)], dest, function="Fn")
    assert dest.read_bytes() == b"previous zip"
    assert staged.temp.parent == dest.parent and staged.temp.name.startswith(".lambda_build-Fn.zip.")
    assert staged.result.size_bytes == staged.temp.stat().st_size
    assert stat.S_IMODE(staged.temp.stat().st_mode) == 0o644
    staged.discard()
    assert [p.name for p in dest.parent.iterdir()] == ["Fn.zip"]
