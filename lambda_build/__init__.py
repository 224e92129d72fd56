"""lambda_build: package each lambda_src/<Function>/ into a deterministic, content-hashed Lambda zip.

Stages, in order, for every selected function (``pipeline.Builder.build``):

1. **Discover** (``config.discover_functions``): a function is a folder of lambda_src/ holding
   ``lambda_function.py``; ``atlas_shared/`` and ``build.toml`` are not functions.
2. **Configure** (``config.load_config``): runtime and architecture per function from
   lambda_src/build.toml (defaults python3.12 / x86_64), plus optional ``exclude`` globs.
3. **Hash inputs** (``pipeline.compute_content_hash``): SHA-256 over the tool, runtime,
   architecture, the bytecode compiler (``bytecode.identity``), requirements.txt bytes, trim rules,
   excludes and every source file's path, executable bit and bytes.
4. **Reuse** (``pipeline.Builder.staleness``): if dist/<Function>.zip exists, the manifest's
   content hash matches and the zip's SHA-256 is still the recorded one, stop here ("reused").
5. **Parse pins** (``requirements``): exact pins only, markers evaluated for the target runtime; boto3
   (or s3transfer) only together with the botocore (and s3transfer) it requires.
6. **Fetch** (``deps.fetch_wheels``): ``pip download --no-deps --only-binary=:all:`` with the
   runtime's manylinux platform tags, Python version and ABI, for pins whose wheel is not yet in
   ``.cache/wheels`` (the only step that reads the package index).
7. **Install** (``deps.prepare_dependencies``): ``pip install --no-index --find-links .cache/wheels
   --target <temp> --no-compile`` with the same flags; cached in ``.cache/deps/<key>`` by a key
   over the pins and target, so source-only changes skip pip entirely.
8. **Trim and verify** (``deps.trim``, ``deps.check_complete``): each distribution's top-level
   import names are read from its RECORD first; then drop bytecode, bin/ shims, tests, C/Cython
   sources, stubs and installer records (``rules.TRIM_RULES``); every Requires-Dist must be pinned or
   runtime-provided; no installed file may hold the build folder's path; every ELF must be for the
   target machine. Every ``.py`` then gets a deterministic unchecked-hash pyc for the runtime
   (``bytecode``; none when the build Python is not the runtime's version). The tree is then
   compressed once (``zipwriter``) for every zip using it.
9. **Zip** (``archive``): sources compressed, ELF-checked and compiled (``bytecode``), the
   function's ``exclude`` globs applied to the requirements (none may remove a pinned package whole:
   ``deps.check_excludes``; a pyc goes with its ``.py``), entries sorted with fixed timestamps and
   modes, staged as a synced temp file in dist/.
10. **Publish** (``pipeline.Builder._publish``, ``manifest``): under one lock, the function's old
    manifest entry is dropped if it changes, the staged zip moved into place, the new entry written
    (each manifest write atomic). At every instant each zip agrees with its entry or has none.

A build holds dist/ exclusively (``workspace.DistLock``; a second build waits) and, on start, removes
what killed builds left (temp files in dist/, ``.tmp-*`` folders in the cache). Ctrl-C or SIGTERM
stops pip and the workers; nothing is published after it (``errors.BuildInterrupted``).
``Builder.check`` runs stages 1-4 only and reports what is stale. Errors are ``errors.BuildError``
subclasses whose messages name the function and say what to do; an unexpected exception in one
function becomes one too.
"""

from lambda_build.errors import BuildError, BuildInterrupted
from lambda_build.pip import PipRequest, PipRunner, SubprocessPipRunner
from lambda_build.pipeline import (
    Builder,
    BuildPaths,
    BuildReport,
    FunctionResult,
    Staleness,
    default_jobs,
)

__all__ = [
    "Builder",
    "BuildError",
    "BuildInterrupted",
    "BuildPaths",
    "BuildReport",
    "FunctionResult",
    "PipRequest",
    "PipRunner",
    "Staleness",
    "SubprocessPipRunner",
    "default_jobs",
]
