#!/usr/bin/env python3
"""Benchmark build.py on the real lambda_src/ and compare with terraform-aws-lambda's package.py.

Measures, on a copy of lambda_src/ in a temp folder (the repository's dist/ and .cache/ are not touched):

* ``first_build_cold``: empty cache (no wheels, no pip HTTP cache, no installed trees): everything
  is downloaded;
* ``first_build_warm_wheels``: wheels cached but no installed trees or zips (a new checkout on a CI
  runner that keeps .cache/wheels, or a tool upgrade);
* ``source_only_change``: one handler edited;
* ``no_change``: ``python build.py`` run as a subprocess (interpreter start included), twice;
* ``check``: ``python build.py --check``, same;

and reports every zip's size and its biggest packages (compressed bytes by top-level name).
Wall seconds depend on the machine's load, so CPU seconds (this process and its children, pip
included) are reported too. Prints JSON; ``--output FILE`` also writes it. No pass/fail.

Usage: .venv/bin/python bench/build.py [--output bench/results/build.json] [--skip-cold]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambda_build import Builder, BuildPaths, SubprocessPipRunner, default_jobs  # noqa: E402

# terraform-aws-lambda's package.py on this machine, one function needing aws-xray-sdk,
# simple-salesforce, PyJWT[crypto] and requests (issue 2, "Baseline to beat").
BASELINE = {
    "first_build_seconds": 16.0,
    "no_change_seconds": 0.29,
    "zip_bytes": 29_300_000,
    "botocore_bytes": 16_500_000,
    "deterministic": False,
    "wheels_for": "build machine",
}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(action: Any) -> dict[str, float]:
    wall, cpu = time.perf_counter(), _cpu()
    action()
    return {"wall_seconds": round(time.perf_counter() - wall, 3), "cpu_seconds": round(_cpu() - cpu, 3)}


def _build(paths: BuildPaths) -> None:
    report = Builder(paths, pip_runner=SubprocessPipRunner(), jobs=default_jobs()).build()
    if not report.ok:
        raise SystemExit("\n".join(str(e) for e in report.errors))


def _cli(paths: BuildPaths, *extra: str) -> None:
    args = ["--src", str(paths.src_dir), "--dist", str(paths.dist_dir), "--cache-dir", str(paths.cache_dir)]
    done = subprocess.run([sys.executable, str(ROOT / "build.py"), *args, *extra], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)


def _packages(zip_path: Path, top: int = 8) -> list[dict[str, Any]]:
    sizes: collections.Counter[str] = collections.Counter()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            parts = info.filename.split("/")
            # Group cryptography and lxml one level deeper: their big shared objects are the story.
            key = "/".join(parts[:3]) if parts[0] in ("cryptography", "lxml") and len(parts) > 3 else parts[0]
            sizes[key] += info.compress_size
    return [{"name": name, "compressed_bytes": size} for name, size in sizes.most_common(top)]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print (and optionally write) the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    parser.add_argument("--skip-cold", action="store_true", help="reuse ROOT/.cache/wheels instead of an empty cache")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-build-") as scratch:
        work = Path(scratch)
        shutil.copytree(ROOT / "lambda_src", work / "lambda_src", ignore=shutil.ignore_patterns("__pycache__"))
        paths = BuildPaths(work / "lambda_src", work / "dist", work / "cache")
        results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]}}

        if args.skip_cold and (ROOT / ".cache" / "wheels").is_dir():
            shutil.copytree(ROOT / ".cache" / "wheels", paths.cache_dir / "wheels")
        else:
            results["first_build_cold"] = _timed(lambda: _build(paths))
            shutil.rmtree(paths.dist_dir)
            shutil.rmtree(paths.cache_dir / "deps")
        results["first_build_warm_wheels"] = _timed(lambda: _build(paths))

        handler = paths.src_dir / "LexFulfillmentHandler" / "lambda_function.py"
        if handler.is_file():
            handler.write_text(handler.read_text() + "\n# benchmark edit\n")
            results["source_only_change"] = _timed(lambda: _build(paths))

        results["no_change"] = [_timed(lambda: _cli(paths)) for _ in range(2)]
        results["check"] = [_timed(lambda: _cli(paths, "--check")) for _ in range(2)]

        manifest = json.loads(paths.manifest.read_text())["functions"]
        results["zips"] = {
            name: {
                "size_bytes": entry["size_bytes"],
                "has_botocore": any(
                    n.startswith("botocore/") for n in zipfile.ZipFile(paths.dist_dir / entry["zip_path"]).namelist()
                ),
                "biggest": _packages(paths.dist_dir / entry["zip_path"]),
            }
            for name, entry in sorted(manifest.items())
        }
        lex = results["zips"].get("LexFulfillmentHandler")
        results["baseline"] = BASELINE
        results["versus_baseline"] = {
            "lex_zip_bytes": lex["size_bytes"] if lex else None,
            "lex_zip_fraction_of_baseline": round(lex["size_bytes"] / BASELINE["zip_bytes"], 3) if lex else None,
            "no_change_wall_seconds": min(r["wall_seconds"] for r in results["no_change"]),
            "baseline_no_change_seconds": BASELINE["no_change_seconds"],
            "first_build_wall_seconds": (results.get("first_build_cold") or results["first_build_warm_wheels"])[
                "wall_seconds"
            ],
            "baseline_first_build_seconds": BASELINE["first_build_seconds"],
        }

    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
