"""CreateLeadHandler: validation, one Lead per execution across Step Functions retries, Salesforce via responses."""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from atlas_shared.exceptions import InvalidInputError, SalesforceRequestError
from tests.conftest import TABLE_NAME, FakeAws, FakeSalesforce, LambdaContext
from tests.functional.handlers.idempotency_support import record_key

LoadEvent = Callable[..., dict[str, Any]]
EXTERNAL_ID_FIELD = "Atlas_Idempotency_Key__c"


class LeadStore:
    """A stateful fake of the Lead sObject: create, SOQL duplicate check and external-id upsert."""

    def __init__(self, salesforce_api: FakeSalesforce) -> None:
        self.leads: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.api = salesforce_api
        base = salesforce_api.data_url
        mock = salesforce_api.mock
        mock.add_callback(responses.POST, f"{base}/sobjects/Lead/", callback=self._create)
        mock.add_callback(responses.GET, re.compile(re.escape(f"{base}/query/") + r"\?.*"), callback=self._query)
        mock.add_callback(
            responses.PATCH,
            re.compile(re.escape(f"{base}/sobjects/Lead/{EXTERNAL_ID_FIELD}/") + ".+"),
            callback=self._upsert,
        )

    def _new_id(self) -> str:
        return f"00Q5g00000Lead{len(self.leads):03d}A"

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        lead = json.loads(request.body)
        lead["Id"] = self._new_id()
        self.leads.append(lead)
        return 201, {}, json.dumps({"id": lead["Id"], "success": True, "errors": []})

    def _query(self, request: Any) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlparse(request.url).query)["q"][0]
        self.queries.append(soql)
        matches = [
            {"attributes": {"type": "Lead"}, "Id": lead["Id"]}
            for lead in self.leads
            if f"LastName = '{lead['LastName']}'" in soql
            and f"Phone = '{lead['Phone']}'" in soql
            and (f"Email = '{lead['Email']}'" in soql if lead.get("Email") else True)
        ]
        return 200, {}, json.dumps({"totalSize": len(matches), "done": True, "records": matches[:1]})

    def _upsert(self, request: Any) -> tuple[int, dict[str, str], str]:
        key = request.url.rsplit("/", 1)[1]
        body = json.loads(request.body)
        for lead in self.leads:
            if lead.get(EXTERNAL_ID_FIELD) == key:
                lead.update(body)
                return 200, {}, json.dumps({"id": lead["Id"], "success": True, "errors": [], "created": False})
        lead = {**body, EXTERNAL_ID_FIELD: key, "Id": self._new_id()}
        self.leads.append(lead)
        return 201, {}, json.dumps({"id": lead["Id"], "success": True, "errors": [], "created": True})


@pytest.fixture
def store(aws: FakeAws, salesforce_api: FakeSalesforce) -> LeadStore:
    return LeadStore(salesforce_api)


@pytest.fixture
def handler(store: LeadStore, load_handler: Callable[[str], types.ModuleType]) -> types.ModuleType:
    return load_handler("CreateLeadHandler")


