"""CreateLeadHandler: creates the Salesforce Lead that an AtlasEngine workflow execution will call.

Step Functions task (the workflow invokes the function's ``live`` alias directly). Input::

    {"lead": {"LastName": "Lovelace", "Company": "Analytical Engines", "Phone": "+14155550123",
              "FirstName": "Ada", "Email": "ada@example.com", "LeadSource": "Web", ...},
     "idempotency_key": "<execution name>"}

``lead`` holds Lead field API names (custom fields end in ``__c``) with string, number or boolean values.
``LastName`` and ``Company`` are required (Salesforce requires them); ``Phone`` is required because the
workflow calls it, and must be E.164 (spaces, dots, dashes and parentheses are tolerated and removed).

Output::

    {"lead_id": "00Q5g00000AbCdEEAZ", "created": true}

One Lead per workflow execution (per ``idempotency_key``), whatever the Salesforce configuration:

* An **idempotency record** (:mod:`atlas_shared.idempotency`: a conditional write in ``IDEMPOTENCY_TABLE_NAME``)
  lets one delivery of the task do the work. A repeat delivery returns the first one's result
  (``{"lead_id", "created"}`` as first returned) without calling Salesforce; one that overlaps a delivery still
  running fails with ``IdempotencyInProgressError``, which the workflow retries until the first one's result is
  stored. The same key with a different ``lead`` is ``IdempotencyKeyReusedError``.
* Inside the record, the Lead is found before it is created, which covers a first delivery that crashed after the
  create (its record expires at that invocation's timeout, and the retry runs again):

  * with ``SALESFORCE_LEAD_EXTERNAL_ID_FIELD`` set (an External ID, Unique text field on Lead, e.g.
    ``Atlas_Idempotency_Key__c``) and an ``idempotency_key`` in the input, the Lead is **upserted** on that field:
    Salesforce itself guarantees one Lead per execution. This is the recommended setup.
  * otherwise the handler first **looks for an open Lead** (not converted) with the same ``LastName``, ``Phone``
    and, when given, ``Email``, and returns it instead of creating another. This also keeps a person who is
    submitted twice from getting two Leads; the trade-off is that such a repeat reuses the open Lead.

Errors (Step Functions ``errorType``): ``InvalidInputError`` (fix the input; don't retry),
``SalesforceRequestError`` (Salesforce refused the record: see the message's errorCode),
``SalesforceUnavailableError`` (transient; retry), ``SalesforceAuthError``/``SalesforceCredentialsError``
(fix the connected app or the secret), ``SecretError``, ``IdempotencyInProgressError`` and
``IdempotencyStoreError`` (retry), ``IdempotencyKeyReusedError`` (don't). Every Salesforce request's timeout is
cut to what the invocation has left (:mod:`atlas_shared.deadline`), so a hanging Salesforce ends the task with
``SalesforceUnavailableError``, not a Lambda timeout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from atlas_shared import idempotency, runtime, workflow
from atlas_shared.exceptions import InvalidInputError
from atlas_shared.logs import get_logger
from atlas_shared.salesforce import get_salesforce

SETTINGS = runtime.bootstrap(
    required=("SALESFORCE_SECRET_ARN", "IDEMPOTENCY_TABLE_NAME"),
    services=("secretsmanager", "dynamodb"),
    salesforce=True,
)

_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_READ_ONLY_FIELDS = frozenset({"Id", "IsConverted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "IsDeleted"})

logger = get_logger("create_lead")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Create (or find) the Lead and return its id (see the module docstring)."""
    payload = workflow.require_mapping(event, "input")
    lead = validate_lead(workflow.require_mapping(payload.get("lead"), "lead"))
    key = workflow.idempotency_key(payload)
    return idempotency.run_once("CreateLead", key, lead, lambda: create_or_find(lead, key), context=context)


def create_or_find(lead: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Upsert (external-id field set) or find-then-create the Lead: ``{"lead_id", "created"}``."""
    salesforce = get_salesforce()
    external_id_field = SETTINGS.salesforce_lead_external_id_field

    if external_id_field and key:
        lead_id, created = _upsert(salesforce, lead, external_id_field, key)
    else:
        existing = _find_open_lead(salesforce, lead)
        created = existing is None
        if existing is None:
            result = salesforce.call(lambda sf: sf.Lead.create(lead), action="Lead create")
            lead_id = str(result["id"])
        else:
            lead_id = existing

    logger.info(
        "Lead created" if created else "Lead already existed; reusing it",
        extra={"event": "lead_created" if created else "lead_reused", "lead_id": lead_id},
    )
    return {"lead_id": lead_id, "created": created}


def validate_lead(lead: Mapping[str, Any]) -> dict[str, Any]:
    """The Lead fields to send, checked and normalised.

    Raises:
        InvalidInputError: naming the field at fault (required LastName/Company/Phone, E.164 Phone, Email shape,
            field names, value types).
    """
    workflow.require_text(lead, "LastName", path="lead", max_length=80)
    workflow.require_text(lead, "Company", path="lead", max_length=255)
    fields: dict[str, Any] = {}
    for name, value in lead.items():
        if not isinstance(name, str) or not _FIELD_NAME.match(name):
            raise InvalidInputError(f"lead field {name!r} is not a Salesforce field API name")
        if name in _READ_ONLY_FIELDS:
            raise InvalidInputError(f"lead.{name} is set by Salesforce and cannot be sent")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise InvalidInputError(f"lead.{name} must be a string, number or boolean")
        fields[name] = value.strip() if isinstance(value, str) else value
    fields["Phone"] = workflow.e164(lead.get("Phone"), path="lead.Phone")
    email = fields.get("Email")
    if email not in (None, "") and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise InvalidInputError("lead.Email is not an email address")
    return fields


def _upsert(salesforce: Any, lead: dict[str, Any], field: str, key: str) -> tuple[str, bool]:
    """Upsert on the external-id field; ``(lead_id, created)``."""
    from simple_salesforce.format import format_external_id

    body = {k: v for k, v in lead.items() if k != field}
    response = salesforce.call(
        lambda sf: sf.Lead.upsert(format_external_id(field, key), body, raw_response=True), action="Lead upsert"
    )
    # 201 {"id", "created": true} on insert; 200 {"id", "created": false} on update (API 46.0+); 204 before that.
    result: dict[str, Any] = {}
    if response.content:
        try:
            result = response.json()
        except ValueError:
            result = {}
    lead_id = result.get("id") if isinstance(result, dict) else None
    if not lead_id:
        record = salesforce.call(lambda sf: sf.Lead.get_by_custom_id(field, key), action="Lead lookup by external id")
        lead_id = record["Id"]
    return str(lead_id), response.status_code == 201


def _find_open_lead(salesforce: Any, lead: Mapping[str, Any]) -> str | None:
    """The newest open (unconverted) Lead with this LastName, Phone and, when given, Email."""
    from simple_salesforce.format import format_soql

    soql = "SELECT Id FROM Lead WHERE IsConverted = false AND LastName = {last} AND Phone = {phone}"
    values: dict[str, Any] = {"last": lead["LastName"], "phone": lead["Phone"]}
    if lead.get("Email"):
        soql += " AND Email = {email}"
        values["email"] = lead["Email"]
    soql += " ORDER BY CreatedDate DESC LIMIT 1"
    result = salesforce.call(lambda sf: sf.query(format_soql(soql, **values)), action="Lead duplicate check")
    records = result.get("records") or []
    return str(records[0]["Id"]) if records else None
