"""Pre-compiled bytecode for the zips: ``__pycache__/<name>.cpython-312.pyc`` beside every shipped ``.py``.

Why: /var/task is read-only, so without bytecode in the zip a Lambda container compiles every module
it imports on every cold start (``bench/build.py`` measures what that costs a first turn).

What is written, for each ``.py`` member ``a/b.py``: ``a/__pycache__/b.<cache tag>.pyc`` where the
cache tag is the runtime's (``cpython-312`` for python3.12), the path the import system looks for
(PEP 3147, https://peps.python.org/pep-3147/). The pyc is hash-based with unchecked-hash
invalidation (PEP 552, https://peps.python.org/pep-0552/; ``py_compile.PycInvalidationMode.UNCHECKED_HASH``):
header = magic number, flags ``0b01`` (hash-based, source not checked), the source's SipHash
(``importlib.util.source_hash``), then ``marshal.dumps`` of the code object. No mtime is embedded and
the importer never reads the ``.py`` to validate it, which is right for a read-only, immutable zip.
``co_filename`` is the file's path in the container (``/var/task/<arcname>``,
``LAMBDA_TASK_ROOT``), so tracebacks read as they do without bytecode and nothing names the build folder.
Code is compiled with ``optimize=0`` (docstrings and asserts kept), as the runtime runs Python.

When: only when the build interpreter is CPython of the runtime's ``major.minor`` (the bytecode format
and magic number are fixed within a minor release). Otherwise ``unavailable_reason`` says why and the
zip ships sources only (the build's progress line says so).

Determinism: marshal's output can depend on the compiling process's state (FLAG_REF is set from
reference counts; frozenset order from string hashes; see https://github.com/python/cpython/issues/78274).
Every batch is therefore compiled in a fresh child interpreter with ``PYTHONHASHSEED=0``, no site
packages (``-S -s``), no script folder on sys.path (``-P``) and no other ``PYTHON*`` variables, files in
sorted order, each code object dropped before the next file. The bytes then depend only on the sources
and the compiler, i.e. the CPython release: zips are byte-identical across machines with the same
CPython ``major.minor.micro``, which is why ``identity`` (hashed into content hashes and the
dependency cache key) names the micro release too.
tests/functional/build/test_bytecode_determinism.py proves it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import struct
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from lambda_build.config import Runtime
from lambda_build.errors import BuildError
from lambda_build.zipwriter import Member

TASK_ROOT = "/var/task"  # LAMBDA_TASK_ROOT: where the zip is extracted in the container
PYCACHE = "__pycache__"
_FRAME = struct.Struct(">I")

# The child interpreter: reads (name, source) frames from stdin, writes (name, ok, pyc-or-error) frames.
# Public APIs only; the header layout is PEP 552's (flags 0b01 = hash-based, unchecked).
_CHILD = r"""
import importlib.util, marshal, struct, sys
frame = struct.Struct(">I")
src, out = sys.stdin.buffer, sys.stdout.buffer
root = sys.argv[1]

def read(n):
    data = src.read(n)
    if len(data) != n:
        raise SystemExit("short read")
    return data

def field():
    return read(frame.unpack(read(4))[0])

def put(*parts):
    for part in parts:
        out.write(frame.pack(len(part)) + part)

count = frame.unpack(read(4))[0]
for _ in range(count):
    name = field().decode("utf-8")
    data = field()
    try:
        code = compile(data, root + "/" + name, "exec", dont_inherit=True, optimize=0)
        pyc = importlib.util.MAGIC_NUMBER + (1).to_bytes(4, "little") + importlib.util.source_hash(data)
        pyc += marshal.dumps(code)
        del code
        put(name.encode("utf-8"), b"1", pyc)
    except (SyntaxError, ValueError) as exc:
        where = f" line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        put(name.encode("utf-8"), b"0", f"{type(exc).__name__}{where}: {exc.msg if hasattr(exc, 'msg') else exc}".encode())
out.flush()
"""


def cache_tag(runtime: Runtime) -> str:
    """The runtime's ``sys.implementation.cache_tag``, e.g. ``cpython-312`` for python3.12."""
    return "cpython-" + runtime.python_version.replace(".", "")


def unavailable_reason(runtime: Runtime) -> str | None:
    """Why this interpreter cannot compile bytecode for ``runtime`` (None when it can).

    Returns e.g. ``"build Python 3.11 is not the runtime's 3.12"``.
    """
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if sys.implementation.name != "cpython":
        return f"build interpreter is {sys.implementation.name}, not CPython"
    if here != runtime.python_version:
        return f"build Python {here} is not the runtime's {runtime.python_version}"
    return None


