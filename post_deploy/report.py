"""Results of the validation and their two forms: a table for people, JSON for a pipeline."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn"]

MARKS: dict[str, str] = {"pass": "PASS", "fail": "FAIL", "warn": "WARN"}


@dataclass
class Result:
    """One check's outcome.

    Attributes:
        part: ``configuration``, ``smoke`` or ``metrics``.
        name: what was checked, e.g. ``LexFulfillmentHandler live alias``.
        status: ``pass``, ``fail`` or ``warn``.
        detail: what was found, one line.
        fix: what to do about a fail or a warning ("" on a pass).
        data: figures behind the result (for ``--json``).
    """

    part: str
    name: str
    status: Status
    detail: str
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def failed(results: list[Result]) -> list[Result]:
    """The results that make the run fail."""
    return [r for r in results if r.status == "fail"]


def format_table(results: list[Result]) -> str:
    """The results as a text table grouped by part, a fix under each fail or warning, and a closing count."""
    lines: list[str] = []
    width = max((len(r.name) for r in results), default=10)
    for part in ("configuration", "smoke", "metrics"):
        rows = [r for r in results if r.part == part]
        if not rows:
            continue
        lines.append(f"== {part}")
        for r in rows:
            lines.append(f"  {MARKS[r.status]}  {r.name:<{width}}  {r.detail}")
            if r.fix and r.status != "pass":
                lines.append(f"        {'':<{width}}  -> {r.fix}")
    counts = {s: sum(1 for r in results if r.status == s) for s in MARKS}
    lines.append(f"{counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings")
    return "\n".join(lines)


def to_json(results: list[Result], extra: dict[str, Any] | None = None) -> str:
    """The results as a JSON document: ``{"ok": bool, "results": [...], **extra}``."""
    return json.dumps({"ok": not failed(results), "results": [asdict(r) for r in results], **(extra or {})}, indent=2)
