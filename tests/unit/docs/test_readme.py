"""The README documents every root variable and output (issue 3, section 6).

Names are read from the root module's ``variables.tf`` and ``outputs.tf`` with a regex over
``variable "NAME"`` / ``output "NAME"`` blocks, and must appear in README.md as `` `NAME` ``
inside the Inputs or Outputs section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"


def _block_names(kind: str, path: Path) -> list[str]:
    return re.findall(rf'^{kind}\s+"([^"]+)"', path.read_text(encoding="utf-8"), flags=re.MULTILINE)


def _section(text: str, heading: str) -> str:
    """Return the text under a Markdown heading (any level) up to the next heading of that level or higher."""
    match = re.search(rf"^(#+)\s+{re.escape(heading)}\s*$", text, flags=re.MULTILINE)
    if match is None:
        pytest.fail(f"README.md has no '{heading}' heading")
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, flags=re.MULTILINE)
    return rest[: end.start()] if end else rest


@pytest.mark.parametrize(
    ("kind", "tf_file", "heading"), [("variable", "variables.tf", "Inputs"), ("output", "outputs.tf", "Outputs")]
)
def test_readme_documents_every_root_name(kind: str, tf_file: str, heading: str) -> None:
    names = _block_names(kind, ROOT / tf_file)
    assert names, f"no {kind} blocks found in {tf_file}"
    section = _section(README.read_text(encoding="utf-8"), heading)
    missing = [n for n in names if f"`{n}`" not in section]
    assert not missing, f"README.md '{heading}' does not document: {', '.join(missing)}"


def test_readme_documents_no_stale_names() -> None:
    """A row in the Inputs/Outputs tables that names no variable/output is stale documentation."""
    text = README.read_text(encoding="utf-8")
    for kind, tf_file, heading in (("variable", "variables.tf", "Inputs"), ("output", "outputs.tf", "Outputs")):
        names = set(_block_names(kind, ROOT / tf_file))
        rows = re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|", _section(text, heading), flags=re.MULTILINE)
        stale = sorted(set(rows) - names)
        assert not stale, f"README.md '{heading}' documents {kind}s that don't exist: {', '.join(stale)}"
