"""The build orchestration: select functions, hash inputs, reuse or build, write the manifest.

``Builder`` takes its collaborators (folders, pip runner, clock, progress callback) as arguments,
so tests drive it with a fake pip and temp folders and no patching.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lambda_build.archive import (
    COMPRESS_LEVEL,
    TEMP_PREFIX,
    SourceFile,
    collect_sources,
    compress_files,
    merge,
    select_dependencies,
    write_zip,
)
from lambda_build.config import (
    HANDLER,
    REQUIREMENTS_FILE,
    SHARED_PACKAGE,
    FunctionConfig,
    discover_functions,
    load_config,
    marker_environment,
)
from lambda_build.errors import (
    BuildError,
    FunctionNotFoundError,
    ManifestError,
    MissingHandlerError,
)
from lambda_build.hashing import FieldHasher, filebase64sha256, tool_digest
from lambda_build.manifest import (
    MANIFEST_FILE,
    ManifestEntry,
    read_manifest,
    write_manifest,
)
from lambda_build.rules import TRIM_RULES
from lambda_build.zipwriter import read_members

if TYPE_CHECKING:
    from lambda_build.pip import PipRunner


@dataclass(frozen=True)
class BuildPaths:
    """Where the pipeline reads and writes.

    Attributes:
        src_dir: lambda_src/ (function folders, atlas_shared/, build.toml).
        dist_dir: dist/ (zips and manifest.json).
        cache_dir: .cache/ (installed requirements by key, pip's wheel cache, the runtime site).
    """

    src_dir: Path
    dist_dir: Path
    cache_dir: Path

    @classmethod
    def for_root(cls, root: Path) -> BuildPaths:
        """The repository layout of docs/contracts.md under ``root``."""
        return cls(root / "lambda_src", root / "dist", root / ".cache")

    @property
    def manifest(self) -> Path:
        """dist/manifest.json."""
        return self.dist_dir / MANIFEST_FILE


@dataclass(frozen=True)
class FunctionInputs:
    """Everything that goes into one zip, and the content hash over it."""

    config: FunctionConfig
    function_dir: Path
    requirements_path: Path
    sources: tuple[SourceFile, ...]
    content_hash: str


@dataclass(frozen=True)
class FunctionResult:
    """One function's outcome: ``built`` or ``reused``, its manifest entry and wall seconds."""

    name: str
    status: Literal["built", "reused"]
    entry: ManifestEntry
    seconds: float


@dataclass
class BuildReport:
    """A whole run: results of the functions that succeeded, errors of those that failed."""

    results: list[FunctionResult] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    manifest_written: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every selected function built or was reused."""
        return not self.errors


@dataclass(frozen=True)
class Staleness:
    """Why a function's zip is out of date (``--check``)."""

    function: str
    reason: str


def compute_content_hash(config: FunctionConfig, requirements: bytes | None, sources: list[SourceFile]) -> str:
    """Hex SHA-256 over every input of a function's zip (see ``lambda_build.hashing``)."""
    hasher = FieldHasher()
    hasher.add(
        "lambda_build",
        tool_digest(),
        "compress",
        str(COMPRESS_LEVEL),
        "handler",
        HANDLER,
    )
    hasher.add("runtime", config.runtime.name, "architecture", config.architecture.name)
    hasher.add(
        "requirements",
        "present" if requirements is not None else "absent",
        requirements or b"",
    )
    hasher.add_all("trim", TRIM_RULES)
    hasher.add_all("exclude", config.exclude)
    hasher.add("sources", str(len(sources)))
    for source in sources:
        hasher.add(source.arcname, "x" if source.executable else "-", source.path.read_bytes())
    return hasher.hexdigest()


class Builder:
    """Builds or checks the zips of the functions under ``paths.src_dir``.

    Args:
        paths: source, dist and cache folders.
        pip_runner: installs requirements (``SubprocessPipRunner`` or a fake).
        clock: monotonic seconds, for the per-function timings.
        jobs: functions built at once (pip and zlib release the GIL, so threads overlap well).
        on_result: called (from worker threads, serialised) as each function finishes.
    """

    def __init__(
        self,
        paths: BuildPaths,
        *,
        pip_runner: PipRunner,
        clock: Callable[[], float] = time.perf_counter,
        jobs: int = 1,
        on_result: Callable[[FunctionResult], None] | None = None,
    ) -> None:
        self.paths = paths
        self.pip_runner = pip_runner
        self.clock = clock
        self.jobs = max(1, jobs)
        self.on_result = on_result
        self._report_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._key_locks_guard = threading.Lock()

    # -- selection and inputs -------------------------------------------------------------------

    def functions(self, only: str | None = None) -> dict[str, FunctionConfig]:
        """The selected functions' configs (all, or just ``only``).

        Raises:
            FunctionNotFoundError: ``only`` names no function folder.
            ConfigError, MissingHandlerError: see ``config``.
        """
        names = discover_functions(self.paths.src_dir)
        if only is not None and only not in names:
            folder = self.paths.src_dir / only
            if folder.is_dir() and not only.startswith((".", "_")) and only != SHARED_PACKAGE:
                raise MissingHandlerError(
                    f"lambda_src/{only}/ has no lambda_function.py",
                    function=only,
                    hint="add lambda_function.py defining lambda_handler(event, context)",
                )
            raise FunctionNotFoundError(
                f"no function folder lambda_src/{only}/",
                function=only,
                hint=f"choose one of: {', '.join(names) or '(none found)'}",
            )
        configs = load_config(self.paths.src_dir, names)
        return {only: configs[only]} if only is not None else configs

    def inputs(self, config: FunctionConfig) -> FunctionInputs:
        """Collect a function's sources and compute its content hash (no pip, no zip)."""
        function_dir = self.paths.src_dir / config.name
        requirements_path = function_dir / REQUIREMENTS_FILE
        requirements = requirements_path.read_bytes() if requirements_path.is_file() else None
        sources = collect_sources(function_dir, self.paths.src_dir / SHARED_PACKAGE, function=config.name)
        content_hash = compute_content_hash(config, requirements, sources)
        return FunctionInputs(config, function_dir, requirements_path, tuple(sources), content_hash)

    def zip_path(self, name: str) -> Path:
        """dist/<name>.zip."""
        return self.paths.dist_dir / f"{name}.zip"

    def staleness(self, inputs: FunctionInputs, entry: ManifestEntry | None) -> str | None:
        """Why the existing zip cannot be reused, or None when it can."""
        name = inputs.config.name
        zip_path = self.zip_path(name)
        if entry is None:
            return f"no entry in {self.paths.manifest.name}"
        if not zip_path.is_file():
            return f"{zip_path.name} is missing"
        if entry.content_hash != inputs.content_hash:
            return "inputs changed since the last build (content hash differs)"
        expected = (
            zip_path.name,
            inputs.config.runtime.name,
            inputs.config.architecture.name,
            HANDLER,
        )
        if (
            entry.zip_path,
            entry.runtime,
            entry.architecture,
            entry.handler,
        ) != expected:
            return "manifest entry's zip_path/runtime/architecture/handler differ from the sources"
        if zip_path.stat().st_size != entry.size_bytes:
            return f"{zip_path.name} size differs from the manifest (modified after the build)"
        if filebase64sha256(zip_path) != entry.source_code_hash:
            return f"{zip_path.name} SHA-256 differs from the manifest (modified after the build)"
        return None

    # -- build ----------------------------------------------------------------------------------

    def _key_lock(self, key: str) -> threading.Lock:
        with self._key_locks_guard:
            return self._key_locks.setdefault(key, threading.Lock())

    def _build_one(self, config: FunctionConfig, previous: ManifestEntry | None) -> FunctionResult:
        started = self.clock()
        try:
            inputs = self.inputs(config)
            if self.staleness(inputs, previous) is None and previous is not None:
                return FunctionResult(config.name, "reused", previous, self.clock() - started)
            # Imported here so a no-change run never loads `packaging` or pip plumbing.
            from lambda_build.deps import parse_requirements_file, prepare_dependencies
            from lambda_build.requirements import applicable

            pins = parse_requirements_file(inputs.requirements_path, function=config.name)
            active = applicable(pins, marker_environment(config.runtime, config.architecture), function=config.name)
            sources = compress_files(list(inputs.sources), function=config.name, architecture=config.architecture)
            # Functions with identical pins share one cache entry; the lock keeps two threads from
            # installing it at once.
            lock_key = f"{config.runtime.name}/{config.architecture.name}/{sorted(p.pip_line() for p in active)}"
            with self._key_lock(lock_key):
                tree = prepare_dependencies(
                    config, active, cache_dir=self.paths.cache_dir, pip_runner=self.pip_runner, parallel=self.jobs
                )
            dependencies = read_members(tree.read_bytes()) if tree is not None else None
            members = merge(
                sources, select_dependencies(dependencies, config.exclude, function=config.name), function=config.name
            )
            zip_path = self.zip_path(config.name)
            written = write_zip(members, zip_path, function=config.name)
        except BuildError:
            raise
        except OSError as exc:
            raise BuildError(
                f"file system error: {exc}",
                function=config.name,
                hint="check free disk space and permissions on dist/ and .cache/",
            ) from exc
        entry = ManifestEntry(
            zip_path=zip_path.name,
            source_code_hash=written.source_code_hash,
            size_bytes=written.size_bytes,
            content_hash=inputs.content_hash,
            runtime=config.runtime.name,
            architecture=config.architecture.name,
            handler=HANDLER,
        )
        return FunctionResult(config.name, "built", entry, self.clock() - started)

    def _run_one(
        self,
        config: FunctionConfig,
        previous: ManifestEntry | None,
        report: BuildReport,
    ) -> None:
        try:
            result = self._build_one(config, previous)
        except BuildError as error:
            if error.function is None:
                error = type(error)(error.message, function=config.name, hint=error.hint)
            with self._report_lock:
                report.errors.append(error)
            return
        with self._report_lock:
            report.results.append(result)
            if self.on_result is not None:
                self.on_result(result)

    def clean_temp_files(self) -> None:
        """Remove temp files an interrupted run left in dist/ (never the zips or the manifest)."""
        if self.paths.dist_dir.is_dir():
            for leftover in self.paths.dist_dir.glob(f"{TEMP_PREFIX}*.tmp"):
                leftover.unlink(missing_ok=True)

    def build(self, only: str | None = None) -> BuildReport:
        """Build (or reuse) the selected functions and update the manifest.

        The manifest keeps the previous entry of a function that failed (its previous zip is left
        as it was) and, with ``only``, every other function's entry. A full build drops entries of
        functions whose folders are gone.

        Raises:
            ConfigError, FunctionNotFoundError, MissingHandlerError: before anything is built.
            ManifestError: with ``only``, when the existing manifest cannot be read.
        """
        configs = self.functions(only)
        report = BuildReport()
        self.clean_temp_files()
        try:
            previous = read_manifest(self.paths.manifest)
        except ManifestError as error:
            if only is not None:
                raise
            report.notes.append(f"ignoring unreadable manifest, rebuilding everything: {error.message}")
            previous = {}
        if self.jobs == 1 or len(configs) == 1:
            for config in configs.values():
                self._run_one(config, previous.get(config.name), report)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for future in [pool.submit(self._run_one, c, previous.get(c.name), report) for c in configs.values()]:
                    future.result()
        report.results.sort(key=lambda r: r.name)
        report.errors.sort(key=lambda e: e.function or "")
        entries = dict(previous) if only is not None else {n: previous[n] for n in configs if n in previous}
        entries.update({r.name: r.entry for r in report.results})
        report.manifest_written = write_manifest(self.paths.manifest, entries)
        return report

    # -- check ----------------------------------------------------------------------------------

    def check(self, only: str | None = None) -> list[Staleness]:
        """Which selected functions a build would rebuild, and why; builds nothing.

        Raises:
            ConfigError, FunctionNotFoundError, MissingHandlerError: bad sources or build.toml.
        """
        configs = self.functions(only)
        try:
            previous = read_manifest(self.paths.manifest)
        except ManifestError as error:
            return [Staleness(name, f"manifest unreadable: {error.message}") for name in configs]
        stale: list[Staleness] = []
        for config in configs.values():
            try:
                reason = self.staleness(self.inputs(config), previous.get(config.name))
            except BuildError as error:
                reason = f"cannot be built: {error.message}"
            if reason is not None:
                stale.append(Staleness(config.name, reason))
        if only is None:
            for name in sorted(set(previous) - set(configs)):
                stale.append(
                    Staleness(
                        name,
                        f"in {self.paths.manifest.name} but lambda_src/{name}/ is gone",
                    )
                )
        return stale


def default_jobs() -> int:
    """A sensible default for ``Builder(jobs=...)``: the CPU count, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))
