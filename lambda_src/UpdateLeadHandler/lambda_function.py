"""UpdateLeadHandler: records an outbound call's outcome on the Salesforce Lead.

Step Functions task (the workflow invokes the function's ``live`` alias directly). Input, the accumulated
state of the execution::

    {"lead_id": "00Q5g00000AbCdEEAZ",                  # required
     "contact_id": "a1b2c3d4-...",                     # from InvokeOutboundCallHandler, when the call started
     "interaction_key": "<32 hex>",                    # optional, quoted in the outcome text
     "outcome": {"status": "Working - Contacted",      # optional: Lead Status picklist value
                 "description": "Interested; call back Tuesday"},   # optional: outcome text
     "error": {"Error": "OutboundCallError", "Cause": "..."}}       # optional: from a Catch

What it writes (one PATCH of the Lead):

* ``Status``: ``outcome.status`` when given; else ``Working - Contacted`` when a ``contact_id`` shows the call
  started; else left as it is.
* The outcome text goes to ``SALESFORCE_LEAD_OUTCOME_FIELD`` (default ``Description``): ``outcome.description``
  when given, else a line saying when the call started (contact and interaction ids) or why it failed. At
  most 1,000 characters.

Output::

    {"lead_id": "00Q5g00000AbCdEEAZ", "status": "Working - Contacted", "updated": true}

Updating the same values twice is harmless, so a Step Functions retry needs no special care.

Errors (Step Functions ``errorType``): ``InvalidInputError`` (no or malformed ``lead_id``: fix the input),
``SalesforceRequestError`` (e.g. ``NOT_FOUND``, or a Status value outside the picklist),
``SalesforceUnavailableError`` (transient; retry).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from atlas_shared import runtime, workflow
from atlas_shared.logs import get_logger
from atlas_shared.salesforce import get_salesforce

SETTINGS = runtime.bootstrap(required=("SALESFORCE_SECRET_ARN",), services=("secretsmanager",), salesforce=True)

STATUS_CALL_STARTED = "Working - Contacted"
OUTCOME_MAX_CHARS = 1000

logger = get_logger("update_lead")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write the call outcome on the Lead (see the module docstring)."""
    payload = workflow.require_mapping(event, "input")
    lead_id = workflow.salesforce_id(payload.get("lead_id"), path="lead_id")
    outcome = workflow.require_mapping(payload.get("outcome") or {}, "outcome")
    status = workflow.optional_text(outcome, "status", path="outcome", max_length=255)
    contact_id = workflow.optional_text(payload, "contact_id", max_length=256)
    if status is None and contact_id:
        status = STATUS_CALL_STARTED

    fields: dict[str, Any] = {SETTINGS.salesforce_lead_outcome_field: outcome_text(payload, outcome, contact_id)}
    if status is not None:
        fields["Status"] = status
    get_salesforce().call(lambda sf: sf.Lead.update(lead_id, fields), action="Lead update")

    logger.info("Lead updated", extra={"event": "lead_updated", "lead_id": lead_id, "status": status})
    return {"lead_id": lead_id, "status": status, "updated": True}


def outcome_text(payload: Mapping[str, Any], outcome: Mapping[str, Any], contact_id: str | None) -> str:
    """The outcome line: the given description, else what the execution's state says happened."""
    description = workflow.optional_text(outcome, "description", path="outcome", max_length=32000)
    if description:
        return description[:OUTCOME_MAX_CHARS]
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    interaction = payload.get("interaction_key")
    suffix = f", interaction {interaction}" if isinstance(interaction, str) and interaction else ""
    error = payload.get("error")
    if isinstance(error, Mapping) and error.get("Error"):
        return f"AtlasEngine outbound call failed at {when}: {error['Error']}{suffix}."[:OUTCOME_MAX_CHARS]
    if contact_id:
        return f"AtlasEngine outbound call started at {when} (Connect contact {contact_id}{suffix})."[:OUTCOME_MAX_CHARS]
    return f"AtlasEngine workflow finished at {when} without placing a call{suffix}."[:OUTCOME_MAX_CHARS]
