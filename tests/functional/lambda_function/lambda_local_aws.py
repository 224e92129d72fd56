"""Shared by the lambda_function functional tests (not a test module): timings of the local AWS they start and
the LiveAlias they get."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ALLOCATION_SECONDS = 1.0
FAIL_AT_OR_ABOVE = 5


@dataclass
class LiveAlias:
    """A function with versions 1 and 2 published and its ``live`` alias on version 1."""

    client: Any
    function_name: str
    arn: str