def identity(runtime: Runtime) -> str:
    """What decides the pyc bytes, for content hashes and cache keys.

    ``"none"`` when no bytecode is built, else the cache tag, magic number and CPython release
    (e.g. ``cpython-312 cb0d0d0a 3.12.1``).
    """
    if unavailable_reason(runtime) is not None:
        return "none"
    return f"{cache_tag(runtime)} {importlib.util.MAGIC_NUMBER.hex()} {platform.python_version()}"


def pyc_name(arcname: str, runtime: Runtime) -> str:
    """Where the importer looks for ``arcname``'s bytecode: ``a/b.py`` -> ``a/__pycache__/b.cpython-312.pyc``."""
    folder, _, filename = arcname.rpartition("/")
    stem = filename[: -len(".py")]
    prefix = f"{folder}/" if folder else ""
    return f"{prefix}{PYCACHE}/{stem}.{cache_tag(runtime)}.pyc"


def is_pyc(name: str) -> bool:
    """Whether a zip path is bytecode (``.pyc``) this module writes."""
    return name.endswith(".pyc") and f"{PYCACHE}/" in f"/{name}"


@dataclass(frozen=True)
class Compiled:
    """A batch's outcome.

    Attributes:
        pycs: the ``.py`` arcname -> its pyc bytes.
        failed: the ``.py`` arcname -> why it does not compile (e.g. ``SyntaxError line 3: ...``).
    """

    pycs: dict[str, bytes]
    failed: dict[str, str]


def compile_sources(sources: Iterable[tuple[str, bytes]], *, function: str) -> Compiled:
    """Compile ``(arcname, source bytes)`` pairs to unchecked-hash pycs in a fresh child interpreter.

    The child is ``sys.executable`` (the caller checks ``unavailable_reason`` first), with
    ``PYTHONHASHSEED=0`` and no site packages; see the module docstring. Files are compiled in
    sorted order.

    Raises:
        BuildError: the child interpreter failed (not a file's syntax error: those are in ``failed``).
    """
    items = sorted(sources)
    if not items:
        return Compiled({}, {})
    payload = bytearray(_FRAME.pack(len(items)))
    for name, data in items:
        encoded = name.encode("utf-8")
        payload += _FRAME.pack(len(encoded)) + encoded + _FRAME.pack(len(data)) + data
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    try:
        completed = subprocess.run(
            [sys.executable, "-P", "-S", "-s", "-B", "-c", _CHILD, TASK_ROOT],
            input=bytes(payload),
            capture_output=True,
            env=env,
            check=False,
        )
    except OSError as exc:
        raise BuildError(
            f"cannot start {sys.executable} to compile bytecode: {exc}", function=function, hint="check the interpreter"
        ) from exc
    if completed.returncode != 0:
        raise BuildError(
            f"compiling bytecode failed (exit {completed.returncode}): "
            f"{completed.stderr.decode(errors='replace').strip()[-500:]}",
            function=function,
            hint="this is a bug in lambda_build/bytecode.py, please report it with this message",
        )
    return _parse(completed.stdout, len(items), function)


def _parse(data: bytes, count: int, function: str) -> Compiled:
    pycs: dict[str, bytes] = {}
    failed: dict[str, str] = {}
    offset = 0

    def field() -> bytes:
        nonlocal offset
        (size,) = _FRAME.unpack_from(data, offset)
        offset += _FRAME.size
        value = data[offset : offset + size]
        if len(value) != size:
            raise ValueError("truncated")
        offset += size
        return value

    try:
        for _ in range(count):
            name = field().decode("utf-8")
            ok = field()
            body = field()
            if ok == b"1":
                pycs[name] = body
            else:
                failed[name] = body.decode("utf-8", errors="replace")
    except (struct.error, ValueError) as exc:
        raise BuildError(
            f"the bytecode compiler's output is damaged ({exc})",
            function=function,
            hint="this is a bug in lambda_build/bytecode.py, please report it",
        ) from exc
    return Compiled(pycs, failed)


def without_orphans(members: list[Member]) -> list[Member]:
    """``members`` less any pyc whose ``.py`` is not among them (an ``exclude`` glob removed it)."""
    names = {member.name for member in members}
    kept: list[Member] = []
    for member in members:
        if is_pyc(member.name):
            folder, _, filename = member.name.rpartition(f"{PYCACHE}/")
            source = folder + filename.split(".", 1)[0] + ".py"
            if source not in names:
                continue
        kept.append(member)
    return kept
