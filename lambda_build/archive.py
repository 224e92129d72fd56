"""Assemble a function's zip deterministically and write it atomically.

Layout (docs/contracts.md): the function folder's files at the root (``lambda_function.py`` and any
helpers; not requirements.txt), ``lambda_src/atlas_shared/`` as the package ``atlas_shared/``, and
the installed requirements at the root.

Determinism: the same inputs give the same bytes whatever the file mtimes, umask, modes, creation
order or checkout path. Entries are sorted by name, every folder gets an explicit entry, every
timestamp is 1980-01-01 00:00:00 (the zip epoch), modes are 0644 for files, 0755 for folders and for
files with any executable bit, the creator is Unix, there are no extra fields or comments, and
every file is deflated at ``COMPRESS_LEVEL`` (the writer is ``zipwriter``). Sources skip hidden files and folders (``.env`` never
ships), ``__pycache__`` and ``*.pyc``: the only bytecode in a zip is what ``bytecode`` compiles
deterministically for the runtime. Zip format: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
(the same deflate bytes also need the same zlib; CPython's bundled or the system's zlib are stable).

Every ELF file (and every ``*.so``) must be a 64-bit little-endian ELF for the function's machine.
Symbolic links are refused: one can point outside lambda_src/ (a link to /etc/hostname would ship the
build machine's file) and makes the zip depend on the checkout.

Zips are staged (``stage_zip``: a temp file in dist/, complete and synced) and published by the
pipeline, which moves the staged file into place together with its manifest entry.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lambda_build import elf
from lambda_build.config import REQUIREMENTS_FILE, SHARED_PACKAGE, Architecture
from lambda_build.errors import ArchitectureError, ArchiveError, ExcludeError
from lambda_build.globs import GlobError, GlobSet
from lambda_build.hashing import filebase64sha256
from lambda_build.zipwriter import Member, ZipFormatError, dir_member, file_member, write_members

COMPRESS_LEVEL = 6
FILE_MODE = 0o644
EXEC_MODE = 0o755
DIR_MODE = 0o755
TEMP_PREFIX = ".lambda_build-"


@dataclass(frozen=True)
class SourceFile:
    """A file bound for the zip.

    Attributes:
        arcname: its POSIX path inside the zip.
        path: where it is read from.
        executable: whether it gets mode 0755 (any executable bit set on disk).
    """

    arcname: str
    path: Path
    executable: bool


@dataclass(frozen=True)
class ZipResult:
    """What was written: the zip's size in bytes and its base64 SHA-256."""

    size_bytes: int
    source_code_hash: str


