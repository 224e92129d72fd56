"""Install a function's pinned requirements for its Lambda platform, trim them, check they are complete.

The result is a folder of importable packages, cached under ``<cache>/deps/<key>/site`` where the
key hashes everything that decides its content (``DEPS_FORMAT``, rules, runtime, architecture,
platform tags, the rendered pins). A source-only change therefore reuses it without running pip.
Wheels are kept in ``<cache>/wheels``: only pins without a matching wheel there are downloaded
(``pip download``, reading the index), and every install runs ``--no-index`` from that folder, so
a changed pin fetches one wheel and a rebuilt tree needs no network at all.

Trimming (``rules.TRIM_RULES``) keeps what imports need and drops what cannot be imported or holds the
build machine's paths: console-script shims in ``bin/``, C headers, compiled bytecode, test suites,
Cython/C sources, type stubs, and the installer's own dist-info records. (Bytecode is then compiled
afresh, deterministically, for the runtime: ``dependency_bytecode``.) dist-info keeps METADATA
(``importlib.metadata.version``), entry_points.txt, top_level.txt, WHEEL and license files.

Completeness: every installed distribution's ``Requires-Dist`` (markers evaluated for the target,
extras followed) must be met by another pinned distribution or by the runtime's own boto3 set
(``rules.RUNTIME_PROVIDED``); pip's ``--no-deps`` does not check this. Metadata format:
https://packaging.python.org/en/latest/specifications/core-metadata/#requires-dist-multiple-use

Import names: before trimming drops RECORD, each distribution's top-level modules are read from it
(``top_level.txt`` when there is no RECORD; many build backends write none) and stored with the tree
in ``distributions.json``. ``check_excludes`` uses them to refuse an ``exclude`` glob that removes a
pinned package whole, and the import check imports each of them from the zip. RECORD format:
https://packaging.python.org/en/latest/specifications/recording-installed-packages/#the-record-file
"""

from __future__ import annotations

import csv
import email.parser
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from lambda_build import bytecode
from lambda_build.archive import COMPRESS_LEVEL, FILE_MODE, Selection, SourceFile, collect_tree, compress_files
from lambda_build.config import FunctionConfig, marker_environment, platform_tags
from lambda_build.errors import (
    ArchiveError,
    ExcludeError,
    IncompleteDependenciesError,
    RequirementError,
)
from lambda_build.globs import GlobSet
from lambda_build.hashing import FieldHasher
from lambda_build.pip import PipRequest, PipRunner
from lambda_build.requirements import PinnedRequirement, render_for_pip
from lambda_build.rules import RUNTIME_PROVIDED, TRIM_RULES
from lambda_build.zipwriter import Member, file_member, write_members

_TRIM = GlobSet(TRIM_RULES)
_COMPLETE_MARKER = ".complete"
MEMBERS_FILE = "members.zip"
DISTRIBUTIONS_FILE = "distributions.json"


@dataclass(frozen=True)
class Distribution:
    """An installed distribution: identity and dependencies from its METADATA, import names from RECORD.

    Attributes:
        key: the normalised project name (``pyjwt``).
        name: the project name as its METADATA spells it (``PyJWT``).
        version: its version.
        requires: its ``Requires-Dist`` lines.
        import_names: its top-level modules and packages (``jwt``), as far as they are known.
    """

    key: str
    name: str
    version: str
    requires: tuple[str, ...]
    import_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DependencyTree:
    """An installed, trimmed and checked requirements tree, as cached under ``.cache/deps/<key>``.

    Attributes:
        members_file: its files, compressed (``zipwriter`` format, for ``zipwriter.read_members``).
        distributions: what was installed, sorted by key.
    """

    members_file: Path
    distributions: tuple[Distribution, ...]

    def import_names(self) -> dict[str, str]:
        """Every top-level module of the tree -> ``name==version`` of the distribution it belongs to."""
        return {module: f"{dist.name}=={dist.version}" for dist in self.distributions for module in dist.import_names}


def top_level_module(path: str) -> str | None:
    """The importable top-level name a zip or RECORD path belongs to, or None (dist-info, data, scripts).

    ``pkg/sub/mod.py`` -> ``pkg``, ``six.py`` -> ``six``, ``_cffi_backend.cpython-312-x86_64-linux-gnu.so``
    -> ``_cffi_backend``; ``cffi.libs/x.so``, ``x-1.0.dist-info/METADATA``, ``../../bin/tool`` -> None.
    """
    first, separator, _ = path.partition("/")
    if separator:
        name = first
    elif first.endswith(".py"):
        name = first[:-3]
    elif first.endswith(".so"):
        name = first.split(".", 1)[0]
    else:
        return None
    return name if name.isidentifier() and name != "__pycache__" else None


