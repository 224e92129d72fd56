"""Benchmark (no pass/fail): what an EMF library adds to a cold start, against our own emitter.

The Success Metrics issue asked for a well-kept library for the Embedded Metric Format unless its cold-start
cost says otherwise. This measures, side by side in one run, the wall time of a fresh Python 3.12 interpreter
that imports:

* ``bare`` — ``json`` and ``time`` only (what our ``atlas_shared/metrics.py`` needs beyond the handler);
* ``atlas_shared.metrics`` — our emitter;
* ``aws_lambda_powertools.metrics`` — Powertools for AWS Lambda (Python), Metrics;
* ``aws_embedded_metrics`` — awslabs' aws-embedded-metrics-python.

The libraries are installed with pip into ``.cache/bench-emf/<name>`` (once; PyPI needed the first time), as
they would sit in a zip: plain folders on ``sys.path``. Usage::

    .venv/bin/python bench/emf_import.py [--runs 7] [--output bench/results/emf_import.json]

Figures are medians over ``--runs`` interleaved runs, and each library's extra milliseconds over ``bare`` and
its ratio to ``bare``; absolute times depend on the machine and its load, the ratios much less.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench-emf"
LIBRARIES = {"powertools": "aws-lambda-powertools==3.37.0", "aws-embedded-metrics": "aws-embedded-metrics==3.5.0"}
CASES = {
    "bare": ("", "import json, time"),
    "atlas_shared.metrics": (str(REPO / "lambda_src"), "from atlas_shared import metrics"),
    "powertools": (str(CACHE / "powertools"), "from aws_lambda_powertools.metrics import Metrics, MetricUnit"),
    "aws-embedded-metrics": (
        str(CACHE / "aws-embedded-metrics"),
        "from aws_embedded_metrics.logger.metrics_logger_factory import create_metrics_logger",
    ),
}


def install() -> None:
    """pip-install each library into its own folder under .cache/bench-emf, unless it is there already."""
    for name, requirement in LIBRARIES.items():
        target = CACHE / name
        if not target.is_dir():
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), requirement], check=True
            )


def measure(runs: int) -> dict[str, object]:
    """Median wall time per case over ``runs`` interleaved fresh interpreters, with extra ms and ratio vs bare."""
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, (path, code) in CASES.items():
            prefix = f"import sys; sys.path[:0]=[{path!r}]; " if path else ""
            started = time.perf_counter()
            subprocess.run([sys.executable, "-S", "-c", prefix + code], check=True)
            times[name].append((time.perf_counter() - started) * 1000)
    bare = statistics.median(times["bare"])
    return {
        "python": sys.version.split()[0],
        "runs": runs,
        "libraries": LIBRARIES,
        "cases": {
            name: {
                "median_ms": round(statistics.median(values), 1),
                "extra_ms_over_bare": round(statistics.median(values) - bare, 1),
                "ratio_to_bare": round(statistics.median(values) / bare, 2),
            }
            for name, values in times.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Install, measure, print and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "emf_import.json")
    args = parser.parse_args(argv)
    install()
    result = measure(args.runs)
    text = json.dumps(result, indent=2)
    args.output.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
