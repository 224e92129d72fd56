"""LexFulfillmentHandler's responses stay inside what Lex accepts, and slot-filling turns keep the scenario cache.

Every response here is checked against tests/schemas/lex_v2_response.schema.json and Lex's size limits
(atlas_shared.limits). Calls are counted below the SDK: botocore's ``before-send`` event (the HTTP request about
to go out; moto answers it) for DynamoDB and Secrets Manager, the ``responses`` mock for Salesforce, and the
Bedrock Stubber's captured requests.
"""

from __future__ import annotations

import json
import types
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas_shared.limits import LEX_MESSAGE_MAX_CHARS, LEX_SESSION_ATTRIBUTES_MAX_BYTES
from atlas_shared.session import attributes_size, read_history
from tests.conftest import INTERACTION_KEY, LEAD_ID, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext
from tests.functional.handlers.lex_format import assert_valid_lex_response
from tests.schemas import assert_matches_lex_schema

SCENARIO = "Ada Lovelace, CTO of Analytical Engines, asked about the premium plan. Offer a demo next week."
GREETING = "Hi Ada, this is Sam from Atlas. Thanks for your interest in our premium plan!"
LEAD = {"attributes": {"type": "Lead"}, "Id": LEAD_ID, "FirstName": "Ada", "LastName": "Lovelace", "Company": "AE"}

LoadEvent = Callable[..., dict[str, Any]]


def sentences(count: int, words: str = "tells the caller one more useful thing about the plan") -> str:
    return " ".join(f"Sentence {i} {words}." for i in range(count))


def check(response: dict[str, Any]) -> dict[str, Any]:
    """Assert everything Lex requires of ``response``; return its session attributes."""
    assert_valid_lex_response(response)
    assert_matches_lex_schema(response)
    attributes = response["sessionState"].get("sessionAttributes", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in attributes.items())
    assert attributes_size(attributes) <= LEX_SESSION_ATTRIBUTES_MAX_BYTES
    assert all(len(m["content"]) <= LEX_MESSAGE_MAX_CHARS for m in response.get("messages", []))
    return attributes


class WireCounter:
    """HTTP requests botocore is about to send, per (service, operation), seen on ``before-send``.

    Registered first, so it sees each request before moto's own ``before-send`` handler answers it.
    """

    def __init__(self, *clients: Any) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        for client in clients:
            client.meta.events.register_first("before-send", self._record)

    def _record(self, request: Any, **_: Any) -> None:
        operation = request.headers.get("X-Amz-Target", b"")
        operation = operation.decode() if isinstance(operation, bytes) else operation
        service = request.url.split("://", 1)[1].split(".", 1)[0]
        self.calls[(service, operation.rsplit(".", 1)[-1])] += 1

    def count(self, service: str) -> int:
        return sum(n for (s, _), n in self.calls.items() if s == service)


@pytest.fixture
def wire(aws: FakeAws) -> WireCounter:
    return WireCounter(aws.dynamodb, aws.secretsmanager)


@pytest.fixture
def handler(
    aws: FakeAws, salesforce_api: FakeSalesforce, load_handler: Callable[[str], types.ModuleType]
) -> types.ModuleType:
    """The handler, cold-started with a stored scenario and a Lead to read."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=LEAD)
    return load_handler("LexFulfillmentHandler")


def next_turn(event: dict[str, Any], previous: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The event Lex sends next: the previous response's session attributes, and ``changes``."""
    event = json.loads(json.dumps(event))
    event["sessionState"]["sessionAttributes"] = previous["sessionState"]["sessionAttributes"]
    event.pop("requestAttributes", None)
    event.update(changes)
    return event


# ------------------------------------------------------------------------------------------------ echoed intent


