"""dist/manifest.json, the meeting point with the Terraform root module (docs/contracts.md).

Shape::

    {"schema_version": 1,
     "functions": {"<Name>": {"zip_path": "<Name>.zip", "source_code_hash": "<base64 sha256>",
                              "size_bytes": 123, "content_hash": "<hex sha256>",
                              "runtime": "python3.12", "architecture": "x86_64",
                              "handler": "lambda_function.lambda_handler"}}}

Keys sorted, two-space indent, trailing newline; ``zip_path`` relative to the manifest's folder so
checkouts at different paths write identical files. Written atomically (temp file, then replace).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from lambda_build.errors import ManifestError

SCHEMA_VERSION = 1
MANIFEST_FILE = "manifest.json"
_FIELDS = (
    "zip_path",
    "source_code_hash",
    "size_bytes",
    "content_hash",
    "runtime",
    "architecture",
    "handler",
)


@dataclass(frozen=True)
class ManifestEntry:
    """One function's record; field meanings as in docs/contracts.md (size in bytes)."""

    zip_path: str
    source_code_hash: str
    size_bytes: int
    content_hash: str
    runtime: str
    architecture: str
    handler: str


def read_manifest(path: Path) -> dict[str, ManifestEntry]:
    """Entries of an existing manifest; an absent file gives ``{}``.

    Raises:
        ManifestError: the file is not JSON of the contract's schema.
    """
    if not path.exists():
        return {}
    hint = f"delete {path} and run a full `python build.py` to rewrite it"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not readable JSON: {exc}", hint=hint) from exc
    if (
        not isinstance(data, dict)
        or data.get("schema_version") != SCHEMA_VERSION
        or not isinstance(data.get("functions"), dict)
    ):
        raise ManifestError(f"{path} is not a schema_version {SCHEMA_VERSION} manifest", hint=hint)
    entries: dict[str, ManifestEntry] = {}
    for name, raw in data["functions"].items():
        if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
            raise ManifestError(
                f"{path}: entry {name!r} does not have exactly the fields {', '.join(_FIELDS)}",
                hint=hint,
            )
        if not isinstance(raw["size_bytes"], int) or not all(
            isinstance(raw[f], str) for f in _FIELDS if f != "size_bytes"
        ):
            raise ManifestError(f"{path}: entry {name!r} has fields of the wrong type", hint=hint)
        entries[name] = ManifestEntry(**raw)
    return entries


def render_manifest(entries: Mapping[str, ManifestEntry]) -> str:
    """The manifest's exact text."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "functions": {name: asdict(entries[name]) for name in sorted(entries)},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_manifest(path: Path, entries: Mapping[str, ManifestEntry]) -> bool:
    """Write the manifest atomically unless its text would not change.

    Returns:
        True when the file was (re)written.
    """
    text = render_manifest(entries)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".lambda_build-{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return True


def sync_folder(folder: Path) -> None:
    """fsync a folder, so renames in it reach the disk in the order they were made."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
