"""Calls per Lex turn, counted below the SDK, for whole calls (issues 6 and 9).

AWS calls are counted by botocore's ``provide-client-params`` hook on the moto-backed clients (DynamoDB,
Secrets Manager) and on the Stubber-backed Bedrock client; Salesforce's token endpoint and REST API are
``responses`` fakes, so every HTTP request to them is seen. The target (issue 9): every turn after the first
of a call calls Bedrock only, and a call that opens with its greeting does its lookups there, so the caller's
first question is Bedrock-only too. A phone call, whose scenario item carries the Lead's details, needs no
Salesforce at all.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

import pytest
import responses

from atlas_shared.salesforce import SalesforceConnection, set_salesforce
from atlas_shared.secrets import SecretCache, set_secret_cache
from tests.conftest import INTERACTION_KEY, LEAD_ID, SECRET_NAME, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext

SCENARIO = "Ada Lovelace, CTO of Analytical Engines, asked about the premium plan. Offer a demo next week."
GREETING = "Hi Ada, this is Sam from Atlas. Thanks for your interest in our premium plan!"
LEAD = {"Id": LEAD_ID, "FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines Ltd", "Title": "CTO"}
LEAD_DETAILS = {"name": "Ada Lovelace", "company": "Analytical Engines Ltd", "title": "CTO"}
OTHER_KEY = "1a2b3c4d5e6f708192a3b4c5d6e7f809"
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]

LoadEvent = Callable[..., dict[str, Any]]


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Call:
    """Plays one Lex call against the handler and records the calls each turn made."""

    def __init__(
        self,
        lex: types.ModuleType,
        aws: FakeAws,
        bedrock: FakeBedrock,
        salesforce_api: FakeSalesforce,
        load_event: LoadEvent,
        context: LambdaContext,
        interaction_key: str = INTERACTION_KEY,
    ) -> None:
        self.lex, self.aws, self.bedrock, self.sf = lex, aws, bedrock, salesforce_api
        self.load_event, self.context = load_event, context
        self.interaction_key = interaction_key
        self.attributes: dict[str, str] | None = None
        self.responses: list[dict[str, Any]] = []

    def _counts(self) -> dict[str, int]:
        return {
            "secretsmanager": self.aws.counter.count("secretsmanager"),
            "dynamodb": self.aws.counter.count("dynamodb"),
            "bedrock": len(self.bedrock.bodies),
            "salesforce_token": len(self.sf.token_requests),
            "salesforce_rest": len(self.sf.rest_calls()),
        }

    def turn(self, kind: str, words: str = "What does the premium plan include?") -> dict[str, int]:
        """Send a greeting (``"greeting"``) or a question; return the calls this turn made, by service."""
        if kind == "greeting":
            event = self.load_event("lex_greeting_first_turn")
        else:
            event = self.load_event("lex_question_turn", inputTranscript=words)
            self.bedrock.reply("The premium plan adds priority support. Would a short demo help?")
        if self.attributes is None:  # first turn: Connect passes the key as a request attribute
            event["sessionState"]["sessionAttributes"] = {}
            event["requestAttributes"] = {"interactionKey": self.interaction_key}
        else:
            event["sessionState"]["sessionAttributes"] = dict(self.attributes)
            event.pop("requestAttributes", None)
        before = self._counts()
        response = self.lex.lambda_handler(event, self.context)
        after = self._counts()
        assert response["sessionState"]["intent"]["state"] == "Fulfilled", response
        self.attributes = response["sessionState"]["sessionAttributes"]
        self.responses.append(response)
        return {k: after[k] - before[k] for k in after if after[k] - before[k]}


BEDROCK_ONLY = {"bedrock": 1}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lex(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    clock: FakeClock,
) -> types.ModuleType:
    """A cold container whose Salesforce connection and secret cache run on a clock the test moves."""
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=LEAD)
    module = load_handler("LexFulfillmentHandler")
    set_secret_cache(SecretCache(ttl_seconds=300, clock=clock))
    set_salesforce(SalesforceConnection(SECRET_NAME, clock=clock, api_version="59.0", session_timeout_minutes=120))
    aws.counter.reset()
    return module


@pytest.fixture
def new_call(
    lex: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> Callable[..., Call]:
    def start(interaction_key: str = INTERACTION_KEY) -> Call:
        return Call(lex, aws, bedrock, salesforce_api, load_event, lambda_context, interaction_key)

    return start


# ------------------------------------------------------------------------------------------------ web chat / old items


def test_a_call_opening_with_a_question(aws: FakeAws, new_call: Callable[..., Call]) -> None:
    """An item without the Lead's details: the first turn reads it all, every later turn calls only Bedrock."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    call = new_call()
    first = call.turn("question")
    assert first == {"dynamodb": 1, "secretsmanager": 1, "salesforce_token": 1, "salesforce_rest": 1, "bedrock": 1}
    for words in ("How much is it?", "Can I try it first?", "Who else uses it?"):
        assert call.turn("question", words) == BEDROCK_ONLY