def test_a_delegate_with_a_bad_state_null_confirmation_and_list_slots_is_one_lex_accepts(
    handler: types.ModuleType, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("lex_slot_elicitation")
    event["sessionState"]["intent"].update(state="B", confirmationState=None, slots=[])
    response = handler.lambda_handler(event, lambda_context)
    check(response)
    assert response["sessionState"]["dialogAction"] == {"type": "Delegate"}
    assert response["sessionState"]["intent"] == {"name": "ScheduleCallbackIntent", "slots": {}, "state": "InProgress"}


@pytest.mark.parametrize("confirmation", ["B", None, 7])
def test_a_reply_turn_never_echoes_an_undefined_confirmation_state(
    handler: types.ModuleType,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    confirmation: Any,
) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["intent"].update(confirmationState=confirmation, slots=[], state="B")
    bedrock.reply("Priority support and a named engineer.")
    response = handler.lambda_handler(event, lambda_context)
    check(response)
    assert response["sessionState"]["intent"] == {"name": "ProductQuestionIntent", "slots": {}, "state": "Fulfilled"}


# ------------------------------------------------------------------------------------------------ sizes


def test_an_oversize_inbound_attribute_is_dropped_by_name_and_the_call_goes_on(
    handler: types.ModuleType,
    aws: FakeAws,
    wire: WireCounter,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"]["connectData"] = "c" * 12_232  # the measured case
    bedrock.reply("Priority support and a named engineer.")
    first = handler.lambda_handler(event, lambda_context)
    attributes = check(first)
    assert "connectData" not in attributes and attributes["interactionKey"] == INTERACTION_KEY
    out = capsys.readouterr().out
    dropped = [json.loads(line) for line in out.splitlines() if "session_attributes_dropped" in line]
    assert [d["dropped"] for d in dropped] == [["connectData"]] and "ccccccccccc" not in out

    wire.calls.clear()
    bedrock.reply("A demo next week would work well.")
    second = handler.lambda_handler(next_turn(event, first, inputTranscript="and then?"), lambda_context)
    check(second)
    assert wire.count("dynamodb") == 0  # the scenario still rides in the session


def test_a_10400_character_greeting_is_cut_on_a_whole_sentence(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    greeting = sentences(400)[:10_400]
    aws.put_scenario(scenario=SCENARIO, greeting=greeting)
    response = load_handler("LexFulfillmentHandler").lambda_handler(
        load_event("lex_greeting_first_turn"), lambda_context
    )
    check(response)
    spoken = response["messages"][0]["content"]
    assert greeting.startswith(spoken) and spoken.endswith("plan.") and len(spoken) > LEX_MESSAGE_MAX_CHARS - 80


@pytest.mark.parametrize("greeting", ["", "   ", "\n\t \u00a0"])
def test_a_blank_greeting_on_the_item_speaks_the_neutral_greeting(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    greeting: str,
) -> None:
    aws.put_scenario(scenario=SCENARIO, greeting=greeting)
    handler = load_handler("LexFulfillmentHandler")
    response = handler.lambda_handler(load_event("lex_greeting_first_turn"), lambda_context)
    check(response)
    assert response["messages"][0]["content"] == handler.NEUTRAL_GREETING


def test_a_2435_character_reply_is_cut_and_the_older_turns_stay_in_the_history(
    handler: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("lex_question_turn")
    response: dict[str, Any] | None = None
    for i in range(3):
        bedrock.reply(f"Short answer {i}.")
        turn = event if response is None else next_turn(event, response, inputTranscript=f"question {i}")
        response = handler.lambda_handler(turn, lambda_context)
        check(response)
    assert response is not None
    long_reply = sentences(60)[:2_435]
    bedrock.reply(long_reply)
    response = handler.lambda_handler(next_turn(event, response, inputTranscript="tell me everything"), lambda_context)
    attributes = check(response)

    spoken = response["messages"][0]["content"]
    assert long_reply.startswith(spoken) and spoken.endswith(".") and len(spoken) <= LEX_MESSAGE_MAX_CHARS
    history = read_history(attributes)
    assert [m.content for m in history[:6]] == [
        "What does the premium plan include?",
        "Short answer 0.",
        "question 1",
        "Short answer 1.",
        "question 2",
        "Short answer 2.",
    ]
    assert history[6].content == "tell me everything"
    assert history[7].role == "assistant" and spoken.startswith(history[7].content)


# ------------------------------------------------------------------------------------------------ call counts


def fulfilment(event: dict[str, Any]) -> dict[str, Any]:
    """The slot-filling event once Lex has the slot: a fulfillment code hook, no proposed next state."""
    event = json.loads(json.dumps(event))
    event["invocationSource"] = "FulfillmentCodeHook"
    event.pop("proposedNextState", None)
    event["inputTranscript"] = "tomorrow at ten"
    event["sessionState"]["intent"]["slots"] = {
        "CallbackDate": {
            "shape": "Scalar",
            "value": {"originalValue": "tomorrow", "interpretedValue": "2025-01-30", "resolvedValues": ["2025-01-30"]},
        }
    }
    event["sessionState"]["intent"]["state"] = "ReadyForFulfillment"
    return event


@pytest.mark.parametrize(
    "scenario_text", [SCENARIO, "A very detailed scenario sentence. " * 400], ids=["session", "container"]
)
def test_a_call_with_a_slot_filling_exchange_reads_dynamodb_on_its_first_turn_only(
    aws: FakeAws,
    wire: WireCounter,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    scenario_text: str,
) -> None:
    aws.put_scenario(scenario=scenario_text, greeting=GREETING)
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=LEAD)
    handler = load_handler("LexFulfillmentHandler")
    question = load_event("lex_question_turn")
    slot = load_event("lex_slot_elicitation")

    def per_turn(event: dict[str, Any], reply: str | None) -> dict[str, int]:
        if reply is not None:
            bedrock.reply(reply)
        wire.calls.clear()
        tokens, rest, bodies = len(salesforce_api.token_requests), len(salesforce_api.rest_calls()), len(bedrock.bodies)
        nonlocal response
        response = handler.lambda_handler(event, lambda_context)
        check(response)
        return {
            "dynamodb": wire.count("dynamodb"),
            "secretsmanager": wire.count("secretsmanager"),
            "salesforce": len(salesforce_api.token_requests) - tokens + len(salesforce_api.rest_calls()) - rest,
            "bedrock": len(bedrock.bodies) - bodies,
        }

    response: dict[str, Any] = {}
    counts = [per_turn(question, "The premium plan adds priority support.")]
    counts.append(per_turn(next_turn(slot, response), None))  # Lex asks for CallbackDate: delegated
    counts.append(per_turn(next_turn(slot, response, inputTranscript="hmm, let me think"), None))  # asked again
    counts.append(per_turn(fulfilment(next_turn(slot, response)), "Great, I'll call you tomorrow at ten."))
    counts.append(per_turn(next_turn(question, response, inputTranscript="And the price?"), "It starts at $99."))

    assert response["sessionState"]["sessionAttributes"]["scenarioCache"] in ("session", "container")
    assert counts[0] == {"dynamodb": 1, "secretsmanager": 1, "salesforce": 2, "bedrock": 1}
    warm_only_bedrock = {"dynamodb": 0, "secretsmanager": 0, "salesforce": 0}
    assert [{k: v for k, v in c.items() if k != "bedrock"} for c in counts[1:]] == [warm_only_bedrock] * 4
    assert [c["bedrock"] for c in counts] == [1, 0, 0, 1, 1]


def test_a_call_that_opens_with_slot_filling_reads_dynamodb_once(
    handler: types.ModuleType,
    wire: WireCounter,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    slot = load_event("lex_slot_elicitation")
    reads = []
    response: dict[str, Any] | None = None
    for turn in range(4):
        event = slot if response is None else next_turn(slot, response)
        if turn == 3:
            event = fulfilment(event)
            bedrock.reply("Great, tomorrow at ten it is.")
        wire.calls.clear()
        response = handler.lambda_handler(event, lambda_context)
        check(response)
        reads.append(wire.count("dynamodb"))
    assert reads == [1, 0, 0, 0]  # the delegated first turn has time to spare: it fills the cache


# ------------------------------------------------------------------------------------------------ property

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_SLOT = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"shape": st.sampled_from(["Scalar", "List", "Bogus"])},
        optional={
            "value": st.one_of(
                st.fixed_dictionaries({"interpretedValue": _TEXT}, optional={"originalValue": _TEXT}), _TEXT
            ),
            "values": st.lists(st.none() | st.integers(), max_size=2),
        },
    ),
    _TEXT,
    st.integers(),
)
_INTENT = st.fixed_dictionaries(
    {"name": st.sampled_from(["GreetingIntent", "ProductQuestionIntent", "ScheduleCallbackIntent", "FallbackIntent"])},
    optional={
        "state": st.one_of(st.sampled_from(["InProgress", "ReadyForFulfillment", "Fulfilled", "B"]), st.none()),
        "confirmationState": st.one_of(st.sampled_from(["None", "Confirmed", "B"]), st.none(), st.integers()),
        "slots": st.one_of(
            st.dictionaries(st.sampled_from(["CallbackDate", "Time", ""]), _SLOT, max_size=3), st.just([]), st.none()
        ),
        "kendraResponse": st.just({"x": 1}),
    },
)
_BIG = st.sampled_from([0, 100, 3_000, 9_000, 12_232, 14_000]).map(lambda n: "v" * n)
_ATTRIBUTES = st.dictionaries(
    st.sampled_from(
        [
            "connectData",
            "channel",
            "x",
            "interactionKey",
            "leadId",
            "conversationHistory",
            "dynamicScenario",
            "scenarioCache",
            "leadContext",
            "scenarioGreeting",
        ]
    ),
    st.one_of(_TEXT, _BIG, st.sampled_from([INTERACTION_KEY, LEAD_ID, "session", "container", "missing", "[]"])),
    max_size=6,
)
_CONTEXT = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["ctx", "bad name", ""]),
        "timeToLive": st.fixed_dictionaries(
            {"timeToLiveInSeconds": st.integers(0, 100_000), "turnsToLive": st.integers(0, 30)}
        ),
        "contextAttributes": st.dictionaries(_TEXT, _TEXT, max_size=2),
    }
)
_REPLY = st.one_of(
    st.integers(1, 80).map(sentences), st.text(min_size=1, max_size=3_000).filter(str.strip), st.just("word " * 700)
)


