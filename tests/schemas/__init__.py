"""JSON Schemas the tests check responses against, and a helper to load them."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).parent


@functools.cache
def _lex_validator() -> Any:
    import jsonschema

    schema = json.loads((SCHEMAS / "lex_v2_response.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_matches_lex_schema(response: Any) -> None:
    """Fail listing every place ``response`` breaks tests/schemas/lex_v2_response.schema.json."""
    errors = sorted(_lex_validator().iter_errors(response), key=lambda e: list(e.absolute_path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
