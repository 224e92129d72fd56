"""Every root, module and example asks for a hashicorp/aws version that has what the code uses (issue 7, section 7).

``aws_lambda_function.logging_config`` and the ``python3.12`` runtime arrived in hashicorp/aws 5.32.0
(https://github.com/hashicorp/terraform-provider-aws/blob/main/CHANGELOG.md, 5.32.0); a root that allowed
``>= 5.0`` could resolve an older provider and fail at plan with an unsupported block or runtime.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VERSIONS_FILES = sorted(
    [ROOT / "versions.tf", *ROOT.glob("modules/*/versions.tf"), *ROOT.glob("examples/*/versions.tf")]
)
FLOOR = (5, 32, 0)


def _aws_lower_bound(path: Path) -> tuple[int, ...]:
    text = path.read_text(encoding="utf-8")
    block = re.search(r'aws\s*=\s*\{[^}]*source\s*=\s*"hashicorp/aws"[^}]*\}', text, flags=re.DOTALL)
    assert block, f"{path} has no hashicorp/aws required_providers entry"
    constraint = re.search(r'version\s*=\s*"([^"]+)"', block.group(0))
    assert constraint, f"{path} does not constrain hashicorp/aws"
    lower = re.search(r">=\s*([0-9]+(?:\.[0-9]+){0,2})", constraint.group(1))
    assert lower, f"{path}: {constraint.group(1)!r} has no >= lower bound"
    parts = tuple(int(p) for p in lower.group(1).split("."))
    return parts + (0,) * (3 - len(parts))


def test_every_versions_file_is_checked() -> None:
    assert len(VERSIONS_FILES) >= 8, [str(p) for p in VERSIONS_FILES]


@pytest.mark.parametrize("path", VERSIONS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_provider_floor_covers_logging_config_and_python312(path: Path) -> None:
    assert _aws_lower_bound(path) >= FLOOR, f"{path} allows hashicorp/aws older than 5.32.0"
