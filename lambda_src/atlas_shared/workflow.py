"""Reading the Step Functions task input the workflow handlers share (shape: lambda_src/README.md).

Every helper raises :class:`InvalidInputError` with the field's path and what a valid value looks like, so a
failed execution's error says what to fix. Step Functions sees it as ``InvalidInputError``: don't retry it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .exceptions import InvalidInputError

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
INTERACTION_KEY = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-\u00a0]")

# Namespace of the name-based (uuid5) ids derived from an execution's idempotency key. Changing it changes every
# derived id, so it is fixed forever.
ATLAS_NAMESPACE = uuid.UUID("5d0c7a8e-3f0b-4c55-9a43-2b1e8f6a9c11")


def require_mapping(payload: Any, path: str) -> Mapping[str, Any]:
    """``payload`` as an object, or :class:`InvalidInputError` naming ``path``."""
    if not isinstance(payload, Mapping):
        raise InvalidInputError(f"{path} must be a JSON object")
    return payload


def require_text(payload: Mapping[str, Any], key: str, *, path: str = "", max_length: int = 255) -> str:
    """A non-empty string field (stripped), at most ``max_length`` characters."""
    value = payload.get(key)
    where = f"{path}.{key}" if path else key
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where} is required (a non-empty string)")
    value = value.strip()
    if len(value) > max_length:
        raise InvalidInputError(f"{where} is longer than {max_length} characters")
    return value


def optional_text(payload: Mapping[str, Any], key: str, *, path: str = "", max_length: int = 255) -> str | None:
    """A string field when present and non-empty, else ``None``."""
    if payload.get(key) in (None, ""):
        return None
    return require_text(payload, key, path=path, max_length=max_length)


def e164(value: Any, *, path: str) -> str:
    """A phone number in E.164 (``+14155550123``), tolerating spaces, dots, dashes and parentheses.

    Connect's ``StartOutboundVoiceContact`` requires E.164; a number without its ``+country`` prefix is rejected
    rather than guessed. The number itself is not echoed in the error (it is personal data).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInputError(f"{path} is required (an E.164 phone number such as +14155550123)")
    if not isinstance(value, str):
        # A JSON number loses the leading + (and any leading zeros): only a string can say which country it is.
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        kind = "a number" if number else "a boolean" if isinstance(value, bool) else "a list or an object"
        raise InvalidInputError(f'{path} must be a string in E.164 form such as "+14155550123" (got {kind})')
    compact = _PHONE_PUNCTUATION.sub("", value.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not E164.match(compact):
        raise InvalidInputError(f"{path} is not an E.164 phone number (+ country code and number, e.g. +14155550123)")
    return compact


def salesforce_id(value: Any, *, path: str) -> str:
    """A 15- or 18-character Salesforce record id."""
    if not isinstance(value, str) or not SALESFORCE_ID.match(value.strip()):
        raise InvalidInputError(f"{path} must be a 15- or 18-character Salesforce record id")
    return value.strip()


def interaction_key(value: Any, *, path: str = "interaction_key") -> str:
    """An interaction key: 8-128 letters, digits, ``-`` or ``_`` (GenerateDynamicScenarioHandler makes uuid hex)."""
    if not isinstance(value, str) or not INTERACTION_KEY.match(value):
        raise InvalidInputError(f"{path} must be the interaction key GenerateDynamicScenarioHandler returned")
    return value


def idempotency_key(payload: Mapping[str, Any]) -> str | None:
    """The execution's idempotency key (``idempotency_key``, normally ``$$.Execution.Name``), or ``None``."""
    value = payload.get("idempotency_key")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 256:
        raise InvalidInputError("idempotency_key must be a string of at most 256 characters")
    return value


def derived_id(purpose: str, key: str) -> uuid.UUID:
    """A stable UUID for ``(purpose, key)``: the same execution always derives the same id (uuid5)."""
    return uuid.uuid5(ATLAS_NAMESPACE, f"{purpose}:{key}")
