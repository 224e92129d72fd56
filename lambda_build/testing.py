"""A fake ``PipRunner`` for tests: installs made-up distributions from memory, no network.

Like botocore's ``Stubber``, it ships with the code it stands in for so every test suite uses the
same double. It installs what a real ``pip install --target`` would leave: the packages' files,
a ``*.dist-info`` with METADATA (Name, Version, Requires-Dist), RECORD, INSTALLER and REQUESTED,
and for distributions with console scripts a ``bin/`` shim whose shebang holds the build path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from lambda_build.errors import PipError
from lambda_build.pip import PipRequest

_LINE = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[(?P<extras>[^\]]*)\])?===?(?P<version>\S+)(?P<rest>.*)$")


@dataclass
class FakeDistribution:
    """A distribution the fake can install.

    Attributes:
        name: project name.
        version: its version.
        files: relative path -> content (str is UTF-8), installed under the target folder.
        requires: ``Requires-Dist`` lines (PEP 508, markers allowed).
        executables: relative paths installed with mode 0755.
        console_scripts: names of ``bin/`` shims to create.
    """

    name: str
    version: str
    files: dict[str, bytes | str] = field(default_factory=dict)
    requires: list[str] = field(default_factory=list)
    executables: set[str] = field(default_factory=set)
    console_scripts: list[str] = field(default_factory=list)


class FakePipRunner:
    """Downloads and installs ``FakeDistribution``s named by a request's requirements file.

    ``download`` writes an empty ``<name>-<version>-py3-none-any.whl`` per pin into ``dest``;
    ``install`` with ``no_index`` insists that such a wheel is in ``find_links``, as pip would.

    Args:
        distributions: what the fake "index" holds.
        fail_with: when set, every call fails with this text as pip's output.

    Attributes:
        requests: every (action, request) received, in order.
    """

    def __init__(self, distributions: list[FakeDistribution] | None = None, fail_with: str | None = None) -> None:
        self.index = {canonicalize_name(d.name): d for d in distributions or []}
        self.fail_with = fail_with
        self.requests: list[tuple[str, PipRequest]] = []

    def actions(self, action: str) -> list[PipRequest]:
        """The requests received for ``action`` (``download`` or ``install``)."""
        return [request for name, request in self.requests if name == action]

    def _pins(self, action: str, request: PipRequest) -> list[FakeDistribution]:
        self.requests.append((action, request))
        if self.fail_with is not None:
            raise PipError(
                f"pip {action} failed (exit 1); pip's last lines:\n    {self.fail_with}",
                function=request.function,
                hint="fake pip failure",
            )
        found: list[FakeDistribution] = []
        for raw in request.requirements_file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line:
                continue
            match = _LINE.match(line)
            if match is None:
                raise PipError(f"fake pip cannot parse {line!r}", function=request.function, hint="fix the test")
            dist = self.index.get(canonicalize_name(match["name"]))
            if dist is None or dist.version != match["version"]:
                raise PipError(
                    f"pip {action} failed (exit 1); pip's last lines:\n"
                    f"    ERROR: No matching distribution found for {match['name']}=={match['version']}",
                    function=request.function,
                    hint="check that each pin exists on the index as a wheel for this platform",
                )
            found.append(dist)
        return found

    @staticmethod
    def wheel_name(dist: FakeDistribution) -> str:
        """The fake wheel's file name."""
        return f"{canonicalize_name(dist.name).replace('-', '_')}-{dist.version}-py3-none-any.whl"

    def download(self, request: PipRequest) -> None:
        """Write a fake wheel per pin into ``request.dest``."""
        for dist in self._pins("download", request):
            request.dest.mkdir(parents=True, exist_ok=True)
            (request.dest / self.wheel_name(dist)).write_bytes(f"{dist.name} {dist.version}".encode())

    def install(self, request: PipRequest) -> None:
        """Install the requested pins into ``request.dest``, as ``pip install --target`` would."""
        for dist in self._pins("install", request):
            if request.no_index and not (request.find_links and (request.find_links / self.wheel_name(dist)).is_file()):
                raise PipError(
                    f"pip install failed (exit 1); pip's last lines:\n    ERROR: No matching distribution found "
                    f"for {dist.name}=={dist.version} (--no-index)",
                    function=request.function,
                    hint="download the wheel first",
                )
            self._install(dist, request.dest)

    @staticmethod
    def _install(dist: FakeDistribution, target: Path) -> None:
        for rel, data in dist.files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            if rel in dist.executables:
                os.chmod(path, 0o755)
        info = target / f"{dist.name.replace('-', '_')}-{dist.version}.dist-info"
        info.mkdir(parents=True, exist_ok=True)
        metadata = [
            "Metadata-Version: 2.1",
            f"Name: {dist.name}",
            f"Version: {dist.version}",
        ]
        metadata += [f"Requires-Dist: {r}" for r in dist.requires]
        (info / "METADATA").write_text("\n".join(metadata) + "\n\nLong description.\n", encoding="utf-8")
        (info / "INSTALLER").write_text("pip\n", encoding="utf-8")
        (info / "REQUESTED").write_text("", encoding="utf-8")
        (info / "RECORD").write_text("".join(f"{rel},sha256=x,1\n" for rel in dist.files), encoding="utf-8")
        (info / "top_level.txt").write_text(dist.name.replace("-", "_") + "\n", encoding="utf-8")
        for script in dist.console_scripts:
            shim = target / "bin" / script
            shim.parent.mkdir(parents=True, exist_ok=True)
            shim.write_text(f"#!{target}/../python\nimport sys\n", encoding="utf-8")
            os.chmod(shim, 0o755)


def elf_bytes(machine: int, *, elf_class: int = 2, data: int = 1, length: int = 64) -> bytes:
    """A minimal ELF image: a valid 20-byte identifying header for ``machine``, padded to ``length``."""
    order = "big" if data == 2 else "little"
    head = b"\x7fELF" + bytes([elf_class, data, 1, 0]) + bytes(8)
    head += (3).to_bytes(2, order) + machine.to_bytes(2, order)  # e_type ET_DYN, e_machine
    return head + bytes(max(0, length - len(head)))


def write_files(
    root: Path,
    files: dict[str, bytes | str],
    *,
    executable: set[str] | frozenset[str] = frozenset(),
    order: list[str] | None = None,
    mtime: float | None = None,
) -> None:
    """Create ``files`` (relative path -> content) under ``root`` in ``order``.

    Args:
        root: folder to write into (created).
        files: contents; str is written as UTF-8.
        executable: paths given mode 0755 (others keep the umask's default).
        order: creation order (default: as given), to show that order does not matter.
        mtime: when set, every file's atime and mtime.
    """
    for rel in order or list(files):
        content = files[rel]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        if rel in executable:
            os.chmod(path, 0o755)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
