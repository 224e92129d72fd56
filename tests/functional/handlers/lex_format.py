"""A checker for Lex V2 code hook responses, written from the response format documentation.

Sources: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html and
https://docs.aws.amazon.com/lexv2/latest/dg/lambda-common-structures.html
"""

from __future__ import annotations

import json
from typing import Any

RESPONSE_KEYS = {"sessionState", "messages", "requestAttributes"}
SESSION_STATE_KEYS = {
    "activeContexts",
    "sessionAttributes",
    "runtimeHints",
    "dialogAction",
    "intent",
    "originatingRequestId",
}
DIALOG_ACTION_TYPES = {"Close", "ConfirmIntent", "Delegate", "ElicitIntent", "ElicitSlot"}
DIALOG_ACTION_KEYS = {"type", "slotToElicit", "slotElicitationStyle", "subSlotToElicit"}
INTENT_KEYS = {"name", "slots", "state", "confirmationState"}
INTENT_STATES = {"Failed", "Fulfilled", "FulfillmentInProgress", "InProgress", "ReadyForFulfillment", "Waiting"}
CONFIRMATION_STATES = {"Confirmed", "Denied", "None"}
CONTENT_TYPES = {"CustomPayload", "ImageResponseCard", "PlainText", "SSML"}
SESSION_ATTRIBUTES_LIMIT_BYTES = 12 * 1024


def _string_map(value: Any, where: str) -> None:
    assert isinstance(value, dict), f"{where} must be an object"
    for key, item in value.items():
        assert isinstance(key, str) and isinstance(item, str), (
            f"{where}[{key!r}] must be a string, got {type(item).__name__}"
        )


def assert_valid_lex_response(response: Any) -> None:
    """Fail with a precise message when ``response`` breaks the Lex V2 Lambda response format."""
    assert isinstance(response, dict), "response must be a JSON object"
    json.dumps(response)  # must serialise
    assert set(response) <= RESPONSE_KEYS, f"unexpected keys {set(response) - RESPONSE_KEYS}"
    state = response.get("sessionState")
    assert isinstance(state, dict), "sessionState is required"
    assert set(state) <= SESSION_STATE_KEYS, f"unexpected sessionState keys {set(state) - SESSION_STATE_KEYS}"

    action = state.get("dialogAction")
    assert isinstance(action, dict) and action.get("type") in DIALOG_ACTION_TYPES, "dialogAction.type is required"
    assert set(action) <= DIALOG_ACTION_KEYS, f"unexpected dialogAction keys {set(action) - DIALOG_ACTION_KEYS}"
    if action["type"] == "ElicitSlot":
        assert isinstance(action.get("slotToElicit"), str) and action["slotToElicit"], "ElicitSlot needs slotToElicit"

    intent = state.get("intent")
    if action["type"] in ("Close", "Delegate", "ElicitSlot", "ConfirmIntent"):
        assert isinstance(intent, dict), f"{action['type']} needs sessionState.intent"
    if intent is not None:
        assert isinstance(intent, dict) and set(intent) <= INTENT_KEYS, (
            f"unexpected intent keys {set(intent) - INTENT_KEYS}"
        )
        assert isinstance(intent.get("name"), str) and intent["name"], "intent.name is required"
        assert intent.get("state") in INTENT_STATES, f"intent.state {intent.get('state')!r} is not a Lex state"
        if "confirmationState" in intent:
            assert intent["confirmationState"] in CONFIRMATION_STATES
        if action["type"] == "Close":
            assert intent["state"] in ("Fulfilled", "Failed"), "Close needs intent state Fulfilled or Failed"

    if "sessionAttributes" in state:
        _string_map(state["sessionAttributes"], "sessionAttributes")
        size = len(json.dumps(state["sessionAttributes"], ensure_ascii=False, separators=(",", ":")).encode())
        assert size <= SESSION_ATTRIBUTES_LIMIT_BYTES, f"sessionAttributes are {size} bytes, over Lex's 12 KB"
    if "requestAttributes" in response:
        _string_map(response["requestAttributes"], "requestAttributes")

    messages = response.get("messages")
    if action["type"] in ("ElicitIntent", "ConfirmIntent"):
        assert messages, f"{action['type']} needs at least one message"
    for message in messages or []:
        assert isinstance(message, dict) and message.get("contentType") in CONTENT_TYPES
        if message["contentType"] in ("PlainText", "SSML", "CustomPayload"):
            assert isinstance(message.get("content"), str) and message["content"].strip(), "message content is empty"