def _record_import_names(info: Path) -> list[str]:
    record = info / "RECORD"
    if record.is_file():
        rows = csv.reader(io.StringIO(record.read_text(encoding="utf-8", errors="replace")))
        return sorted({name for row in rows if row and (name := top_level_module(row[0])) is not None})
    top_level = info / "top_level.txt"
    if top_level.is_file():
        lines = top_level.read_text(encoding="utf-8", errors="replace").splitlines()
        return sorted({line.strip() for line in lines if line.strip().isidentifier()})
    return []


def _module_exists(site: Path, name: str) -> bool:
    return (
        (site / name).is_dir()
        or (site / f"{name}.py").is_file()
        or (site / f"{name}.so").is_file()
        or any(site.glob(f"{name}.*.so"))
    )


def read_distributions(site: Path) -> dict[str, Distribution]:
    """Every ``*.dist-info`` at the top of ``site``, keyed by normalised project name.

    Import names come from RECORD (or top_level.txt), limited to those present in ``site``.
    """
    parser = email.parser.BytesHeaderParser()
    dists: dict[str, Distribution] = {}
    for info in sorted(site.glob("*.dist-info")):
        metadata = info / "METADATA"
        if not metadata.is_file():
            continue
        message = parser.parsebytes(metadata.read_bytes())
        name = str(message.get("Name", info.name.split("-")[0]))
        dist = Distribution(
            key=canonicalize_name(name),
            name=name,
            version=str(message.get("Version", "")),
            requires=tuple(str(r) for r in message.get_all("Requires-Dist") or ()),
            import_names=tuple(n for n in _record_import_names(info) if _module_exists(site, n)),
        )
        dists[dist.key] = dist
    return dists


def _requirement_edges(
    dists: Mapping[str, Distribution], pins: list[PinnedRequirement], environment: Mapping[str, str]
) -> Iterator[tuple[Distribution, Requirement]]:
    """Every (installed distribution, requirement) reachable from the pins whose marker holds on the target."""
    extras: dict[str, set[str]] = {pin.key: set(pin.extras) for pin in pins}
    queue = [pin.key for pin in pins if pin.key in dists]
    visited: set[tuple[str, frozenset[str]]] = set()
    while queue:
        key = queue.pop()
        wanted = frozenset(extras.get(key, set()))
        if (key, wanted) in visited:
            continue
        visited.add((key, wanted))
        dist = dists[key]
        for text in dist.requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue  # a malformed line in someone's metadata is theirs to fix, not a missing package
            if requirement.marker is not None:
                holds = any(
                    requirement.marker.evaluate({**environment, "extra": extra}) for extra in ("", *sorted(wanted))
                )
                if not holds:
                    continue
            yield dist, requirement
            dep = canonicalize_name(requirement.name)
            if dep in dists:
                extras.setdefault(dep, set()).update(canonicalize_name(e) for e in requirement.extras)
                queue.append(dep)


def check_complete(
    site: Path,
    pins: list[PinnedRequirement],
    environment: Mapping[str, str],
    *,
    function: str,
) -> None:
    """Check that ``site`` holds every pin and everything the pins require.

    Args:
        site: the install folder.
        pins: the applicable pins (markers already evaluated for the target).
        environment: PEP 508 marker variables of the target (``config.marker_environment``).
        function: for error messages.

    Raises:
        IncompleteDependenciesError: a requirement is neither installed nor runtime-provided, or an
            installed version does not satisfy a dependent's specifier.
    """
    check_distributions(read_distributions(site), pins, environment, function=function)


