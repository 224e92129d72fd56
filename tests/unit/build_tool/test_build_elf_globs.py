"""The 20-byte ELF header reader and the path globs used by trim rules and excludes."""

from __future__ import annotations

import pytest

from lambda_build import elf
from lambda_build.globs import GlobError, GlobSet, compile_glob
from lambda_build.testing import elf_bytes


@pytest.mark.parametrize(("machine", "name"), [(elf.EM_X86_64, "x86_64"), (elf.EM_AARCH64, "aarch64")])
def test_reads_machine_of_64_bit_little_endian_elf(machine: int, name: str) -> None:
    header = elf.parse_elf_header(elf_bytes(machine)[:20])
    assert header == elf.ElfHeader(elf_class=2, data=1, machine=machine)
    assert elf.matches(header, machine)
    assert name in header.describe()


def test_big_endian_and_32_bit_do_not_match_lambda_machines() -> None:
    big = elf.parse_elf_header(elf_bytes(elf.EM_X86_64, data=2))
    assert big is not None and big.machine == elf.EM_X86_64  # byte order honoured
    assert not elf.matches(big, elf.EM_X86_64)
    i386 = elf.parse_elf_header(elf_bytes(elf.EM_386, elf_class=1))
    assert i386 is not None and not elf.matches(i386, elf.EM_X86_64)


def test_non_elf_and_truncated_elf() -> None:
    assert elf.parse_elf_header(b"#!/bin/sh\n") is None
    assert elf.parse_elf_header(b"") is None
    with pytest.raises(ValueError, match="truncated"):
        elf.parse_elf_header(b"\x7fELF\x02\x01")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/__pycache__", "__pycache__", True),
        ("**/__pycache__", "a/b/__pycache__", True),
        ("*/**/tests", "pkg/tests", True),
        ("*/**/tests", "pkg/sub/tests", True),
        ("*/**/tests", "tests", False),
        ("lxml/includes", "lxml/includes", True),
        ("lxml/includes", "x/lxml/includes", False),
        ("lxml/objectify*.so", "lxml/objectify.cpython-312-x86_64-linux-gnu.so", True),
        ("*.dist-info/RECORD", "six-1.17.0.dist-info/RECORD", True),
        ("*.dist-info/RECORD", "six-1.17.0.dist-info/METADATA", False),
        ("a?c", "abc", True),
        ("a[bx]c", "axc", True),
        ("pkg/**", "pkg/a/b.py", True),
    ],
)
def test_glob_full_path_semantics(pattern: str, path: str, expected: bool) -> None:
    assert bool(compile_glob(pattern).fullmatch(path)) is expected


def test_globset_matches_through_parent_folders() -> None:
    globs = GlobSet(["lxml/html", "**/*.pyc"])
    assert globs.matching_pattern("lxml/html/diff.py") == "lxml/html"
    assert globs.match("a/b/c.pyc")
    assert not globs.match("lxml/etree.so")


@pytest.mark.parametrize("pattern", ["lxml/[z-a]*", "a/[\\]"])
def test_an_invalid_glob_is_a_glob_error_naming_it(pattern: str) -> None:
    with pytest.raises(GlobError) as caught:
        GlobSet(["lxml/html", pattern])
    assert caught.value.pattern == pattern
    assert str(caught.value).startswith(f"invalid glob {pattern!r}: ")
