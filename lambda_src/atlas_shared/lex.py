"""Amazon Lex V2 code hook events and responses.

Input format: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-input-format.html ::

    {"messageVersion": "1.0", "invocationSource": "DialogCodeHook" | "FulfillmentCodeHook",
     "inputMode": "DTMF" | "Speech" | "Text", "sessionId": "...", "inputTranscript": "...",
     "bot": {"id", "name", "aliasId", "aliasName", "localeId", "version"},
     "proposedNextState": {"dialogAction": {"type", "slotToElicit"?}, "intent": {...}}?,
     "requestAttributes": {str: str}?,
     "sessionState": {"sessionAttributes": {str: str}?, "activeContexts": [...]?,
                      "intent": {"name", "slots", "state", "confirmationState"}, ...}}

Response format: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html ::

    {"sessionState": {"dialogAction": {"type": "Close" | "ElicitIntent" | "Delegate" | "ElicitSlot", ...},
                      "intent": {"name", "slots": {name: Slot | null}, "state", "confirmationState"?},
                      "sessionAttributes": {str: str}, "activeContexts": [...]?},
     "messages": [{"contentType": "PlainText", "content": "1..1024 characters"}]}

Every response this module builds is one Lex accepts, whatever the inbound event held (tests/schemas/
lex_v2_response.schema.json is the checked shape):

* the intent is echoed through a whitelist: ``state`` and ``confirmationState`` only with values Lex defines
  (an unknown ``state`` becomes ``InProgress``, an unknown or null ``confirmationState`` is left out), ``slots``
  always a map whose values are slot objects or null (the shapes of the Lex V2 runtime model's ``Slot`` and
  ``Value``); active contexts are echoed only when well formed;
* message content is 1..:data:`~atlas_shared.limits.LEX_MESSAGE_MAX_CHARS` characters: a longer text is cut
  after its last whole sentence that fits (:func:`fit_message`);
* session attribute values are strings (:func:`string_attributes`) and the map stays within
  :data:`~atlas_shared.limits.LEX_SESSION_ATTRIBUTES_MAX_BYTES` (:func:`cap_session_attributes`: what must go
  is dropped and its names, never its values, are logged).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .exceptions import LexEventError
from .limits import (
    LEX_ACTIVE_CONTEXTS_MAX,
    LEX_CONTEXT_ATTRIBUTES_MAX,
    LEX_CONTEXT_TTL_SECONDS,
    LEX_CONTEXT_TURNS,
    LEX_MESSAGE_MAX_CHARS,
    LEX_SESSION_ATTRIBUTES_MAX_BYTES,
)
from .logs import get_logger

DIALOG_CODE_HOOK = "DialogCodeHook"
FULFILLMENT_CODE_HOOK = "FulfillmentCodeHook"
INVOCATION_SOURCES = (DIALOG_CODE_HOOK, FULFILLMENT_CODE_HOOK)
INTENT_STATES = ("Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting")
CONFIRMATION_STATES = ("Confirmed", "Denied", "None")
SLOT_SHAPES = ("Scalar", "List", "Composite")
DIALOG_ACTION_TYPES = ("Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot")
FALLBACK_INTENT = "FallbackIntent"

IntentState = Literal["Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting"]

# Slots nest (List values, Composite sub-slots); deeper than this is not something a bot sends.
_SLOT_MAX_DEPTH = 4
_CONTEXT_NAME = re.compile(r"^([A-Za-z0-9]_?)+$")
# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes or brackets, then whitespace.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")

_logger = get_logger("lex")


@dataclass(frozen=True, slots=True)
class LexTurn:
    """One parsed Lex V2 code hook invocation.

    Attributes:
        invocation_source: ``DialogCodeHook`` or ``FulfillmentCodeHook``.
        intent_name: the intent Lex recognised (``FallbackIntent`` when none).
        input_transcript: what the user said or typed ("" for none).
        input_mode: ``Speech``, ``Text`` or ``DTMF``.
        session_id: Lex's session id.
        locale_id: e.g. ``en_US``.
        intent: the inbound ``sessionState.intent`` object, as sent (responses echo it through :func:`echo_intent`).
        session_attributes: ``sessionState.sessionAttributes`` (strings).
        request_attributes: ``requestAttributes`` (strings).
        active_contexts: ``sessionState.activeContexts``, echoed in responses when well formed.
        proposed_dialog_action: ``proposedNextState.dialogAction`` when Lex sent one (dialog hooks).
    """

    invocation_source: str
    intent_name: str
    input_transcript: str
    input_mode: str
    session_id: str
    locale_id: str
    intent: Mapping[str, Any]
    session_attributes: Mapping[str, str]
    request_attributes: Mapping[str, str]
    active_contexts: tuple[Mapping[str, Any], ...] = field(default=())
    proposed_dialog_action: Mapping[str, Any] | None = None

    @property
    def is_dialog_hook(self) -> bool:
        """True for a DialogCodeHook invocation (a turn before fulfillment)."""
        return self.invocation_source == DIALOG_CODE_HOOK

    def attribute(self, name: str) -> str | None:
        """A request attribute, else a session attribute, else ``None`` (empty strings count as absent)."""
        return self.request_attributes.get(name) or self.session_attributes.get(name) or None


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LexEventError(f"{where} must be an object of strings")
    return {str(k): v if isinstance(v, str) else _to_string(v) for k, v in value.items() if v is not None}


def parse_event(event: Any) -> LexTurn:
    """Parse a Lex V2 code hook event.

    Raises:
        LexEventError: the event is not a Lex V2 code hook event (no sessionState.intent.name, unknown source).
    """
    if not isinstance(event, Mapping):
        raise LexEventError("A Lex V2 event must be a JSON object")
    source = event.get("invocationSource")
    if source not in INVOCATION_SOURCES:
        raise LexEventError(f"invocationSource must be one of {', '.join(INVOCATION_SOURCES)}, got {source!r}")
    session_state = event.get("sessionState")
    if not isinstance(session_state, Mapping):
        raise LexEventError("sessionState is missing")
    intent = session_state.get("intent")
    if not isinstance(intent, Mapping) or not isinstance(intent.get("name"), str) or not intent["name"]:
        raise LexEventError("sessionState.intent.name is missing")
    proposed = event.get("proposedNextState")
    proposed_action = proposed.get("dialogAction") if isinstance(proposed, Mapping) else None
    contexts = session_state.get("activeContexts")
    contexts = contexts if isinstance(contexts, list) else ()
    bot = event.get("bot")
    bot = bot if isinstance(bot, Mapping) else {}
    return LexTurn(
        invocation_source=str(source),
        intent_name=intent["name"],
        input_transcript=str(event.get("inputTranscript") or ""),
        input_mode=str(event.get("inputMode") or "Text"),
        session_id=str(event.get("sessionId") or ""),
        locale_id=str(bot.get("localeId") or ""),
        intent=dict(intent),
        session_attributes=_string_map(session_state.get("sessionAttributes"), "sessionState.sessionAttributes"),
        request_attributes=_string_map(event.get("requestAttributes"), "requestAttributes"),
        active_contexts=tuple(c for c in contexts if isinstance(c, Mapping)),
        proposed_dialog_action=proposed_action if isinstance(proposed_action, Mapping) else None,
    )


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def string_attributes(attributes: Mapping[str, Any]) -> dict[str, str]:
    """Session attributes with every value a string: bools as ``true``/``false``, objects as JSON, None dropped.

    Empty keys are dropped too (Lex's ``StringMap`` keys are non-empty strings).
    """
    return {str(k): _to_string(v) for k, v in attributes.items() if v is not None and str(k)}


# ------------------------------------------------------------------------------------------- echoed intent


def _non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _slot_value(value: Any) -> dict[str, Any] | None:
    """A Lex V2 ``Value`` ({interpretedValue (required), originalValue?, resolvedValues?}), else ``None``."""
    if not isinstance(value, Mapping) or not _non_empty_string(value.get("interpretedValue")):
        return None
    clean: dict[str, Any] = {"interpretedValue": value["interpretedValue"]}
    if _non_empty_string(value.get("originalValue")):
        clean["originalValue"] = value["originalValue"]
    resolved = value.get("resolvedValues")
    if isinstance(resolved, list):
        clean["resolvedValues"] = [v for v in resolved if _non_empty_string(v)]
    return clean


def _slot(slot: Any, depth: int = 0) -> dict[str, Any] | None:
    """A Lex V2 ``Slot`` with only the members Lex defines, well formed; ``None`` (unfilled) otherwise."""
    if not isinstance(slot, Mapping) or depth > _SLOT_MAX_DEPTH:
        return None
    clean: dict[str, Any] = {}
    if slot.get("shape") in SLOT_SHAPES:
        clean["shape"] = slot["shape"]
    value = _slot_value(slot.get("value"))
    if value is not None:
        clean["value"] = value
    values = slot.get("values")
    if isinstance(values, list):
        clean["values"] = [v for v in (_slot(item, depth + 1) for item in values) if v is not None]
    if isinstance(slot.get("subSlots"), Mapping):
        clean["subSlots"] = _slots(slot["subSlots"], depth + 1)
    return clean or None


def _slots(slots: Any, depth: int = 0) -> dict[str, Any]:
    if not isinstance(slots, Mapping):
        return {}
    return {name: _slot(slot, depth) for name, slot in slots.items() if _non_empty_string(name)}


def echo_intent(intent: Mapping[str, Any], state: str | None) -> dict[str, Any]:
    """The inbound intent as a response may carry it: ``{"name", "slots", "state", "confirmationState"?}``.

    ``state`` (when given) replaces the inbound state; an inbound state Lex does not define becomes
    ``InProgress``. ``slots`` is always a map (``[]``, null or garbage inbound gives ``{}``), each slot a
    well-formed ``Slot`` or null. ``confirmationState`` is kept only when it is ``Confirmed``, ``Denied`` or
    ``None``. Anything else on the inbound intent (``kendraResponse`` ...) is dropped.

    Raises:
        ValueError: ``state`` is not a Lex intent state (a programming error, not bad input).
    """
    if state is not None and state not in INTENT_STATES:
        raise ValueError(f"intent state must be one of {', '.join(INTENT_STATES)}")
    name = intent.get("name")
    echoed: dict[str, Any] = {
        "name": name if _non_empty_string(name) else FALLBACK_INTENT,
        "slots": _slots(intent.get("slots")),
        "state": state or (intent.get("state") if intent.get("state") in INTENT_STATES else "InProgress"),
    }
    if intent.get("confirmationState") in CONFIRMATION_STATES:
        echoed["confirmationState"] = intent["confirmationState"]
    return echoed


def _active_context(context: Mapping[str, Any]) -> dict[str, Any] | None:
    """A well-formed ``ActiveContext`` (name, timeToLive, contextAttributes), else ``None``."""
    name = context.get("name")
    ttl = context.get("timeToLive")
    attributes = context.get("contextAttributes", {})
    if not isinstance(name, str) or len(name) > 100 or not _CONTEXT_NAME.match(name) or not isinstance(ttl, Mapping):
        return None
    seconds, turns = ttl.get("timeToLiveInSeconds"), ttl.get("turnsToLive")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (seconds, turns)):
        return None
    if not (LEX_CONTEXT_TTL_SECONDS[0] <= seconds <= LEX_CONTEXT_TTL_SECONDS[1]) or not (
        LEX_CONTEXT_TURNS[0] <= turns <= LEX_CONTEXT_TURNS[1]
    ):
        return None
    if not isinstance(attributes, Mapping) or len(attributes) > LEX_CONTEXT_ATTRIBUTES_MAX:
        return None
    if not all(
        _non_empty_string(k) and len(k) <= 100 and _non_empty_string(v) and len(v) <= LEX_MESSAGE_MAX_CHARS
        for k, v in attributes.items()
    ):
        return None
    return {
        "name": name,
        "timeToLive": {"timeToLiveInSeconds": seconds, "turnsToLive": turns},
        "contextAttributes": dict(attributes),
    }


def active_contexts(contexts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The well-formed contexts among ``contexts`` (at most 20, Lex's limit); malformed ones are left out."""
    kept = [c for c in (_active_context(context) for context in contexts) if c is not None]
    return kept[:LEX_ACTIVE_CONTEXTS_MAX]


# ------------------------------------------------------------------------------------------- messages


def fit_message(text: str, *, max_chars: int = LEX_MESSAGE_MAX_CHARS) -> str:
    """``text`` stripped, and cut to at most ``max_chars`` characters on a whole-sentence boundary.

    The cut keeps every whole sentence that fits. With no sentence end within the limit (one endless
    sentence), it cuts at the last word boundary and ends with an ellipsis; a single word longer than the limit
    is cut mid-word. Lex V2 caps message content at 1,024 characters (:mod:`atlas_shared.limits`).
    """
    text = text.strip()
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]  # one past the limit: a sentence ending exactly at it is kept
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() <= max_chars]
    if ends:
        return text[: ends[-1]].rstrip()
    words = re.match(r"(.*\S)\s", head[:max_chars], re.DOTALL)
    return (words.group(1) if words else text[: max_chars - 1]).rstrip()[: max_chars - 1] + "\u2026"