def check_distributions(
    dists: Mapping[str, Distribution],
    pins: list[PinnedRequirement],
    environment: Mapping[str, str],
    *,
    function: str,
) -> None:
    """``check_complete`` over already-read distributions."""
    problems: list[str] = []
    for pin in pins:
        dist = dists.get(pin.key)
        if dist is None:
            problems.append(f"{pin.name}=={pin.version} is pinned but pip installed no {pin.name} distribution")
    for dist, requirement in _requirement_edges(dists, pins, environment):
        dep = canonicalize_name(requirement.name)
        if dep in dists:
            installed = dists[dep]
            try:
                ok = requirement.specifier.contains(Version(installed.version), prereleases=True)
            except InvalidVersion:
                ok = True
            if not ok:
                problems.append(
                    f"{dist.name} {dist.version} requires {requirement.name}{requirement.specifier}, "
                    f"but {installed.name}=={installed.version} is pinned"
                )
        elif dep not in RUNTIME_PROVIDED:
            problems.append(f"{dist.name} {dist.version} requires {requirement} which is not pinned")
    if problems:
        listing = "\n".join("    " + p for p in sorted(set(problems)))
        raise IncompleteDependenciesError(
            f"requirements.txt is incomplete or inconsistent:\n{listing}",
            function=function,
            hint=f"pin the missing packages (exact versions) in lambda_src/{function}/requirements.txt, e.g. "
            "from `pip freeze` of a clean venv with the function's top-level packages; runtime-provided "
            f"packages ({', '.join(sorted(RUNTIME_PROVIDED))}) may stay out",
        )


def check_excludes(
    tree: DependencyTree,
    selection: Selection,
    pins: list[PinnedRequirement],
    environment: Mapping[str, str],
    *,
    function: str,
) -> None:
    """Refuse ``exclude`` globs that remove a whole top-level package or module of a pinned distribution.

    Partial excludes (``lxml/html``) pass; whether the rest still imports is the import check's job.

    Raises:
        ExcludeError: naming each glob, the package it removes, its distribution and who needs it.
    """
    if not selection.removed:
        return
    kept = {module for member in selection.kept if (module := top_level_module(member.name)) is not None}
    gone: dict[str, str] = {}
    for name, pattern in selection.removed.items():
        module = top_level_module(name)
        if module is not None and module not in kept:
            gone.setdefault(module, pattern)
    if not gone:
        return
    dists = {dist.key: dist for dist in tree.distributions}
    needed_by: dict[str, set[str]] = {}
    for dist, requirement in _requirement_edges(dists, pins, environment):
        needed_by.setdefault(canonicalize_name(requirement.name), set()).add(f"{dist.name} {dist.version}")
    pinned = {pin.key for pin in pins}
    problems: list[str] = []
    for dist in tree.distributions:
        for module in dist.import_names:
            if module not in gone:
                continue
            reasons = ["requirements.txt pins"] if dist.key in pinned else []
            reasons += [f"{other} requires" for other in sorted(needed_by.get(dist.key, ()))]
            problems.append(
                f"exclude glob {gone[module]!r} removes the whole top-level package {module} of "
                f"{dist.name} {dist.version}, which {' and '.join(reasons or ['pip installed'])}"
            )
    if problems:
        listing = "\n".join("    " + p for p in problems)
        raise ExcludeError(
            f"exclude would remove packages the function needs:\n{listing}",
            function=function,
            hint=f"exclude only parts of a package in lambda_src/build.toml (e.g. lxml/html), or remove the pin "
            f"from lambda_src/{function}/requirements.txt if nothing requires it",
        )


