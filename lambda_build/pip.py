"""Running pip: the ``PipRunner`` protocol the pipeline depends on, and the real subprocess runner.

The pipeline never imports pip; it hands ``PipRequest``s to a runner. Tests pass a fake
(``lambda_build.testing.FakePipRunner``); the CLI passes ``SubprocessPipRunner``, which runs
``python -m pip download|install`` with the target platform's flags
(https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-platform) so wheels are chosen for
Lambda, never for the build machine.

Two steps, so the slow part (reading the index, which for projects with thousands of wheels takes
seconds per project) happens once per wheel: ``download`` fetches missing wheels into the build's
wheel folder, ``install`` then runs with ``--no-index --find-links <wheel folder>``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lambda_build.errors import PipError


@dataclass(frozen=True)
class PipRequest:
    """One ``pip download`` or ``pip install --target`` for one Lambda platform.

    Attributes:
        function: the function it is for (error messages only).
        requirements_file: a requirements file in pip's syntax.
        dest: the folder to download wheels into, or the empty folder to install into.
        python_version: ``major.minor`` of the target runtime.
        abi: the CPython ABI tag, e.g. ``cp312`` (pip adds ``abi3`` and ``none`` itself).
        platforms: wheel platform tags, most specific first.
        cache_dir: pip's HTTP cache, or None for pip's default.
        no_deps: take exactly the listed pins (the build) or resolve dependencies (runtime site).
        find_links: a local wheel folder to install from.
        no_index: install from ``find_links`` only, never the index.
    """

    function: str
    requirements_file: Path
    dest: Path
    python_version: str
    abi: str
    platforms: tuple[str, ...]
    cache_dir: Path | None = None
    no_deps: bool = True
    find_links: Path | None = None
    no_index: bool = False


class PipRunner(Protocol):
    """Runs pip; both methods raise ``PipError`` on failure.

    A runner may also have ``terminate()``: ``Builder`` calls it when a build is interrupted, to stop
    pip processes still running (then their calls raise ``PipError``) and refuse new ones.
    """

    def download(self, request: PipRequest) -> None:
        """Download the request's wheels into ``request.dest``."""
        ...

    def install(self, request: PipRequest) -> None:
        """Install the request's requirements into ``request.dest`` (``--target``)."""
        ...


def _platform_arguments(request: PipRequest) -> list[str]:
    args = [
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        request.python_version,
        "--abi",
        request.abi,
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ]
    for platform in request.platforms:
        args += ["--platform", platform]
    if request.no_deps:
        args.append("--no-deps")
    if request.cache_dir is not None:
        args += ["--cache-dir", str(request.cache_dir)]
    if request.no_index:
        args.append("--no-index")
    if request.find_links is not None:
        args += ["--find-links", str(request.find_links)]
    return args + ["-r", str(request.requirements_file)]


def pip_arguments(action: str, request: PipRequest) -> list[str]:
    """The argument list after ``python -m pip`` for ``action`` (``download`` or ``install``)."""
    if action == "download":
        return ["download", "--dest", str(request.dest), *_platform_arguments(request)]
    return ["install", "--target", str(request.dest), "--no-compile", *_platform_arguments(request)]


class SubprocessPipRunner:
    """Runs pip in a subprocess of ``python`` (default: the interpreter running the build).

    Args:
        python: the interpreter whose pip to run.
        env: extra environment variables for pip (on top of this process's environment).
        tail_lines: how many of pip's last output lines a ``PipError`` shows.
    """

    def __init__(
        self, python: str = sys.executable, env: Mapping[str, str] | None = None, tail_lines: int = 15
    ) -> None:
        self.python = python
        self.env = dict(env or {})
        self.tail_lines = tail_lines
        self._running: set[subprocess.Popen[str]] = set()
        self._guard = threading.Lock()
        self._terminated = False

    def terminate(self) -> None:
        """Stop every running pip (SIGTERM) and refuse further calls; for an interrupted build."""
        with self._guard:
            self._terminated = True
            running = list(self._running)
        for process in running:
            process.terminate()

    def download(self, request: PipRequest) -> None:
        """Run ``pip download``; raise ``PipError`` with pip's last lines when it fails."""
        self._run("download", request)

    def install(self, request: PipRequest) -> None:
        """Run ``pip install --target``; raise ``PipError`` with pip's last lines when it fails."""
        self._run("install", request)

    def _run(self, action: str, request: PipRequest) -> None:
        env = dict(os.environ)
        # --target installs must not pick up a target or user scheme from the caller's environment,
        # and must not write bytecode (timestamps and paths would make zips differ).
        for name in ("PIP_TARGET", "PIP_USER", "PIP_PREFIX", "PIP_REQUIRE_VIRTUALENV"):
            env.pop(name, None)
        env.update({"PYTHONDONTWRITEBYTECODE": "1", "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        env.update(self.env)
        command = [self.python, "-m", "pip", *pip_arguments(action, request)]
        with self._guard:
            if self._terminated:
                raise PipError("pip not started: the build was interrupted", function=request.function)
            try:
                process = subprocess.Popen(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            except OSError as exc:
                raise PipError(
                    f"cannot run pip with {self.python}: {exc}",
                    function=request.function,
                    hint="check that the build interpreter exists and has pip",
                ) from exc
            self._running.add(process)
        try:
            stdout, stderr = process.communicate()
        finally:
            with self._guard:
                self._running.discard(process)
            if process.poll() is None:
                process.kill()
                process.wait()
        if self._terminated:
            raise PipError(f"pip {action} stopped: the build was interrupted", function=request.function)
        if process.returncode != 0:
            lines = (stdout + stderr).strip().splitlines()
            tail = "\n".join("    " + line for line in lines[-self.tail_lines :])
            raise PipError(
                f"pip {action} failed (exit {process.returncode}) for platform "
                f"{request.platforms[0]} / Python {request.python_version}; pip's last lines:\n{tail}",
                function=request.function,
                hint="check that each pin exists on the index as a wheel for this platform and Python "
                "(no source builds), and that --hash values are right",
            )