def test_a_call_opening_with_greeting_intent(aws: FakeAws, bedrock: FakeBedrock, new_call: Callable[..., Call]) -> None:
    """The lookups happen on the greeting turn, which has no Bedrock call: the first question is Bedrock-only."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    call = new_call()
    greeting = call.turn("greeting")
    assert greeting == {"dynamodb": 1, "secretsmanager": 1, "salesforce_token": 1, "salesforce_rest": 1}
    assert call.responses[0]["messages"][0]["content"] == GREETING
    for words in ("What does the premium plan include?", "How much is it?", "Can I try it first?"):
        assert call.turn("question", words) == BEDROCK_ONLY
    assert "Ada Lovelace" in bedrock.bodies[0]["system"]  # the Lead read on the greeting reached Bedrock


def test_a_second_call_on_a_warm_container_reuses_the_salesforce_session(
    aws: FakeAws, new_call: Callable[..., Call]
) -> None:
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    aws.put_scenario(OTHER_KEY, scenario=SCENARIO, greeting=GREETING)
    new_call().turn("greeting")
    call = new_call(OTHER_KEY)
    assert call.turn("greeting") == {"dynamodb": 1, "salesforce_rest": 1}
    assert call.turn("question") == BEDROCK_ONLY


# ------------------------------------------------------------------------------------------------ phone calls


def test_a_phone_calls_first_turn_is_one_get_item_plus_bedrock(aws: FakeAws, new_call: Callable[..., Call]) -> None:
    """Issue 9 section 2: the workflow stored the Lead's details on the item, so no Salesforce at all."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING, lead=LEAD_DETAILS)
    call = new_call()
    assert call.turn("question") == {"dynamodb": 1, "bedrock": 1}
    assert call.turn("question", "How much is it?") == BEDROCK_ONLY
    assert json.loads(call.attributes["leadContext"]) == LEAD_DETAILS  # type: ignore[index]


def test_a_phone_call_opening_with_greeting_intent(
    aws: FakeAws, bedrock: FakeBedrock, new_call: Callable[..., Call]
) -> None:
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING, lead=LEAD_DETAILS)
    call = new_call()
    assert call.turn("greeting") == {"dynamodb": 1}
    assert call.turn("question") == BEDROCK_ONLY
    assert "Ada Lovelace" in bedrock.bodies[0]["system"] and "CTO" in bedrock.bodies[0]["system"]


def test_a_phone_call_generated_by_the_workflow_needs_no_salesforce(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    new_call: Callable[..., Call],
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    """From GenerateDynamicScenarioHandler's item to the call's first turn: one GetItem plus Bedrock."""
    generate = load_handler("GenerateDynamicScenarioHandler")
    bedrock.reply(json.dumps({"scenario": SCENARIO, "greeting": GREETING}))
    interaction_key = generate.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)["interaction_key"]
    aws.counter.reset()
    bedrock.requests.clear()
    call = new_call(interaction_key)
    assert call.turn("question") == {"dynamodb": 1, "bedrock": 1}
    assert "Ada Lovelace" in bedrock.bodies[0]["system"]


# ------------------------------------------------------------------------------------------------ idle container