def load_tree(folder: Path) -> DependencyTree:
    """The ``DependencyTree`` cached in ``folder`` (``.cache/deps/<key>``).

    Raises:
        ArchiveError: the folder lacks its distributions file (a damaged cache entry).
    """
    try:
        data = json.loads((folder / DISTRIBUTIONS_FILE).read_text(encoding="utf-8"))
        dists = tuple(
            Distribution(
                key=d["key"],
                name=d["name"],
                version=d["version"],
                requires=tuple(d["requires"]),
                import_names=tuple(d["import_names"]),
            )
            for d in data["distributions"]
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(
            f"the cached requirements tree {folder} is damaged: {exc}",
            hint=f"delete {folder} and build again",
        ) from exc
    return DependencyTree(folder / MEMBERS_FILE, dists)


def trim(site: Path) -> None:
    """Delete from ``site`` everything ``TRIM_RULES`` matches (folders whole)."""
    for dirpath, dirnames, filenames in os.walk(site):
        rel_dir = os.path.relpath(dirpath, site)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        for dirname in list(dirnames):
            if _TRIM.match(rel_dir + dirname):
                shutil.rmtree(os.path.join(dirpath, dirname))
                dirnames.remove(dirname)
        for filename in filenames:
            if _TRIM.match(rel_dir + filename):
                os.unlink(os.path.join(dirpath, filename))


def find_embedded_path(site: Path, needle: str) -> list[str]:
    """Relative paths of files under ``site`` whose bytes contain ``needle`` (an absolute build path)."""
    pattern = needle.encode()
    hits: list[str] = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        if pattern in path.read_bytes():
            hits.append(path.relative_to(site).as_posix())
    return hits


# Bump when install, trim or verification logic changes what lands in a cached tree.
DEPS_FORMAT = "5"  # 5: bytecode (lambda_build.bytecode) in the tree


def deps_key(config: FunctionConfig, pip_requirements: str) -> str:
    """Hex key of a dependency tree: format, rules, runtime, architecture, platform tags and pins."""
    hasher = FieldHasher()
    hasher.add("deps", DEPS_FORMAT, config.runtime.name, config.architecture.name, "level", str(COMPRESS_LEVEL))
    hasher.add_all("platforms", platform_tags(config.runtime, config.architecture))
    hasher.add_all("trim", TRIM_RULES)
    hasher.add_all("runtime-provided", sorted(RUNTIME_PROVIDED))
    hasher.add("bytecode", bytecode.identity(config.runtime))
    hasher.add("requirements", pip_requirements)
    return hasher.hexdigest()


def supported_tags(config: FunctionConfig) -> frozenset[Tag]:
    """Wheel tags the function's runtime and architecture accept (PEP 425 / PEP 600)."""
    version = tuple(int(part) for part in config.runtime.python_version.split("."))
    platforms = list(platform_tags(config.runtime, config.architecture))
    tags = list(cpython_tags(version, abis=[config.runtime.abi], platforms=platforms))
    tags += compatible_tags(version, interpreter=config.runtime.abi, platforms=platforms)
    return frozenset(tags)


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cached_wheel(wheel_dir: Path, pin: PinnedRequirement, tags: frozenset[Tag]) -> Path | None:
    """A wheel in ``wheel_dir`` that satisfies ``pin`` for ``tags`` (and its hashes, if any), else None."""
    try:
        wanted: Version | str = Version(pin.version)
    except InvalidVersion:
        wanted = pin.version
    for path in sorted(wheel_dir.glob("*.whl")):
        try:
            name, version, _build, wheel_tags = parse_wheel_filename(path.name)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if name != pin.key or (version != wanted and str(version) != pin.version) or not (wheel_tags & tags):
            continue
        if pin.hashes and not any(_file_digest(path, h.split(":", 1)[0]) == h.split(":", 1)[1] for h in pin.hashes):
            continue
        return path
    return None


def fetch_wheels(
    config: FunctionConfig,
    pins: list[PinnedRequirement],
    *,
    wheel_dir: Path,
    cache_dir: Path,
    pip_runner: PipRunner,
    parallel: int = 1,
) -> list[str]:
    """Download the wheels of ``pins`` that ``wheel_dir`` lacks; return the names fetched.

    Missing pins are split into ``parallel`` groups downloaded at once (pip spends most of its time
    reading index pages, one project after another). Each group downloads into its own temp folder
    and its wheels are moved into ``wheel_dir`` atomically, so concurrent builds never see half a file.

    Raises:
        PipError: a download failed.
    """
    tags = supported_tags(config)
    wheel_dir.mkdir(parents=True, exist_ok=True)
    missing = [pin for pin in pins if cached_wheel(wheel_dir, pin, tags) is None]
    if not missing:
        return []
    groups = [missing[index :: max(1, parallel)] for index in range(min(max(1, parallel), len(missing)))]

    def download(group: list[PinnedRequirement]) -> None:
        work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=wheel_dir))
        try:
            requirements_file = work / "requirements.txt"
            requirements_file.write_text(render_for_pip(group), encoding="utf-8")
            pip_runner.download(
                PipRequest(
                    function=config.name,
                    requirements_file=requirements_file,
                    dest=work / "wheels",
                    python_version=config.runtime.python_version,
                    abi=config.runtime.abi,
                    platforms=platform_tags(config.runtime, config.architecture),
                    cache_dir=cache_dir / "pip",
                )
            )
            for wheel in sorted((work / "wheels").glob("*.whl")):
                os.replace(wheel, wheel_dir / wheel.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    if len(groups) == 1:
        download(groups[0])
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            for future in [pool.submit(download, group) for group in groups]:
                future.result()
    return sorted(pin.name for pin in missing)


def prepare_dependencies(
    config: FunctionConfig,
    pins: list[PinnedRequirement],
    *,
    cache_dir: Path,
    pip_runner: PipRunner,
    parallel: int = 1,
) -> DependencyTree | None:
    """Install, trim and verify the function's requirements once per key; return the cached tree.

    Args:
        config: the function's target.
        pins: the applicable pins (``requirements.applicable``).
        cache_dir: the build cache root (``.cache``): trees in ``deps/``, wheels in ``wheels/``,
            pip's HTTP cache in ``pip/``.
        pip_runner: who runs pip.
        parallel: concurrent downloads for missing wheels.

    Returns:
        The trimmed, checked tree: its members compressed in a zip (``zipwriter`` format, for
        ``zipwriter.read_members``) and its distributions; None when there is nothing to install.

    Raises:
        PipError, IncompleteDependenciesError, ArchiveError: see the respective classes. A failed
        install leaves nothing behind in the cache.
    """
    if not pins:
        return None
    rendered = render_for_pip(pins)
    key = deps_key(config, rendered)
    root = cache_dir / "deps"
    final = root / key
    if (final / _COMPLETE_MARKER).is_file():
        return load_tree(final)
    wheel_dir = cache_dir / "wheels"
    fetch_wheels(config, pins, wheel_dir=wheel_dir, cache_dir=cache_dir, pip_runner=pip_runner, parallel=parallel)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        requirements_file = work / "requirements.txt"
        requirements_file.write_text(rendered, encoding="utf-8")
        site = work / "site"
        site.mkdir()
        pip_runner.install(
            PipRequest(
                function=config.name,
                requirements_file=requirements_file,
                dest=site,
                python_version=config.runtime.python_version,
                abi=config.runtime.abi,
                platforms=platform_tags(config.runtime, config.architecture),
                cache_dir=cache_dir / "pip",
                find_links=wheel_dir,
                no_index=True,
            )
        )
        installed = read_distributions(site)  # before trim, which drops RECORD
        trim(site)
        installed = {
            key: replace(dist, import_names=tuple(n for n in dist.import_names if _module_exists(site, n)))
            for key, dist in installed.items()
        }
        leaks = find_embedded_path(site, str(work))
        if leaks:
            raise ArchiveError(
                f"installed files hold the build folder's absolute path: {', '.join(leaks[:5])}",
                function=config.name,
                hint="these would differ per machine; add them to exclude in build.toml if unused, "
                "or report it (lambda_build/rules.py TRIM_RULES)",
            )
        check_distributions(
            installed, pins, marker_environment(config.runtime, config.architecture), function=config.name
        )
        # Compressed once here, copied as-is into every zip that uses this tree.
        files = collect_tree(site, function=config.name)
        members = compress_files(files, function=config.name, architecture=config.architecture)
        members = sorted(members + dependency_bytecode(config, files), key=lambda m: m.name)
        with (work / MEMBERS_FILE).open("wb") as out:
            write_members(out, members)
        shutil.rmtree(site)
        document = {"distributions": [asdict(installed[key]) for key in sorted(installed)]}
        (work / DISTRIBUTIONS_FILE).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (work / _COMPLETE_MARKER).write_text(rendered, encoding="utf-8")
        try:
            os.rename(work, final)
        except OSError:
            if not (final / _COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(work, ignore_errors=True)  # another build filled the same key first
        return load_tree(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def dependency_bytecode(config: FunctionConfig, files: list[SourceFile]) -> list[Member]:
    """Pyc members (``lambda_build.bytecode``) for the installed tree's ``.py`` files; none when unavailable.

    A file that does not compile for the runtime (a Python 2 leftover, a template named ``.py``) gets
    no pyc, as pip's own compileall step would leave it: it cannot be imported either way.
    """
    if bytecode.unavailable_reason(config.runtime) is not None:
        return []
    sources = [(f.arcname, f.path.read_bytes()) for f in files if f.arcname.endswith(".py")]
    compiled = bytecode.compile_sources(sources, function=config.name)
    return [
        file_member(bytecode.pyc_name(name, config.runtime), data, FILE_MODE, COMPRESS_LEVEL)
        for name, data in sorted(compiled.pycs.items())
    ]


def parse_requirements_file(path: Path, *, function: str) -> list[PinnedRequirement]:
    """Parse ``path`` if it exists (no file: no requirements)."""
    from lambda_build.requirements import parse_requirements

    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RequirementError(f"{path.name} is not UTF-8 text", function=function, hint="save it as UTF-8") from exc
    return parse_requirements(text, function=function)
