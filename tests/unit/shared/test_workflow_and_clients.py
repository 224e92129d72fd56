"""atlas_shared.workflow (Step Functions input checks) and atlas_shared.clients (cached, injectable clients)."""

from __future__ import annotations

import pytest

from atlas_shared import clients, workflow
from atlas_shared.exceptions import InvalidInputError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155550123", "+14155550123"),
        ("+1 (415) 555-0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+49.30.1234567", "+49301234567"),
    ],
)
def test_e164_normalises(raw: str, expected: str) -> None:
    assert workflow.e164(raw, path="lead.Phone") == expected


@pytest.mark.parametrize(
    "raw", ["2025550187", "+0123456", "+1 415 555 0123 ext 9", "", None, 4155550123, "+1234567890123456"]
)
def test_e164_rejects_without_echoing_the_number(raw: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        workflow.e164(raw, path="lead.Phone")
    assert "lead.Phone" in str(caught.value) and "E.164" in str(caught.value)
    if isinstance(raw, str) and raw:
        assert raw not in str(caught.value)


def test_required_text() -> None:
    assert workflow.require_text({"LastName": "  Lovelace "}, "LastName", path="lead") == "Lovelace"
    for payload in ({}, {"LastName": ""}, {"LastName": "   "}, {"LastName": 7}):
        with pytest.raises(InvalidInputError, match=r"lead\.LastName is required"):
            workflow.require_text(payload, "LastName", path="lead")
    with pytest.raises(InvalidInputError, match="longer than 3"):
        workflow.require_text({"x": "abcd"}, "x", max_length=3)


def test_salesforce_ids_and_interaction_keys() -> None:
    assert workflow.salesforce_id("00Q5g00000AbCdE", path="lead_id") == "00Q5g00000AbCdE"
    assert workflow.salesforce_id("00Q5g00000AbCdEEAZ", path="lead_id") == "00Q5g00000AbCdEEAZ"
    for bad in ("00Q5g", "00Q5g00000AbCdE'--", None, 12):
        with pytest.raises(InvalidInputError, match="lead_id"):
            workflow.salesforce_id(bad, path="lead_id")
    assert workflow.interaction_key("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    with pytest.raises(InvalidInputError):
        workflow.interaction_key("bad key!")


def test_derived_ids_are_stable_and_distinct() -> None:
    first = workflow.derived_id("outbound-call", "exec-1")
    assert first == workflow.derived_id("outbound-call", "exec-1")
    assert first != workflow.derived_id("outbound-call", "exec-2")
    assert first != workflow.derived_id("interaction", "exec-1")
    assert first.version == 5


def test_idempotency_key() -> None:
    assert workflow.idempotency_key({"idempotency_key": "exec-1"}) == "exec-1"
    assert workflow.idempotency_key({}) is None and workflow.idempotency_key({"idempotency_key": ""}) is None
    with pytest.raises(InvalidInputError):
        workflow.idempotency_key({"idempotency_key": 5})


def test_clients_are_built_once_and_injectable() -> None:
    first = clients.get_client("dynamodb")
    assert clients.get_client("dynamodb") is first
    assert first.meta.config.read_timeout == 3 and first.meta.config.retries["mode"] == "standard"
    assert clients.get_client("bedrock-runtime").meta.config.read_timeout == 10
    fake = object()
    clients.set_client("dynamodb", fake)
    assert clients.get_client("dynamodb") is fake
    clients.reset_clients()
    assert clients.get_client("dynamodb") is not fake


def test_error_code() -> None:
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "InvokeModel")
    assert clients.error_code(error) == "ThrottlingException" and clients.is_client_error(error)
    assert clients.error_code(ValueError()) == "ValueError" and not clients.is_client_error(ValueError())
