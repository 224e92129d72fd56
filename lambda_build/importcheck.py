"""Import a built zip's handler the way Lambda would, in a clean interpreter.

Lambda puts the extracted zip (``/var/task``) first on ``sys.path`` and its own runtime folder,
holding boto3 and its dependencies, after it
(https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-searchpath).
``check_zip_imports`` reproduces that: it extracts the zip into a temp folder and runs
``python -I -S`` (no site-packages, no PYTHON* variables) with ``sys.path`` = [the extracted zip,
a folder with only the runtime's boto3 set] + the standard library, then imports
``lambda_function``, checks ``lambda_handler`` is callable, imports every package the function's
requirements pin (which must come from the zip) and (``deep``) every top-level module of the zip and
every ``atlas_shared`` module. It needs an interpreter of the
function's Python version on the function's architecture.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lambda_build.config import ARCHITECTURES, Architecture, Runtime, platform_tags
from lambda_build.errors import ImportCheckError
from lambda_build.pip import PipRequest, PipRunner

# boto3 as the Lambda runtime ships it (pinned to the version the project's tests use).
RUNTIME_SDK_PINS: tuple[str, ...] = ("boto3==1.40.61", "botocore==1.40.61")

# Environment Lambda sets, plus fake values for every variable of docs/contracts.md, so settings
# objects read at import time find what they need. Nothing here is a real credential.
FAKE_LAMBDA_ENVIRONMENT: Mapping[str, str] = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_LAMBDA_FUNCTION_NAME": "import-check",
    "AWS_LAMBDA_FUNCTION_VERSION": "1",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "LOG_LEVEL": "INFO",
    "SALESFORCE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:salesforce-AbCdEf",
    "SECRETS_CACHE_TTL_SECONDS": "300",
    "SCENARIO_TABLE_NAME": "import-check-scenarios",
    "IDEMPOTENCY_TABLE_NAME": "import-check-scenarios",
    "BEDROCK_MODEL_ID": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "BEDROCK_MAX_TOKENS": "150",
    "BEDROCK_TEMPERATURE": "0.7",
    "CONVERSATION_HISTORY_TURNS": "6",
    "CONNECT_INSTANCE_ID": "00000000-0000-0000-0000-000000000000",
    "CONNECT_CONTACT_FLOW_ID": "00000000-0000-0000-0000-000000000001",
    "CONNECT_QUEUE_ID": "00000000-0000-0000-0000-000000000002",
    "CONNECT_SOURCE_PHONE_NUMBER": "+15555550100",
}

_PROBE = r"""
import importlib, json, os, pkgutil, sys
task, runtime, deep = sys.argv[1], sys.argv[2], sys.argv[3] == "deep"
required = json.loads(sys.argv[4])
sys.path[:0] = [task, runtime]
module = importlib.import_module("lambda_function")
if not callable(getattr(module, "lambda_handler", None)):
    raise SystemExit("lambda_function has no callable lambda_handler")
imported, failed = ["lambda_function"], []
for name, dist in sorted(required.items()):
    # A pinned package must come from the zip: an exclude glob may have removed it, and a handler
    # importing it lazily would only fail on the request that needs it.
    try:
        mod = importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name} (from {dist}, pinned in requirements.txt): {type(exc).__name__}: {exc}")
        continue
    places = [getattr(mod, "__file__", None) or "", *getattr(mod, "__path__", [])]
    if not any(place.startswith(task + os.sep) for place in places):
        failed.append(f"{name} (from {dist}, pinned in requirements.txt): imported from outside the zip: {places[0] or places[-1]}")
    else:
        imported.append(name)
if deep:
    # Handlers import heavy packages lazily, so importing the handler alone proves little about
    # the requirements; import every top-level module in the zip and every atlas_shared module too.
    names = set()
    for entry in os.listdir(task):
        path = os.path.join(task, entry)
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "__init__.py")):
            names.add(entry)
        elif entry.endswith(".py") and entry != "lambda_function.py":
            names.add(entry[:-3])
        elif entry.endswith(".so"):
            names.add(entry.split(".")[0])
    names.add("boto3")  # must come from the runtime folder, never from the zip
    if "atlas_shared" in names:
        shared = importlib.import_module("atlas_shared")
        names.update("atlas_shared." + info.name for info in pkgutil.iter_modules(shared.__path__))
    for name in sorted(names - set(imported)):
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as exc:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
if failed:
    raise SystemExit("imports failed:\n" + "\n".join(failed))
