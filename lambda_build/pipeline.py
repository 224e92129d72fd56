"""The build orchestration: select functions, hash inputs, reuse or build, publish zips with the manifest.

``Builder`` takes its collaborators (folders, pip runner, clock, progress callback) as arguments,
so tests drive it with a fake pip and temp folders and no patching.

Consistency: at every instant each dist/<Function>.zip agrees with its manifest entry, or has none
(then ``--check`` reports it and Terraform's plan stops at the missing key). A build holds dist/
exclusively (``workspace.DistLock``); functions are built by worker threads into staged temp files,
and each finished zip is published under one lock: drop the function's old entry from the manifest if
it differs, move the zip into place, write the new entry. An interrupt (Ctrl-C, or SIGTERM turned
into one by build.py) reaches only the main thread, which stops pip, lets the workers wind down
(nothing is published after it) and raises ``BuildInterrupted``.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lambda_build import bytecode
from lambda_build.archive import (
    COMPRESS_LEVEL,
    FILE_MODE,
    TEMP_PREFIX,
    SourceFile,
    StagedZip,
    apply_excludes,
    collect_sources,
    compress_files,
    merge,
    stage_zip,
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
    BuildInterrupted,
    FunctionNotFoundError,
    ManifestError,
    MissingHandlerError,
)
from lambda_build.hashing import FieldHasher, filebase64sha256, tool_digest
from lambda_build.manifest import (
    MANIFEST_FILE,
    ManifestEntry,
    read_manifest,
    sync_folder,
    write_manifest,
)
from lambda_build.rules import TRIM_RULES
from lambda_build.workspace import CacheLock, DistLock, refuse_file
from lambda_build.zipwriter import Member, file_member, read_members

if TYPE_CHECKING:
    from lambda_build.deps import DependencyTree
    from lambda_build.pip import PipRunner
    from lambda_build.requirements import PinnedRequirement


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
    """One function's outcome: ``built`` or ``reused``, its manifest entry and wall seconds.

    ``no_bytecode`` says why the zip carries no pre-compiled bytecode (``bytecode.unavailable_reason``),
    or is None when it does.
    """

    name: str
    status: Literal["built", "reused"]
    entry: ManifestEntry
    seconds: float
    no_bytecode: str | None = None


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


class _Cancelled(Exception):
    """Internal: a worker noticed the build was interrupted and stopped."""


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
    hasher.add("bytecode", bytecode.identity(config.runtime))
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
        on_result: called (from worker threads, serialised) as each function is reused or published.
        on_wait: called with a message when another build holds dist/ and this one waits for it.
    """

    def __init__(
        self,
        paths: BuildPaths,
        *,
        pip_runner: PipRunner,
        clock: Callable[[], float] = time.perf_counter,
        jobs: int = 1,
        on_result: Callable[[FunctionResult], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.paths = paths
        self.pip_runner = pip_runner
        self.clock = clock
        self.jobs = max(1, jobs)
        self.on_result = on_result
        self.on_wait = on_wait
        self._report_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._key_locks_guard = threading.Lock()
        self._cancel = threading.Event()
        self._publish_lock = threading.Lock()
        self._entries: dict[str, ManifestEntry] = {}  # the manifest on disk, while a build runs
        self._published: list[str] = []
        self._manifest_written = False
        self._session_depth = 0
        self._session_notes: list[str] = []

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

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Hold dist/ exclusively and the cache shared; ``build`` opens one itself if none is open.

        On entry, leftovers of killed builds are removed: temp files in dist/ and, when no other
        build uses the cache, its ``.tmp-*`` folders. Hold one around ``build`` and the import
        check so another build cannot replace the zips in between.

        Raises:
            BuildError: dist/ or the cache folder is a file or cannot be created.
        """
        if self._session_depth:
            self._session_depth += 1
            try:
                yield
            finally:
                self._session_depth -= 1
            return
        with DistLock(self.paths.dist_dir, self.on_wait), CacheLock(self.paths.cache_dir) as cache:
            self._session_depth = 1
            try:
                self.clean_temp_files()
                if cache.removed:
                    self._session_notes.append(
                        f"removed {len(cache.removed)} unfinished temp folder(s) an interrupted build left in "
                        f"{self.paths.cache_dir}"
                    )
                yield
            finally:
                self._session_depth = 0

    def cancel(self) -> None:
        """Stop the running build: no further function starts or is published, pip is terminated."""
        self._cancel.set()
        terminate = getattr(self.pip_runner, "terminate", None)
        if callable(terminate):
            terminate()

    def _check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise _Cancelled

    def _key_lock(self, key: str) -> threading.Lock:
        with self._key_locks_guard:
            return self._key_locks.setdefault(key, threading.Lock())

    def _dependency_tree(
        self, config: FunctionConfig, requirements_path: Path
    ) -> tuple[list[PinnedRequirement], DependencyTree | None]:
        """The applicable pins and their installed tree (cached by key; see ``deps.prepare_dependencies``)."""
        # Imported here so a no-change run never loads `packaging` or pip plumbing.
        from lambda_build.deps import parse_requirements_file, prepare_dependencies
        from lambda_build.requirements import applicable

        pins = parse_requirements_file(requirements_path, function=config.name)
        active = applicable(pins, marker_environment(config.runtime, config.architecture), function=config.name)
        self._check_cancelled()
        # Functions with identical pins share one cache entry; the lock keeps two threads from
        # installing it at once.
        lock_key = f"{config.runtime.name}/{config.architecture.name}/{sorted(p.pip_line() for p in active)}"
        with self._key_lock(lock_key):
            self._check_cancelled()
            tree = prepare_dependencies(
                config, active, cache_dir=self.paths.cache_dir, pip_runner=self.pip_runner, parallel=self.jobs
            )
        return active, tree

    def _build_one(
        self, config: FunctionConfig, previous: ManifestEntry | None
    ) -> tuple[FunctionResult, StagedZip | None]:
        started = self.clock()
        no_bytecode = bytecode.unavailable_reason(config.runtime)
        try:
            inputs = self.inputs(config)
            if self.staleness(inputs, previous) is None and previous is not None:
                return FunctionResult(config.name, "reused", previous, self.clock() - started, no_bytecode), None
            from lambda_build.deps import check_excludes

            self._check_cancelled()
            sources = compress_files(list(inputs.sources), function=config.name, architecture=config.architecture)
            if no_bytecode is None:
                sources += source_bytecode(config, inputs.sources)
            active, tree = self._dependency_tree(config, inputs.requirements_path)
            self._check_cancelled()
            dependencies = read_members(tree.members_file.read_bytes()) if tree is not None else None
            selection = apply_excludes(dependencies, config.exclude, function=config.name)
            if tree is not None:
                environment = marker_environment(config.runtime, config.architecture)
                check_excludes(tree, selection, active, environment, function=config.name)
            members = merge(sources, bytecode.without_orphans(selection.kept), function=config.name)
            self._check_cancelled()
            zip_path = self.zip_path(config.name)
            staged = stage_zip(members, zip_path, function=config.name)
        except (BuildError, _Cancelled):
            raise
        except OSError as exc:
            raise BuildError(
                f"file system error: {exc}",
                function=config.name,
                hint="check free disk space and permissions on dist/ and .cache/",
            ) from exc
        entry = ManifestEntry(
            zip_path=zip_path.name,
            source_code_hash=staged.result.source_code_hash,
            size_bytes=staged.result.size_bytes,
            content_hash=inputs.content_hash,
            runtime=config.runtime.name,
            architecture=config.architecture.name,
            handler=HANDLER,
        )
        return FunctionResult(config.name, "built", entry, self.clock() - started, no_bytecode), staged

    def _write_entries(self) -> None:
        if write_manifest(self.paths.manifest, self._entries):
            self._manifest_written = True

    def _publish(self, staged: StagedZip, result: FunctionResult) -> None:
        """Move a staged zip into place together with its manifest entry (see the module docstring)."""
        name = result.name
        with self._publish_lock:
            self._check_cancelled()
            try:
                if self._entries.get(name, result.entry) != result.entry:
                    # Never an instant where the old entry describes the new zip, or the new entry the old one.
                    del self._entries[name]
                    self._write_entries()
                os.replace(staged.temp, staged.dest)
                sync_folder(staged.dest.parent)
                self._entries[name] = result.entry
                self._write_entries()
            except OSError as exc:
                raise BuildError(
                    f"cannot publish {staged.dest.name} and its manifest entry: {exc}",
                    function=name,
                    hint="check free disk space and permissions on dist/; `build.py --check` shows what is stale",
                ) from exc
            self._published.append(name)

    def _run_one(self, config: FunctionConfig, previous: ManifestEntry | None, report: BuildReport) -> None:
        staged: StagedZip | None = None
        try:
            self._check_cancelled()
            result, staged = self._build_one(config, previous)
            if staged is not None:
                self._publish(staged, result)
                staged = None
        except _Cancelled:
            return
        except Exception as exc:
            if self._cancel.is_set():
                return  # e.g. pip terminated by the interrupt: not this function's fault
            error = exc if isinstance(exc, BuildError) else unexpected_error(config.name, exc)
            if error.function is None:
                error = type(error)(error.message, function=config.name, hint=error.hint)
            with self._report_lock:
                report.errors.append(error)
            return
        finally:
            if staged is not None:
                staged.discard()
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
        """Build (or reuse) the selected functions, publishing each zip with its manifest entry.

        The manifest keeps the previous entry of a function that failed (its previous zip is left
        as it was) and, with ``only``, every other function's entry. A full build drops entries of
        functions whose folders are gone. Unexpected exceptions in a function become a
        ``BuildError`` naming it; the other functions go on.

        Raises:
            ConfigError, FunctionNotFoundError, MissingHandlerError: before anything is built.
            ManifestError: with ``only``, when the existing manifest cannot be read.
            BuildError: dist/ or the cache folder is a file or cannot be created.
            BuildInterrupted: Ctrl-C (``KeyboardInterrupt``) during the build; raised once the
                workers have stopped. Whatever was published is consistent with the manifest.
        """
        configs = self.functions(only)
        with self.session():
            return self._build_locked(configs, only)

    def _build_locked(self, configs: dict[str, FunctionConfig], only: str | None) -> BuildReport:
        report = BuildReport(notes=list(self._session_notes))
        self._session_notes.clear()
        try:
            previous = read_manifest(self.paths.manifest)
        except ManifestError as error:
            if only is not None:
                raise
            report.notes.append(f"ignoring unreadable manifest, rebuilding everything: {error.message}")
            previous = {}
        self._entries = dict(previous)
        self._published = []
        self._manifest_written = False
        self._cancel.clear()
        pending = collections.deque(configs.values())
        workers = min(self.jobs, len(pending))
        running = [workers]
        finished = threading.Event()

        def worker() -> None:
            try:
                while not self._cancel.is_set():
                    with self._report_lock:
                        if not pending:
                            return
                        config = pending.popleft()
                    self._run_one(config, previous.get(config.name), report)
            finally:
                with self._report_lock:
                    running[0] -= 1
                    if running[0] == 0:
                        finished.set()

        # Even one job runs in a thread: an interrupt then lands in the main thread's wait, never
        # between a zip's replace and its manifest write. (The wait is an Event, not Thread.join:
        # a join cut short by Ctrl-C marks the thread as stopped while it still runs.)
        threads = [threading.Thread(target=worker, name=f"lambda_build-{index}") for index in range(workers)]
        if not threads:
            finished.set()
        try:
            for thread in threads:
                thread.start()
            finished.wait()
        except KeyboardInterrupt:
            self.cancel()
            _wait_through_interrupts(threads)
            raise BuildInterrupted(sorted(self._published)) from None
        except BaseException:
            self.cancel()
            _wait_through_interrupts(threads)
            raise
        report.results.sort(key=lambda r: r.name)
        report.errors.sort(key=lambda e: e.function or "")
        if only is None:
            self._entries = {name: entry for name, entry in self._entries.items() if name in configs}
        with self._publish_lock:
            self._write_entries()
        report.manifest_written = self._manifest_written
        return report

    def import_names(self, name: str) -> dict[str, str]:
        """Top-level modules of the function's pinned distributions -> ``name==version`` (for the import check).

        Uses the cached dependency tree (installing it again if the cache was cleared).

        Raises:
            BuildError: as for a build of the function's requirements.
        """
        config = self.functions(name)[name]
        _, tree = self._dependency_tree(config, self.paths.src_dir / name / REQUIREMENTS_FILE)
        return tree.import_names() if tree is not None else {}

    # -- check ----------------------------------------------------------------------------------

    def check(self, only: str | None = None) -> list[Staleness]:
        """Which selected functions a build would rebuild, and why; builds nothing.

        Raises:
            ConfigError, FunctionNotFoundError, MissingHandlerError: bad sources or build.toml.
            BuildError: dist/ is a file.
        """
        configs = self.functions(only)
        refuse_file(self.paths.dist_dir, "--dist")
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


def source_bytecode(config: FunctionConfig, sources: tuple[SourceFile, ...]) -> list[Member]:
    """Pyc members for the function's own ``.py`` files (``lambda_build.bytecode``).

    Raises:
        BuildError: a source file does not compile for the runtime (it could not be imported either).
    """
    compiled = bytecode.compile_sources(
        ((s.arcname, s.path.read_bytes()) for s in sources if s.arcname.endswith(".py")), function=config.name
    )
    if compiled.failed:
        listing = "; ".join(f"{name}: {why}" for name, why in sorted(compiled.failed.items()))
        raise BuildError(
            f"source files do not compile for {config.runtime.name}: {listing}",
            function=config.name,
            hint="fix the syntax error; the handler could not import this file in Lambda either",
        )
    return [
        file_member(bytecode.pyc_name(name, config.runtime), data, FILE_MODE, COMPRESS_LEVEL)
        for name, data in sorted(compiled.pycs.items())
    ]


def _wait_through_interrupts(threads: list[threading.Thread]) -> None:
    """After ``cancel``, wait for the started workers to wind down (moments); more Ctrl-Cs do not cut it short.

    Polls ``is_alive`` (never ``join``, see ``_build_locked``); a thread an interrupt caught while
    starting sees the cancel flag and does nothing.
    """
    while any(thread.is_alive() for thread in threads):
        try:
            time.sleep(0.02)
        except KeyboardInterrupt:
            continue


def unexpected_error(function: str, exc: Exception) -> BuildError:
    """A ``BuildError`` for an exception the pipeline did not expect, naming the function and the place."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return BuildError(
        f"unexpected {type(exc).__name__}{where}: {exc}",
        function=function,
        hint="its previous zip and manifest entry were kept; this is a bug in lambda_build, please report it with "
        "this message",
    )


def default_jobs() -> int:
    """A sensible default for ``Builder(jobs=...)``: the CPU count, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))
