"""Every Lex response stays inside what Lex accepts: echoed intents, message length, session-attribute size.

Sources: https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html and atlas_shared.limits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_shared import lex
from atlas_shared.limits import LEX_MESSAGE_MAX_CHARS, LEX_SESSION_ATTRIBUTES_MAX_BYTES
from atlas_shared.session import (
    attributes_size,
)
from tests.functional.handlers.lex_format import assert_valid_lex_response
from tests.schemas import assert_matches_lex_schema


def _turn(intent: dict[str, Any], **event: Any) -> lex.LexTurn:
    return lex.parse_event(
        {"invocationSource": "DialogCodeHook", "sessionState": {"intent": intent, "sessionAttributes": {}}, **event}
    )


def _check(response: dict[str, Any]) -> None:
    assert_valid_lex_response(response)
    assert_matches_lex_schema(response)


# ------------------------------------------------------------------------------------------------ echoed intent


@pytest.mark.parametrize("confirmation", [None, "B", 5, "", "confirmed"])
def test_a_confirmation_state_lex_does_not_define_is_left_out(confirmation: Any) -> None:
    turn = _turn({"name": "ProductQuestionIntent", "state": "InProgress", "confirmationState": confirmation})
    response = lex.elicit_intent(turn, {}, "Sure.")
    _check(response)
    assert "confirmationState" not in response["sessionState"]["intent"]


@pytest.mark.parametrize("confirmation", ["Confirmed", "Denied", "None"])
def test_a_defined_confirmation_state_is_echoed(confirmation: str) -> None:
    response = lex.delegate(_turn({"name": "X", "confirmationState": confirmation}), {})
    _check(response)
    assert response["sessionState"]["intent"]["confirmationState"] == confirmation


@pytest.mark.parametrize("slots", [[], None, "x", 5, [{"a": None}]])
def test_slots_are_always_a_map(slots: Any) -> None:
    response = lex.delegate(_turn({"name": "ScheduleCallbackIntent", "state": "InProgress", "slots": slots}), {})
    _check(response)
    assert response["sessionState"]["intent"]["slots"] == {}


@pytest.mark.parametrize("state", ["B", None, 3, "fulfilled", ""])
def test_an_unknown_intent_state_on_a_delegate_becomes_in_progress(state: Any) -> None:
    response = lex.delegate(_turn({"name": "ScheduleCallbackIntent", "state": state, "slots": {}}), {})
    _check(response)
    assert response["sessionState"]["intent"]["state"] == "InProgress"


def test_a_defined_intent_state_on_a_delegate_is_echoed() -> None:
    response = lex.delegate(_turn({"name": "X", "state": "ReadyForFulfillment"}), {})
    assert response["sessionState"]["intent"]["state"] == "ReadyForFulfillment"


def test_well_formed_slots_are_echoed_as_sent_and_malformed_ones_become_unfilled() -> None:
    date = {
        "shape": "Scalar",
        "value": {"originalValue": "tomorrow", "interpretedValue": "2025-01-30", "resolvedValues": ["2025-01-30"]},
    }
    toppings = {
        "shape": "List",
        "value": {"originalValue": "ham and cheese", "interpretedValue": "ham and cheese", "resolvedValues": []},
        "values": [{"shape": "Scalar", "value": {"originalValue": "ham", "interpretedValue": "ham"}}],
    }
    slots = {
        "CallbackDate": date,
        "Toppings": toppings,
        "Empty": None,
        "NoInterpretation": {"value": {"originalValue": "x"}},  # Value needs interpretedValue
        "Garbage": "a string",
        "Extra": {"shape": "Scalar", "value": {"interpretedValue": "y", "kendra": 1}, "note": "dropped"},
        "": {"shape": "Scalar"},  # slot names are non-empty
    }
    response = lex.delegate(_turn({"name": "X", "slots": slots, "kendraResponse": {"a": 1}}), {})
    _check(response)
    echoed = response["sessionState"]["intent"]
    assert set(echoed) == {"name", "slots", "state"}
    assert echoed["slots"] == {
        "CallbackDate": date,
        "Toppings": toppings,
        "Empty": None,
        "NoInterpretation": None,
        "Garbage": None,
        "Extra": {"shape": "Scalar", "value": {"interpretedValue": "y"}},
    }


def test_only_well_formed_active_contexts_are_echoed() -> None:
    good = {
        "name": "callback_set",
        "timeToLive": {"timeToLiveInSeconds": 600, "turnsToLive": 5},
        "contextAttributes": {},
    }
    bad = [
        {"name": "bad name!", "timeToLive": {"timeToLiveInSeconds": 600, "turnsToLive": 5}, "contextAttributes": {}},
        {"name": "x", "timeToLive": {"timeToLiveInSeconds": 1, "turnsToLive": 5}, "contextAttributes": {}},
        {"name": "x", "timeToLive": {"timeToLiveInSeconds": 60, "turnsToLive": 50}, "contextAttributes": {}},
        {"name": "x", "timeToLive": {"timeToLiveInSeconds": 60, "turnsToLive": 1}, "contextAttributes": {"k": 5}},
        {"name": "x"},
    ]
    turn = lex.parse_event(
        {
            "invocationSource": "FulfillmentCodeHook",
            "sessionState": {"intent": {"name": "X"}, "activeContexts": [good, *bad]},
        }
    )
    response = lex.elicit_intent(turn, {}, "Hello.")
    _check(response)
    assert response["sessionState"]["activeContexts"] == [good]


def test_fallback_response_sanitises_the_echoed_intent() -> None:
    event = {"sessionState": {"intent": {"name": "X", "state": "B", "confirmationState": None, "slots": []}}}
    response = lex.fallback_response(event, "Sorry?")
    _check(response)
    assert response["sessionState"]["intent"] == {"name": "X", "slots": {}, "state": "Failed"}


# ------------------------------------------------------------------------------------------------ messages


def _sentences(n: int) -> str:
    return " ".join(f"Sentence number {i} tells the caller something useful about the plan." for i in range(n))


@pytest.mark.parametrize("chars", [10_400, 2_435, 1_025])
def test_a_long_message_is_cut_after_its_last_whole_sentence_that_fits(chars: int) -> None:
    text = (_sentences(400))[:chars]
    cut = lex.fit_message(text)
    assert len(cut) <= LEX_MESSAGE_MAX_CHARS and cut.endswith(".")
    assert text.startswith(cut) and len(cut) > LEX_MESSAGE_MAX_CHARS - 80  # nothing whole that fitted was lost
    assert re.fullmatch(r"(Sentence number \d+ tells the caller something useful about the plan\. ?)+", cut)


def test_a_message_at_the_limit_is_kept_whole() -> None:
    text = ("a" * 1019) + " end."
    assert len(text) == LEX_MESSAGE_MAX_CHARS and lex.fit_message(text) == text


def test_one_endless_sentence_is_cut_on_a_word_with_an_ellipsis() -> None:
    cut = lex.fit_message("word " * 1000)
    assert len(cut) <= LEX_MESSAGE_MAX_CHARS and cut.endswith("word\u2026")
    assert len(lex.fit_message("x" * 5000)) == LEX_MESSAGE_MAX_CHARS


def test_the_response_builder_never_sends_more_than_1024_characters() -> None:
    response = lex.elicit_intent(_turn({"name": "X"}), {}, _sentences(200))
    _check(response)
    assert len(response["messages"][0]["content"]) <= LEX_MESSAGE_MAX_CHARS


def test_blank_messages_are_not_sent_and_elicit_intent_needs_one() -> None:
    assert "messages" not in lex.elicit_slot(_turn({"name": "X"}), {}, "CallbackDate", "   ")
    with pytest.raises(ValueError, match="needs a message"):
        lex.elicit_intent(_turn({"name": "X"}), {}, " \n ")


# ------------------------------------------------------------------------------------------------ session attributes

CONNECT_DATA = "c" * 12_232  # the measured case: an inbound connectData of 12,232 characters


def test_the_byte_count_is_compact_utf8_json_and_never_below_keys_plus_values() -> None:
    attributes = {"k": "é\n", "other": '"quoted"'}
    raw = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
    assert attributes_size(attributes) == len(
        json.dumps(attributes, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert attributes_size(attributes) > raw


def test_cap_drops_in_order_and_logs_names_only(capsys: pytest.CaptureFixture[str]) -> None:
    attributes = {"connectData": CONNECT_DATA, "small": "kept", "history": "h" * 100, "interactionKey": "k" * 20}
    capped = lex.cap_session_attributes(attributes, drop_first=("history",), keep_last={"interactionKey"})
    assert capped == {"small": "kept", "history": "h" * 100, "interactionKey": "k" * 20}
    assert attributes_size(capped) <= LEX_SESSION_ATTRIBUTES_MAX_BYTES
    line = next(json.loads(x) for x in capsys.readouterr().out.splitlines() if "session_attributes_dropped" in x)
    assert line["dropped"] == ["connectData"] and line["level"] == "WARNING"  # history went too only if needed
    assert "ccccccccc" not in json.dumps(line)
    ours_first = lex.cap_session_attributes(
        {"connectData": "c" * 11_900, "history": "h" * 500}, drop_first=("history",), keep_last={"interactionKey"}
    )
    assert ours_first == {"connectData": "c" * 11_900}


def test_cap_keeps_a_map_within_the_limit_untouched(capsys: pytest.CaptureFixture[str]) -> None:
    attributes = {"a": "x" * (LEX_SESSION_ATTRIBUTES_MAX_BYTES - 10)}
    assert attributes_size(attributes) <= LEX_SESSION_ATTRIBUTES_MAX_BYTES
    assert lex.cap_session_attributes(attributes) == attributes
    assert "session_attributes_dropped" not in capsys.readouterr().out


@settings(max_examples=200, derandomize=True, database=None, deadline=None)
@given(
    attributes=st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.one_of(st.text(max_size=300), st.integers(0, 6_000).map(lambda n: 'é\n"' * n)),
        max_size=12,
    ),
    limit=st.integers(50, 12_000),
)
def test_cap_fits_any_map_and_drops_only_what_it_must(attributes: dict[str, str], limit: int) -> None:
    ours = [k for k in attributes if k.startswith("a")][:3]
    capped = lex.cap_session_attributes(attributes, max_bytes=limit, drop_first=ours)
    assert attributes_size(capped) <= limit
    assert capped.items() <= attributes.items()
    if attributes_size(attributes) <= limit:
        assert capped == attributes
    theirs_dropped = [k for k in attributes if k not in capped and k not in ours]
    if theirs_dropped:  # someone else's attribute went only because ours alone could not make room
        assert attributes_size({k: v for k, v in attributes.items() if k not in ours}) > limit
