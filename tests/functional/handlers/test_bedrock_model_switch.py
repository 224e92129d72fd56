"""Issue 8: the handlers' Bedrock calls are set by environment alone (what the Terraform ``bedrock`` variable sets).

A Nova model, streaming with a sentence limit, and the scenario handler keeping its own settings, each without a
code change. Bedrock is the botocore Stubber (requests validated against the Converse model) or the queued
ConverseStream fake of tests/conftest.py.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import LEAD_ID, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext

LoadEvent = Callable[..., dict[str, Any]]
NOVA = "us.amazon.nova-micro-v1:0"
LEAD = {"attributes": {"type": "Lead"}, "Id": LEAD_ID, "FirstName": "Ada", "LastName": "Lovelace", "Company": "AE"}


@pytest.fixture
def load_lex(
    aws: FakeAws, bedrock: FakeBedrock, salesforce_api: FakeSalesforce, load_handler: Callable[[str], types.ModuleType]
) -> Callable[[], types.ModuleType]:
    aws.put_scenario(scenario="A follow-up call about the premium plan.", greeting="Hi Ada!")
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=LEAD)
    return lambda: load_handler("LexFulfillmentHandler")


def spoken(response: dict[str, Any]) -> str:
    return response["messages"][0]["content"]


def test_a_nova_model_by_environment_alone(
    load_lex: Callable[[], types.ModuleType],
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEDROCK_MODEL_ID", NOVA)
    lex = load_lex()
    bedrock.reply("The premium plan adds priority support.", model_id=NOVA)
    response = lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert spoken(response) == "The premium plan adds priority support."
    (request,) = bedrock.requests
    assert request["modelId"] == NOVA
    assert "additionalModelRequestFields" not in request  # no Anthropic thinking field for Nova
    assert request["inferenceConfig"] == {"maxTokens": 150, "temperature": 0.7}


def test_the_default_model_gets_its_thinking_turned_off(
    load_lex: Callable[[], types.ModuleType], bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    lex = load_lex()
    bedrock.reply("Yes.")
    lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert bedrock.requests[0]["additionalModelRequestFields"] == {"thinking": {"type": "disabled"}}


def test_a_turn_stops_at_three_sentences_by_default(
    load_lex: Callable[[], types.ModuleType], bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    lex = load_lex()
    bedrock.reply("One. Two. Three. Four. Five.")
    assert spoken(lex.lambda_handler(load_event("lex_question_turn"), lambda_context)) == "One. Two. Three."


def test_streaming_turn_stops_reading_at_its_sentences(
    load_lex: Callable[[], types.ModuleType],
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEDROCK_STREAM", "true")
    monkeypatch.setenv("BEDROCK_MAX_SENTENCES", "2")
    lex = load_lex()
    bedrock.reply_stream(["It adds support.", " And onboarding.", " And a named", " engineer."])
    assert spoken(lex.lambda_handler(load_event("lex_question_turn"), lambda_context)) == (
        "It adds support. And onboarding."
    )
    assert bedrock.streams[0].closed and bedrock.streams[0].read == 3


def test_the_scenario_handler_keeps_converse_when_streaming_is_on(
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BEDROCK_STREAM", "true")
    monkeypatch.setenv("BEDROCK_MAX_SENTENCES", "1")
    monkeypatch.setenv("BEDROCK_MAX_TOKENS", "200")
    handler = load_handler("GenerateDynamicScenarioHandler")
    bedrock.reply(json.dumps({"scenario": "Call Ada. Offer a demo. Ask about timing.", "greeting": "Hi Ada!"}))
    handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    assert bedrock.streams == [] and bedrock.requests[0]["inferenceConfig"]["maxTokens"] == 200
