"""atlas_shared.lex: parsing the Lex V2 input format and building the response format."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared import lex
from atlas_shared.exceptions import LexEventError
from tests.functional.handlers.lex_format import assert_valid_lex_response

LoadEvent = Callable[..., dict[str, Any]]


def test_parse_event(load_event: LoadEvent) -> None:
    turn = lex.parse_event(load_event("lex_greeting_first_turn"))
    assert turn.invocation_source == "DialogCodeHook" and turn.is_dialog_hook
    assert turn.intent_name == "GreetingIntent" and turn.input_transcript == "hello"
    assert turn.input_mode == "Speech" and turn.locale_id == "en_US"
    assert turn.attribute("interactionKey") == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert turn.proposed_dialog_action is None


def test_request_attributes_win_over_session_attributes(load_event: LoadEvent) -> None:
    event = load_event("lex_question_turn", requestAttributes={"interactionKey": "from-request"})
    assert lex.parse_event(event).attribute("interactionKey") == "from-request"
    assert (
        lex.parse_event(load_event("lex_question_turn")).attribute("interactionKey")
        == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    )


def test_non_string_attribute_values_are_made_strings(load_event: LoadEvent) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"] = {"turns": 3, "vip": True, "gone": None}
    assert lex.parse_event(event).session_attributes == {"turns": "3", "vip": "true"}


def test_proposed_next_state_is_read(load_event: LoadEvent) -> None:
    turn = lex.parse_event(load_event("lex_slot_elicitation"))
    assert turn.proposed_dialog_action == {"type": "ElicitSlot", "slotToElicit": "CallbackDate"}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("invocationSource"),
        lambda e: e.update(invocationSource="SomethingElse"),
        lambda e: e.pop("sessionState"),
        lambda e: e["sessionState"].pop("intent"),
        lambda e: e["sessionState"]["intent"].update(name=""),
        lambda e: e["sessionState"].update(sessionAttributes=["not", "a", "map"]),
    ],
)
def test_malformed_events_are_rejected(load_event: LoadEvent, mutate: Callable[[dict[str, Any]], Any]) -> None:
    event = load_event("lex_question_turn")
    mutate(event)
    with pytest.raises(LexEventError):
        lex.parse_event(event)


def test_elicit_intent_response(load_event: LoadEvent) -> None:
    turn = lex.parse_event(load_event("lex_question_turn"))
    response = lex.elicit_intent(turn, {"n": 1, "flag": False, "skip": None}, "Hello there.")
    assert_valid_lex_response(response)
    state = response["sessionState"]
    assert state["dialogAction"] == {"type": "ElicitIntent"}
    assert state["intent"] == {
        "name": "ProductQuestionIntent",
        "slots": {},
        "state": "Fulfilled",
        "confirmationState": "None",
    }
    assert state["sessionAttributes"] == {"n": "1", "flag": "false"}
    assert response["messages"] == [{"contentType": "PlainText", "content": "Hello there."}]


def test_close_response(load_event: LoadEvent) -> None:
    turn = lex.parse_event(load_event("lex_fallback_turn"))
    response = lex.close(turn, {}, "Goodbye.", intent_state="Failed")
    assert_valid_lex_response(response)
    assert response["sessionState"]["dialogAction"] == {"type": "Close"}
    assert response["sessionState"]["intent"]["state"] == "Failed"
    with pytest.raises(ValueError):
        lex.close(turn, {}, "x", intent_state="InProgress")  # type: ignore[arg-type]


def test_delegate_and_elicit_slot_responses(load_event: LoadEvent) -> None:
    turn = lex.parse_event(load_event("lex_slot_elicitation"))
    delegated = lex.delegate(turn, {"a": "b"})
    assert_valid_lex_response(delegated)
    assert delegated["sessionState"]["dialogAction"] == {"type": "Delegate"} and "messages" not in delegated
    assert delegated["sessionState"]["intent"]["slots"] == {"CallbackDate": None}

    asked = lex.elicit_slot(turn, {}, "CallbackDate", "Which day suits you?")
    assert_valid_lex_response(asked)
    assert asked["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "CallbackDate"}
    assert asked["sessionState"]["intent"]["state"] == "InProgress"


def test_active_contexts_are_echoed(load_event: LoadEvent) -> None:
    event = load_event("lex_question_turn")
    context = {"name": "pricing", "timeToLive": {"timeToLiveInSeconds": 90, "turnsToLive": 3}, "contextAttributes": {}}
    event["sessionState"]["activeContexts"] = [context]
    response = lex.elicit_intent(lex.parse_event(event), {}, "Hi.")
    assert response["sessionState"]["activeContexts"] == [context]


@pytest.mark.parametrize("contexts", [5, "x", {"name": "pricing"}, None])
def test_active_contexts_that_are_not_a_list_are_ignored(load_event: LoadEvent, contexts: Any) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["activeContexts"] = contexts
    assert lex.parse_event(event).active_contexts == ()


@pytest.mark.parametrize("event", [None, [], {"sessionState": "x"}, {"sessionState": {"sessionAttributes": {"k": 1}}}])
def test_fallback_response_handles_anything(event: Any) -> None:
    response = lex.fallback_response(event, "Sorry?")
    assert_valid_lex_response(response)
    assert response["messages"] == [{"contentType": "PlainText", "content": "Sorry?"}]


@pytest.mark.parametrize("event", [None, [], "x", 5, {}, {"sessionState": {"intent": {"name": ""}}}])
def test_fallback_response_without_an_intent_names_the_fallback_intent(event: Any) -> None:
    response = lex.fallback_response(event, "Sorry?")
    assert_valid_lex_response(response)
    assert response["sessionState"]["intent"] == {"name": "FallbackIntent", "slots": {}, "state": "Failed"}


def test_fallback_response_drops_the_handlers_own_attributes(load_event: LoadEvent) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"].update({"conversationHistory": "[[[", "leadContext": "[]"})
    response = lex.fallback_response(event, "Sorry?", drop_attributes={"conversationHistory", "leadContext"})
    assert response["sessionState"]["sessionAttributes"] == {
        "interactionKey": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "leadId": "00Q5g00000AbCdEEAZ",
    }


def test_fallback_response_keeps_session_and_intent(load_event: LoadEvent) -> None:
    event = load_event("lex_question_turn")
    event["invocationSource"] = "Unknown"
    response = lex.fallback_response(event, "Sorry?")
    assert response["sessionState"]["sessionAttributes"] == event["sessionState"]["sessionAttributes"]
    assert response["sessionState"]["intent"]["name"] == "ProductQuestionIntent"
    assert response["sessionState"]["intent"]["state"] == "Failed"
