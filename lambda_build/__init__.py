"""lambda_build: package each lambda_src/<Function>/ into a deterministic, content-hashed Lambda zip.

Stages, in order, for every selected function (``pipeline.Builder.build``):

1. **Discover** (``config.discover_functions``): a function is a folder of lambda_src/ holding
   ``lambda_function.py``; ``atlas_shared/`` and ``build.toml`` are not functions.
2. **Configure** (``config.load_config``): runtime and architecture per function from
   lambda_src/build.toml (defaults python3.12 / x86_64), plus optional ``exclude`` globs.
3. **Hash inputs** (``pipeline.compute_content_hash``): SHA-256 over the tool, runtime,
   architecture, requirements.txt bytes, trim rules, excludes and every source file's path,
   executable bit and bytes.
4. **Reuse** (``pipeline.Builder.staleness``): if dist/<Function>.zip exists, the manifest's
   content hash matches and the zip's SHA-256 is still the recorded one, stop here ("reused").
5. **Parse pins** (``requirements``): exact pins only, markers evaluated for the target runtime.
6. **Fetch** (``deps.fetch_wheels``): ``pip download --no-deps --only-binary=:all:`` with the
   runtime's manylinux platform tags, Python version and ABI, for pins whose wheel is not yet in
   ``.cache/wheels`` (the only step that reads the package index).
7. **Install** (``deps.prepare_dependencies``): ``pip install --no-index --find-links .cache/wheels
   --target <temp> --no-compile`` with the same flags; cached in ``.cache/deps/<key>`` by a key
   over the pins and target, so source-only changes skip pip entirely.
8. **Trim and verify** (``deps.trim``, ``deps.check_complete``): drop bytecode, bin/ shims, tests,
   C/Cython sources, stubs and installer records (``rules.TRIM_RULES``); every Requires-Dist must be
   pinned or runtime-provided; no installed file may hold the build folder's path; every ELF must
   be for the target machine. The tree is then compressed once (``zipwriter``) for every zip using it.
9. **Zip** (``archive``): sources compressed and ELF-checked, the function's ``exclude`` globs
   applied to the requirements, entries sorted with fixed timestamps and modes, written to a temp
   file in dist/ and moved into place.
10. **Manifest** (``manifest``): dist/manifest.json rewritten atomically, only if it changed.

``Builder.check`` runs stages 1-4 only and reports what is stale. Errors are ``errors.BuildError``
subclasses whose messages name the function and say what to do.
"""

from lambda_build.errors import BuildError
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
    "BuildPaths",
    "BuildReport",
    "FunctionResult",
    "PipRequest",
    "PipRunner",
    "Staleness",
    "SubprocessPipRunner",
    "default_jobs",
]
