"""Parse a function's requirements.txt into exact pins, and render the file pip actually gets.

Accepted syntax (a subset of pip's requirements file format,
https://pip.pypa.io/en/stable/reference/requirements-file-format/):

* ``name[extras]==version`` or ``name===version``, optionally ``; <PEP 508 marker>``;
* per-requirement ``--hash=<sha256|sha384|sha512>:<hex>`` options (several allowed), so
  ``pip-compile --generate-hashes`` output works; pip then runs in hash-checking mode;
* ``--require-hashes``, comments, blank lines and ``\\`` line continuations.

Everything else (ranges, unpinned names, URLs, ``-e``, ``-r``/``-c`` includes, index options) is
rejected: a zip must be reproducible from the file alone. Index settings belong in pip's own
configuration (``PIP_INDEX_URL``, pip.conf).

Markers are evaluated here against the *target* runtime (``config.marker_environment``), not the
build machine, and pip receives only the lines that apply, without their markers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lambda_build.errors import RequirementError

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION_SPLIT = re.compile(r"\s+(?=--?[A-Za-z])")
_HASH = re.compile(r"^(sha256|sha384|sha512):[0-9a-fA-F]+$")
_REJECTED_OPTIONS = {
    "-r": "inline the included requirements into this file",
    "--requirement": "inline the included requirements into this file",
    "-c": "pin the versions in this file instead of a constraints file",
    "--constraint": "pin the versions in this file instead of a constraints file",
    "-e": "publish the package and pin its version; editable installs cannot go into a zip",
    "--editable": "publish the package and pin its version; editable installs cannot go into a zip",
    "-i": "set the index in pip's configuration (PIP_INDEX_URL or pip.conf)",
    "--index-url": "set the index in pip's configuration (PIP_INDEX_URL or pip.conf)",
    "--extra-index-url": "set the index in pip's configuration (PIP_EXTRA_INDEX_URL or pip.conf)",
    "-f": "set find-links in pip's configuration (PIP_FIND_LINKS or pip.conf)",
    "--find-links": "set find-links in pip's configuration (PIP_FIND_LINKS or pip.conf)",
}


@dataclass(frozen=True)
class PinnedRequirement:
    """One exact pin from requirements.txt.

    Attributes:
        name: the project name as written (``PyJWT``).
        key: its PEP 503 normalised form (``pyjwt``).
        extras: requested extras, normalised.
        version: the pinned version string.
        operator: ``==`` or ``===``.
        marker: the PEP 508 marker, or None.
        hashes: ``algo:hex`` strings from ``--hash`` options.
        line: 1-based line number where the requirement starts.
    """

    name: str
    key: str
    extras: frozenset[str]
    version: str
    operator: str
    marker: Marker | None
    hashes: tuple[str, ...]
    line: int

    def applies(self, environment: Mapping[str, str]) -> bool:
        """Whether the marker holds in ``environment`` (always true without a marker)."""
        return self.marker is None or self.marker.evaluate(dict(environment))

    def pip_line(self) -> str:
        """The line pip gets: name, extras, pin and hashes, marker already evaluated away."""
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        hashes = "".join(f" --hash={h}" for h in self.hashes)
        return f"{self.name}{extras}{self.operator}{self.version}{hashes}"


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and strip comments; returns (first line number, text)."""
    result: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        stripped = _COMMENT.sub("", buffer).strip()
        if stripped:
            result.append((start, stripped))
        buffer = ""
    if buffer.strip():
        stripped = _COMMENT.sub("", buffer).strip()
        if stripped:
            result.append((start, stripped))
    return result


