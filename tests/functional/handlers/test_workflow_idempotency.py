"""Exactly once per workflow execution: CreateLead (one Lead), UpdateLead (one outcome), InvokeOutboundCall (one call).

Two deliveries of one task with the same ``idempotency_key`` overlap the way Step Functions makes them overlap
(a retry after a Lambda service error while the first invocation still runs): the first delivery is held at a
gate inside its Salesforce or Connect call while the second runs in full. Against moto DynamoDB (the idempotency
record), a ``responses`` Salesforce and a Connect fake that honours ``ClientToken``. Then the first delivery
crashing after its side effect but before its record is completed (:class:`Crash`, as a Lambda timeout would).
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from atlas_shared import clients
from atlas_shared.exceptions import IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyStoreError
from tests.conftest import LEAD_ID, FakeAws, FakeSalesforce, LambdaContext
from tests.functional.handlers.idempotency_support import (
    EXTERNAL_ID_FIELD,
    Crash,
    FakeConnect,
    Gate,
    LeadApi,
    expire_in_progress,
    record,
    records,
    run_in_thread,
)

LoadHandler = Callable[[str], types.ModuleType]
LoadEvent = Callable[..., dict[str, Any]]


@dataclass
class TimedContext(LambdaContext):
    """A Lambda context with a 60 s timeout that started now (Powertools sets the in-progress expiry from it)."""

    timeout_ms: int = 60_000

    def __post_init__(self) -> None:
        self._started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_ms - (time.monotonic() - self._started) * 1000)


@pytest.fixture
def leads(aws: FakeAws, salesforce_api: FakeSalesforce) -> LeadApi:
    return LeadApi(salesforce_api)


@pytest.fixture(params=[None, EXTERNAL_ID_FIELD], ids=["duplicate-check", "external-id-upsert"])
def create_lead(
    request: pytest.FixtureRequest, leads: LeadApi, load_handler: LoadHandler, monkeypatch: pytest.MonkeyPatch
) -> Iterator[types.ModuleType]:
    """CreateLeadHandler without (the default) and with SALESFORCE_LEAD_EXTERNAL_ID_FIELD."""
    if request.param:
        monkeypatch.setenv("SALESFORCE_LEAD_EXTERNAL_ID_FIELD", request.param)
    yield load_handler("CreateLeadHandler")


def _side_effect(handler: types.ModuleType) -> str:
    """The Salesforce operation that creates the Lead in this configuration."""
    return "upsert" if handler.SETTINGS.salesforce_lead_external_id_field else "create"


# ------------------------------------------------------------------------------------------------ CreateLead


def test_overlapping_create_lead_deliveries_make_one_lead(
    create_lead: types.ModuleType, leads: LeadApi, aws: FakeAws, load_event: LoadEvent
) -> None:
    gate = leads.gates.setdefault(_side_effect(create_lead), Gate())
    first, first_outcome = run_in_thread(
        lambda: create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-first"))
    )
    gate.wait_reached()  # the first delivery has created the Lead and not yet recorded it

    second, second_outcome = run_in_thread(
        lambda: create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-second"))
    )
    second.join(30)
    gate.release()
    first.join(30)

    assert isinstance(second_outcome.get("error"), IdempotencyInProgressError)
    assert first_outcome["result"] == {"lead_id": leads.leads[0]["Id"], "created": True}
    # Step Functions retries IdempotencyInProgressError; the retry picks up the first delivery's result.
    retry = create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-retry"))
    assert retry == first_outcome["result"]
    assert len(leads.leads) == 1
    assert leads.operations.count(_side_effect(create_lead)) == 1
    assert record(aws, "CreateLead")["Status"]["S"] == "COMPLETED"


def test_without_the_record_the_same_overlap_makes_two_leads(
    leads: LeadApi, load_handler: LoadHandler, load_event: LoadEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The measured failure (query, query, create, create) comes back when the record is switched off."""
    monkeypatch.setenv("POWERTOOLS_IDEMPOTENCY_DISABLED", "true")
    handler = load_handler("CreateLeadHandler")
    gate = leads.gates.setdefault("query", Gate())
    first, first_outcome = run_in_thread(
        lambda: handler.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-first"))
    )
    gate.wait_reached()  # the first delivery's duplicate check found nothing
    second, second_outcome = run_in_thread(
        lambda: handler.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-second"))
    )
    second.join(30)
    gate.release()
    first.join(30)
    assert leads.operations == ["query", "query", "create", "create"]
    assert len(leads.leads) == 2 and first_outcome["result"]["created"] and second_outcome["result"]["created"]


