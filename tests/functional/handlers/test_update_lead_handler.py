"""UpdateLeadHandler: the call outcome written on the Lead with one PATCH (Salesforce via responses)."""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from typing import Any

import pytest
import responses

from atlas_shared.exceptions import InvalidInputError, SalesforceRequestError
from tests.conftest import INTERACTION_KEY, LEAD_ID, FakeAws, FakeSalesforce, LambdaContext

LoadEvent = Callable[..., dict[str, Any]]


@pytest.fixture
def lead_url(aws: FakeAws, salesforce_api: FakeSalesforce) -> str:
    url = f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}"
    salesforce_api.mock.add(responses.PATCH, url, status=204)
    return url


def _patched(salesforce_api: FakeSalesforce) -> dict[str, Any]:
    (request,) = salesforce_api.rest_calls("PATCH")
    return json.loads(request.body)


def test_call_started_sets_status_and_outcome(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    result = load_handler("UpdateLeadHandler").lambda_handler(load_event("sfn_update_lead"), lambda_context)
    assert result == {"lead_id": LEAD_ID, "status": "Working - Contacted", "updated": True}
    fields = _patched(salesforce_api)
    assert fields["Status"] == "Working - Contacted"
    assert "Connect contact c0ffee00-1111-2222-3333-444455556666" in fields["Description"]
    assert INTERACTION_KEY in fields["Description"] and "started" in fields["Description"]


def test_explicit_outcome_wins(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    event = load_event("sfn_update_lead", outcome={"status": "Qualified", "description": "Wants a demo on Tuesday."})
    load_handler("UpdateLeadHandler").lambda_handler(event, lambda_context)
    assert _patched(salesforce_api) == {"Description": "Wants a demo on Tuesday.", "Status": "Qualified"}


def test_outcome_field_is_configurable(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALESFORCE_LEAD_OUTCOME_FIELD", "Atlas_Call_Outcome__c")
    load_handler("UpdateLeadHandler").lambda_handler(load_event("sfn_update_lead"), lambda_context)
    assert set(_patched(salesforce_api)) == {"Atlas_Call_Outcome__c", "Status"}


def test_workflow_failure_is_recorded_without_touching_status(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    """The workflow's RecordFailureOnLead state sends the failed step and the caught error's name."""
    result = load_handler("UpdateLeadHandler").lambda_handler(load_event("sfn_record_failure_on_lead"), lambda_context)
    fields = _patched(salesforce_api)
    assert "Status" not in fields and result == {"lead_id": LEAD_ID, "status": None, "updated": True}
    assert "failed at step InvokeOutboundCall" in fields["Description"]
    assert "OutboundCallError" in fields["Description"]


@pytest.mark.parametrize(
    ("event", "status", "words"),
    [
        ({"contact_id": "c-1"}, "Working - Contacted", "Connect contact c-1"),
        ({"error": {"Error": "BedrockError", "Cause": "..."}}, None, "BedrockError"),
        ({}, None, "without placing a call"),
    ],
)
def test_outcome_is_inferred_when_absent(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    lambda_context: LambdaContext,
    event: dict[str, Any],
    status: str | None,
    words: str,
) -> None:
    result = load_handler("UpdateLeadHandler").lambda_handler({"lead_id": LEAD_ID, **event}, lambda_context)
    fields = _patched(salesforce_api)
    assert result["status"] == status and fields.get("Status") == status
    assert words in fields["Description"]


def test_unknown_outcome_code_is_rejected(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    lambda_context: LambdaContext,
) -> None:
    with pytest.raises(InvalidInputError, match="CALL_STARTED, WORKFLOW_FAILED"):
        load_handler("UpdateLeadHandler").lambda_handler({"lead_id": LEAD_ID, "outcome": "MAYBE"}, lambda_context)


def test_long_descriptions_are_capped(
    lead_url: str,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    lambda_context: LambdaContext,
) -> None:
    event = {"lead_id": LEAD_ID, "outcome": {"description": "x" * 5000}}
    load_handler("UpdateLeadHandler").lambda_handler(event, lambda_context)
    assert len(_patched(salesforce_api)["Description"]) == 1000


@pytest.mark.parametrize("lead_id", [None, "", "00Q-bad", 42])
def test_missing_or_bad_lead_id_is_a_clear_error(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    lambda_context: LambdaContext,
    lead_id: Any,
) -> None:
    event = {"contact_id": "c1"} if lead_id is None else {"lead_id": lead_id, "contact_id": "c1"}
    with pytest.raises(InvalidInputError, match="lead_id must be a 15- or 18-character Salesforce record id"):
        load_handler("UpdateLeadHandler").lambda_handler(event, lambda_context)
    assert salesforce_api.token_requests == []


def test_unknown_lead_is_a_salesforce_error(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    salesforce_api.mock.add(
        responses.PATCH,
        f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}",
        status=404,
        json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
    )
    with pytest.raises(SalesforceRequestError) as caught:
        load_handler("UpdateLeadHandler").lambda_handler(load_event("sfn_update_lead"), lambda_context)
    assert caught.value.error_code == "NOT_FOUND" and caught.value.status == 404
