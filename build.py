#!/usr/bin/env python3
"""Build every Lambda function under lambda_src/ into dist/<Function>.zip and dist/manifest.json.

Usage (from the repository root, with the dev virtualenv's Python 3.12)::

    .venv/bin/python build.py                       # build or reuse every function
    .venv/bin/python build.py --function NAME       # just one; other manifest entries are kept
    .venv/bin/python build.py --check               # exit 1 if any zip is stale or missing; builds nothing
    .venv/bin/python build.py --import-check        # also import each handler in a clean Python

Prints one line per function: name, built|reused, size, base64 SHA-256, seconds, and "no bytecode (why)"
when this Python is not the function runtime's version, so the zip ships sources only (zips carry
unchecked-hash .pyc files otherwise: lambda_build/bytecode.py). Errors name the
function and what to do, and exit 1. Ctrl-C or SIGTERM stops the build with one line and exit 130
(143 for SIGTERM); each zip in dist/ then still matches its manifest entry, or has none. A second
build into the same dist/ waits for the first. The stages are described in lambda_build/__init__.py.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

try:
    # The one third-party library the build needs, imported only when something must be built; a no-change
    # run never loads it, but a machine without it should hear so now, not from a worker thread.
    if importlib.util.find_spec("packaging") is None:
        raise ModuleNotFoundError("No module named 'packaging'")
    from lambda_build import (
        Builder,
        BuildError,
        BuildPaths,
        FunctionResult,
        SubprocessPipRunner,
        default_jobs,
    )
    from lambda_build.pip import PipRunner
except ModuleNotFoundError as missing:  # pragma: no cover - depends on the interpreter used
    sys.exit(
        f"build.py: {missing}. Install what the build needs (`pip install -r requirements-build.txt`), "
        "or use the dev virtualenv: `make venv && .venv/bin/python build.py`."
    )

ROOT = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Package lambda_src/<Function>/ folders into deterministic Lambda zips and dist/manifest.json.",
    )
    parser.add_argument("--function", metavar="NAME", help="build (or check) only this function")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when any zip is stale or missing; build nothing",
    )
    parser.add_argument(
        "--import-check",
        action="store_true",
        help="after building, import each handler in a clean Python (this machine's architecture only)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        metavar="N",
        help="functions built at once (default: the CPU count, at most 4)",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="repository root (default: this file's folder)",
    )
    parser.add_argument("--src", type=Path, help="lambda_src folder (default: ROOT/lambda_src)")
    parser.add_argument("--dist", type=Path, help="output folder (default: ROOT/dist)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="cache folder for installs and wheels (default: ROOT/.cache)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.check and args.import_check:
        parser.error("--check builds nothing, so it cannot be combined with --import-check")
    return args


def format_result(result: FunctionResult) -> str:
    """One progress line: name, built|reused, size in MB (10^6 bytes), base64 SHA-256, seconds.

    When the zip carries no pre-compiled bytecode (the build Python is not the runtime's version), the line
    ends with ``no bytecode (<why>)``.
    """
    entry = result.entry
    line = (
        f"{result.name:<32} {result.status:<6} {entry.size_bytes / 1e6:8.2f} MB  "
        f"sha256:{entry.source_code_hash}  {result.seconds:6.2f} s"
    )
    if result.no_bytecode is not None:
        line += f"  no bytecode ({result.no_bytecode})"
    return line


def _import_check(builder: Builder, names: list[str], pip_runner: PipRunner, out: TextIO) -> list[BuildError]:
    from lambda_build.importcheck import (
        check_zip_imports,
        ensure_runtime_site,
        host_architecture,
    )

    host = host_architecture()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    errors: list[BuildError] = []
    configs = builder.functions()
    for name in names:
        config = configs[name]
        if host is None or config.architecture != host or config.runtime.python_version != here:
            print(
                f"{name:<32} import skipped (needs {config.runtime.name} on {config.architecture.name}; "
                f"this is Python {here} on {host.name if host else 'an unknown machine'})",
                file=out,
            )
            continue
        try:
            site = ensure_runtime_site(builder.paths.cache_dir, config.runtime, config.architecture, pip_runner)
            started = time.perf_counter()
            required = builder.import_names(name)
            report = check_zip_imports(builder.zip_path(name), runtime_site=site, function=name, required=required)
            print(
                f"{name:<32} import ok    {len(report.imported)} top-level modules imported, {report.modules} loaded, "
                f"boto3 from {report.origins['boto3'] or 'nowhere'}, "
                f"{time.perf_counter() - started:.2f} s",
                file=out,
            )
        except BuildError as error:
            errors.append(error)
    return errors


@contextlib.contextmanager
def _sigterm_as_interrupt(received: list[int]) -> Iterator[None]:
    """Turn SIGTERM (CI cancelling a job, `kill`) into the KeyboardInterrupt Ctrl-C gives; note the signal.

    Only the first signal interrupts: later ones while the build winds down (moments) are noted, so
    they cannot cut short the clean-up or the message.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread (e.g. main() called from a worker)
        return
    previous_term = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def main(
    argv: list[str] | None = None,
    *,
    pip_runner: PipRunner | None = None,
    clock: Callable[[], float] = time.perf_counter,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 build error or stale zip, 2 usage error,
    128 + the signal number when interrupted: 130 for Ctrl-C, 143 for SIGTERM)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parse_args(argv)
    received: list[int] = []
    with _sigterm_as_interrupt(received):
        try:
            return _run(args, pip_runner=pip_runner, clock=clock, out=out, err=err)
        except KeyboardInterrupt as interrupt:
            signum = received[0] if received else signal.SIGINT
            published = getattr(interrupt, "published", None)
            done = "" if published is None else f"; published before the stop: {', '.join(published) or 'none'}"
            print(
                f"build.py: interrupted by {signal.Signals(signum).name}{done}; every zip left in dist/ matches its "
                "manifest entry or has none (run build.py again to finish)",
                file=err,
            )
            return 128 + signum


def _run(
    args: argparse.Namespace,
    *,
    pip_runner: PipRunner | None,
    clock: Callable[[], float],
    out: TextIO,
    err: TextIO,
) -> int:
    root: Path = args.root.resolve()
    defaults = BuildPaths.for_root(root)
    paths = BuildPaths(
        src_dir=(args.src or defaults.src_dir).resolve(),
        dist_dir=(args.dist or defaults.dist_dir).resolve(),
        cache_dir=(args.cache_dir or defaults.cache_dir).resolve(),
    )
    runner = pip_runner or SubprocessPipRunner()
    builder = Builder(
        paths,
        pip_runner=runner,
        clock=clock,
        jobs=args.jobs,
        on_result=lambda result: print(format_result(result), file=out, flush=True),
        on_wait=lambda message: print(f"note: {message}", file=err, flush=True),
    )
    try:
        if args.check:
            stale = builder.check(args.function)
            for item in stale:
                print(f"stale: {item.function}: {item.reason}", file=err)
            if stale:
                print("run `python build.py` to rebuild", file=err)
                return 1
            print(f"up to date: {args.function or 'all functions'}", file=out)
            return 0
        builder.functions(args.function)  # bad build.toml or --function: say so before waiting for a lock
        with builder.session():
            report = builder.build(args.function)
            for note in report.notes:
                print(f"note: {note}", file=err)
            errors = list(report.errors)
            if args.import_check and report.results:
                errors += _import_check(builder, [r.name for r in report.results], runner, out)
    except BuildError as error:
        print(f"error: {error}", file=err)
        return 1
    for error in errors:
        print(f"error: {error}", file=err)
    if errors:
        print(
            f"{len(errors)} function(s) failed; their previous zips and manifest entries were left as they were",
            file=err,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
