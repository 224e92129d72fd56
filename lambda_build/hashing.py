"""Hashes: the tool's own digest, a function's content hash, and Terraform's filebase64sha256.

``content_hash`` is the hex SHA-256 over every input of a zip, each field length-prefixed so no two
different input sets can collide by concatenation: the tool digest (the bytes of every module of
this package, so a changed tool rebuilds), runtime, architecture, the requirements.txt bytes, the
trim rules, the function's exclude globs, and for each source file its zip path, executable bit and
bytes. It names the zip's inputs; the zip's own bytes are named by ``source_code_hash``.

``source_code_hash`` is base64 (standard alphabet, padded) of the zip's SHA-256, which is what
Terraform's ``filebase64sha256`` returns
(https://developer.hashicorp.com/terraform/language/functions/filebase64sha256).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

TOOL_VERSION = "1"
_CHUNK = 1 << 20


@functools.cache
def tool_digest() -> str:
    """Hex SHA-256 of this package's ``*.py`` files (names and bytes) plus ``TOOL_VERSION``."""
    digest = hashlib.sha256(TOOL_VERSION.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.glob("*.py")):
        data = path.read_bytes().replace(b"\r\n", b"\n")
        for part in (path.name.encode(), data):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


class FieldHasher:
    """SHA-256 over a sequence of length-prefixed byte fields."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()

    def add(self, *parts: bytes | str) -> None:
        """Append each part as one field (str is UTF-8 encoded)."""
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            self._digest.update(len(data).to_bytes(8, "big"))
            self._digest.update(data)

    def add_all(self, label: str, items: Iterable[str]) -> None:
        """Append a labelled list: the label, the count, then each item."""
        values = list(items)
        self.add(label, str(len(values)), *values)

    def hexdigest(self) -> str:
        """The hex digest so far."""
        return self._digest.hexdigest()


def sha256_file(path: Path) -> bytes:
    """Raw SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def base64_sha256(data: bytes) -> str:
    """base64 of a raw SHA-256 digest, as Terraform's filebase64sha256 prints it."""
    return base64.b64encode(data).decode("ascii")


def filebase64sha256(path: Path) -> str:
    """Terraform's ``filebase64sha256(path)``."""
    return base64_sha256(sha256_file(path))