origins = {}
for name in ("lambda_function", "atlas_shared", "boto3", "botocore"):
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None) or ""
    origins[name] = "zip" if path.startswith(task) else "runtime" if path.startswith(runtime) else (path or None)
print(json.dumps({"origins": origins, "sys_path": sys.path, "modules": len(sys.modules), "imported": imported}))
"""


@dataclass(frozen=True)
class ImportReport:
    """What the probe saw.

    Attributes:
        origins: where key modules came from: ``zip``, ``runtime``, a path, or None (not imported).
        sys_path: the interpreter's sys.path during the check.
        modules: how many modules were loaded.
        imported: the modules the probe imported itself (the handler, the ``required`` packages, and
            with ``deep`` every top-level module of the zip and every atlas_shared module).
    """

    origins: dict[str, str | None]
    sys_path: list[str]
    modules: int
    imported: list[str]


def host_architecture() -> Architecture | None:
    """The Lambda architecture this machine can run natively, or None."""
    machine = platform.machine().lower()
    for arch in ARCHITECTURES.values():
        if machine in (arch.machine, arch.name):
            return arch
    return None


def ensure_runtime_site(cache_dir: Path, runtime: Runtime, architecture: Architecture, pip_runner: PipRunner) -> Path:
    """A folder holding only boto3 and its dependencies as the runtime has them, installed once.

    Lives at ``cache_dir/runtime-python/<runtime>-<architecture>``; reused when complete.

    Raises:
        PipError: pip could not install the runtime's SDK.
    """
    folder = cache_dir / "runtime-python" / f"{runtime.name}-{architecture.name}"
    marker = folder / ".complete"
    if marker.is_file():
        return folder / "site"
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        requirements = work / "requirements.txt"
        requirements.write_text("".join(pin + "\n" for pin in RUNTIME_SDK_PINS), encoding="utf-8")
        (work / "site").mkdir()
        pip_runner.install(
            PipRequest(
                function="(runtime boto3)",
                requirements_file=requirements,
                dest=work / "site",
                python_version=runtime.python_version,
                abi=runtime.abi,
                platforms=platform_tags(runtime, architecture),
                cache_dir=cache_dir / "pip",
                no_deps=False,
            )
        )
        (work / ".complete").write_text("\n".join(RUNTIME_SDK_PINS) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder / "site"


def check_zip_imports(
    zip_path: Path,
    *,
    runtime_site: Path,
    function: str,
    python: str = sys.executable,
    environment: Mapping[str, str] = FAKE_LAMBDA_ENVIRONMENT,
    timeout_seconds: float = 120.0,
    deep: bool = True,
    required: Mapping[str, str] | None = None,
) -> ImportReport:
    """Extract ``zip_path`` and import its handler in a clean ``python -I -S``.

    Args:
        zip_path: the built zip.
        runtime_site: folder from ``ensure_runtime_site``.
        function: for error messages.
        python: an interpreter of the function's Python version.
        environment: the process environment (only this, plus PATH).
        timeout_seconds: limit for the import.
        deep: also import every top-level module in the zip and every ``atlas_shared`` module,
            which shows that trimming and ``exclude`` globs left the requirements importable.
        required: top-level modules that must import from the zip -> the distribution they belong to
            (``Builder.import_names``: every package the function's requirements.txt pins), so a
            package an ``exclude`` glob removed fails even though nothing in the zip imports it.

    Raises:
        ImportCheckError: the import failed; the message holds the interpreter's last lines.
    """
    with tempfile.TemporaryDirectory(prefix="lambda-import-") as scratch:
        task = Path(scratch) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LAMBDA_TASK_ROOT": str(task),
            **environment,
        }
        try:
            completed = subprocess.run(
                [
                    python,
                    "-I",
                    "-S",
                    "-c",
                    _PROBE,
                    str(task),
                    str(runtime_site),
                    "deep" if deep else "shallow",
                    json.dumps(dict(required or {})),
                ],
                cwd=task,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_seconds,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ImportCheckError(
                f"could not run the import check: {exc}",
                function=function,
                hint="check the interpreter path and that the handler's import finishes",
            ) from exc
        if completed.returncode != 0:
            tail = "\n".join("    " + line for line in completed.stderr.strip().splitlines()[-15:])
            raise ImportCheckError(
                f"importing the zip's code failed in a clean Python:\n{tail}",
                function=function,
                hint="pin the missing package in its requirements.txt, or drop the exclude glob that removed it",
            )
        data = json.loads(completed.stdout.strip().splitlines()[-1])
        return ImportReport(
            origins=data["origins"], sys_path=data["sys_path"], modules=data["modules"], imported=data["imported"]
        )
