"""Adopting an existing bot's data (issue 6 section 5): configurable key attribute names and item key layouts.

The settings come from the environment as Terraform sets them (``INTERACTION_KEY_ATTRIBUTES``,
``SCENARIO_KEY_LAYOUTS``); the items are in moto, Bedrock is a Stubber.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import INTERACTION_KEY, LEAD_ID, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext

LoadEvent = Callable[..., dict[str, Any]]
OLD_KEY = f"{LEAD_ID}|20250129T100000"  # the old bot's key: lead id and call time
LAYOUTS = [
    {"key_pattern": "^[A-Za-z0-9_-]{8,128}$", "partition_key": "INTERACTION#{key}", "sort_key": "SCENARIO"},
    {
        "key_pattern": r"^(?P<lead>[A-Za-z0-9]{18})\|(?P<at>\d{8}T\d{6})$",
        "partition_key": "LEAD#{lead}",
        "sort_key": "CALL#{at}",
    },
]


@pytest.fixture
def adopted(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> types.ModuleType:
    monkeypatch.setenv("INTERACTION_KEY_ATTRIBUTES", json.dumps(["callKey", "interactionKey"]))
    monkeypatch.setenv("SCENARIO_KEY_LAYOUTS", json.dumps(LAYOUTS))
    lead = {"FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines Ltd"}
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json=lead)
    aws.put_scenario(
        OLD_KEY,
        scenario="The old bot's scenario.",
        greeting="Hello from before!",
        key=(
            f"LEAD#{LEAD_ID}",
            "CALL#20250129T100000",
        ),
    )
    aws.put_scenario(scenario="A new call's scenario.", greeting="Hi, new call!")
    aws.counter.reset()
    return load_handler("LexFulfillmentHandler")


def _greeting(load_event: LoadEvent, **request_attributes: str) -> dict[str, Any]:
    event = load_event("lex_greeting_first_turn")
    event["requestAttributes"] = request_attributes
    return event


def test_an_in_flight_call_in_the_old_layout_finds_its_item(
    adopted: types.ModuleType, aws: FakeAws, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    response = adopted.lambda_handler(_greeting(load_event, callKey=OLD_KEY), lambda_context)
    assert response["messages"][0]["content"] == "Hello from before!"
    attributes = response["sessionState"]["sessionAttributes"]
    assert attributes["callKey"] == OLD_KEY and "interactionKey" not in attributes  # kept under its own name
    assert aws.counter.count("dynamodb", "GetItem") == 1


def test_a_new_call_uses_the_default_layout_and_the_second_name(
    adopted: types.ModuleType, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    response = adopted.lambda_handler(_greeting(load_event, interactionKey=INTERACTION_KEY), lambda_context)
    assert response["messages"][0]["content"] == "Hi, new call!"


def test_the_key_is_read_again_from_the_session_on_the_next_turn(
    adopted: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    first = adopted.lambda_handler(_greeting(load_event, callKey=OLD_KEY), lambda_context)
    event = load_event("lex_question_turn")
    event["sessionState"]["sessionAttributes"] = first["sessionState"]["sessionAttributes"]
    bedrock.reply("Happy to help.")
    adopted.lambda_handler(event, lambda_context)
    assert "The old bot's scenario." in bedrock.bodies[0]["system"]
    assert aws.counter.count("dynamodb") == 1


def test_a_key_matching_no_layout_is_a_configuration_error_logged_once_per_container(
    adopted: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for n in range(5):
        event = load_event("lex_question_turn")
        event["sessionState"]["sessionAttributes"] = {"callKey": f"call#{n}#2025"}  # '#' is in no layout
        bedrock.reply("Happy to help.")
        response = adopted.lambda_handler(event, lambda_context)
        assert response["sessionState"]["intent"]["state"] == "Fulfilled"
        assert adopted.GENERIC_SCENARIO in bedrock.bodies[-1]["system"]
    assert aws.counter.count("dynamodb") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    unmatched = [line for line in lines if line.get("event") == "interaction_key_unmatched"]
    assert len(unmatched) == 1 and unmatched[0]["level"] == "ERROR" and unmatched[0]["attribute"] == "callKey"
    assert "scenario_key_layouts" in unmatched[0]["message"]
    assert not [line for line in lines if line["level"] == "WARNING" and "interaction" in line["message"].lower()]


def test_an_invalid_layout_fails_the_cold_start_naming_the_variable(
    aws: FakeAws, load_handler: Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    from atlas_shared.exceptions import ConfigurationError

    bad = [{"key_pattern": "^(?P<k>.+)$", "partition_key": "INTERACTION#{lead}", "sort_key": "SCENARIO"}]
    monkeypatch.setenv("SCENARIO_KEY_LAYOUTS", json.dumps(bad))
    with pytest.raises(ConfigurationError) as caught:
        load_handler("LexFulfillmentHandler")
    assert "SCENARIO_KEY_LAYOUTS" in str(caught.value) and "lead" in str(caught.value)
