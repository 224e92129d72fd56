"""GenerateDynamicScenarioHandler: Bedrock (Stubber) asked for a scenario, the item stored in DynamoDB (moto)."""

from __future__ import annotations

import json
import re
import time
import types
from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared.exceptions import BedrockError, InvalidInputError
from tests.conftest import LEAD_ID, FakeAws, FakeBedrock, LambdaContext

LoadEvent = Callable[..., dict[str, Any]]
REPLY = json.dumps(
    {
        "scenario": "Ada Lovelace is CTO at Analytical Engines and asked about the premium plan. Offer a demo.",
        "greeting": "Hi Ada, this is Sam from Atlas! Do you have a minute?",
    }
)


@pytest.fixture
def handler(
    aws: FakeAws, bedrock: FakeBedrock, load_handler: Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> types.ModuleType:
    monkeypatch.setenv("BEDROCK_MAX_TOKENS", "200")
    monkeypatch.setenv("BEDROCK_TEMPERATURE", "0.8")
    return load_handler("GenerateDynamicScenarioHandler")


def test_stores_the_scenario_item_and_returns_the_key(
    handler: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply(REPLY)
    before = int(time.time())
    result = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)

    assert set(result) == {"interaction_key", "lead_id"} and result["lead_id"] == LEAD_ID
    assert re.fullmatch(r"[0-9a-f]{32}", result["interaction_key"])
    item = aws.get_scenario_item(result["interaction_key"])
    assert item is not None
    assert item["PK"] == {"S": f"INTERACTION#{result['interaction_key']}"} and item["SK"] == {"S": "SCENARIO"}
    assert item["DynamicScenario"]["S"].startswith("Ada Lovelace is CTO")
    assert item["Greeting"]["S"] == "Hi Ada, this is Sam from Atlas! Do you have a minute?"
    assert item["LeadId"] == {"S": LEAD_ID}
    # The Lead's details, so the call's turns need no Salesforce read (issue 9 section 2).
    assert item["LeadName"] == {"S": "Ada Lovelace"}
    assert item["LeadCompany"] == {"S": "Analytical Engines Ltd"} and item["LeadTitle"] == {"S": "CTO"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["CreatedAt"]["S"])
    assert before + 7 * 86400 <= int(item["ExpiresAt"]["N"]) <= int(time.time()) + 7 * 86400


def test_bedrock_request_uses_200_tokens_at_0_8_and_no_contact_details(
    handler: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply(REPLY)
    handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    (body,) = bedrock.bodies
    assert set(bedrock.requests[-1]) == {
        "modelId",
        "system",
        "messages",
        "inferenceConfig",
        "additionalModelRequestFields",
    }
    assert body["max_tokens"] == 200 and body["temperature"] == 0.8
    prompt = body["messages"][0]["content"]
    assert "Analytical Engines Ltd" in prompt and "CTO" in prompt
    assert "ada@example.com" not in prompt and "555" not in prompt
    assert "JSON" in body["system"]


def test_a_retried_step_keeps_the_first_scenario_and_key(
    handler: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.reply(REPLY)
    first = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    bedrock.reply(json.dumps({"scenario": "A different scenario.", "greeting": "Hello!"}))
    second = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    assert second == first
    assert aws.get_scenario_item(first["interaction_key"])["DynamicScenario"]["S"].startswith("Ada Lovelace")


def test_without_an_idempotency_key_each_run_gets_a_new_key(
    handler: types.ModuleType, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("sfn_generate_scenario")
    del event["idempotency_key"]
    keys = set()
    for _ in range(2):
        bedrock.reply(REPLY)
        keys.add(handler.lambda_handler(event, lambda_context)["interaction_key"])
    assert len(keys) == 2


@pytest.mark.parametrize(
    ("reply", "stop_reason", "scenario", "greeting"),
    [
        (f"```json\n{REPLY}\n```", "end_turn", "Ada Lovelace is CTO", "Hi Ada, this is Sam from Atlas!"),
        (f"Here you go:\n{REPLY}\nHope that helps.", "end_turn", "Ada Lovelace is CTO", "Hi Ada, this is Sam"),
        (
            '{"scenario": "Ada runs engineering. She wants a demo", "greeting": "Hi Ada, thanks for',
            "max_tokens",
            "Ada runs engineering. She wants a demo",
            "Hi Ada, thanks for taking my call!",
        ),
        (
            '{"scenario": "Ada runs engineering. She wants a demo of the',
            "max_tokens",
            "Ada runs engineering.",
            "Hi Ada, thanks for taking my call!",
        ),
        (
            "Ada runs engineering and wants a demo.",
            "end_turn",
            "Ada runs engineering and wants a demo.",
            "Hi Ada, thanks for taking my call!",
        ),
    ],
)
def test_answers_are_parsed_leniently(
    handler: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    reply: str,
    stop_reason: str,
    scenario: str,
    greeting: str,
) -> None:
    bedrock.reply(reply, stop_reason=stop_reason)
    result = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    item = aws.get_scenario_item(result["interaction_key"])
    assert item["DynamicScenario"]["S"].startswith(scenario)
    assert item["Greeting"]["S"].startswith(greeting)
    assert item["Greeting"]["S"].rstrip()[-1] in ".!?"  # never half a sentence


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e.pop("lead"), "lead"),
        (lambda e: e["lead"].pop("LastName"), "lead.LastName"),
        (lambda e: e["lead"].update(Company="  "), "lead.Company"),
        (lambda e: e.pop("lead_id"), "lead_id"),
        (lambda e: e.update(lead_id="not-an-id"), "lead_id"),
    ],
)
def test_bad_input_is_rejected_before_any_call(
    handler: types.ModuleType,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    mutate: Callable[[dict[str, Any]], Any],
    field: str,
) -> None:
    event = load_event("sfn_generate_scenario")
    mutate(event)
    with pytest.raises(InvalidInputError, match=re.escape(field)):
        handler.lambda_handler(event, lambda_context)
    assert bedrock.bodies == []


def test_bedrock_failure_fails_the_step_for_a_retry(
    handler: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    bedrock.fail("ThrottlingException")
    with pytest.raises(BedrockError):
        handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    assert aws.counter.count("dynamodb", "PutItem") == 0


def test_a_lead_without_a_title_stores_no_empty_attribute(
    handler: types.ModuleType, aws: FakeAws, bedrock: FakeBedrock, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("sfn_generate_scenario")
    event["lead"].pop("Title", None)
    event["lead"].pop("FirstName", None)
    bedrock.reply(REPLY)
    item = aws.get_scenario_item(handler.lambda_handler(event, lambda_context)["interaction_key"])
    assert item is not None and "LeadTitle" not in item
    assert item["LeadName"] == {"S": "Lovelace"}


def test_a_custom_key_layout_is_used_for_the_item(
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_handler: Callable[[str], types.ModuleType],
    monkeypatch: pytest.MonkeyPatch,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    layouts = [{"key_pattern": "^(?P<k>[0-9a-f]{32})$", "partition_key": "CALL#{k}", "sort_key": "SCENARIO#v1"}]
    monkeypatch.setenv("SCENARIO_KEY_LAYOUTS", json.dumps(layouts))
    handler = load_handler("GenerateDynamicScenarioHandler")
    bedrock.reply(REPLY)
    key = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)["interaction_key"]
    item = aws.dynamodb.get_item(
        TableName="atlas-scenarios-test", Key={"PK": {"S": f"CALL#{key}"}, "SK": {"S": "SCENARIO#v1"}}
    ).get("Item")
    assert item is not None and item["LeadId"] == {"S": LEAD_ID}
