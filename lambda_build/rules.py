"""Fixed rules shared by the stages: what the runtime provides and what trimming removes.

Kept apart from ``deps`` (which needs ``packaging``) so a no-change run, which hashes these rules
into each content hash, imports as little as possible.
"""

from __future__ import annotations

# What the Lambda Python runtimes already ship (boto3 and the libraries it depends on, less urllib3,
# whose runtime version is an implementation detail). A function may still pin any of them.
# Source: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html (runtime-included SDK).
RUNTIME_PROVIDED: frozenset[str] = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"})

# Globs (``globs`` syntax) over installed-requirement paths; a matching folder goes whole.
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