def _is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def _walk(
    root: Path,
    prefix: str,
    *,
    function: str,
    skip_root_files: frozenset[str] = frozenset(),
) -> list[SourceFile]:
    files: list[SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for dirname in sorted(dirnames):
            if dirname.startswith(".") or dirname == "__pycache__":
                dirnames.remove(dirname)
            elif (here / dirname).is_symlink():
                raise ArchiveError(
                    f"{here / dirname} is a symlinked folder (to {_link_target(here / dirname)})",
                    function=function,
                    hint="replace it with a real folder; symlinked folders make the zip depend on the checkout",
                )
        for filename in filenames:
            if filename.startswith(".") or filename.endswith((".pyc", ".pyo")):
                continue
            if here == root and filename in skip_root_files:
                continue
            path = here / filename
            if path.is_symlink():
                raise ArchiveError(
                    f"{path} is a symbolic link (to {_link_target(path)})",
                    function=function,
                    hint="replace it with a copy of the file; a link can point outside lambda_src/ and ship "
                    "the build machine's files, so links are not followed",
                )
            rel = path.relative_to(root).as_posix()
            files.append(SourceFile(prefix + rel, path, _is_executable(path)))
    return files


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def collect_sources(function_dir: Path, shared_dir: Path, *, function: str) -> list[SourceFile]:
    """The function's own files and the shared package, with their zip paths, sorted.

    Raises:
        ArchiveError: the shared package is missing, a function file clashes with it, or a file or
            folder is a symbolic link.
    """
    if not shared_dir.is_dir():
        raise ArchiveError(
            f"the shared package {shared_dir} does not exist",
            function=function,
            hint=f"every zip carries lambda_src/{SHARED_PACKAGE}/ (docs/contracts.md); restore it",
        )
    own = _walk(
        function_dir,
        "",
        function=function,
        skip_root_files=frozenset({REQUIREMENTS_FILE}),
    )
    if any(f.arcname.split("/")[0] == SHARED_PACKAGE for f in own):
        raise ArchiveError(
            f"lambda_src/{function}/{SHARED_PACKAGE} would shadow the shared package",
            function=function,
            hint=f"rename it; {SHARED_PACKAGE}/ in the zip comes from lambda_src/{SHARED_PACKAGE}/",
        )
    shared = _walk(shared_dir, SHARED_PACKAGE + "/", function=function)
    return sorted(own + shared, key=lambda f: f.arcname)


def collect_tree(site: Path, *, function: str) -> list[SourceFile]:
    """Every file under an installed-requirements folder, with its zip path, sorted."""
    return sorted(_walk(site, "", function=function), key=lambda f: f.arcname)


def check_elf(arcname: str, head: bytes, architecture: Architecture) -> str | None:
    """A problem description if ``head`` (a file's first bytes) is a wrong-platform shared object."""
    try:
        header = elf.parse_elf_header(head)
    except ValueError as exc:
        return f"{arcname}: {exc}"
    if header is None:
        if arcname.endswith(".so") or ".so." in arcname.rsplit("/", 1)[-1]:
            return f"{arcname}: named like a shared object but is not an ELF file"
        return None
    if not elf.matches(header, architecture.elf_machine):
        return f"{arcname}: ELF for {header.describe()}"
    return None


def compress_files(files: list[SourceFile], *, function: str, architecture: Architecture) -> list[Member]:
    """Read, check and deflate ``files`` into zip members with normalised modes.

    Raises:
        ArchitectureError: an ELF file (or a ``*.so``) is not a 64-bit little-endian ELF for
            ``architecture``; all offenders are listed.
        ArchiveError: a file cannot be read.
    """
    members: list[Member] = []
    wrong: list[str] = []
    for source in files:
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            raise ArchiveError(
                f"cannot read {source.path}: {exc}", function=function, hint="check the file's permissions"
            ) from exc
        problem = check_elf(source.arcname, data[: elf.HEADER_BYTES], architecture)
        if problem:
            wrong.append(problem)
        members.append(file_member(source.arcname, data, EXEC_MODE if source.executable else FILE_MODE, COMPRESS_LEVEL))
    if wrong:
        listing = "\n".join("    " + w for w in wrong[:10])
        more = f"\n    ... and {len(wrong) - 10} more" if len(wrong) > 10 else ""
        raise ArchitectureError(
            f"shared objects not built for Lambda {architecture.name} "
            f"(needs 64-bit little-endian {architecture.machine}, e_machine {architecture.elf_machine}):\n"
            f"{listing}{more}",
            function=function,
            hint="a wheel for another platform got in: check the pins and the architecture in "
            "lambda_src/build.toml; vendored binaries must be built for the target",
        )
    return members


@dataclass(frozen=True)
class Selection:
    """The requirements' members an ``exclude`` list keeps, and which glob removed each of the others.

    Attributes:
        kept: the members that go into the zip, in their original order.
        removed: the name of each removed member -> the glob that matched it.
    """

    kept: list[Member]
    removed: dict[str, str]


def select_dependencies(members: list[Member] | None, exclude: Iterable[str], *, function: str) -> list[Member]:
    """The requirements' members less those the function's ``exclude`` globs match.

    Args:
        members: the dependency tree's members, or None when the function installs nothing.
        exclude: globs (``globs`` syntax) over zip paths.
        function: for error messages.

    Raises:
        ExcludeError: an exclude glob is invalid or matched nothing (a typo, or the package's layout changed).
    """
    return apply_excludes(members, exclude, function=function).kept


def apply_excludes(members: list[Member] | None, exclude: Iterable[str], *, function: str) -> Selection:
    """``select_dependencies``, also telling which glob removed which member (``deps.check_excludes``)."""
    patterns = tuple(exclude)
    if members is None:
        if patterns:
            raise ExcludeError(
                f"exclude globs {list(patterns)} given but the function installs no requirements",
                function=function,
                hint="remove exclude from its build.toml table",
            )
        return Selection([], {})
    if not patterns:
        return Selection(list(members), {})
    try:
        globs = GlobSet(patterns)
    except GlobError as exc:
        raise ExcludeError(
            f"exclude glob {exc.pattern!r} is not a valid glob: {exc.reason}",
            function=function,
            hint="fix it in lambda_src/build.toml",
        ) from exc
    removed: dict[str, str] = {}
    kept: list[Member] = []
    for member in members:
        pattern = globs.matching_pattern(member.name)
        if pattern is None:
            kept.append(member)
        else:
            removed[member.name] = pattern
    used = set(removed.values())
    unused = [p for p in patterns if p not in used]
    if unused:
        raise ExcludeError(
            f"exclude glob(s) {unused} match nothing in the installed requirements",
            function=function,
            hint="fix or remove them in lambda_src/build.toml (paths are relative to the zip root, e.g. lxml/includes)",
        )
    return Selection(kept, removed)


def merge(sources: list[Member], dependencies: list[Member], *, function: str) -> list[Member]:
    """All members plus an entry per folder, sorted by name; requirements may not shadow sources.

    Raises:
        ArchiveError: the same top-level name comes from the sources and from the requirements.
    """
    # Top-level __pycache__/ holds bytecode of both sides' top-level modules (lambda_build.bytecode).
    source_tops = {m.name.split("/")[0] for m in sources} - {"__pycache__"}
    clashes = sorted({m.name.split("/")[0] for m in dependencies} & source_tops)
    if clashes:
        raise ArchiveError(
            f"installed requirements provide {', '.join(clashes)}, which the function's sources also provide",
            function=function,
            hint="rename the source module or package so imports are unambiguous",
        )
    files = sources + dependencies
    folders = [dir_member(name, DIR_MODE) for name in _directories(m.name for m in files)]
    return sorted(files + folders, key=lambda m: m.name)


def _directories(names: Iterable[str]) -> set[str]:
    dirs: set[str] = set()
    for name in names:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:depth]) + "/")
    return dirs


