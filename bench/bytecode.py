#!/usr/bin/env python3
"""Benchmark what pre-compiled bytecode (lambda_build/bytecode.py) buys a cold start, and what it costs in zip size.

For each function (default: LexFulfillmentHandler) it builds the zip with build.py's pipeline into a temp
dist/ (reusing the repository's .cache/), then makes the "as shipped before" variant from the same zip by
dropping its ``__pycache__/`` entries (exactly the zip a build without bytecode writes: the other members'
bytes are the same). Both are measured side by side, in one run, alternating:

* ``size``: zip bytes with and without bytecode, and the ratio;
* ``first_turn_import_cpu_ms``: each zip extracted into a read-only folder (like /var/task), then
  ``--runs`` fresh interpreters each (``python -I -S -B``, sys.path = the extracted zip, the runtime's boto3
  from .cache/runtime-python, the standard library), alternating between the variants. In each one,
  ``time.process_time()`` around importing the handler module and the libraries its first turn imports
  lazily (``FIRST_TURN``: Salesforce login and query, X-Ray). The runtime's boto3/botocore, which Lambda
  provides outside the zip and which are the same for both variants, are imported first and timed
  apart (``runtime_boto3_cpu_ms``). Medians, and the ratio with/without.

CPU seconds depend on the machine; the ratio is the figure to compare. Prints JSON; ``--output FILE``
also writes it. No pass/fail.

Usage: .venv/bin/python bench/bytecode.py [--runs 5] [--output bench/results/bytecode.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambda_build import Builder, BuildPaths, SubprocessPipRunner  # noqa: E402
from lambda_build.bytecode import is_pyc  # noqa: E402
from lambda_build.importcheck import FAKE_LAMBDA_ENVIRONMENT, ensure_runtime_site  # noqa: E402
from lambda_build.zipwriter import read_members, write_members  # noqa: E402

RUNTIME_FIRST = ("boto3", "botocore.config", "botocore.exceptions")
# What LexFulfillmentHandler's first turn imports: the handler module (and atlas_shared with it), then
# what atlas_shared defers to the first use: PyJWT and requests for the JWT bearer login,
# simple-salesforce for the Lead read, the X-Ray SDK when tracing is on (atlas_shared/salesforce.py,
# atlas_shared/tracing.py).
FIRST_TURN = (
    "lambda_function",
    "jwt",
    "requests",
    "simple_salesforce.api",
    "simple_salesforce.exceptions",
    "aws_xray_sdk.core",
)

_PROBE = r"""
import importlib, json, sys, time
task, site, runtime_first, first_turn = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")
sys.path[:0] = [task, site]
t0 = time.process_time()
for name in runtime_first:
    importlib.import_module(name)
t1 = time.process_time()
for name in first_turn:
    importlib.import_module(name)
t2 = time.process_time()
print(json.dumps({"runtime_ms": (t1 - t0) * 1e3, "zip_ms": (t2 - t1) * 1e3, "modules": len(sys.modules)}))
"""


def _without_bytecode(zip_path: Path, dest: Path) -> None:
    members = [
        m for m in read_members(zip_path.read_bytes()) if not is_pyc(m.name) and "__pycache__/" not in f"/{m.name}"
    ]
    with dest.open("wb") as out:
        write_members(out, members)


def _extract_read_only(zip_path: Path, dest: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(dest)
    for dirpath, _dirnames, filenames in os.walk(dest, topdown=False):
        for filename in filenames:
            os.chmod(os.path.join(dirpath, filename), 0o444)
        os.chmod(dirpath, 0o555)


def _make_writable(folder: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(folder):
        os.chmod(dirpath, 0o755)


def _probe(task: Path, site: Path) -> dict[str, float]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LAMBDA_TASK_ROOT": str(task), **FAKE_LAMBDA_ENVIRONMENT}
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            _PROBE,
            str(task),
            str(site),
            ",".join(RUNTIME_FIRST),
            ",".join(FIRST_TURN),
        ],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(function: str, runs: int, scratch: Path) -> dict[str, Any]:
    """Build ``function``, then measure both variants (see the module docstring)."""
    paths = BuildPaths(ROOT / "lambda_src", scratch / "dist", ROOT / ".cache")
    builder = Builder(paths, pip_runner=SubprocessPipRunner())
    report = builder.build(function)
    if not report.ok:
        raise SystemExit("\n".join(str(e) for e in report.errors))
    if report.results[0].no_bytecode:
        raise SystemExit(f"{function}: no bytecode ({report.results[0].no_bytecode}); run with the runtime's Python")
    config = builder.functions(function)[function]
    site = ensure_runtime_site(ROOT / ".cache", config.runtime, config.architecture, SubprocessPipRunner())
    with_pyc = paths.dist_dir / f"{function}.zip"
    without_pyc = scratch / f"{function}-no-bytecode.zip"
    _without_bytecode(with_pyc, without_pyc)
    tasks = {"without_bytecode": scratch / "task-without", "with_bytecode": scratch / "task-with"}
    _extract_read_only(without_pyc, tasks["without_bytecode"])
    _extract_read_only(with_pyc, tasks["with_bytecode"])
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in tasks}
    try:
        for _ in range(runs):
            for name, task in tasks.items():  # alternate, so load changes hit both alike
                samples[name].append(_probe(task, site))
    finally:
        for task in tasks.values():
            _make_writable(task)
    medians = {
        name: {
            "zip_imports_cpu_ms": round(statistics.median(s["zip_ms"] for s in runs_), 1),
            "runtime_boto3_cpu_ms": round(statistics.median(s["runtime_ms"] for s in runs_), 1),
            "modules_loaded": runs_[0]["modules"],
        }
        for name, runs_ in samples.items()
    }
    size_with, size_without = with_pyc.stat().st_size, without_pyc.stat().st_size
    with zipfile.ZipFile(with_pyc) as archive:
        pycs = sum(1 for n in archive.namelist() if n.endswith(".pyc"))
    return {
        "runs": runs,
        "first_turn_imports": list(FIRST_TURN),
        "first_turn_import_cpu_ms": medians,
        "with_over_without_cpu": round(
            medians["with_bytecode"]["zip_imports_cpu_ms"] / medians["without_bytecode"]["zip_imports_cpu_ms"], 3
        ),
        "size": {
            "with_bytecode_bytes": size_with,
            "without_bytecode_bytes": size_without,
            "added_bytes": size_with - size_without,
            "with_over_without": round(size_with / size_without, 3),
            "pyc_files": pycs,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print (and optionally write) the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--function", action="append", help="function(s) to measure (default LexFulfillmentHandler)")
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per variant (default 5)")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},
        "python": sys.version.split()[0],
    }
    for function in args.function or ["LexFulfillmentHandler"]:
        scratch = Path(tempfile.mkdtemp(prefix="bench-bytecode-"))
        try:
            results[function] = measure(function, args.runs, scratch)
        finally:
            _make_writable(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
