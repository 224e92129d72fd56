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
                      "intent": {<the inbound intent>, "state": "Fulfilled" | "Failed" | "InProgress" | ...},
                      "sessionAttributes": {str: str}, "activeContexts": [...]?},
     "messages": [{"contentType": "PlainText", "content": "..."}]}

Session attribute values must be strings (Lex rejects anything else); :func:`string_attributes` makes them so.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .exceptions import LexEventError

DIALOG_CODE_HOOK = "DialogCodeHook"
FULFILLMENT_CODE_HOOK = "FulfillmentCodeHook"
INVOCATION_SOURCES = (DIALOG_CODE_HOOK, FULFILLMENT_CODE_HOOK)
INTENT_STATES = ("Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting")
DIALOG_ACTION_TYPES = ("Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot")
FALLBACK_INTENT = "FallbackIntent"

IntentState = Literal["Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting"]

# Keys of the inbound intent that belong in the response; anything else (kendraResponse ...) is dropped.
_INTENT_RESPONSE_KEYS = ("name", "slots", "state", "confirmationState")


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
        intent: the inbound ``sessionState.intent`` object.
        session_attributes: ``sessionState.sessionAttributes`` (strings).
        request_attributes: ``requestAttributes`` (strings).
        active_contexts: ``sessionState.activeContexts``, echoed in responses.
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
    """Session attributes with every value a string: bools as ``true``/``false``, objects as JSON, None dropped."""
    return {str(k): _to_string(v) for k, v in attributes.items() if v is not None}


def plain_text(content: str) -> dict[str, str]:
    """A Lex ``PlainText`` message."""
    return {"contentType": "PlainText", "content": content}


def _intent(turn: LexTurn, state: str | None) -> dict[str, Any]:
    intent = {k: turn.intent[k] for k in _INTENT_RESPONSE_KEYS if k in turn.intent}
    if state is not None:
        if state not in INTENT_STATES:
            raise ValueError(f"intent state must be one of {', '.join(INTENT_STATES)}")
        intent["state"] = state
    intent.setdefault("state", "InProgress")
    return intent


def build_response(
    turn: LexTurn,
    *,
    dialog_action: Mapping[str, Any],
    session_attributes: Mapping[str, Any],
    intent_state: str | None,
    messages: Sequence[str] = (),
) -> dict[str, Any]:
    """A complete Lex V2 code hook response (see the module docstring for the shape)."""
    if dialog_action.get("type") not in DIALOG_ACTION_TYPES:
        raise ValueError(f"dialogAction.type must be one of {', '.join(DIALOG_ACTION_TYPES)}")
    session_state: dict[str, Any] = {
        "dialogAction": dict(dialog_action),
        "intent": _intent(turn, intent_state),
        "sessionAttributes": string_attributes(session_attributes),
    }
    if turn.active_contexts:
        session_state["activeContexts"] = [dict(c) for c in turn.active_contexts]
    response: dict[str, Any] = {"sessionState": session_state}
    if messages:
        response["messages"] = [plain_text(m) for m in messages if m]
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
    """Let Lex choose the next step with its own prompts (slot elicitation, confirmation)."""
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
    may be what broke the turn: dropping them lets the next turn start clean). Echoes the event's intent with
    state ``Failed`` when it has a name, else ``{"name": "FallbackIntent", "state": "Failed"}``, so every response
    names an intent and its state.
    """
    session_state = event.get("sessionState") if isinstance(event, Mapping) else None
    session_state = session_state if isinstance(session_state, Mapping) else {}
    attributes = session_state.get("sessionAttributes")
    attributes = string_attributes(attributes) if isinstance(attributes, Mapping) else {}
    intent = session_state.get("intent")
    if isinstance(intent, Mapping) and isinstance(intent.get("name"), str) and intent["name"]:
        echoed = {k: intent[k] for k in _INTENT_RESPONSE_KEYS if k in intent}
    else:
        echoed = {"name": FALLBACK_INTENT}
    return {
        "sessionState": {
            "dialogAction": {"type": "ElicitIntent"},
            "intent": {**echoed, "state": "Failed"},
            "sessionAttributes": {k: v for k, v in attributes.items() if k not in drop_attributes},
        },
        "messages": [plain_text(message)],
    }
