"""What the idempotency record costs (no pass/fail): Powertools' import time, zip bytes and DynamoDB calls.

Run with the dev virtualenv (Python 3.12) after building the three functions::

    .venv/bin/python build.py --function CreateLeadHandler --dist /tmp/dist   # and the other two
    .venv/bin/python bench/idempotency.py --dist /tmp/dist [--runs 7] [--out bench/results/idempotency.json]

Prints one JSON object:

* ``import_ms`` — median wall time, in fresh interpreters, of importing the Idempotency utility
  (``aws_lambda_powertools.utilities.idempotency`` and its DynamoDB layer) once boto3 is loaded (these functions load
  boto3 anyway, and :mod:`atlas_shared.idempotency` imports Powertools on first use, not at init):
  ``from_zip`` runs from the built InvokeOutboundCallHandler zip, extracted, with ``-B`` (nothing written, as on
  Lambda's read-only ``/var/task``), so it uses the bytecode build.py ships, or compiles from source when the zip
  has none; ``with_pyc`` from the virtualenv's compiled files.
  ``boto3_ms`` is the same interpreters' boto3 import, for scale.
* ``zip_bytes`` — per function zip in ``--dist``: compressed bytes of the ``aws_lambda_powertools/`` and
  ``typing_extensions`` entries, bytecode included (what the record adds; typing_extensions was already in the
  Salesforce zips).
* ``dynamodb_calls`` — DynamoDB operations per delivery against moto: a first delivery, a repeat answered from
  the record, a delivery whose work fails.

Absolute times depend on the machine and its load (``load_average`` is recorded); compare within one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("CreateLeadHandler", "UpdateLeadHandler", "InvokeOutboundCallHandler")
_PROBE = """
import sys, time
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
import boto3
t1 = time.perf_counter()
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
t2 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000)
"""


def _probe(paths: list[str], *, no_bytecode: bool) -> tuple[float, float]:
    flags = ["-B"] if no_bytecode else []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, *flags, "-c", _PROBE.format(paths=paths)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    return float(out[0]), float(out[1])


def import_times(dist: Path | None, runs: int) -> dict[str, Any]:
    """Median import times, the two variants interleaved so machine load hits both alike."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        variants: dict[str, tuple[list[str], bool]] = {"with_pyc": ([], False)}
        zip_path = dist / "InvokeOutboundCallHandler.zip" if dist else None
        if zip_path and zip_path.is_file():
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(tmp)
            variants["from_zip"] = ([tmp], True)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for paths, no_bytecode in variants.values():
            _probe(paths, no_bytecode=no_bytecode)  # warm-up: fills the OS file cache (and the venv's .pyc)
        for _ in range(runs):
            for name, (paths, no_bytecode) in variants.items():
                samples[name].append(_probe(paths, no_bytecode=no_bytecode))
        for name, values in samples.items():
            result[name] = {
                "powertools_idempotency_ms": round(statistics.median(v[1] for v in values), 1),
                "boto3_ms": round(statistics.median(v[0] for v in values), 1),
            }
    return result


def zip_bytes(dist: Path | None) -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for function in FUNCTIONS:
        path = dist / f"{function}.zip" if dist else None
        if not path or not path.is_file():
            continue
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        sizes[function] = {
            "zip": path.stat().st_size,
            "aws_lambda_powertools": sum(
                i.compress_size for i in infos if i.filename.startswith("aws_lambda_powertools")
            ),
            "typing_extensions": sum(
                i.compress_size
                for i in infos
                if i.filename.startswith(("typing_extensions", "__pycache__/typing_extensions"))
            ),
        }
    return sizes


def dynamodb_calls() -> dict[str, dict[str, int]]:
    """DynamoDB operations of :func:`atlas_shared.idempotency.run_once` per kind of delivery, against moto."""
    sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT)]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_REGION": "us-west-2",
            "AWS_LAMBDA_FUNCTION_NAME": "bench",
            "IDEMPOTENCY_TABLE_NAME": "atlas-bench",
            "LOG_LEVEL": "ERROR",
        }
    )
    import boto3
    from moto import mock_aws

    import atlas_shared
    from atlas_shared import clients, idempotency

    atlas_shared.reset_container_state()
    counts: Counter[str] = Counter()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-west-2")
        client.create_table(
            TableName="atlas-bench",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.meta.events.register("provide-client-params", lambda model, **_: counts.update([model.name]))
        clients.set_client("dynamodb", client)
        result: dict[str, dict[str, int]] = {}

        def measure(name: str, work: Any, key: str) -> None:
            counts.clear()
            with contextlib.suppress(ValueError):
                idempotency.run_once("Bench", key, {}, work, context=None)
            result[name] = dict(sorted(counts.items()))

        def fail() -> dict[str, Any]:
            raise ValueError("work failed")

        measure("first_delivery", lambda: {"ok": True}, "k1")
        measure("repeat_delivery", lambda: {"ok": True}, "k1")
        measure("failed_work", fail, "k2")
    atlas_shared.reset_container_state()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, help="folder with the built zips (build.py --dist)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    report = {
        "python": sys.version.split()[0],
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "import_ms": import_times(args.dist, args.runs),
        "zip_bytes": zip_bytes(args.dist),
        "dynamodb_calls": dynamodb_calls(),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