def test_create_lead_crash_after_the_create_still_gives_one_lead(
    create_lead: types.ModuleType, leads: LeadApi, aws: FakeAws, load_event: LoadEvent
) -> None:
    leads.crash_after = _side_effect(create_lead)
    context = TimedContext("req-crashed")
    with pytest.raises(Crash):
        create_lead.lambda_handler(load_event("sfn_create_lead"), context)
    assert len(leads.leads) == 1
    item = record(aws, "CreateLead")
    assert item["Status"]["S"] == "INPROGRESS"
    # The record stops counting as in progress at the crashed invocation's deadline (start + its 60 s).
    expires_in = int(item["InProgressExpiresAtMs"]["N"]) / 1000 - time.time()
    assert 55 < expires_in <= 60

    # Before that deadline, a retry neither creates a Lead nor succeeds: it is told to retry later.
    with pytest.raises(IdempotencyInProgressError):
        create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-too-early"))
    assert len(leads.leads) == 1

    # After it, the retry takes the record over; the duplicate check or the upsert finds the Lead.
    expire_in_progress(aws, "CreateLead")
    result = create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext("req-after-timeout"))
    assert result == {"lead_id": leads.leads[0]["Id"], "created": False}
    assert len(leads.leads) == 1
    assert record(aws, "CreateLead")["Status"]["S"] == "COMPLETED"


