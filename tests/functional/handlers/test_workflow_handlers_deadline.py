"""The Step Functions tasks against dependencies that stall: each ends with a named error before its timeout.

A task that Lambda stops at its timeout reports only ``Sandbox.Timedout``; the workflow's Retry and Catch need
the dependency's own name (``BedrockError``, ``ScenarioStoreError``, ``SecretError``,
``SalesforceUnavailableError``, ``OutboundCallThrottledError``). Time is a fake clock behind the Lambda context
(slow_dependencies.py); timeouts are main.tf's function_defaults.
"""

from __future__ import annotations

import itertools
import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared import bedrock, clients
from atlas_shared.deadline import SAFETY_MARGIN_SECONDS
from atlas_shared.exceptions import (
    BedrockError,
    IdempotencyStoreError,
    OutboundCallThrottledError,
    SalesforceUnavailableError,
    ScenarioStoreError,
    SecretError,
)
from atlas_shared.salesforce import SalesforceConnection, _new_http_session, set_salesforce
from tests.conftest import LEAD_ID, SECRET_NAME
from tests.functional.handlers.slow_dependencies import (
    ClockedContext,
    FakeClock,
    SlowAwsClient,
    SlowSalesforce,
    bedrock_answer,
)

LoadHandler = Callable[[str], types.ModuleType]
LoadEvent = Callable[..., dict[str, Any]]
SCENARIO_JSON = json.dumps({"scenario": "Ada asked about the premium plan. Offer a demo.", "greeting": "Hi Ada!"})


def _idempotency_table(clock: FakeClock, behaviour: str | list[str] = "ok") -> SlowAwsClient:
    """The DynamoDB client the idempotency record uses (Powertools calls these four operations)."""
    client = SlowAwsClient(
        clock,
        "dynamodb",
        behaviour,
        {op: lambda _: {} for op in ("put_item", "update_item", "delete_item", "get_item")},
    )
    clients.set_client("dynamodb", client)
    return client


@pytest.fixture(autouse=True)
def _answering_idempotency_table() -> None:
    """CreateLead, InvokeOutboundCall and UpdateLead write an idempotency record first; here it answers at once.

    GenerateDynamicScenario's tests replace the client with their own.
    """
    _idempotency_table(FakeClock())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    monkeypatch.setattr(bedrock, "_sleep", clock.advance)
    return clock


# ------------------------------------------------------------------------------------------------ GenerateDynamicScenario


@pytest.mark.parametrize(
    ("timeout", "model", "table", "error", "model_calls"),
    [
        (60, "hang", "ok", BedrockError, 2),  # both attempts stall 12 s
        (60, ["hang", "slow"], "hang", ScenarioStoreError, 2),  # the second answers at 24 s, the PutItem stalls 9 s
        (30, "hang", "ok", BedrockError, 1),  # a shorter timeout: the PutItem's 9 s leave no room for a second try
        (20, "ok", "ok", BedrockError, 0),  # 20 - 2 - 9 = 9 s: not even one Bedrock attempt fits
    ],
)
def test_generate_ends_with_a_named_error_before_its_timeout(
    load_handler: LoadHandler,
    load_event: LoadEvent,
    clock: FakeClock,
    timeout: float,
    model: Any,
    table: str,
    error: type[Exception],
    model_calls: int,
) -> None:
    handler = load_handler("GenerateDynamicScenarioHandler")
    model_client = SlowAwsClient(clock, "bedrock-runtime", model, {"converse": bedrock_answer(SCENARIO_JSON)})
    table_client = SlowAwsClient(clock, "dynamodb", table, {"put_item": lambda _: {}})
    clients.set_client("bedrock-runtime", model_client)
    clients.set_client("dynamodb", table_client)

    with pytest.raises(error):
        handler.lambda_handler(
            load_event("sfn_generate_scenario"), ClockedContext(clock=clock, timeout_seconds=timeout)
        )

    assert len(model_client.calls) == model_calls
    assert table_client.calls == (["put_item"] if error is ScenarioStoreError else [])
    assert clock.now <= timeout - SAFETY_MARGIN_SECONDS


def test_generate_succeeds_after_one_stalled_attempt(
    load_handler: LoadHandler, load_event: LoadEvent, clock: FakeClock
) -> None:
    handler = load_handler("GenerateDynamicScenarioHandler")
    clients.set_client(
        "bedrock-runtime",
        SlowAwsClient(clock, "bedrock-runtime", ["hang", "slow"], {"converse": bedrock_answer(SCENARIO_JSON)}),
    )
    clients.set_client("dynamodb", SlowAwsClient(clock, "dynamodb", "slow", {"put_item": lambda _: {}}))
    result = handler.lambda_handler(
        load_event("sfn_generate_scenario"), ClockedContext(clock=clock, timeout_seconds=60)
    )
    assert result["lead_id"] == LEAD_ID
    assert clock.now <= 60 - SAFETY_MARGIN_SECONDS


# ------------------------------------------------------------------------------------------------ InvokeOutboundCall


def _connect(clock: FakeClock, behaviour: str) -> SlowAwsClient:
    client = SlowAwsClient(
        clock, "connect", behaviour, {"start_outbound_voice_contact": lambda _: {"ContactId": "contact-1"}}
    )
    clients.set_client("connect", client)
    return client


