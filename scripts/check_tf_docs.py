"""Check that each Terraform module's README.md names every input and output terraform-docs finds.

The README tables are written by hand (with descriptions terraform-docs cannot produce, such as why a
default is what it is), so this does not regenerate them; it asks terraform-docs (https://terraform-docs.io,
``terraform-docs json DIR``) for the module's inputs and outputs and fails when the README does not mention
one as `` `name` `` or as a ``| name |`` table cell. The root module's README is also checked by
tests/unit/docs/test_readme.py without terraform-docs; this hook extends the check to modules/*.

Usage: python scripts/check_tf_docs.py [DIR ...]   (default: the root module and every modules/* folder)
Exit codes: 0 all documented (or terraform-docs is not installed: skipped, with a line saying so); 1 names
missing (listed per module); 2 terraform-docs failed on a folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def undocumented(module_dir: Path, terraform_docs: str = "terraform-docs") -> list[str]:
    """Inputs and outputs of ``module_dir`` (per terraform-docs' JSON) that its README.md does not mention.

    Raises:
        RuntimeError: terraform-docs exited non-zero or printed something that is not its JSON format.
    """
    done = subprocess.run([terraform_docs, "json", str(module_dir)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"terraform-docs json {module_dir} failed: {done.stderr.strip() or done.stdout.strip()}")
    try:
        doc = json.loads(done.stdout)
        names = [item["name"] for kind in ("inputs", "outputs") for item in (doc.get(kind) or [])]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise RuntimeError(f"terraform-docs json {module_dir}: unexpected output ({exc})") from exc
    readme = module_dir / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    return [n for n in names if f"`{n}`" not in text and f"| {n} |" not in text]


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; see the module docstring."""
    args = sys.argv[1:] if argv is None else argv
    if shutil.which("terraform-docs") is None:
        print("terraform-docs is not installed: module README check skipped")
        return 0
    dirs = [Path(a) for a in args] or [ROOT, *sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir())]
    failed = False
    for module_dir in dirs:
        try:
            missing = undocumented(module_dir)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 2
        if missing:
            failed = True
            print(f"{module_dir / 'README.md'} does not document: {', '.join(missing)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
