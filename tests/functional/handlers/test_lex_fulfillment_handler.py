"""LexFulfillmentHandler end to end: moto (DynamoDB, Secrets Manager), Stubber (Bedrock), responses (Salesforce).

The tests count calls: a warm turn must make zero Secrets Manager, DynamoDB and Salesforce token calls.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared import scenario as scenario_module
from atlas_shared.limits import SESSION_ATTRIBUTES_BUDGET_BYTES
from atlas_shared.session import attributes_size
from tests.conftest import (
    ACCESS_TOKEN,
    INTERACTION_KEY,
    LEAD_ID,
    FakeAws,
    FakeBedrock,
    FakeSalesforce,
    LambdaContext,
)
from tests.functional.handlers.lex_format import assert_valid_lex_response

SCENARIO = "Ada Lovelace, CTO of Analytical Engines, asked about the premium plan. Offer a demo next week."
GREETING = "Hi Ada, this is Sam from Atlas. Thanks for your interest in our premium plan!"
LEAD = {
    "attributes": {"type": "Lead"},
    "Id": LEAD_ID,
    "FirstName": "Ada",
    "LastName": "Lovelace",
    "Company": "Analytical Engines Ltd",
    "Title": "CTO",
}

LoadEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def lex(
    aws: FakeAws, bedrock: FakeBedrock, salesforce_api: FakeSalesforce, load_handler: Callable[[str], types.ModuleType]
) -> types.ModuleType:
    """The handler, cold-started with a stored scenario and a Lead to read."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=LEAD)
    aws.counter.reset()
    return load_handler("LexFulfillmentHandler")


