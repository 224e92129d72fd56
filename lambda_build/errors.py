"""The build pipeline's one exception hierarchy.

Every error names the function it concerns (when there is one) and ends with what to do about it,
so the CLI can print ``str(error)`` and exit non-zero without a traceback.
"""

from __future__ import annotations


class BuildError(Exception):
    """Base class: a build or check could not complete.

    Attributes:
        function: the function folder name the error concerns, or None for errors about the
            whole run (bad build.toml, unreadable manifest).
        hint: what the user should do, already included in ``str(error)``.
    """

    def __init__(self, message: str, *, function: str | None = None, hint: str | None = None) -> None:
        self.function = function
        self.hint = hint
        self.message = message
        text = f"{function}: {message}" if function else message
        if hint:
            text = f"{text}\n  -> {hint}"
        super().__init__(text)


class ConfigError(BuildError):
    """lambda_src/build.toml is malformed, or names an unknown runtime, architecture or key."""


class FunctionNotFoundError(BuildError):
    """``--function NAME`` names no function folder, or build.toml configures a missing one."""


class MissingHandlerError(BuildError):
    """A function folder has no lambda_function.py."""


class RequirementError(BuildError):
    """requirements.txt has a malformed, unpinned or unsupported line."""


class PipError(BuildError):
    """pip failed; the message carries pip's last output lines."""


class ArchitectureError(BuildError):
    """A shared object in the zip is not an ELF for the function's architecture."""


class IncompleteDependenciesError(BuildError):
    """An installed distribution requires a package that is neither installed nor runtime-provided."""


class ExcludeError(BuildError):
    """An ``exclude`` glob in build.toml matched nothing or removed something the zip needs."""


class ArchiveError(BuildError):
    """The zip cannot be assembled: clashing paths, unreadable files, build paths baked into files."""


class ManifestError(BuildError):
    """dist/manifest.json exists but cannot be read as the contract's schema."""


class ImportCheckError(BuildError):
    """The built zip's handler does not import in a clean interpreter."""


class BuildInterrupted(KeyboardInterrupt):
    """The build was stopped (Ctrl-C or SIGTERM); raised after the running work has wound down.

    A ``KeyboardInterrupt``, so callers that do not know it still stop. Functions that finished were
    published (zip and manifest entry together); the others kept their previous zip and entry.

    Attributes:
        published: names of the functions whose new zips were published before the stop.
    """

    def __init__(self, published: list[str]) -> None:
        self.published = published
        super().__init__(f"interrupted; published before the stop: {', '.join(published) or 'none'}")
