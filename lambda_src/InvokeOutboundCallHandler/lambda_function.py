"""InvokeOutboundCallHandler: places the outbound call with Amazon Connect ``StartOutboundVoiceContact``.

Step Functions task (the workflow invokes the function's ``live`` alias directly). Input, the accumulated
state of the execution::

    {"lead": {"Phone": "+14155550123", ...},        # the number to call (or "phone_number" at the top level)
     "lead_id": "00Q5g00000AbCdEEAZ",              # optional, passed to the contact flow
     "interaction_key": "<32 hex>",                # required: from GenerateDynamicScenarioHandler
     "idempotency_key": "<execution name>"}         # optional, recommended

Output::

    {"contact_id": "<Connect contact id>", "interaction_key": "<32 hex>", "lead_id": "00Q5g00000AbCdEEAZ"}

The request (https://docs.aws.amazon.com/connect/latest/APIReference/API_StartOutboundVoiceContact.html):
``DestinationPhoneNumber`` (E.164, validated), ``InstanceId`` and ``ContactFlowId`` from
``CONNECT_INSTANCE_ID``/``CONNECT_CONTACT_FLOW_ID``, ``QueueId`` and/or ``SourcePhoneNumber`` from
``CONNECT_QUEUE_ID``/``CONNECT_SOURCE_PHONE_NUMBER`` (at least one), and contact ``Attributes``
``{"interactionKey": ..., "leadId": ...}``. The contact flow hands ``interactionKey`` to the Lex bot as a
session attribute, which is how LexFulfillmentHandler finds the scenario.

``ClientToken`` is a uuid5 of the ``idempotency_key`` (else of the interaction key), so a retried step sends
the same token and Connect returns the first contact instead of dialling twice (tokens are honoured for 7
days). botocore would otherwise generate a fresh random token on every attempt.

On top of the token, the call is placed inside an idempotency record (:mod:`atlas_shared.idempotency`, task
``InvokeOutboundCall``, keyed on the same value as the token): a repeat delivery returns the first contact id
without calling Connect, an overlapping one fails with ``IdempotencyInProgressError`` (retried by the workflow),
and the same key for another number or interaction is ``IdempotencyKeyReusedError``. The token still matters when
a delivery crashed after Connect accepted the call: once that record's in-progress expiry (the invocation's
timeout) has passed, the retry sends the same token and Connect answers with the first contact.

Time: the client makes at most two attempts of 12 s (25 s with backoff, :mod:`atlas_shared.clients`), and the
call is started only when that fits the invocation's deadline after the record's writes (up to 9 s each), so a
hanging Connect ends the task with ``OutboundCallThrottledError`` rather than a Lambda timeout (60 s).

Errors (Step Functions ``errorType``): ``InvalidInputError`` (fix the input), ``OutboundCallThrottledError``
(throttling, concurrency limits, Connect internal errors, timeouts, or no time left to try: retry with backoff;
the ClientToken makes it safe even when Connect did place the call), ``OutboundCallError`` (Connect refused the
call, e.g. ``DestinationNotAllowedException``: don't retry), ``IdempotencyInProgressError`` and
``IdempotencyStoreError`` (retry), ``IdempotencyKeyReusedError`` (don't).
"""

from __future__ import annotations

from typing import Any

from atlas_shared import idempotency, runtime, workflow
from atlas_shared.clients import error_code, get_client, is_client_error, is_transient, require_time
from atlas_shared.exceptions import ConfigurationError, OutboundCallError, OutboundCallThrottledError
from atlas_shared.logs import get_logger

SETTINGS = runtime.bootstrap(
    required=("CONNECT_INSTANCE_ID", "CONNECT_CONTACT_FLOW_ID", "IDEMPOTENCY_TABLE_NAME"),
    services=("connect", "dynamodb"),
)
if not (SETTINGS.connect_queue_id or SETTINGS.connect_source_phone_number):
    raise ConfigurationError(
        "InvokeOutboundCallHandler needs CONNECT_QUEUE_ID or CONNECT_SOURCE_PHONE_NUMBER "
        "(StartOutboundVoiceContact requires one of them)",
        ("CONNECT_QUEUE_ID", "CONNECT_SOURCE_PHONE_NUMBER"),
    )

RETRYABLE_CODES = frozenset(
    {"LimitExceededException", "InternalServiceException", "ThrottlingException", "TooManyRequestsException"}
)

logger = get_logger("invoke_outbound_call")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start the outbound call and return its contact id (see the module docstring)."""
    payload = workflow.require_mapping(event, "input")
    lead = workflow.require_mapping(payload.get("lead") or {}, "lead")
    interaction_key = workflow.interaction_key(payload.get("interaction_key"))
    lead_id = payload.get("lead_id")
    lead_id = workflow.salesforce_id(lead_id, path="lead_id") if lead_id else None
    if payload.get("phone_number"):
        destination = workflow.e164(payload["phone_number"], path="phone_number")
    else:
        destination = workflow.e164(lead.get("Phone") or lead.get("MobilePhone"), path="lead.Phone")
    token_source = workflow.idempotency_key(payload) or interaction_key

    request = {
        "DestinationPhoneNumber": destination,
        "ContactFlowId": SETTINGS.connect_contact_flow_id,
        "InstanceId": SETTINGS.connect_instance_id,
        "ClientToken": str(workflow.derived_id("outbound-call", token_source)),
        "Attributes": {k: v for k, v in {"interactionKey": interaction_key, "leadId": lead_id}.items() if v},
    }
    if SETTINGS.connect_queue_id:
        request["QueueId"] = SETTINGS.connect_queue_id
    if SETTINGS.connect_source_phone_number:
        request["SourcePhoneNumber"] = SETTINGS.connect_source_phone_number

    # What must match on a repeat delivery: the call itself.
    call = {"destination": destination, "interaction_key": interaction_key, "lead_id": lead_id}
    return idempotency.run_once(
        "InvokeOutboundCall", token_source, call, lambda: start_call(request, interaction_key, lead_id), context=context
    )


def start_call(request: dict[str, Any], interaction_key: str, lead_id: str | None) -> dict[str, Any]:
    """``StartOutboundVoiceContact`` with ``request``: ``{"contact_id", "interaction_key", "lead_id"}``."""
    require_time(
        "connect", "Connect StartOutboundVoiceContact", lambda m: OutboundCallThrottledError(m, code="DeadlineExceeded")
    )
    try:
        response = get_client("connect").start_outbound_voice_contact(**request)
    except Exception as exc:
        if not is_client_error(exc):
            raise
        code = error_code(exc)
        transient = code in RETRYABLE_CODES or is_transient(exc)
        error = OutboundCallThrottledError if transient else OutboundCallError
        raise error(f"Connect StartOutboundVoiceContact failed: {code}", code=code) from exc

    contact_id = str(response["ContactId"])
    logger.info(
        "Outbound call started",
        extra={"event": "outbound_call_started", "contact_id": contact_id, "interaction_key": interaction_key},
    )
    return {"contact_id": contact_id, "interaction_key": interaction_key, "lead_id": lead_id}
