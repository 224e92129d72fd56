"""scripts/check_tf_docs.py (the terraform-docs pre-commit hook), with a fake terraform-docs on PATH."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "check_tf_docs.py"


def fake_terraform_docs(bin_dir: Path, doc: dict[str, object]) -> None:
    bin_dir.mkdir()
    tool = bin_dir / "terraform-docs"
    tool.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(doc))})\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)


def run(tmp_path: Path, path_dirs: list[Path], *module_dirs: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join([*map(str, path_dirs), "/usr/bin", "/bin"])}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, module_dirs)], env=env, capture_output=True, text=True, check=False
    )


def test_a_module_readme_missing_an_input_or_output_fails(tmp_path: Path) -> None:
    module = tmp_path / "mod"
    module.mkdir()
    (module / "README.md").write_text("| input |\n| --- |\n| region |\n\n`arn` is the output.\n")
    doc = {"inputs": [{"name": "region"}, {"name": "log_level"}], "outputs": [{"name": "arn"}, {"name": "name"}]}
    fake_terraform_docs(tmp_path / "bin", doc)

    result = run(tmp_path, [tmp_path / "bin"], module)

    assert result.returncode == 1, result.stderr
    assert "does not document: log_level, name" in result.stdout


def test_a_documented_module_passes(tmp_path: Path) -> None:
    module = tmp_path / "mod"
    module.mkdir()
    (module / "README.md").write_text("`region` and `arn`\n")
    fake_terraform_docs(tmp_path / "bin", {"inputs": [{"name": "region"}], "outputs": [{"name": "arn"}]})

    assert run(tmp_path, [tmp_path / "bin"], module).returncode == 0


def test_without_terraform_docs_the_hook_is_skipped(tmp_path: Path) -> None:
    result = run(tmp_path, [tmp_path / "empty"], tmp_path)

    assert result.returncode == 0
    assert "not installed" in result.stdout