def test_a_failed_create_lead_leaves_no_record_so_the_retry_runs(
    leads: LeadApi, aws: FakeAws, salesforce_api: FakeSalesforce, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    salesforce_api.token_unavailable()
    handler = load_handler("CreateLeadHandler")
    with pytest.raises(Exception, match="Salesforce"):
        handler.lambda_handler(load_event("sfn_create_lead"), TimedContext())
    assert records(aws) == []
    assert handler.lambda_handler(load_event("sfn_create_lead"), TimedContext())["created"] is True
    assert len(leads.leads) == 1


def test_the_same_key_with_another_lead_is_refused(
    create_lead: types.ModuleType, leads: LeadApi, load_event: LoadEvent
) -> None:
    create_lead.lambda_handler(load_event("sfn_create_lead"), TimedContext())
    other = load_event("sfn_create_lead")
    other["lead"]["LastName"] = "Byron"
    with pytest.raises(IdempotencyKeyReusedError, match="different input"):
        create_lead.lambda_handler(other, TimedContext())
    assert len(leads.leads) == 1


def test_a_record_that_cannot_be_written_stops_before_salesforce(
    leads: LeadApi, aws: FakeAws, salesforce_api: FakeSalesforce, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    aws.dynamodb.delete_table(TableName=aws.dynamodb.list_tables()["TableNames"][0])
    with pytest.raises(IdempotencyStoreError, match="ResourceNotFoundException"):
        load_handler("CreateLeadHandler").lambda_handler(load_event("sfn_create_lead"), TimedContext())
    assert leads.operations == [] and salesforce_api.token_requests == []


class _FailingUpdates:
    """The moto DynamoDB client, except that ``UpdateItem`` (completing the record) fails."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "UpdateItem")


def test_a_record_that_cannot_be_completed_still_returns_the_lead(
    leads: LeadApi, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    clients.set_client("dynamodb", _FailingUpdates(aws.dynamodb))
    result = load_handler("CreateLeadHandler").lambda_handler(load_event("sfn_create_lead"), TimedContext())
    assert result == {"lead_id": leads.leads[0]["Id"], "created": True}
    assert record(aws, "CreateLead")["Status"]["S"] == "INPROGRESS"  # a duplicate delivery is told to retry


# ------------------------------------------------------------------------------------------------ UpdateLead


def test_overlapping_update_lead_deliveries_record_one_outcome(
    leads: LeadApi, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    handler = load_handler("UpdateLeadHandler")
    gate = leads.gates.setdefault("update", Gate())
    first, first_outcome = run_in_thread(lambda: handler.lambda_handler(load_event("sfn_update_lead"), TimedContext()))
    gate.wait_reached()
    second, second_outcome = run_in_thread(
        lambda: handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())
    )
    second.join(30)
    gate.release()
    first.join(30)

    assert isinstance(second_outcome.get("error"), IdempotencyInProgressError)
    assert first_outcome["result"] == {"lead_id": LEAD_ID, "status": "Working - Contacted", "updated": True}
    assert handler.lambda_handler(load_event("sfn_update_lead"), TimedContext()) == first_outcome["result"]
    assert len(leads.updates) == 1
    assert record(aws, "UpdateLead-CALL_STARTED")["Status"]["S"] == "COMPLETED"


def test_update_lead_crash_after_the_patch_writes_the_same_fields_once_more(
    leads: LeadApi, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    handler = load_handler("UpdateLeadHandler")
    leads.crash_after = "update"
    with pytest.raises(Crash):
        handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())
    with pytest.raises(IdempotencyInProgressError):
        handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())
    expire_in_progress(aws, "UpdateLead-CALL_STARTED")
    handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())
    handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())  # a later repeat: from the record
    assert len(leads.updates) == 2
    (first_id, first_fields), (second_id, second_fields) = leads.updates
    assert first_id == second_id == LEAD_ID and first_fields["Status"] == second_fields["Status"]


def test_the_failure_outcome_is_its_own_record(
    leads: LeadApi, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    """RecordFailureOnLead reuses the execution's key after UpdateLead (CALL_STARTED): both outcomes are written."""
    handler = load_handler("UpdateLeadHandler")
    handler.lambda_handler(load_event("sfn_update_lead"), TimedContext())
    handler.lambda_handler(load_event("sfn_record_failure_on_lead"), TimedContext())
    handler.lambda_handler(load_event("sfn_record_failure_on_lead"), TimedContext())
    assert len(leads.updates) == 2
    assert {item["SK"]["S"].split("#")[0] for item in records(aws)} == {
        "UpdateLead-CALL_STARTED",
        "UpdateLead-WORKFLOW_FAILED",
    }


# ------------------------------------------------------------------------------------------------ InvokeOutboundCall


@pytest.fixture
def connect_fake(aws: FakeAws) -> FakeConnect:
    fake = FakeConnect()
    clients.set_client("connect", fake)
    return fake


def test_overlapping_outbound_call_deliveries_place_one_call(
    connect_fake: FakeConnect, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    handler = load_handler("InvokeOutboundCallHandler")
    connect_fake.gate = Gate()
    first, first_outcome = run_in_thread(
        lambda: handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext())
    )
    connect_fake.gate.wait_reached()
    second, second_outcome = run_in_thread(
        lambda: handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext())
    )
    second.join(30)
    connect_fake.gate.release()
    first.join(30)

    assert isinstance(second_outcome.get("error"), IdempotencyInProgressError)
    assert handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext()) == first_outcome["result"]
    assert len(connect_fake.requests) == 1 and len(connect_fake.dialled) == 1
    assert record(aws, "InvokeOutboundCall")["Status"]["S"] == "COMPLETED"


def test_outbound_call_crash_after_dialling_relies_on_the_client_token(
    connect_fake: FakeConnect, aws: FakeAws, load_handler: LoadHandler, load_event: LoadEvent
) -> None:
    handler = load_handler("InvokeOutboundCallHandler")
    connect_fake.crash_after_dial = True
    with pytest.raises(Crash):
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext())
    with pytest.raises(IdempotencyInProgressError):
        handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext())
    expire_in_progress(aws, "InvokeOutboundCall")
    result = handler.lambda_handler(load_event("sfn_invoke_outbound_call"), TimedContext())

    # Connect was asked twice with one ClientToken and placed one call; the retry got the first contact.
    first, retry = connect_fake.requests
    assert first["ClientToken"] == retry["ClientToken"]
    assert connect_fake.dialled == ["+14155550123"] and result["contact_id"] == "contact-0001"
    assert record(aws, "InvokeOutboundCall")["Status"]["S"] == "COMPLETED"
