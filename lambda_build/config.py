"""Targets and per-function settings: which runtimes and architectures exist, and lambda_src/build.toml.

build.toml (TOML, read with the stdlib ``tomllib``)::

    [defaults]                      # optional; applies to every function
    runtime = "python3.12"          # python3.12 | python3.13                 (default python3.12)
    architecture = "x86_64"         # x86_64 | arm64                          (default x86_64)

    [functions.LexFulfillmentHandler]   # optional, one table per function folder
    runtime = "python3.12"
    architecture = "x86_64"
    exclude = ["lxml/objectify*.so"]    # globs over installed-requirement paths, see archive.py

A function is a folder ``lambda_src/<Name>/`` holding ``lambda_function.py``. ``atlas_shared/``
(copied into every zip), hidden folders, ``__pycache__`` and Python packages (folders with an
``__init__.py``) are not functions.

Sources: Lambda runtimes and their Amazon Linux base (glibc) are listed on
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html ; architecture names are the
Lambda API's ``Architectures`` values (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambda_build.errors import ConfigError, FunctionNotFoundError, MissingHandlerError
from lambda_build.globs import GlobError, compile_glob

HANDLER_FILE = "lambda_function.py"
HANDLER = "lambda_function.lambda_handler"
REQUIREMENTS_FILE = "requirements.txt"
SHARED_PACKAGE = "atlas_shared"
CONFIG_FILE = "build.toml"

DEFAULT_RUNTIME = "python3.12"
DEFAULT_ARCHITECTURE = "x86_64"

# Lambda function names: letters, digits, hyphens, underscores, at most 64 characters.
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Runtime:
    """A Lambda Python runtime.

    Attributes:
        name: Lambda's runtime identifier, e.g. ``python3.12``.
        python_version: ``major.minor`` as pip's ``--python-version`` takes it.
        glibc: the (major, minor) glibc of the runtime's Amazon Linux, bounding manylinux tags.
    """

    name: str
    python_version: str
    glibc: tuple[int, int]

    @property
    def abi(self) -> str:
        """CPython ABI tag for pip's ``--abi``, e.g. ``cp312``."""
        return "cp" + self.python_version.replace(".", "")


@dataclass(frozen=True)
class Architecture:
    """A Lambda instruction set.

    Attributes:
        name: Lambda's name, ``x86_64`` or ``arm64``.
        machine: the wheel-tag and ``platform_machine`` spelling (``x86_64``, ``aarch64``).
        elf_machine: the ELF ``e_machine`` value of its shared objects (62 EM_X86_64, 183 EM_AARCH64).
    """

    name: str
    machine: str
    elf_machine: int


# Exactly the runtimes the Terraform module (modules/lambda_function, var.runtime) and the AWS provider
# it needs both accept, so a zip built here never fails at plan time. Both run on Amazon Linux 2023
# (glibc 2.34).
RUNTIMES: Mapping[str, Runtime] = {
    "python3.12": Runtime("python3.12", "3.12", (2, 34)),
    "python3.13": Runtime("python3.13", "3.13", (2, 34)),
}

ARCHITECTURES: Mapping[str, Architecture] = {
    "x86_64": Architecture("x86_64", "x86_64", 62),
    "arm64": Architecture("arm64", "aarch64", 183),
}


@dataclass(frozen=True)
class FunctionConfig:
    """Everything build.toml says about one function.

    Attributes:
        name: the folder name under lambda_src/, also the manifest key.
        runtime: the Lambda runtime to build for.
        architecture: the Lambda architecture to build for.
        exclude: extra globs removed from the installed requirements (see ``archive.compile_glob``).
    """

    name: str
    runtime: Runtime
    architecture: Architecture
    exclude: tuple[str, ...] = ()


def platform_tags(runtime: Runtime, architecture: Architecture) -> tuple[str, ...]:
    """Wheel platform tags a Lambda runtime accepts, most specific first (pip's ``--platform`` list).

    Every ``manylinux_2_N`` with N from the runtime's glibc down to the oldest for the machine, plus
    the legacy aliases (manylinux2014 = 2_17, manylinux2010 = 2_12, manylinux1 = 2_5; the last two
    exist for x86_64 only). Tag rules: PEP 600 (https://peps.python.org/pep-0600/).
    """
    machine = architecture.machine
    oldest = 5 if machine == "x86_64" else 17
    major, newest = runtime.glibc
    tags = [f"manylinux_{major}_{minor}_{machine}" for minor in range(newest, oldest - 1, -1)]
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    for minor, alias in legacy.items():
        if oldest <= minor <= newest:
            tags.append(f"{alias}_{machine}")
    return tuple(tags)


def marker_environment(runtime: Runtime, architecture: Architecture) -> dict[str, str]:
    """PEP 508 marker variables as they hold inside the Lambda runtime (not on the build machine).

    Source: https://packaging.python.org/en/latest/specifications/dependency-specifiers/#environment-markers
    """
    full = runtime.python_version + ".0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": "posix",
        "platform_machine": architecture.machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full,
        "python_version": runtime.python_version,
        "sys_platform": "linux",
        "extra": "",
    }


def _runtime(value: Any, where: str, function: str | None) -> Runtime:
    if not isinstance(value, str) or value not in RUNTIMES:
        raise ConfigError(
            f"unknown runtime {value!r} in {where}",
            function=function,
            hint=f"use {' or '.join(sorted(RUNTIMES))} in lambda_src/{CONFIG_FILE}: the Python runtimes "
            "that both the Terraform module (modules/lambda_function) and its AWS provider accept",
        )
    return RUNTIMES[value]