def test_creates_the_lead_and_returns_its_id(
    handler: types.ModuleType, store: LeadStore, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    result = handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    (lead,) = store.leads
    assert result == {"lead_id": lead["Id"], "created": True}
    assert lead["Phone"] == "+14155550123"  # normalised to E.164
    assert lead["LastName"] == "Lovelace" and lead["Company"] == "Analytical Engines Ltd"
    assert lead["Email"] == "ada@example.com" and lead["LeadSource"] == "Web"


def test_a_retry_returns_the_first_result_without_calling_salesforce(
    handler: types.ModuleType,
    store: LeadStore,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    first = handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    rest_calls = len(salesforce_api.rest_calls())
    second = handler.lambda_handler(load_event("sfn_create_lead"), LambdaContext("req-retry"))
    assert len(store.leads) == 1
    assert second == first == {"lead_id": store.leads[0]["Id"], "created": True}  # the idempotency record's result
    assert len(salesforce_api.rest_calls()) == rest_calls
    assert all("IsConverted = false" in q for q in store.queries)


def test_the_duplicate_check_finds_an_open_lead_of_another_execution(
    handler: types.ModuleType, store: LeadStore, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    first = handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    other = handler.lambda_handler(
        load_event("sfn_create_lead", idempotency_key="atlas-other-execution"), lambda_context
    )
    assert len(store.leads) == 1
    assert other == {"lead_id": first["lead_id"], "created": False}


def test_external_id_upsert_makes_retries_idempotent(
    aws: FakeAws,
    store: LeadStore,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    salesforce_api: FakeSalesforce,
) -> None:
    monkeypatch.setenv("SALESFORCE_LEAD_EXTERNAL_ID_FIELD", EXTERNAL_ID_FIELD)
    handler = load_handler("CreateLeadHandler")
    first = handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    aws.dynamodb.delete_item(TableName=TABLE_NAME, Key=record_key(aws, "CreateLead"))  # as if the record expired
    second = handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    assert len(store.leads) == 1 and store.queries == []
    assert first == {"lead_id": store.leads[0]["Id"], "created": True}
    assert second == {"lead_id": store.leads[0]["Id"], "created": False}
    (patch, _) = salesforce_api.rest_calls("PATCH")
    assert patch.url.endswith(f"/sobjects/Lead/{EXTERNAL_ID_FIELD}/atlas-2025-01-29T10-00-00-7f3c")
    assert EXTERNAL_ID_FIELD not in json.loads(patch.body)


def test_upsert_answering_204_looks_the_id_up(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before API 46.0 an upsert that updates answers 204 with no body."""
    monkeypatch.setenv("SALESFORCE_LEAD_EXTERNAL_ID_FIELD", EXTERNAL_ID_FIELD)
    url = f"{salesforce_api.data_url}/sobjects/Lead/{EXTERNAL_ID_FIELD}/atlas-2025-01-29T10-00-00-7f3c"
    salesforce_api.mock.add(responses.PATCH, url, status=204)
    salesforce_api.mock.add(responses.GET, url, json={"Id": "00Q5g00000Existing"})
    result = load_handler("CreateLeadHandler").lambda_handler(load_event("sfn_create_lead"), lambda_context)
    assert result == {"lead_id": "00Q5g00000Existing", "created": False}


def test_warm_invocation_reuses_the_session(
    handler: types.ModuleType,
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    handler.lambda_handler(load_event("sfn_create_lead"), lambda_context)
    event = load_event("sfn_create_lead", idempotency_key="atlas-second-execution")
    event["lead"].update(LastName="Byron", Phone="+14155550199", Email="b@example.com")
    handler.lambda_handler(event, lambda_context)
    assert len(salesforce_api.token_requests) == 1
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda lead: lead.pop("LastName"), "lead.LastName is required"),
        (lambda lead: lead.update(LastName=""), "lead.LastName is required"),
        (lambda lead: lead.pop("Company"), "lead.Company is required"),
        (lambda lead: lead.pop("Phone"), "lead.Phone is required"),
        (lambda lead: lead.update(Phone="415 555 0123"), "lead.Phone is not an E.164"),
        (lambda lead: lead.update(Phone=14155550123), 'lead.Phone must be a string in E.164 form such as "+1415'),
        (lambda lead: lead.update(Email="not-an-email"), "lead.Email"),
        (lambda lead: lead.update(Id="00Q5g00000AbCdE"), "lead.Id"),
        (lambda lead: lead.update({"Bad Field": "x"}), "Bad Field"),
        (lambda lead: lead.update(Description={"nested": "object"}), "lead.Description"),
    ],
)
def test_invalid_leads_are_rejected_clearly(
    handler: types.ModuleType,
    store: LeadStore,
    load_event: LoadEvent,
    lambda_context: LambdaContext,
    salesforce_api: FakeSalesforce,
    mutate: Callable[[dict[str, Any]], Any],
    message: str,
) -> None:
    event = load_event("sfn_create_lead")
    mutate(event["lead"])
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        handler.lambda_handler(event, lambda_context)
    assert store.leads == [] and salesforce_api.token_requests == []


def test_missing_lead_object_is_rejected(
    handler: types.ModuleType, load_event: LoadEvent, lambda_context: LambdaContext
) -> None:
    with pytest.raises(InvalidInputError, match="lead must be a JSON object"):
        handler.lambda_handler({"idempotency_key": "x"}, lambda_context)


def test_salesforce_refusals_carry_the_error_code(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: LoadEvent,
    lambda_context: LambdaContext,
) -> None:
    base = salesforce_api.data_url
    salesforce_api.mock.add(responses.GET, re.compile(re.escape(f"{base}/query/") + r"\?.*"), json={"records": []})
    salesforce_api.mock.add(
        responses.POST,
        f"{base}/sobjects/Lead/",
        status=400,
        json=[{"message": "Use one of these records?", "errorCode": "DUPLICATES_DETECTED", "fields": []}],
    )
    with pytest.raises(SalesforceRequestError) as caught:
        load_handler("CreateLeadHandler").lambda_handler(load_event("sfn_create_lead"), lambda_context)
    assert caught.value.error_code == "DUPLICATES_DETECTED" and "Lead create" in str(caught.value)
