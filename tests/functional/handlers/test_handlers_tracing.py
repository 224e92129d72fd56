"""X-Ray on a real Lex turn: no daemon and no segment (as in tests) works; with a segment, subsegments appear.

These tests switch the SDK on in this process, which patches botocore and requests for the rest of the run;
the teardown switches the SDK's recording off again so later tests see no difference.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import LEAD_ID, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext
from tests.functional.handlers.lex_format import assert_valid_lex_response


@pytest.fixture
def xray_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import xray_recorder

    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "true")
    global_sdk_config.set_sdk_enabled(True)
    yield xray_recorder
    xray_recorder.clear_trace_entities()
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    global_sdk_config.set_sdk_enabled(False)


@pytest.fixture
def lex(
    aws: FakeAws, bedrock: FakeBedrock, salesforce_api: FakeSalesforce, load_handler: Callable[[str], types.ModuleType]
) -> types.ModuleType:
    aws.put_scenario(scenario="Call Ada about the premium plan.", greeting="Hi Ada!")
    salesforce_api.mock.add(
        "GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json={"FirstName": "Ada", "LastName": "Lovelace"}
    )
    return load_handler("LexFulfillmentHandler")


def test_turn_works_with_no_segment_and_no_daemon(
    xray_on: Any,
    lex: types.ModuleType,
    bedrock: FakeBedrock,
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
) -> None:
    bedrock.reply("Sure, here is what it includes.")
    response = lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == "Sure, here is what it includes."
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"


def test_turn_records_bedrock_and_salesforce_subsegments(
    xray_on: Any,
    lex: types.ModuleType,
    bedrock: FakeBedrock,
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
) -> None:
    segment = xray_on.begin_segment("LexFulfillmentHandler-test")
    bedrock.reply("Sure.")
    lex.lambda_handler(load_event("lex_question_turn"), lambda_context)
    names = {sub.name for sub in segment.subsegments}
    xray_on.end_segment()  # emits to 127.0.0.1:2000 over UDP; nobody listens, nothing fails

    assert {"bedrock.converse", "salesforce.connect"} <= names
    assert "dynamodb" in names  # boto3 is patched
    salesforce = next(sub for sub in segment.subsegments if sub.name == "salesforce.connect")
    assert any(child.name == "login.salesforce.com" for child in salesforce.subsegments)  # requests is patched


# ------------------------------------------------------------------------- AWS_XRAY_CONTEXT_MISSING=RUNTIME_ERROR


@pytest.fixture
def runtime_error_strategy(xray_on: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The SDK on, no segment, and the strategy that makes the SDK raise ``SegmentNotFoundException``."""
    monkeypatch.setenv("AWS_XRAY_CONTEXT_MISSING", "RUNTIME_ERROR")
    xray_on.clear_trace_entities()
    yield xray_on
    xray_on.context.context_missing = "IGNORE_ERROR"  # the recorder is process-wide: leave it harmless


def test_runtime_error_strategy_never_fails_a_lex_turn(
    runtime_error_strategy: Any,
    lex: types.ModuleType,
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Patched boto3 (DynamoDB, Secrets Manager, Bedrock) and requests (Salesforce) run with no segment."""
    from aws_xray_sdk.core.exceptions.exceptions import SegmentNotFoundException

    bedrock.reply("Sure, here is what it includes.")
    response = lex.lambda_handler(load_event("lex_question_turn"), lambda_context)

    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == "Sure, here is what it includes."
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert aws.counter.count("dynamodb", "GetItem") == 1 and len(salesforce_api.rest_calls()) == 1
    assert runtime_error_strategy.context.context_missing == "LOG_ERROR"
    assert capsys.readouterr().out.count('"event":"xray_context_missing_downgraded"') == 1
    # The strategy really is the one that raises: the SDK raises it when asked directly, before the downgrade.
    runtime_error_strategy.context.context_missing = "RUNTIME_ERROR"
    with pytest.raises(SegmentNotFoundException):
        runtime_error_strategy.current_segment()


def test_runtime_error_strategy_never_fails_a_workflow_task(
    runtime_error_strategy: Any,
    aws: FakeAws,
    bedrock: FakeBedrock,
    load_handler: Callable[[str], types.ModuleType],
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
) -> None:
    handler = load_handler("GenerateDynamicScenarioHandler")
    bedrock.reply('{"scenario": "Call Ada about the premium plan.", "greeting": "Hi Ada!"}')
    result = handler.lambda_handler(load_event("sfn_generate_scenario"), lambda_context)
    assert aws.get_scenario_item(result["interaction_key"]) is not None
