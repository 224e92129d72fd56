"""The Lex V2 code hook contract, both ways: the input event a turn sends, and the checks on the answer.

Input: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-input-format.html
Answer: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html
Limits (1,024 characters a message, 12 KB of session attributes): https://docs.aws.amazon.com/lexv2/latest/dg/quotas.html
"""

from __future__ import annotations

import json
import uuid
from typing import Any

DIALOG_ACTION_TYPES = {"Close", "ConfirmIntent", "Delegate", "DialogAction", "ElicitIntent", "ElicitSlot"}
INTENT_STATES = {"Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting"}
CONFIRMATION_STATES = {"Confirmed", "Denied", "None"}
CONTENT_TYPES = {"CustomPayload", "ImageResponseCard", "PlainText", "SSML"}
MAX_MESSAGE_CHARS = 1024
MAX_SESSION_ATTRIBUTE_BYTES = 12 * 1024


def code_hook_event(
    text: str,
    intent: str,
    *,
    session_id: str | None = None,
    bot: dict[str, str] | None = None,
    session_attributes: dict[str, str] | None = None,
    request_attributes: dict[str, str] | None = None,
    input_mode: str = "Text",
) -> dict[str, Any]:
    """A DialogCodeHook input event for one turn whose top interpretation is ``intent`` (state InProgress).

    Args:
        bot: ``{"id", "name", "aliasId", "aliasName", "localeId", "version"}``; a placeholder when None.
    """
    intent_state = {"name": intent, "slots": {}, "state": "InProgress", "confirmationState": "None"}
    return {
        "messageVersion": "1.0",
        "invocationSource": "DialogCodeHook",
        "inputMode": input_mode,
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session_id or str(uuid.uuid4()),
        "inputTranscript": text,
        "bot": bot
        or {
            "id": "VALIDATE01",
            "name": "validate",
            "aliasId": "VALIDATE01",
            "aliasName": "validate",
            "localeId": "en_US",
            "version": "DRAFT",
        },
        "interpretations": [{"intent": intent_state, "nluConfidence": 0.9, "interpretationSource": "Lex"}],
        "requestAttributes": request_attributes or {},
        "sessionState": {
            "sessionAttributes": session_attributes or {},
            "activeContexts": [],
            "intent": intent_state,
            "originatingRequestId": str(uuid.uuid4()),
        },
        "transcriptions": [],
    }


def response_problems(response: Any) -> list[str]:
    """What in a code hook answer Lex would refuse; empty when it is a valid Lex V2 response."""
    if not isinstance(response, dict):
        return [f"the answer is {type(response).__name__}, not a JSON object"]
    problems: list[str] = []
    state = response.get("sessionState")
    if not isinstance(state, dict):
        return ["sessionState is missing"]
    action = state.get("dialogAction")
    if not isinstance(action, dict) or action.get("type") not in DIALOG_ACTION_TYPES:
        problems.append(f"sessionState.dialogAction.type is {action and action.get('type')!r}")
    elif action["type"] == "ElicitSlot" and not action.get("slotToElicit"):
        problems.append("ElicitSlot without slotToElicit")
    intent = state.get("intent")
    if intent is not None:
        if not isinstance(intent, dict) or not isinstance(intent.get("name"), str):
            problems.append("sessionState.intent has no name")
        else:
            if intent.get("state") is not None and intent["state"] not in INTENT_STATES:
                problems.append(f"intent.state {intent['state']!r} is not one of {sorted(INTENT_STATES)}")
            if intent.get("confirmationState") is not None and intent["confirmationState"] not in CONFIRMATION_STATES:
                problems.append(f"intent.confirmationState {intent['confirmationState']!r} is not a Lex value")
            if "slots" in intent and not isinstance(intent["slots"], dict):
                problems.append("intent.slots is not a map")
    elif isinstance(action, dict) and action.get("type") in {"Close", "Delegate", "ElicitSlot", "ConfirmIntent"}:
        problems.append(f"{action.get('type')} needs sessionState.intent")
    attributes = state.get("sessionAttributes", {})
    if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
        problems.append("session attribute values must all be strings")
    else:
        size = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
        if size > MAX_SESSION_ATTRIBUTE_BYTES:
            problems.append(f"session attributes are {size} bytes, over Lex's {MAX_SESSION_ATTRIBUTE_BYTES}")
    for i, message in enumerate(response.get("messages") or []):
        if not isinstance(message, dict) or message.get("contentType") not in CONTENT_TYPES:
            problems.append(f"messages[{i}].contentType is not one of {sorted(CONTENT_TYPES)}")
            continue
        content = message.get("content")
        if message["contentType"] in {"PlainText", "SSML"}:
            if not isinstance(content, str) or not content.strip():
                problems.append(f"messages[{i}] is empty")
            elif len(content) > MAX_MESSAGE_CHARS:
                problems.append(f"messages[{i}] is {len(content)} characters, over Lex's {MAX_MESSAGE_CHARS}")
    try:
        json.dumps(response)
    except (TypeError, ValueError):
        problems.append("the answer is not JSON-serialisable")
    return problems
