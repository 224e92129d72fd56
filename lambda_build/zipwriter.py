"""A minimal deterministic zip writer and reader for members compressed once and copied many times.

Why not ``zipfile``: the requirements of a function are compressed once per dependency tree and
their compressed bytes copied into every zip that uses them (three functions share one tree here,
and a source-only rebuild recompresses nothing but the sources). ``zipfile`` cannot copy raw
compressed members, so this module writes the format itself. It writes only what Lambda needs:
no zip64 (Lambda's 250 MB unzipped limit stays far below 4 GiB), no extra fields, no comments,
no data descriptors.

Format: PKWARE APPNOTE.TXT sections 4.3.7 (local file header), 4.3.12 (central directory header)
and 4.3.16 (end of central directory), https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
"""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

STORED = 0
DEFLATED = 8
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION = 20  # 2.0: deflate and folders
_MADE_BY = (3 << 8) | _VERSION  # 3 = Unix, so external attributes carry POSIX modes
_UTF8 = 0x800
_DOS_TIME = 0  # 00:00:00
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the zip epoch
_MSDOS_DIRECTORY = 0x10
_LIMIT = 0xFFFFFFFF


class ZipFormatError(ValueError):
    """A zip this module cannot write (too large without zip64) or read (not one it wrote)."""


@dataclass(frozen=True)
class Member:
    """One zip entry, its payload already compressed.

    Attributes:
        name: POSIX path; folders end with ``/``.
        mode: permission bits (0o644, 0o755).
        crc: CRC-32 of the uncompressed bytes.
        size: uncompressed size in bytes.
        method: ``STORED`` or ``DEFLATED``.
        payload: the bytes as stored in the zip.
    """

    name: str
    mode: int
    crc: int
    size: int
    method: int
    payload: bytes

    @property
    def is_dir(self) -> bool:
        """Whether this is a folder entry."""
        return self.name.endswith("/")


def file_member(name: str, data: bytes, mode: int, level: int) -> Member:
    """Deflate ``data`` (raw deflate, zlib ``level``) into a file member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    return Member(name, mode, zlib.crc32(data), len(data), DEFLATED, payload)


def dir_member(name: str, mode: int = 0o755) -> Member:
    """A folder entry (``name`` ends with ``/``)."""
    return Member(name if name.endswith("/") else name + "/", mode, 0, 0, STORED, b"")


def write_members(out: BinaryIO, members: Iterable[Member]) -> None:
    """Write ``members`` in the given order as a complete zip to ``out``.

    Raises:
        ZipFormatError: more than 65535 entries or a size or offset beyond 4 GiB.
    """
    central: list[bytes] = []
    offset = 0
    count = 0
    for member in members:
        name = member.name.encode("utf-8")
        flags = 0 if member.name.isascii() else _UTF8
        if member.is_dir:
            attributes = ((stat.S_IFDIR | member.mode) << 16) | _MSDOS_DIRECTORY
        else:
            attributes = (stat.S_IFREG | member.mode) << 16
        if max(len(member.payload), member.size, offset) > _LIMIT:
            raise ZipFormatError(f"{member.name}: zip larger than 4 GiB needs zip64, which Lambda never needs")
        header = _LOCAL.pack(
            _LOCAL_SIG,
            _VERSION,
            flags,
            member.method,
            _DOS_TIME,
            _DOS_DATE,
            member.crc,
            len(member.payload),
            member.size,
            len(name),
            0,
        )
        out.write(header)
        out.write(name)
        out.write(member.payload)
        central.append(
            _CENTRAL.pack(
                _CENTRAL_SIG,
                _MADE_BY,
                _VERSION,
                flags,
                member.method,
                _DOS_TIME,
                _DOS_DATE,
                member.crc,
                len(member.payload),
                member.size,
                len(name),
                0,
                0,
                0,
                0,
                attributes,
                offset,
            )
            + name
        )
        offset += len(header) + len(name) + len(member.payload)
        count += 1
    if count > 0xFFFF:
        raise ZipFormatError(f"{count} entries need zip64; split the function or trim its requirements")
    directory = b"".join(central)
    out.write(directory)
    out.write(_END.pack(_END_SIG, 0, 0, count, count, len(directory), offset, 0))


def read_members(data: bytes) -> list[Member]:
    """Members of a zip written by ``write_members``, payloads still compressed.

    Raises:
        ZipFormatError: ``data`` is not such a zip.
    """
    if len(data) < _END.size:
        raise ZipFormatError("too short for a zip")
    signature, _, _, _, count, size, start, comment = _END.unpack_from(data, len(data) - _END.size)
    if signature != _END_SIG or comment:
        raise ZipFormatError("no end-of-central-directory record where this writer puts it")
    members: list[Member] = []
    position = start
    for _ in range(count):
        fields = _CENTRAL.unpack_from(data, position)
        if fields[0] != _CENTRAL_SIG:
            raise ZipFormatError("bad central directory header")
        method, crc, csize, usize, name_length = fields[4], fields[7], fields[8], fields[9], fields[10]
        attributes, local = fields[15], fields[16]
        name = data[position + _CENTRAL.size : position + _CENTRAL.size + name_length].decode("utf-8")
        local_fields = _LOCAL.unpack_from(data, local)
        if local_fields[0] != _LOCAL_SIG:
            raise ZipFormatError(f"{name}: bad local header")
        body = local + _LOCAL.size + local_fields[9] + local_fields[10]
        members.append(Member(name, (attributes >> 16) & 0o7777, crc, usize, method, data[body : body + csize]))
        position += _CENTRAL.size + name_length
    if position != start + size:
        raise ZipFormatError("central directory size mismatch")
    return members
