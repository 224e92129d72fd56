"""Install a function's pinned requirements for its Lambda platform, trim them, check they are complete.

The result is a folder of importable packages, cached under ``<cache>/deps/<key>/site`` where the
key hashes everything that decides its content (tool digest, runtime, architecture, the rendered
pins). A source-only change therefore reuses it without running pip; pip's own wheel cache
(``<cache>/pip``) makes a changed pin download only what changed.

Trimming (``TRIM_RULES``) keeps what imports need and drops what cannot be imported or holds the
build machine's paths: console-script shims in ``bin/``, C headers, compiled bytecode, test suites,
Cython/C sources, type stubs, and the installer's own dist-info records. dist-info keeps METADATA
(``importlib.metadata.version``), entry_points.txt, top_level.txt, WHEEL and license files.

Completeness: every installed distribution's ``Requires-Dist`` (markers evaluated for the target,
extras followed) must be met by another pinned distribution or by the runtime's own boto3 set
(``RUNTIME_PROVIDED``); pip's ``--no-deps`` does not check this. Metadata format:
https://packaging.python.org/en/latest/specifications/core-metadata/#requires-dist-multiple-use
"""

from __future__ import annotations

import email.parser
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from lambda_build.config import FunctionConfig, marker_environment, platform_tags
from lambda_build.errors import (
    ArchiveError,
    IncompleteDependenciesError,
    RequirementError,
)
from lambda_build.globs import GlobSet
from lambda_build.hashing import tool_digest
from lambda_build.pip import PipInstallRequest, PipRunner
from lambda_build.requirements import PinnedRequirement, render_for_pip

# What the Lambda Python runtimes already ship (boto3 and the libraries it depends on, less urllib3,
# whose runtime version is an implementation detail). A function may still pin any of them.
# Source: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html (runtime-included SDK).
RUNTIME_PROVIDED: frozenset[str] = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"})

TRIM_RULES: tuple[str, ...] = (
    "bin",  # console-script shims: their shebang holds the build interpreter's path
    "include",  # C headers pip's --target puts beside the packages
    "**/__pycache__",
    "**/*.pyc",
    "**/*.pyo",
    "*/**/tests",  # test suites inside packages (a top-level package named test/tests stays)
    "*/**/test",
    "**/.pytest_cache",
    "**/*.pyx",
    "**/*.pxd",
    "**/*.pxi",
    "**/*.c",
    "**/*.h",
    "**/*.cpp",
    "**/*.hpp",
    "**/*.pyi",
    "lxml/includes",
    "*.dist-info/RECORD",  # lists the install path's files and hashes; nothing imports it
    "*.dist-info/INSTALLER",
    "*.dist-info/REQUESTED",
    "*.dist-info/direct_url.json",  # holds the absolute path or URL the wheel came from
)

_TRIM = GlobSet(TRIM_RULES)
_COMPLETE_MARKER = ".complete"


@dataclass(frozen=True)
class Distribution:
    """An installed distribution's identity and dependencies, from its dist-info METADATA."""

    key: str
    name: str
    version: str
    requires: tuple[str, ...]


def read_distributions(site: Path) -> dict[str, Distribution]:
    """Every ``*.dist-info`` at the top of ``site``, keyed by normalised project name."""
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
        )
        dists[dist.key] = dist
    return dists


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
    dists = read_distributions(site)
    problems: list[str] = []
    for pin in pins:
        dist = dists.get(pin.key)
        if dist is None:
            problems.append(f"{pin.name}=={pin.version} is pinned but pip installed no {pin.name} distribution")
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
                new = set(canonicalize_name(e) for e in requirement.extras) - extras.setdefault(dep, set())
                extras[dep] |= new
                queue.append(dep)
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


def deps_key(config: FunctionConfig, pip_requirements: str) -> str:
    """Hex key of a dependency tree: tool digest, runtime, architecture, platform tags and pins."""
    digest = hashlib.sha256()
    for part in (
        tool_digest(),
        config.runtime.name,
        config.architecture.name,
        " ".join(platform_tags(config.runtime, config.architecture)),
        pip_requirements,
    ):
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def prepare_dependencies(
    config: FunctionConfig,
    pins: list[PinnedRequirement],
    *,
    cache_dir: Path,
    pip_runner: PipRunner,
) -> Path | None:
    """Return a folder holding the function's trimmed, verified requirements, installing if needed.

    Args:
        config: the function's target.
        pins: the applicable pins (``requirements.applicable``).
        cache_dir: the build cache root (``.cache``); pip's wheel cache is ``cache_dir/pip``.
        pip_runner: who runs pip.

    Returns:
        The folder, or None when there is nothing to install.

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
        return final / "site"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        requirements_file = work / "requirements.txt"
        requirements_file.write_text(rendered, encoding="utf-8")
        site = work / "site"
        site.mkdir()
        request = PipInstallRequest(
            function=config.name,
            requirements_file=requirements_file,
            target_dir=site,
            python_version=config.runtime.python_version,
            abi=config.runtime.abi,
            platforms=platform_tags(config.runtime, config.architecture),
            cache_dir=cache_dir / "pip",
        )
        pip_runner.install(request)
        trim(site)
        leaks = find_embedded_path(site, str(work))
        if leaks:
            raise ArchiveError(
                f"installed files hold the build folder's absolute path: {', '.join(leaks[:5])}",
                function=config.name,
                hint="these would differ per machine; add them to exclude in build.toml if unused, "
                "or report it (lambda_build/deps.py TRIM_RULES)",
            )
        check_complete(
            site,
            pins,
            marker_environment(config.runtime, config.architecture),
            function=config.name,
        )
        (work / _COMPLETE_MARKER).write_text(rendered, encoding="utf-8")
        try:
            os.rename(work, final)
        except OSError:
            if not (final / _COMPLETE_MARKER).is_file():
                raise
            shutil.rmtree(work, ignore_errors=True)  # another build filled the same key first
        return final / "site"
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


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