def test_a_stalled_connect_is_a_retryable_error(load_handler: LoadHandler, load_event: LoadEvent) -> None:
    clock = FakeClock()
    handler = load_handler("InvokeOutboundCallHandler")
    client = _connect(clock, "hang")
    with pytest.raises(OutboundCallThrottledError) as caught:
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), ClockedContext(clock=clock, timeout_seconds=60))
    assert caught.value.code == "ReadTimeoutError" and client.calls == ["start_outbound_voice_contact"]
    assert clock.now <= 60 - SAFETY_MARGIN_SECONDS


def test_thirty_seconds_leave_connect_no_room_after_the_record(
    load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    """30 - 2 (margin) - 9 (kept for completing the idempotency record) = 19 s < Connect's 25 s: main.tf gives 60 s."""
    clock = FakeClock()
    handler = load_handler("InvokeOutboundCallHandler")
    client = _connect(clock, "ok")
    with pytest.raises(OutboundCallThrottledError) as caught:
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), ClockedContext(clock=clock, timeout_seconds=30))
    assert caught.value.code == "DeadlineExceeded" and client.calls == []


@pytest.mark.parametrize(
    ("task", "event"),
    [
        ("CreateLeadHandler", "sfn_create_lead"),
        ("UpdateLeadHandler", "sfn_update_lead"),
        ("InvokeOutboundCallHandler", "sfn_invoke_outbound_call"),
    ],
)
def test_a_stalled_idempotency_table_is_a_retryable_error_before_any_side_effect(
    load_handler: LoadHandler, load_event: LoadEvent, salesforce_secret: dict[str, Any], task: str, event: str
) -> None:
    clock = FakeClock()
    handler = load_handler(task)
    table = _idempotency_table(clock, "hang")
    transport = _salesforce(clock, salesforce_secret, {"secret": "ok", "token": "ok", "rest": "ok"})
    connect = _connect(clock, "ok")
    timeout = 60 if task == "InvokeOutboundCallHandler" else 30
    with pytest.raises(IdempotencyStoreError, match="could not be written"):
        handler.lambda_handler(load_event(event), ClockedContext(clock=clock, timeout_seconds=timeout))
    assert table.calls == ["put_item"] and connect.calls == [] and transport.urls == []
    assert clock.now <= timeout - SAFETY_MARGIN_SECONDS


def test_no_call_is_started_without_time_for_all_its_attempts(load_handler: LoadHandler, load_event: LoadEvent) -> None:
    clock = FakeClock()
    handler = load_handler("InvokeOutboundCallHandler")
    client = _connect(clock, "ok")
    with pytest.raises(OutboundCallThrottledError) as caught:
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), ClockedContext(clock=clock, timeout_seconds=20))
    assert caught.value.code == "DeadlineExceeded" and client.calls == []


# ------------------------------------------------------------------------------------------------ Salesforce tasks

SALESFORCE_BEHAVIOURS = {
    "secret": ("ok", "slow", "hang"),
    "token": ("ok", "slow", "hang"),
    "rest": ("ok", "slow", "hang", ("expired", "slow")),
}
COMBINATIONS = [
    dict(zip(SALESFORCE_BEHAVIOURS, c, strict=True)) for c in itertools.product(*SALESFORCE_BEHAVIOURS.values())
]


def _ids(behaviour: dict[str, Any]) -> str:
    return "-".join(v if isinstance(v, str) else "+".join(v) for v in behaviour.values())


def _salesforce(clock: FakeClock, salesforce_secret: dict[str, Any], behaviour: dict[str, Any]) -> SlowSalesforce:
    secrets = SlowAwsClient(
        clock,
        "secretsmanager",
        behaviour["secret"],
        {"get_secret_value": lambda _: {"SecretString": json.dumps(salesforce_secret)}},
    )
    clients.set_client("secretsmanager", secrets)
    # One body serves every REST call of both tasks: the duplicate check finds nothing, the create returns an id.
    transport = SlowSalesforce(
        clock, token=behaviour["token"], lead=behaviour["rest"], record={"records": [], "id": LEAD_ID, "success": True}
    )
    set_salesforce(
        SalesforceConnection(SECRET_NAME, http_session_factory=lambda: transport.mount_on(_new_http_session()))
    )
    return transport


@pytest.mark.parametrize("task", ["CreateLeadHandler", "UpdateLeadHandler"])
@pytest.mark.parametrize("behaviour", COMBINATIONS, ids=_ids)
def test_salesforce_tasks_end_before_their_timeout(
    load_handler: LoadHandler,
    load_event: LoadEvent,
    salesforce_secret: dict[str, Any],
    task: str,
    behaviour: dict[str, Any],
) -> None:
    clock = FakeClock()
    handler = load_handler(task)
    _salesforce(clock, salesforce_secret, behaviour)
    event = load_event("sfn_create_lead" if task == "CreateLeadHandler" else "sfn_update_lead")
    try:
        result = handler.lambda_handler(event, ClockedContext(clock=clock, timeout_seconds=30))
    except (SecretError, SalesforceUnavailableError) as exc:
        result = exc
    assert clock.now <= 30 - SAFETY_MARGIN_SECONDS + 1e-6
    if behaviour["secret"] == "hang":
        assert isinstance(result, SecretError)
    elif "hang" in (behaviour["token"], behaviour["rest"]):
        assert isinstance(result, SalesforceUnavailableError)
    elif behaviour == {"secret": "ok", "token": "ok", "rest": "ok"}:
        assert isinstance(result, dict) and result["lead_id"] == LEAD_ID
