"""dist/manifest.json: the contract's exact format, strict reading, atomic no-op writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambda_build.errors import ManifestError
from lambda_build.manifest import ManifestEntry, read_manifest, render_manifest, write_manifest

ENTRY = ManifestEntry("Fn.zip", "abc=", 10, "00" * 32, "python3.12", "x86_64", "lambda_function.lambda_handler")


def test_render_matches_the_contract_format() -> None:
    text = render_manifest({"B": ENTRY, "A": ENTRY})
    assert text.endswith("}\n")
    assert text.startswith('{\n  "functions": {\n    "A": {\n      "architecture": "x86_64",')
    data = json.loads(text)
    assert data["schema_version"] == 1
    assert list(data["functions"]) == ["A", "B"]
    assert data["functions"]["A"] == {
        "architecture": "x86_64",
        "content_hash": "00" * 32,
        "handler": "lambda_function.lambda_handler",
        "runtime": "python3.12",
        "size_bytes": 10,
        "source_code_hash": "abc=",
        "zip_path": "Fn.zip",
    }


def test_round_trip_and_unchanged_write_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "dist" / "manifest.json"
    assert read_manifest(path) == {}
    assert write_manifest(path, {"Fn": ENTRY}) is True
    assert read_manifest(path) == {"Fn": ENTRY}
    before = path.stat().st_mtime_ns
    assert write_manifest(path, {"Fn": ENTRY}) is False
    assert path.stat().st_mtime_ns == before
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"schema_version": 2, "functions": {}}',
        '{"schema_version": 1, "functions": {"Fn": {"zip_path": "Fn.zip"}}}',
        '{"schema_version": 1, "functions": []}',
    ],
)
def test_unreadable_manifest_says_how_to_recover(tmp_path: Path, text: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(text)
    with pytest.raises(ManifestError, match="run a full `python build.py`"):
        read_manifest(path)
