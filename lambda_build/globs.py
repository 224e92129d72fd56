"""Path globs over zip-relative POSIX paths, the syntax of trim rules and build.toml ``exclude``.

``*`` matches within one path segment, ``?`` one character of a segment, ``[...]`` a character
class, and a whole ``**`` segment any number of segments (zero included). A pattern matches the
full relative path (``lxml/includes`` matches that folder, not ``x/lxml/includes``); a folder that
matches takes everything under it. Examples: ``**/__pycache__``, ``*/**/tests``, ``lxml/objectify*.so``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


class GlobError(ValueError):
    """A glob that cannot be compiled (e.g. a reversed range ``[z-a]``); the message names it."""

    def __init__(self, pattern: str, reason: str) -> None:
        self.pattern = pattern
        self.reason = reason
        super().__init__(f"invalid glob {pattern!r}: {reason}")


def compile_glob(pattern: str) -> re.Pattern[str]:
    """Compile one glob into a regex that full-matches relative POSIX paths.

    Raises:
        GlobError: the pattern is not a valid glob (a bad character class).
    """
    parts: list[str] = []
    segments = pattern.strip("/").split("/")
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]+/)*")
            continue
        regex = ""
        index = 0
        while index < len(segment):
            char = segment[index]
            if char == "*":
                regex += "[^/]*"
            elif char == "?":
                regex += "[^/]"
            elif char == "[":
                end = segment.find("]", index + 1)
                if end == -1:
                    regex += re.escape(char)
                else:
                    body = segment[index + 1 : end]
                    if body.startswith("!"):
                        body = "^" + body[1:]
                    regex += f"[{body}]"
                    index = end
            else:
                regex += re.escape(char)
            index += 1
        parts.append(regex if last else regex + "/")
    try:
        return re.compile("".join(parts))
    except re.error as exc:
        raise GlobError(pattern, f"{exc.msg} in a [...] character class" if "[" in pattern else exc.msg) from exc


class GlobSet:
    """A set of globs; ``match`` tells whether a path or any of its parent folders matches one.

    Raises:
        GlobError: a pattern is not a valid glob.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._compiled = [(p, compile_glob(p)) for p in self.patterns]

    def matching_pattern(self, path: str) -> str | None:
        """The first pattern matching ``path`` or one of its parent folders, else None."""
        pieces = path.split("/")
        for depth in range(1, len(pieces) + 1):
            candidate = "/".join(pieces[:depth])
            for pattern, regex in self._compiled:
                if regex.fullmatch(candidate):
                    return pattern
        return None

    def match(self, path: str) -> bool:
        """Whether ``path`` or one of its parent folders matches."""
        return self.matching_pattern(path) is not None
