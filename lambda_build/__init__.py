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
6. **Install** (``deps.prepare_dependencies``): ``pip install --no-deps --only-binary=:all:``
   with the runtime's manylinux platform tags, Python version and ABI into a temp folder; cached
   by a key over the pins and target, so source-only changes skip pip.
7. **Trim** (``deps.trim``): bytecode, bin/ shims, tests, C/Cython sources, stubs, installer
   records; nothing that imports need.
8. **Verify** (``deps.check_complete``): every Requires-Dist is pinned or runtime-provided, and no
   installed file holds the build folder's path.
9. **Zip** (``archive``): sorted entries, fixed timestamps and modes, every ELF checked against the
   target machine, written to a temp file in dist/ and moved into place.
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
