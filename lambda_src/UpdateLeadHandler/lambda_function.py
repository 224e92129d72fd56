"""UpdateLeadHandler: records an outbound call's outcome on the Salesforce Lead.

Step Functions task (the workflow invokes the function's ``live`` alias directly). Input, from the accumulated
state of the execution (every field but ``lead_id`` optional)::

    {"lead_id": "00Q5g00000AbCdEEAZ",
     "outcome": "CALL_STARTED",                          # or "WORKFLOW_FAILED", or an object (below)
     "call": {"contact_id": "a1b2c3d4-..."},             # InvokeOutboundCallHandler's result (or "contact_id")
     "interaction_key": "<32 hex>",
     "failed_step": "InvokeOutboundCall",                # on the failure path
     "error": "OutboundCallError",                       # the caught error's name (or {"Error", "Cause"})
     "idempotency_key": "<execution name>"}

``outcome`` as an object sets the values directly:
``{"status": "<Lead Status picklist value>", "description": "<outcome text>"}``.

What it writes (one PATCH of the Lead):

============================  ===========================  ==================================================
outcome                       ``Status``                   outcome text
============================  ===========================  ==================================================
``CALL_STARTED``              ``Working - Contacted``      call started at <time> (Connect contact, interaction)
``WORKFLOW_FAILED``           left as it is                workflow failed at <step> at <time>: <error>
object                        ``status`` when given        ``description`` when given, else as inferred
absent                        as ``CALL_STARTED`` when a contact id is present, else as ``WORKFLOW_FAILED``
                              when an error is present, else a neutral line
============================  ===========================  ==================================================

The outcome text goes to ``SALESFORCE_LEAD_OUTCOME_FIELD`` (default ``Description``), at most 1,000 characters.

Output::

    {"lead_id": "00Q5g00000AbCdEEAZ", "status": "Working - Contacted", "updated": true}

One outcome recorded per delivery of a workflow state: the PATCH runs inside an idempotency record
(:mod:`atlas_shared.idempotency`) keyed on ``idempotency_key`` and the outcome code (``UpdateLead-CALL_STARTED``,
``UpdateLead-WORKFLOW_FAILED``, ``UpdateLead-OTHER``), so the failure path's update after a failed
``CALL_STARTED`` update is its own record. A repeat delivery returns the first one's result without a second PATCH;
an overlapping one fails with ``IdempotencyInProgressError`` (retried by the workflow); the same key and outcome
with a different Lead or error is ``IdempotencyKeyReusedError``. A delivery that crashed after its PATCH is
repeated once its record's in-progress expiry (that invocation's timeout) has passed, which writes the same
fields again (the outcome line's time is the new one).

Errors (Step Functions ``errorType``): ``InvalidInputError`` (no or malformed ``lead_id``, unknown outcome code:
fix the input), ``SalesforceRequestError`` (e.g. ``NOT_FOUND``, or a Status outside the picklist),
``SalesforceUnavailableError`` (transient, including a Salesforce that hangs until the invocation's deadline:
:mod:`atlas_shared.deadline`; retry), ``SecretError``, ``IdempotencyInProgressError`` and ``IdempotencyStoreError``
(retry), ``IdempotencyKeyReusedError`` (don't).
"""

from __future__ import annotations

import time
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

CALL_STARTED = "CALL_STARTED"
WORKFLOW_FAILED = "WORKFLOW_FAILED"
STATUS_BY_OUTCOME: dict[str, str | None] = {CALL_STARTED: "Working - Contacted", WORKFLOW_FAILED: None}
OUTCOME_MAX_CHARS = 1000

logger = get_logger("update_lead")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write the call outcome on the Lead (see the module docstring)."""
    payload = workflow.require_mapping(event, "input")
    lead_id = workflow.salesforce_id(payload.get("lead_id"), path="lead_id")
    contact_id = _contact_id(payload)
    error = _error_name(payload.get("error"))
    code, explicit = _outcome(payload.get("outcome"), contact_id=contact_id, error=error)

    status = explicit.get("status") if "status" in explicit else STATUS_BY_OUTCOME.get(code)
    # What must match on a repeat delivery: everything the PATCH depends on except the outcome line's time.
    request = {
        "lead_id": lead_id,
        "status": status,
        "explicit": explicit,
        "contact_id": contact_id,
        "error": error,
        "failed_step": payload.get("failed_step"),
        "interaction_key": payload.get("interaction_key"),
    }

    def update() -> dict[str, Any]:
        text = explicit.get("description") or outcome_text(code, payload, contact_id=contact_id, error=error)
        fields: dict[str, Any] = {SETTINGS.salesforce_lead_outcome_field: text[:OUTCOME_MAX_CHARS]}
        if status is not None:
            fields["Status"] = status
        get_salesforce().call(lambda sf: sf.Lead.update(lead_id, fields), action="Lead update")
        logger.info(
            "Lead updated", extra={"event": "lead_updated", "lead_id": lead_id, "outcome": code, "status": status}
        )
        return {"lead_id": lead_id, "status": status, "updated": True}

    task = f"UpdateLead-{code or 'OTHER'}"
    return idempotency.run_once(task, workflow.idempotency_key(payload), request, update, context=context)


def _contact_id(payload: Mapping[str, Any]) -> str | None:
    call = payload.get("call")
    if isinstance(call, Mapping) and call.get("contact_id"):
        return workflow.require_text(call, "contact_id", path="call", max_length=256)
    return workflow.optional_text(payload, "contact_id", max_length=256)


def _error_name(error: Any) -> str | None:
    if isinstance(error, Mapping):
        error = error.get("Error")
    return str(error)[:200] if error else None


def _outcome(value: Any, *, contact_id: str | None, error: str | None) -> tuple[str, dict[str, str]]:
    """``(code, explicit values)`` from the ``outcome`` field (a code, an object, or absent)."""
    if isinstance(value, str) and value:
        if value not in STATUS_BY_OUTCOME:
            raise InvalidInputError(f"outcome must be one of {', '.join(STATUS_BY_OUTCOME)} or an object")
        return value, {}
    explicit: dict[str, str] = {}
    if value is not None:
        outcome = workflow.require_mapping(value, "outcome")
        for key, limit in (("status", 255), ("description", 32000)):
            text = workflow.optional_text(outcome, key, path="outcome", max_length=limit)
            if text is not None:
                explicit[key] = text
    code = CALL_STARTED if contact_id else WORKFLOW_FAILED if error else ""
    return code, explicit


def outcome_text(code: str, payload: Mapping[str, Any], *, contact_id: str | None, error: str | None) -> str:
    """The outcome line for ``code``, from what the execution's state says happened."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    interaction = payload.get("interaction_key")
    suffix = f", interaction {interaction}" if isinstance(interaction, str) and interaction else ""
    if code == CALL_STARTED:
        contact = f"Connect contact {contact_id}" if contact_id else "no contact id"
        return f"AtlasEngine outbound call started at {when} ({contact}{suffix})."
    if code == WORKFLOW_FAILED:
        step = payload.get("failed_step")
        where = f" at step {step}" if isinstance(step, str) and step else ""
        return f"AtlasEngine workflow failed{where} at {when}: {error or 'unknown error'}{suffix}."
    return f"AtlasEngine workflow finished at {when} without placing a call{suffix}."