def next_turn(event: dict[str, Any], previous: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The event Lex sends on the next turn: the previous response's session attributes, new words."""
    event = json.loads(json.dumps(event))
    event["sessionState"]["sessionAttributes"] = previous["sessionState"]["sessionAttributes"]
    event.pop("requestAttributes", None)
    event.update(changes)
    return event


def calls(aws: FakeAws, salesforce_api: FakeSalesforce) -> dict[str, int]:
    return {
        "secretsmanager": aws.counter.count("secretsmanager"),
        "dynamodb": aws.counter.count("dynamodb"),
        "salesforce_token": len(salesforce_api.token_requests),
        "salesforce_rest": len(salesforce_api.rest_calls()),
    }


# ------------------------------------------------------------------------------------------------ the turns


def test_greeting_speaks_the_scenario_greeting(
    lex: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    response = lex.lambda_handler(load_event("lex_greeting_first_turn"), lambda_context)

    assert_valid_lex_response(response)
    assert response["messages"] == [{"contentType": "PlainText", "content": GREETING}]
    state = response["sessionState"]
    assert state["dialogAction"] == {"type": "ElicitIntent"}
    assert state["intent"]["name"] == "GreetingIntent" and state["intent"]["state"] == "Fulfilled"
    attributes = state["sessionAttributes"]
    assert attributes["interactionKey"] == INTERACTION_KEY  # carried over from the request attribute
    assert attributes["leadId"] == LEAD_ID  # from the scenario item
    assert attributes["dynamicScenario"] == SCENARIO and attributes["scenarioCache"] == "session"
    assert bedrock.bodies == []  # a greeting needs no model call
    # The item carries no Lead details (written before they were stored): the Lead is read now, while no
    # question waits, so the caller's first question is Bedrock-only (test_call_counts.py counts the whole call).
    assert calls(aws, salesforce_api) == {
        "secretsmanager": 1,
        "dynamodb": 1,
        "salesforce_token": 1,
        "salesforce_rest": 1,
    }
    assert json.loads(attributes["leadContext"]) == {"name": "Ada Lovelace", "company": "Analytical Engines Ltd"} | {
        "title": "CTO"
    }


def test_warm_second_turn_makes_no_secret_dynamodb_or_token_calls(
    lex: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    first_event = load_event("lex_question_turn")
    bedrock.reply("The premium plan adds priority support and a named engineer. Would a short demo help?")
    first = lex.lambda_handler(first_event, lambda_context)
    assert calls(aws, salesforce_api) == {
        "secretsmanager": 1,
        "dynamodb": 1,
        "salesforce_token": 1,
        "salesforce_rest": 1,
    }

    aws.counter.reset()
    salesforce_api.token_requests.clear()
    salesforce_api.mock.calls.reset()
    bedrock.reply("Great, Tuesday at ten works. I'll send an invite.")
    second = lex.lambda_handler(
        next_turn(first_event, first, inputTranscript="Sure, how about Tuesday at ten?"), LambdaContext("req-0002")
    )

    assert_valid_lex_response(second)
    assert calls(aws, salesforce_api) == {
        "secretsmanager": 0,
        "dynamodb": 0,
        "salesforce_token": 0,
        "salesforce_rest": 0,
    }
    assert second["messages"][0]["content"] == "Great, Tuesday at ten works. I'll send an invite."
    assert len(bedrock.bodies) == 2


def test_bedrock_gets_the_scenario_the_lead_and_the_history(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    first_event = load_event("lex_question_turn")
    bedrock.reply("It adds priority support.")
    first = lex.lambda_handler(first_event, lambda_context)
    bedrock.reply("Yes, onboarding is included.")
    lex.lambda_handler(next_turn(first_event, first, inputTranscript="Is onboarding included?"), lambda_context)

    body = bedrock.bodies[-1]
    assert set(bedrock.requests[-1]) == {
        "modelId",
        "system",
        "messages",
        "inferenceConfig",
        "additionalModelRequestFields",
    }
    assert body["max_tokens"] == 150 and body["temperature"] == 0.7
    assert SCENARIO in body["system"]
    assert "Ada Lovelace" in body["system"] and "Analytical Engines Ltd" in body["system"]
    assert body["messages"] == [
        {"role": "user", "content": "What does the premium plan include?"},
        {"role": "assistant", "content": "It adds priority support."},
        {"role": "user", "content": "Is onboarding included?"},
    ]


def test_generation_settings_come_from_the_environment(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEDROCK_MAX_TOKENS", "64")
    monkeypatch.setenv("BEDROCK_TEMPERATURE", "0.25")
    monkeypatch.setenv("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0")
    handler = load_handler("LexFulfillmentHandler")
    bedrock.reply("Hello.", model_id="anthropic.claude-3-haiku-20240307-v1:0")
    handler.lambda_handler(load_event("lex_fallback_turn"), lambda_context)
    (body,) = bedrock.bodies
    assert body["max_tokens"] == 64 and body["temperature"] == 0.25
    assert bedrock.model_ids == ["anthropic.claude-3-haiku-20240307-v1:0"]


def test_history_window_is_bounded_by_conversation_history_turns(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONVERSATION_HISTORY_TURNS", "2")
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    handler = load_handler("LexFulfillmentHandler")
    event = load_event("lex_fallback_turn")
    response: dict[str, Any] | None = None
    for i in range(5):
        bedrock.reply(f"Answer {i}.")
        turn = event if response is None else next_turn(event, response, inputTranscript=f"question {i}")
        response = handler.lambda_handler(turn, lambda_context)
    last = bedrock.bodies[-1]["messages"]
    assert [m["content"] for m in last] == ["question 2", "Answer 2.", "question 3", "Answer 3.", "question 4"]
    stored = json.loads(response["sessionState"]["sessionAttributes"]["conversationHistory"])
    assert len(stored) == 4  # two exchanges


def test_fallback_intent_gets_a_bedrock_reply(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply("This is Sam from Atlas, following up on your question about our premium plan.")
    response = lex.lambda_handler(load_event("lex_fallback_turn"), lambda_context)
    assert_valid_lex_response(response)
    assert response["sessionState"]["intent"]["name"] == "FallbackIntent"
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert response["messages"][0]["content"].startswith("This is Sam")
    assert bedrock.bodies[0]["messages"][-1]["content"] == "uh I'm not sure I follow, who is this again"


def test_slot_elicitation_is_delegated_to_lex(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    response = lex.lambda_handler(load_event("lex_slot_elicitation"), lambda_context)
    assert_valid_lex_response(response)
    assert response["sessionState"]["dialogAction"] == {"type": "Delegate"}
    assert response["sessionState"]["intent"]["slots"] == {"CallbackDate": None}
    assert response["sessionState"]["sessionAttributes"]["interactionKey"] == INTERACTION_KEY
    assert bedrock.bodies == []


def test_max_tokens_reply_is_spoken_as_whole_sentences(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply("It adds priority support. It also adds a named engineer who will", stop_reason="max_tokens")
    response = lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert response["messages"][0]["content"] == "It adds priority support."


# ------------------------------------------------------------------------------------------------ session budget


def test_huge_scenario_and_long_history_stay_under_the_budget(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    huge = "The scenario goes into great detail here. " * 600  # ~25 KB
    aws.put_scenario(scenario=huge, greeting=GREETING)
    handler = load_handler("LexFulfillmentHandler")
    event = load_event("lex_fallback_turn")
    response = None
    for i in range(12):
        bedrock.reply(f"Reply number {i} is deliberately long. " * 12)
        turn = event if response is None else next_turn(event, response, inputTranscript=f"turn {i} " + "blah " * 80)
        aws.counter.reset()
        response = handler.lambda_handler(turn, lambda_context)
        assert_valid_lex_response(response)
        attributes = response["sessionState"]["sessionAttributes"]
        assert all(isinstance(v, str) for v in attributes.values())
        assert attributes_size(attributes) <= SESSION_ATTRIBUTES_BUDGET_BYTES
        assert attributes["scenarioCache"] == "container" and "dynamicScenario" not in attributes
        assert aws.counter.count("dynamodb", "GetItem") == (1 if i == 0 else 0)
        assert huge.strip() in bedrock.bodies[-1]["system"]


def test_oversized_scenario_on_another_container_is_read_again(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    aws.put_scenario(scenario="Long scenario sentence. " * 400, greeting=GREETING)
    handler = load_handler("LexFulfillmentHandler")
    event = load_event("lex_fallback_turn")
    bedrock.reply("First.")
    first = handler.lambda_handler(event, lambda_context)
    scenario_module.container_cache.clear()  # the next turn lands on a fresh container
    aws.counter.reset()
    bedrock.reply("Second.")
    second = handler.lambda_handler(next_turn(event, first, inputTranscript="again"), lambda_context)
    assert aws.counter.count("dynamodb", "GetItem") == 1
    assert second["messages"][0]["content"] == "Second."


# ------------------------------------------------------------------------------------------------ failures


def test_bedrock_failure_answers_gracefully_and_keeps_the_session(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"]["conversationHistory"] = json.dumps([["u", "hi"], ["a", "hello"]])
    bedrock.fail("ThrottlingException")
    response = lex.lambda_handler(event, lambda_context)
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == lex.APOLOGY
    assert response["sessionState"]["intent"]["state"] == "Failed"
    attributes = response["sessionState"]["sessionAttributes"]
    assert attributes["interactionKey"] == INTERACTION_KEY and attributes["leadId"] == LEAD_ID
    assert json.loads(attributes["conversationHistory"]) == [
        ["u", "hi"],
        ["a", "hello"],
    ]  # the failed turn isn't history


def test_dynamodb_failure_answers_gracefully(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCENARIO_TABLE_NAME", "table-that-does-not-exist")
    handler = load_handler("LexFulfillmentHandler")
    question = handler.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert_valid_lex_response(question)
    assert question["messages"][0]["content"] == handler.APOLOGY
    assert "scenarioCache" not in question["sessionState"]["sessionAttributes"]  # the next turn tries again
    greeting = handler.lambda_handler(load_event("lex_greeting_first_turn"), lambda_context)
    assert greeting["messages"][0]["content"] == handler.NEUTRAL_GREETING
    assert bedrock.bodies == []


def test_salesforce_failure_still_gets_a_bedrock_reply(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    salesforce_api.token_unavailable()
    handler = load_handler("LexFulfillmentHandler")
    bedrock.reply("Happy to help with that.")
    response = handler.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == "Happy to help with that."
    assert "leadContext" not in response["sessionState"]["sessionAttributes"]
    assert "The person you are speaking with" not in bedrock.bodies[0]["system"]


class ShortOnTime(LambdaContext):
    def __init__(self, remaining_ms: int) -> None:
        super().__init__()
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_little_time_left_skips_the_salesforce_lookup(
    lex: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, salesforce_api: FakeSalesforce, load_event: LoadEvent
) -> None:
    """15 s left: 2 s margin, 12 s kept for one Bedrock attempt, 1 s for lookups: too little for the secret read."""
    bedrock.reply("Sure.")
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"].update({"scenarioCache": "session", "dynamicScenario": SCENARIO})
    response = lex.lambda_handler(event, ShortOnTime(15_000))
    assert response["messages"][0]["content"] == "Sure."
    assert aws.counter.count("secretsmanager") == 0 and salesforce_api.token_requests == []
    assert len(bedrock.bodies) == 1
    assert "leadContext" not in response["sessionState"]["sessionAttributes"]  # the next turn tries again


def test_too_little_time_for_bedrock_answers_at_once(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent
) -> None:
    response = lex.lambda_handler(load_event("lex_question_turn"), ShortOnTime(5_000))
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == lex.APOLOGY and bedrock.bodies == []


def test_missing_scenario_is_remembered_and_a_neutral_greeting_used(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    handler = load_handler("LexFulfillmentHandler")
    first = handler.lambda_handler(load_event("lex_greeting_first_turn"), lambda_context)
    assert first["messages"][0]["content"] == handler.NEUTRAL_GREETING
    assert first["sessionState"]["sessionAttributes"]["scenarioCache"] == "missing"
    aws.counter.reset()
    bedrock.reply("Sure.")
    handler.lambda_handler(next_turn(load_event("lex_fallback_turn"), first), lambda_context)
    assert aws.counter.count("dynamodb") == 0


@pytest.mark.parametrize(
    "event", [{}, {"sessionState": {"intent": {}}}, {"invocationSource": "DialogCodeHook", "sessionState": None}, None]
)
def test_malformed_events_never_crash_the_turn(
    lex: types.ModuleType, event: Any, lambda_context: LambdaContext
) -> None:
    response = lex.lambda_handler(event, lambda_context)
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == lex.APOLOGY
    assert response["sessionState"]["intent"] == {"name": "FallbackIntent", "slots": {}, "state": "Failed"}


def test_unexpected_errors_never_crash_the_turn(
    lex: types.ModuleType, load_event: LoadEvent, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(lex, "pack_session_attributes", broken)
    event = load_event("lex_greeting_first_turn")
    response = lex.lambda_handler(event, lambda_context)
    assert_valid_lex_response(response)
    assert response["sessionState"]["intent"]["name"] == "GreetingIntent"


# ------------------------------------------------------------------------------------------------ bad attributes


POISONS = [
    ("leadContext", "[]"),
    ("leadContext", "5"),
    ("leadContext", '"str"'),
    ("leadContext", '{"name": 5}'),
    ("conversationHistory", "[" * 3000 + "]" * 3000),
    ("conversationHistory", "[" * 2000 + "]" * 2000),
    ("conversationHistory", '[["u", "hi"], ["bot", "hello"]]'),
]


@pytest.mark.parametrize(("attribute", "value"), POISONS)
def test_a_malformed_attribute_is_ignored_and_repaired(
    lex: types.ModuleType,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    attribute: str,
    value: str,
) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"][attribute] = value
    bedrock.reply("It adds priority support.")
    first = lex.lambda_handler(event, lambda_context)
    bedrock.reply("Yes, onboarding is included.")
    second = lex.lambda_handler(next_turn(event, first, inputTranscript="Is onboarding included?"), lambda_context)

    for response in (first, second):
        assert_valid_lex_response(response)
        assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    attributes = second["sessionState"]["sessionAttributes"]
    assert json.loads(attributes["leadContext"]) == {
        "name": "Ada Lovelace",
        "company": "Analytical Engines Ltd",
        "title": "CTO",
    }
    assert [role for role, _ in json.loads(attributes["conversationHistory"])] == ["u", "a", "u", "a"]
    assert "Ada Lovelace" in bedrock.bodies[0]["system"]  # a malformed leadContext is read again from the Lead


def test_a_failed_turn_drops_the_handlers_attributes_so_the_next_turn_recovers(
    lex: types.ModuleType,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever made a turn fail unexpectedly may sit in our attributes: the apology leaves them out."""
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"].update(
        {"conversationHistory": '[["u", "hi"]]', "leadContext": "{}", "connectAttr": "kept"}
    )
    real_read_history = lex.read_history
    monkeypatch.setattr(lex, "read_history", lambda attributes: 1 / 0)
    first = lex.lambda_handler(event, lambda_context)
    assert first["messages"][0]["content"] == lex.APOLOGY
    assert first["sessionState"]["sessionAttributes"] == {
        "interactionKey": INTERACTION_KEY,
        "leadId": LEAD_ID,
        "connectAttr": "kept",
    }

    monkeypatch.setattr(lex, "read_history", real_read_history)
    bedrock.reply("Happy to help.")
    second = lex.lambda_handler(next_turn(event, first), lambda_context)
    assert_valid_lex_response(second)
    assert second["sessionState"]["intent"]["state"] == "Fulfilled"


def test_an_interaction_key_of_the_wrong_shape_is_not_looked_up(
    lex: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    """DynamoDB rejects a 3,000-character key on every GetItem; the turn goes on without a scenario instead."""
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"]["interactionKey"] = "k" * 3000
    bedrock.reply("Happy to help.")
    response = lex.lambda_handler(event, lambda_context)
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert aws.counter.count("dynamodb") == 0
    assert lex.GENERIC_SCENARIO in bedrock.bodies[0]["system"]


def test_a_huge_transcript_is_cut_before_bedrock_and_history(
    lex: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply("Sure.")
    response = lex.lambda_handler(load_event("lex_question_turn", inputTranscript="blah " * 200_000), lambda_context)
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    sent = bedrock.bodies[0]["messages"][-1]["content"]
    assert len(sent) <= 2000 and sent.endswith("blah") and sent == ("blah " * 400).strip()
    attributes = response["sessionState"]["sessionAttributes"]
    assert attributes_size(attributes) <= SESSION_ATTRIBUTES_BUDGET_BYTES


def test_no_secret_reaches_the_logs(
    lex: types.ModuleType,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    rsa_keys: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    salesforce_api.reject_next_token()  # exercise the rotation path's logging too
    bedrock.reply("Sure.")
    lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    logged = capsys.readouterr().out + caplog.text
    key_lines = rsa_keys[0].splitlines()[1:-1]
    assert logged and "[CACHE]" in logged
    for secret in (*key_lines, ACCESS_TOKEN, *(r["assertion"] for r in salesforce_api.token_requests)):
        assert secret not in logged