@pytest.fixture
def expiring_salesforce(salesforce_api: FakeSalesforce) -> Callable[[], None]:
    """Make the Lead URL answer INVALID_SESSION_ID to any session from before :func:`expire` (as Salesforce would)."""
    state = {"valid_from_token": 0}

    def lead(request: Any) -> tuple[int, dict[str, str], str]:
        if len(salesforce_api.token_requests) <= state["valid_from_token"]:
            return 401, {"Content-Type": "application/json"}, json.dumps(INVALID_SESSION)
        return 200, {"Content-Type": "application/json"}, json.dumps(LEAD)

    salesforce_api.mock.remove(responses.GET, f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}")
    salesforce_api.mock.add_callback(responses.GET, f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", lead)

    def expire() -> None:
        state["valid_from_token"] = len(salesforce_api.token_requests)

    return expire


def test_a_container_idle_past_the_session_lifetime_refreshes_on_the_greeting(
    aws: FakeAws, new_call: Callable[..., Call], clock: FakeClock, expiring_salesforce: Callable[[], None]
) -> None:
    """No INVALID_SESSION_ID and no re-login on a question turn: the greeting turn logs in again first."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    aws.put_scenario(OTHER_KEY, scenario=SCENARIO, greeting=GREETING)
    new_call().turn("greeting")  # the container's last call
    clock.now += 3 * 3600  # idle past the 2-hour session timeout (and the secret's TTL)
    expiring_salesforce()

    call = new_call(OTHER_KEY)
    assert call.turn("greeting") == {"dynamodb": 1, "secretsmanager": 1, "salesforce_token": 1, "salesforce_rest": 1}
    assert call.turn("question") == BEDROCK_ONLY


def test_an_idle_container_refreshes_on_a_phone_calls_greeting(
    aws: FakeAws,
    new_call: Callable[..., Call],
    clock: FakeClock,
    expiring_salesforce: Callable[[], None],
    salesforce_api: FakeSalesforce,
) -> None:
    """A phone call needs no Salesforce, but its greeting turn is free time: the session is renewed there."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    aws.put_scenario(OTHER_KEY, scenario=SCENARIO, greeting=GREETING, lead=LEAD_DETAILS)
    new_call().turn("greeting")
    clock.now += 3 * 3600
    expiring_salesforce()

    phone = new_call(OTHER_KEY)
    assert phone.turn("greeting") == {"dynamodb": 1, "secretsmanager": 1, "salesforce_token": 1}
    assert phone.turn("question") == BEDROCK_ONLY
    # A web chat right after finds a live session: its Lead read is one REST call, no INVALID_SESSION_ID.
    aws.put_scenario("2b3c4d5e6f708192a3b4c5d6e7f8091a", scenario=SCENARIO, greeting=GREETING)
    chat = new_call("2b3c4d5e6f708192a3b4c5d6e7f8091a")
    assert chat.turn("question") == {"dynamodb": 1, "salesforce_rest": 1, "bedrock": 1}


def test_an_idle_container_without_a_greeting_pays_no_invalid_session_round_trip(
    aws: FakeAws, new_call: Callable[..., Call], clock: FakeClock, expiring_salesforce: Callable[[], None]
) -> None:
    """A call opening with a question still logs in on its first turn, but not after a failed REST call."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    aws.put_scenario(OTHER_KEY, scenario=SCENARIO, greeting=GREETING)
    new_call().turn("question")
    clock.now += 3 * 3600
    expiring_salesforce()
    call = new_call(OTHER_KEY)
    first = call.turn("question")
    assert first == {"dynamodb": 1, "secretsmanager": 1, "salesforce_token": 1, "salesforce_rest": 1, "bedrock": 1}
    assert call.turn("question", "How much?") == BEDROCK_ONLY


# ------------------------------------------------------------------------------------------------ rejected login


def test_a_rejected_login_is_not_retried_on_every_turn(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    new_call: Callable[..., Call],
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 6: 25 turns in a warm container with a wrong key made 50 token requests and 26 secret reads."""
    aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
    salesforce_api.reject_next_token(times=1000)
    call = new_call()
    for n in range(25):
        call.turn("question", f"Question {n}?")
        clock.now += 1  # 25 turns within one 60-second back-off window
    assert len(salesforce_api.token_requests) == 2
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 2
    assert len(bedrock.bodies) == 25  # every turn still got its reply
    out = capsys.readouterr().out
    assert out.count('"event":"salesforce_login_rejected"') == 1
    warnings = [line for line in out.splitlines() if '"level":"WARNING"' in line and "salesforce" in line]
    assert len(warnings) <= 2  # the first turn's retry and lookup failure; nothing per later turn


# ------------------------------------------------------------------------------------------------ EMF metrics


def test_a_call_emits_the_success_metrics_as_valid_emf(
    aws: FakeAws, new_call: Callable[..., Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 section 1: each read, exchange, lookup and turn is one EMF document in the configured namespace."""
    import io
    from pathlib import Path

    import jsonschema

    from atlas_shared import metrics

    schema = json.loads((Path(__file__).parents[2] / "schemas" / "cloudwatch_emf.schema.json").read_text())
    stream = io.StringIO()
    monkeypatch.setenv("METRICS_NAMESPACE", "AtlasEngine/test")
    metrics.set_stream(stream)
    try:
        aws.put_scenario(scenario=SCENARIO, greeting=GREETING)
        call = new_call()
        call.turn("question")
        first = [json.loads(line) for line in stream.getvalue().splitlines()]
        stream.truncate(0)
        stream.seek(0)
        call.turn("question", "How much is it?")
        second = [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        metrics.set_stream(None)

    def names(docs: list[dict[str, Any]]) -> dict[str, Any]:
        found = {}
        for doc in docs:
            jsonschema.validate(doc, schema)
            [directive] = doc["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "AtlasEngine/test"
            [metric] = directive["Metrics"]
            breakdown = [k for k in directive["Dimensions"][0] if k != "function"]
            found[metric["Name"]] = doc[breakdown[0]] if breakdown else doc[metric["Name"]]
        return found

    first_turn, warm_turn = names(first), names(second)
    assert first_turn["ScenarioLookup"] == "dynamodb"
    assert first_turn["SecretsManagerRead"] == 1 and first_turn["SalesforceTokenExchange"] == 1
    assert first_turn["TurnDuration"] == "reply" and "BedrockLatency" in first_turn
    assert warm_turn["ScenarioLookup"] in {"session", "container"}
    assert "SecretsManagerRead" not in warm_turn and "SalesforceTokenExchange" not in warm_turn
    assert warm_turn["TurnDuration"] == "reply" and warm_turn["BedrockOutputTokens"] >= 0