@st.composite
def lex_events(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A Lex V2 event, valid in shape but odd in content, and the reply Bedrock will give."""
    session_attributes = draw(_ATTRIBUTES)
    if draw(st.booleans()):
        session_attributes["interactionKey"] = INTERACTION_KEY
    event: dict[str, Any] = {
        "messageVersion": "1.0",
        "invocationSource": draw(st.sampled_from(["DialogCodeHook", "FulfillmentCodeHook"])),
        "inputMode": "Speech",
        "sessionId": "s-1",
        "inputTranscript": draw(st.one_of(_TEXT, st.just("blah " * 700))),
        "bot": {"id": "B", "name": "Bot", "aliasId": "A", "aliasName": "live", "localeId": "en_US", "version": "1"},
        "sessionState": {
            "sessionAttributes": session_attributes,
            "activeContexts": draw(st.lists(_CONTEXT, max_size=2)),
            "intent": draw(_INTENT),
        },
    }
    if draw(st.booleans()):
        event["requestAttributes"] = {"interactionKey": INTERACTION_KEY, "x-amz-lex:channels:platform": "Connect"}
    if draw(st.booleans()):
        action = draw(st.sampled_from([{"type": "ElicitSlot", "slotToElicit": "CallbackDate"}, {"type": "Delegate"}]))
        event["proposedNextState"] = {"dialogAction": action, "intent": event["sessionState"]["intent"]}
    return event, draw(_REPLY)


@pytest.fixture
def scenario_items(aws: FakeAws) -> Iterator[None]:
    aws.put_scenario(scenario=sentences(50), greeting=sentences(400)[:10_400])
    yield


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=lex_events())
def test_every_response_to_a_generated_event_is_one_lex_accepts(
    scenario_items: None,
    handler: types.ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: LambdaContext,
    case: tuple[dict[str, Any], str],
) -> None:
    event, reply = case
    # Bedrock answers with the generated text (the Bedrock module's own tests cover its wire format).
    monkeypatch.setattr(handler, "_bedrock_reply", lambda *args, **kwargs: reply)
    response = handler.lambda_handler(event, lambda_context)
    attributes = check(response)
    if "interactionKey" in event.get("requestAttributes", {}):
        assert attributes.get("interactionKey") == INTERACTION_KEY  # the call's key is the last thing dropped
