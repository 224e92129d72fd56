"""InvokeOutboundCallHandler: the StartOutboundVoiceContact request (Stubber) and its idempotency."""

from __future__ import annotations

import types
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared.exceptions import ConfigurationError, InvalidInputError, OutboundCallError, OutboundCallThrottledError
from tests.conftest import BASE_ENV, INTERACTION_KEY, LEAD_ID, TABLE_NAME, FakeAws, FakeConnect, LambdaContext
from tests.functional.handlers.idempotency_support import record_key

LoadEvent = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def _idempotency_table(aws: FakeAws) -> None:
    """moto DynamoDB for the idempotency record (tests/functional/handlers/test_workflow_idempotency.py)."""


@pytest.fixture
def handler(connect: FakeConnect, load_handler: Callable[[str], types.ModuleType]) -> types.ModuleType:
    return load_handler("InvokeOutboundCallHandler")


def test_starts_the_call_with_the_interaction_key(
    handler: types.ModuleType, connect: FakeConnect, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    connect.started("contact-123")
    result = handler.lambda_handler(load_event("sfn_invoke_outbound_call"), lambda_context)
    assert result == {"contact_id": "contact-123", "interaction_key": INTERACTION_KEY, "lead_id": LEAD_ID}
    (request,) = connect.requests
    assert request["DestinationPhoneNumber"] == "+14155550123"
    assert request["InstanceId"] == BASE_ENV["CONNECT_INSTANCE_ID"]
    assert request["ContactFlowId"] == BASE_ENV["CONNECT_CONTACT_FLOW_ID"]
    assert request["QueueId"] == BASE_ENV["CONNECT_QUEUE_ID"] and "SourcePhoneNumber" not in request
    assert request["Attributes"] == {"interactionKey": INTERACTION_KEY, "leadId": LEAD_ID}
    assert uuid.UUID(request["ClientToken"]).version == 5


def test_client_token_is_stable_across_retries(
    handler: types.ModuleType, connect: FakeConnect, aws: FakeAws, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    connect.started()
    first = handler.lambda_handler(load_event("sfn_invoke_outbound_call"), lambda_context)
    # A repeat delivery is answered from the idempotency record: Connect is not asked again.
    assert handler.lambda_handler(load_event("sfn_invoke_outbound_call"), lambda_context) == first
    assert len(connect.requests) == 1
    # Without the record (it expired, or a delivery crashed before completing it) the retry reaches Connect with the
    # same token, and Connect returns the first contact.
    aws.dynamodb.delete_item(TableName=TABLE_NAME, Key=record_key(aws, "InvokeOutboundCall"))
    connect.started()
    handler.lambda_handler(load_event("sfn_invoke_outbound_call"), lambda_context)
    other_execution = load_event("sfn_invoke_outbound_call", idempotency_key="atlas-another-execution")
    connect.started()
    handler.lambda_handler(other_execution, lambda_context)
    first, retry, other = (r["ClientToken"] for r in connect.requests)
    assert first == retry and first != other


def test_without_idempotency_key_the_token_follows_the_interaction_key(
    handler: types.ModuleType, connect: FakeConnect, aws: FakeAws, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    event = load_event("sfn_invoke_outbound_call")
    del event["idempotency_key"]
    for _ in range(2):
        connect.started()
        handler.lambda_handler(event, lambda_context)
        # the record is keyed on the interaction key too; drop it so the second delivery reaches Connect
        aws.dynamodb.delete_item(TableName=TABLE_NAME, Key=record_key(aws, "InvokeOutboundCall"))
    assert connect.requests[0]["ClientToken"] == connect.requests[1]["ClientToken"]


def test_source_number_and_phone_override(
    connect: FakeConnect,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONNECT_QUEUE_ID")
    monkeypatch.setenv("CONNECT_SOURCE_PHONE_NUMBER", "+14155550100")
    connect.started()
    event = load_event("sfn_invoke_outbound_call", phone_number="+44 20 7946 0958")
    load_handler("InvokeOutboundCallHandler").lambda_handler(event, lambda_context)
    (request,) = connect.requests
    assert request["SourcePhoneNumber"] == "+14155550100" and "QueueId" not in request
    assert request["DestinationPhoneNumber"] == "+442079460958"


def test_needs_a_queue_or_a_source_number(
    connect: FakeConnect, load_handler: Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONNECT_QUEUE_ID")
    with pytest.raises(ConfigurationError, match="CONNECT_QUEUE_ID or CONNECT_SOURCE_PHONE_NUMBER"):
        load_handler("InvokeOutboundCallHandler")


def test_needs_instance_and_flow(
    connect: FakeConnect, load_handler: Callable[[str], types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONNECT_CONTACT_FLOW_ID")
    with pytest.raises(ConfigurationError, match="CONNECT_CONTACT_FLOW_ID"):
        load_handler("InvokeOutboundCallHandler")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["lead"].update(Phone="555-0123"), "lead.Phone is not an E.164"),
        (lambda e: e["lead"].pop("Phone"), "lead.Phone is required"),
        (lambda e: e.pop("interaction_key"), "interaction_key"),
        (lambda e: e.update(interaction_key="bad key!"), "interaction_key"),
        (lambda e: e.update(lead_id="nope"), "lead_id"),
    ],
)
def test_bad_input_is_rejected_before_calling(
    handler: types.ModuleType,
    connect: FakeConnect,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    mutate: Callable[[dict[str, Any]], Any],
    message: str,
) -> None:
    event = load_event("sfn_invoke_outbound_call")
    mutate(event)
    with pytest.raises(InvalidInputError, match=message):
        handler.lambda_handler(event, lambda_context)
    assert connect.requests == []


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("LimitExceededException", OutboundCallThrottledError),
        ("InternalServiceException", OutboundCallThrottledError),
        ("DestinationNotAllowedException", OutboundCallError),
        ("InvalidParameterException", OutboundCallError),
    ],
)
def test_connect_errors_are_classified_for_retries(
    handler: types.ModuleType,
    connect: FakeConnect,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    code: str,
    error: type[Exception],
) -> None:
    connect.fail(code)
    with pytest.raises(error) as caught:
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), lambda_context)
    assert type(caught.value) is error and caught.value.code == code  # type: ignore[attr-defined]