def _architecture(value: Any, where: str, function: str | None) -> Architecture:
    if not isinstance(value, str) or value not in ARCHITECTURES:
        raise ConfigError(
            f"unknown architecture {value!r} in {where}",
            function=function,
            hint=f"use one of {', '.join(sorted(ARCHITECTURES))} in lambda_src/{CONFIG_FILE}",
        )
    return ARCHITECTURES[value]


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str, function: str | None) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in {where}",
            function=function,
            hint=f"allowed keys there: {', '.join(sorted(allowed))}",
        )


def discover_functions(src_dir: Path) -> list[str]:
    """Names of the function folders under ``src_dir``, sorted.

    Raises:
        MissingHandlerError: a folder has a requirements.txt but no lambda_function.py.
        ConfigError: a function folder's name is not a valid Lambda function name.
    """
    if not src_dir.is_dir():
        raise ConfigError(
            f"source folder {src_dir} does not exist",
            hint="run build.py from the repository root, or pass --src",
        )
    names: list[str] = []
    for child in sorted(src_dir.iterdir()):
        if not child.is_dir() or child.name.startswith((".", "_")) or child.name == SHARED_PACKAGE:
            continue
        has_handler = (child / HANDLER_FILE).is_file()
        if not has_handler:
            if (child / REQUIREMENTS_FILE).is_file() and not (child / "__init__.py").exists():
                raise MissingHandlerError(
                    f"lambda_src/{child.name}/ has {REQUIREMENTS_FILE} but no {HANDLER_FILE}",
                    function=child.name,
                    hint=f"add {HANDLER_FILE} defining lambda_handler(event, context), or remove the folder",
                )
            continue
        if not _FUNCTION_NAME.match(child.name):
            raise ConfigError(
                f"folder name {child.name!r} is not a valid Lambda function name",
                function=child.name,
                hint="rename it to letters, digits, '-' and '_' only (at most 64 characters)",
            )
        names.append(child.name)
    return names


def load_config(src_dir: Path, functions: list[str]) -> dict[str, FunctionConfig]:
    """Read ``src_dir/build.toml`` (optional) and return each function's settings.

    Args:
        src_dir: the lambda_src folder.
        functions: the discovered function names (``discover_functions``).

    Raises:
        ConfigError: malformed TOML, unknown keys, unknown runtime or architecture, bad exclude list or glob.
        MissingHandlerError: build.toml configures a folder that exists but has no lambda_function.py.
        FunctionNotFoundError: build.toml configures a function with no folder at all.
    """
    path = src_dir / CONFIG_FILE
    data: dict[str, Any] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # -sig: a byte-order mark is fine
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"lambda_src/{CONFIG_FILE} is not valid TOML: {exc}",
                hint="fix the syntax",
            ) from exc
    _check_keys(data, {"defaults", "functions"}, CONFIG_FILE, None)
    defaults = data.get("defaults", {})
    tables = data.get("functions", {})
    if not isinstance(defaults, dict) or not isinstance(tables, dict):
        raise ConfigError(
            f"[defaults] and [functions.*] in {CONFIG_FILE} must be tables",
            hint="see lambda_build/config.py",
        )
    _check_keys(defaults, {"runtime", "architecture"}, f"{CONFIG_FILE} [defaults]", None)
    default_runtime = _runtime(defaults.get("runtime", DEFAULT_RUNTIME), f"{CONFIG_FILE} [defaults]", None)
    default_arch = _architecture(
        defaults.get("architecture", DEFAULT_ARCHITECTURE),
        f"{CONFIG_FILE} [defaults]",
        None,
    )

    for name in tables:
        if name not in functions:
            if (src_dir / name).is_dir():
                raise MissingHandlerError(
                    f"{CONFIG_FILE} configures lambda_src/{name}/, which has no {HANDLER_FILE}",
                    function=name,
                    hint=f"add {HANDLER_FILE} defining lambda_handler(event, context), or drop [functions.{name}]",
                )
            raise FunctionNotFoundError(
                f"{CONFIG_FILE} configures [functions.{name}] but lambda_src/{name}/ does not exist",
                function=name,
                hint=f"fix the name or remove the table; functions: {', '.join(functions) or '(none)'}",
            )

    configs: dict[str, FunctionConfig] = {}
    for name in functions:
        table = tables.get(name, {})
        where = f"{CONFIG_FILE} [functions.{name}]"
        if not isinstance(table, dict):
            raise ConfigError(
                f"{where} must be a table",
                function=name,
                hint="see lambda_build/config.py",
            )
        _check_keys(table, {"runtime", "architecture", "exclude"}, where, name)
        runtime = _runtime(table["runtime"], where, name) if "runtime" in table else default_runtime
        arch = _architecture(table["architecture"], where, name) if "architecture" in table else default_arch
        exclude = table.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(g, str) and g.strip() for g in exclude):
            raise ConfigError(
                f"exclude in {where} must be a list of non-empty glob strings",
                function=name,
                hint='e.g. exclude = ["lxml/objectify*.so"]',
            )
        for glob in exclude:
            try:
                compile_glob(glob)
            except GlobError as exc:
                raise ConfigError(
                    f"exclude glob {glob!r} in {where} is not a valid glob: {exc.reason}",
                    function=name,
                    hint="fix it in lambda_src/build.toml: `*` and `?` within a path segment, `**` across "
                    "segments, `[a-z]` a character class whose ranges run low to high",
                ) from exc
        configs[name] = FunctionConfig(name, runtime, arch, tuple(exclude))
    return configs
