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

* ``side_by_side`` (with ``--package-py``): the no-change run against terraform-aws-lambda's
  ``package.py prepare`` (what that module runs on every plan to decide whether to rebuild; one process
  per function: its folder with requirements.txt, plus atlas_shared/), for LexFulfillmentHandler alone
  and for all five, every command a subprocess of this interpreter, alternated for ``--rounds`` rounds
  (the order flips each round so load drift hits all alike). Reported as per-round ratios
  build.py / package.py, wall and CPU: the figures to quote, since absolute times on a shared machine
  move with its load.

and reports every zip's size and its biggest packages (compressed bytes by top-level name).
Wall seconds depend on the machine's load, so CPU seconds (this process and its children, pip
included) are reported too. Prints JSON; ``--output FILE`` also writes it. No pass/fail.

Usage: .venv/bin/python bench/build.py [--output bench/results/build.json] [--skip-cold]
                                       [--package-py PATH/terraform-aws-lambda/package.py] [--rounds 10]
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import resource
import shutil
import statistics
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


def _package_py_query(paths: BuildPaths, function: str, cwd: Path) -> str:
    """The JSON query terraform-aws-lambda's package.tf sends ``package.py prepare`` (all values strings), for
    ``function``'s folder (with its requirements.txt) and atlas_shared/ under its own name in the zip."""
    source_path = [
        {"path": str(paths.src_dir / function), "pip_requirements": True},
        {"path": str(paths.src_dir / "atlas_shared"), "prefix_in_zip": "atlas_shared", "pip_requirements": False},
    ]
    return json.dumps(
        {
            "paths": json.dumps({"module": str(cwd), "root": str(cwd), "cwd": str(cwd)}),
            "artifacts_dir": "builds",
            "runtime": "python3.12",
            "source_path": json.dumps(source_path),
            "hash_extra": "",
            "hash_internal": json.dumps(["bench"]),
            "recreate_missing_package": "true",
            "quiet": "true",
        }
    )


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def side_by_side(paths: BuildPaths, package_py: Path, rounds: int, work: Path) -> dict[str, Any]:
    """Alternate ``build.py`` (no change, all five functions) with ``package.py prepare`` for one function
    (LexFulfillmentHandler, the baseline's case: ``package_py_one``) and for each of the five in turn (what a
    plan of five terraform-aws-lambda modules runs: ``package_py_all``).

    Returns:
        Wall and CPU seconds of each (median, min, max; CPU is the child process's user + system time) and the
        per-round ratios build.py / package.py (median, min, max); below 1 means build.py is faster.
        Raises SystemExit if either command fails.
    """
    functions = sorted(p.name for p in paths.src_dir.iterdir() if (p / "lambda_function.py").is_file())
    queries = {name: _package_py_query(paths, name, work) for name in functions}

    def run_package_py(names: list[str]) -> None:
        for name in names:
            done = subprocess.run(
                [sys.executable, str(package_py), "prepare"],
                input=queries[name],
                cwd=work,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(f"package.py prepare {name} failed:\n{done.stdout}{done.stderr}")

    run_package_py(functions)  # warm the OS file cache for both before timing
    _cli(paths)
    runs: dict[str, list[dict[str, float]]] = {"build_py_no_change": [], "package_py_one": [], "package_py_all": []}
    actions = {
        "build_py_no_change": lambda: _cli(paths),
        "package_py_one": lambda: run_package_py(["LexFulfillmentHandler"]),
        "package_py_all": lambda: run_package_py(functions),
    }
    for round_ in range(rounds):
        order = list(actions) if round_ % 2 == 0 else list(reversed(actions))
        for name in order:
            runs[name].append(_timed(actions[name]))
    result: dict[str, Any] = {
        "rounds": rounds,
        "package_py": str(package_py),
        "package_py_sha256": hashlib.sha256(package_py.read_bytes()).hexdigest(),
        "functions": functions,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    for kind in ("wall", "cpu"):
        key = f"{kind}_seconds"
        series = {name: [r[key] for r in done] for name, done in runs.items()}
        for name, values in series.items():
            result[f"{name}_{key}"] = _stats(values)
        for baseline in ("package_py_one", "package_py_all"):
            result[f"ratio_build_over_{baseline}_{kind}"] = _stats(
                [b / p for b, p in zip(series["build_py_no_change"], series[baseline], strict=True) if p > 0]
            )
    return result


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
    parser.add_argument(
        "--package-py",
        type=Path,
        default=Path(os.environ["PACKAGE_PY"]) if os.environ.get("PACKAGE_PY") else None,
        help="terraform-aws-lambda's package.py, for the side-by-side no-change comparison (env PACKAGE_PY)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="side-by-side rounds (default: 10)")
    args = parser.parse_args(argv)
    if args.package_py is not None and not args.package_py.is_file():
        parser.error(f"--package-py {args.package_py} is not a file")

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
        if args.package_py is not None:
            results["side_by_side"] = side_by_side(paths, args.package_py.resolve(), args.rounds, work)

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