@dataclass(frozen=True)
class StagedZip:
    """A complete zip under a temp name beside its destination, not yet published.

    Attributes:
        temp: the staged file (``TEMP_PREFIX``..., removed by ``Builder.clean_temp_files`` if left over).
        dest: where it goes.
        result: its size and base64 SHA-256.
    """

    temp: Path
    dest: Path
    result: ZipResult

    def discard(self) -> None:
        """Delete the staged file (after a failure or an interrupt)."""
        self.temp.unlink(missing_ok=True)


def stage_zip(members: Iterable[Member], dest: Path, *, function: str) -> StagedZip:
    """Write ``members`` (in order) to a synced temp file in dest's folder; ``dest`` is not touched.

    A failure leaves no temp file behind.

    Raises:
        ArchiveError: the zip would need zip64.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{dest.name}.", suffix=".tmp", dir=dest.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                write_members(out, members)
            except ZipFormatError as exc:
                raise ArchiveError(str(exc), function=function, hint="trim the function's requirements") from exc
            out.flush()
            os.fsync(out.fileno())
        result = ZipResult(size_bytes=temp.stat().st_size, source_code_hash=filebase64sha256(temp))
        os.chmod(temp, FILE_MODE)  # mkstemp's 0600 would follow the zip; keep dist/ readable as usual
        return StagedZip(temp, dest, result)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_zip(members: Iterable[Member], dest: Path, *, function: str) -> ZipResult:
    """Write ``members`` (in order) to ``dest`` atomically: ``stage_zip``, then replace.

    A failure leaves any previous ``dest`` untouched and no temp file behind.

    Raises:
        ArchiveError: the zip would need zip64.
    """
    staged = stage_zip(members, dest, function=function)
    try:
        os.replace(staged.temp, dest)
    except BaseException:
        staged.discard()
        raise
    return staged.result