def plain_text(content: str) -> dict[str, str]:
    """A Lex ``PlainText`` message of ``content`` cut to Lex's limit (:func:`fit_message`)."""
    return {"contentType": "PlainText", "content": fit_message(content)}


# ------------------------------------------------------------------------------------------- session attributes


def attributes_size(attributes: Mapping[str, str]) -> int:
    """Size of a session attribute map in bytes: its compact JSON (``{"k":"v"}``) in UTF-8.

    Never less than the sum of the keys' and values' UTF-8 bytes, so a map within a limit by this count is
    within it by that one too (see :mod:`atlas_shared.limits`).
    """
    return len(json.dumps(attributes, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def cap_session_attributes(
    attributes: Mapping[str, str],
    *,
    max_bytes: int = LEX_SESSION_ATTRIBUTES_MAX_BYTES,
    drop_first: Sequence[str] = (),
    keep_last: Collection[str] = (),
) -> dict[str, str]:
    """``attributes`` within ``max_bytes`` (:func:`attributes_size`), dropping whole attributes until it fits.

    What goes: first the fewest of the other attributes that must go even with every ``drop_first`` name gone
    (largest first, ``keep_last`` names only after all others), then ``drop_first`` names in that order (the
    attributes the caller can rebuild) until the map fits. Dropped names (never values) are logged once as
    ``session_attributes_dropped``: nobody's attribute disappears silently.
    """
    kept = dict(attributes)
    before = attributes_size(kept)
    if before <= max_bytes:
        return kept
    # Compact JSON is "{" + ",".join('"k":"v"') + "}": each entry's bytes plus one comma each, so sizes add up.
    entry = {
        k: len(json.dumps({k: v}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) - 1
        for k, v in kept.items()
    }
    ours = [name for name in drop_first if name in kept]
    theirs = sorted((name for name in kept if name not in ours), key=lambda n: (n in keep_last, -entry[n], n))
    size_without_ours = before - sum(entry[name] for name in ours)
    dropped: list[str] = []
    size = before
    for name in theirs:
        if size_without_ours <= max_bytes:
            break
        del kept[name]
        dropped.append(name)
        size_without_ours -= entry[name]
        size -= entry[name]
    for name in ours:
        if size <= max_bytes:
            break
        del kept[name]
        dropped.append(name)
        size -= entry[name]
    size = attributes_size(kept)
    _logger.warning(
        "Session attributes over Lex's limit; dropped %s",
        ", ".join(dropped),
        extra={
            "event": "session_attributes_dropped",
            "dropped": dropped,
            "bytes_before": before,
            "bytes": size,
            "limit_bytes": max_bytes,
        },
    )
    return kept


# ------------------------------------------------------------------------------------------- responses


def build_response(
    turn: LexTurn,
    *,
    dialog_action: Mapping[str, Any],
    session_attributes: Mapping[str, Any],
    intent_state: str | None,
    messages: Sequence[str] = (),
) -> dict[str, Any]:
    """A complete Lex V2 code hook response (see the module docstring for the shape and its guarantees).

    Raises:
        ValueError: a dialog action type or intent state Lex does not define, or ``ElicitIntent`` /
            ``ConfirmIntent`` without a non-blank message (programming errors).
    """
    action_type = dialog_action.get("type")
    if action_type not in DIALOG_ACTION_TYPES:
        raise ValueError(f"dialogAction.type must be one of {', '.join(DIALOG_ACTION_TYPES)}")
    spoken = [plain_text(m) for m in messages if m and m.strip()]
    if action_type in ("ElicitIntent", "ConfirmIntent") and not spoken:
        raise ValueError(f"{action_type} needs a message")
    session_state: dict[str, Any] = {
        "dialogAction": dict(dialog_action),
        "intent": echo_intent(turn.intent, intent_state),
        "sessionAttributes": cap_session_attributes(string_attributes(session_attributes)),
    }
    contexts = active_contexts(turn.active_contexts)
    if contexts:
        session_state["activeContexts"] = contexts
    response: dict[str, Any] = {"sessionState": session_state}
    if spoken:
        response["messages"] = spoken
    return response


def elicit_intent(
    turn: LexTurn, session_attributes: Mapping[str, Any], message: str, *, intent_state: IntentState = "Fulfilled"
) -> dict[str, Any]:
    """Speak ``message`` and listen for the user's next intent: the call goes on."""
    return build_response(
        turn,
        dialog_action={"type": "ElicitIntent"},
        session_attributes=session_attributes,
        intent_state=intent_state,
        messages=[message],
    )


def close(
    turn: LexTurn, session_attributes: Mapping[str, Any], message: str, *, intent_state: IntentState = "Fulfilled"
) -> dict[str, Any]:
    """Speak ``message`` and end the intent (``Fulfilled`` or ``Failed``); the client decides what follows."""
    if intent_state not in ("Fulfilled", "Failed"):
        raise ValueError("Close needs intent state Fulfilled or Failed")
    return build_response(
        turn,
        dialog_action={"type": "Close"},
        session_attributes=session_attributes,
        intent_state=intent_state,
        messages=[message],
    )


def delegate(turn: LexTurn, session_attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Let Lex choose the next step with its own prompts (slot elicitation, confirmation).

    The intent's state is echoed when Lex defines it, else ``InProgress`` (:func:`echo_intent`).
    """
    return build_response(
        turn,
        dialog_action={"type": "Delegate"},
        session_attributes=session_attributes,
        intent_state=None,
    )


def elicit_slot(
    turn: LexTurn, session_attributes: Mapping[str, Any], slot_to_elicit: str, message: str | None = None
) -> dict[str, Any]:
    """Ask for ``slot_to_elicit``; without ``message`` Lex plays the slot's own prompt."""
    return build_response(
        turn,
        dialog_action={"type": "ElicitSlot", "slotToElicit": slot_to_elicit},
        session_attributes=session_attributes,
        intent_state="InProgress",
        messages=[message] if message else [],
    )


def fallback_response(event: Any, message: str, *, drop_attributes: Collection[str] = ()) -> dict[str, Any]:
    """A valid response to any event, even one :func:`parse_event` rejects: speak ``message``, elicit an intent.

    Keeps the string session attributes the event carried except ``drop_attributes`` (the handler's own, which
    may be what broke the turn: dropping them lets the next turn start clean), within Lex's size limit
    (:func:`cap_session_attributes`). Echoes the event's intent (:func:`echo_intent`) with state ``Failed``; an
    event without an intent name gets ``FallbackIntent``, so every response names an intent and its state.
    """
    session_state = event.get("sessionState") if isinstance(event, Mapping) else None
    session_state = session_state if isinstance(session_state, Mapping) else {}
    attributes = session_state.get("sessionAttributes")
    attributes = string_attributes(attributes) if isinstance(attributes, Mapping) else {}
    intent = session_state.get("intent")
    intent = intent if isinstance(intent, Mapping) else {}
    kept = {k: v for k, v in attributes.items() if k not in drop_attributes}
    return {
        "sessionState": {
            "dialogAction": {"type": "ElicitIntent"},
            "intent": echo_intent(intent, "Failed"),
            "sessionAttributes": cap_session_attributes(kept),
        },
        "messages": [plain_text(message)],
    }