def parse_requirements(text: str, *, function: str) -> list[PinnedRequirement]:
    """Parse requirements.txt content into exact pins.

    Args:
        text: the file's content.
        function: the function name, for error messages.

    Returns:
        The pins in file order (markers not yet evaluated).

    Raises:
        RequirementError: a malformed line, an unpinned or URL requirement, an unsupported option,
            a malformed hash, or the same project twice.
    """
    where = f"lambda_src/{function}/requirements.txt"
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors save UTF-8
    pins: list[PinnedRequirement] = []
    seen: dict[str, int] = {}
    for number, line in _logical_lines(text):
        parts = _OPTION_SPLIT.split(line)
        if line.startswith("-"):
            spec, options = "", parts
        else:
            spec, options = parts[0], parts[1:]
        hashes: list[str] = []
        tokens = [tok for opt in options for tok in opt.split()]
        index = 0
        while index < len(tokens):
            token = tokens[index]
            option, _, value = token.partition("=")
            if option == "--hash":
                if not value and index + 1 < len(tokens):
                    index += 1
                    value = tokens[index]
                if not _HASH.match(value):
                    raise RequirementError(
                        f"{where} line {number}: malformed hash {value!r}",
                        function=function,
                        hint="write --hash=sha256:<64 hex digits> (pip-compile --generate-hashes does this)",
                    )
                hashes.append(value.lower())
            elif option == "--require-hashes":
                pass  # pip turns hash checking on by itself as soon as one --hash is present
            elif option in _REJECTED_OPTIONS:
                raise RequirementError(
                    f"{where} line {number}: option {option} is not supported",
                    function=function,
                    hint=_REJECTED_OPTIONS[option],
                )
            else:
                raise RequirementError(
                    f"{where} line {number}: unknown or unsupported option {token!r}",
                    function=function,
                    hint="use only exact pins (name==version), --hash and --require-hashes",
                )
            index += 1
        if not spec:
            if hashes:
                raise RequirementError(
                    f"{where} line {number}: --hash without a requirement",
                    function=function,
                    hint="put --hash options on the same (continued) line as their requirement",
                )
            continue
        try:
            req = Requirement(spec)
        except (InvalidRequirement, InvalidMarker) as exc:
            raise RequirementError(
                f"{where} line {number}: cannot parse {spec!r}: {exc}",
                function=function,
                hint="write it as name==version (PEP 508), e.g. requests==2.32.3",
            ) from exc
        if req.url:
            raise RequirementError(
                f"{where} line {number}: {req.name} is a URL requirement",
                function=function,
                hint="pin a released version instead: name==version",
            )
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator not in ("==", "===") or specs[0].version.endswith(".*"):
            raise RequirementError(
                f"{where} line {number}: {spec!r} is not pinned to one exact version",
                function=function,
                hint=f"pin it exactly, e.g. {req.name}==<version> (see `pip freeze` in a working environment)",
            )
        key = canonicalize_name(req.name)
        if key in seen:
            raise RequirementError(
                f"{where} line {number}: {req.name} is listed again (first on line {seen[key]})",
                function=function,
                hint="keep one pin per project; use markers on a single line if versions differ by platform",
            )
        seen[key] = number
        pins.append(
            PinnedRequirement(
                name=req.name,
                key=key,
                extras=frozenset(canonicalize_name(e) for e in req.extras),
                version=specs[0].version,
                operator=specs[0].operator,
                marker=req.marker,
                hashes=tuple(hashes),
                line=number,
            )
        )
    return pins


# The AWS SDK's parts are released together and each release requires its siblings' matching
# releases (boto3 1.35.0 requires botocore>=1.35.0,<1.36.0 and s3transfer>=0.10.0,<0.11.0). A zip
# that pins one part without the others would run it against the runtime's copies of the rest,
# some other release, so pinning a part means pinning the parts it requires.
SDK_SIBLINGS: Mapping[str, tuple[str, ...]] = {"boto3": ("botocore", "s3transfer"), "s3transfer": ("botocore",)}


def applicable(
    pins: list[PinnedRequirement], environment: Mapping[str, str], *, function: str
) -> list[PinnedRequirement]:
    """The pins whose markers hold for the target, checked for consistent hashing and a consistent AWS SDK.

    Raises:
        RequirementError: some applicable pins carry hashes and others do not (pip would refuse), or
            boto3 (or s3transfer) is pinned without the botocore (and s3transfer) it requires.
    """
    active = [pin for pin in pins if pin.applies(environment)]
    keys = {pin.key for pin in active}
    for pin in active:
        missing = [sibling for sibling in SDK_SIBLINGS.get(pin.key, ()) if sibling not in keys]
        if missing:
            raise RequirementError(
                f"{pin.name}=={pin.version} is pinned but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not: the zip's {pin.name} would "
                f"run with the Lambda runtime's {' and '.join(missing)}, another release than the one "
                f"{pin.name} {pin.version} requires",
                function=function,
                hint=f"pin {' and '.join(missing)} too, at the versions {pin.name} {pin.version} requires (`pip install "
                f"{pin.name}=={pin.version}` then `pip freeze`), or remove the {pin.name} pin to use the runtime's SDK",
            )
    hashed = [pin for pin in active if pin.hashes]
    if hashed and len(hashed) != len(active):
        missing = ", ".join(pin.name for pin in active if not pin.hashes)
        raise RequirementError(
            f"requirements.txt hashes some pins but not {missing}",
            function=function,
            hint="give every pin --hash options (pip-compile --generate-hashes), or none",
        )
    return active


def render_for_pip(pins: list[PinnedRequirement]) -> str:
    """requirements.txt text for pip, sorted by project key so equal inputs give equal text."""
    return "".join(pin.pip_line() + "\n" for pin in sorted(pins, key=lambda p: p.key))
