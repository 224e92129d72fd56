"""Exactly-once workflow tasks: one idempotency record per task and ``idempotency_key``, in DynamoDB.

Step Functions may deliver a task twice, and the two deliveries can overlap: after a Lambda service error
(``Lambda.ServiceException``, ``Lambda.SdkClientException`` ...) the state's Retry invokes the function again
while the first invocation may still be running. CreateLead, InvokeOutboundCall and UpdateLead therefore run
their work through :func:`run_once`, which uses the Idempotency utility of Powertools for AWS Lambda (Python)
(https://docs.powertools.aws.dev/lambda/python/latest/utilities/idempotency/) with its DynamoDB persistence
layer. Why the library and not own code: lambda_src/README.md, "Idempotency records" (measured figures).

**Record** (in the table named by ``IDEMPOTENCY_TABLE_NAME``; Terraform passes the scenario table, whose keys are
``PK`` and ``SK``; docs/contracts.md):

==========================  ========================================================================================
``PK``                      ``IDEMPOTENCY#<function name>`` (Powertools' static partition key for a composite key)
``SK``                      ``<task>#<SHA-256 of the JSON idempotency key>``, e.g. ``CreateLead#9f86d0...``
``Status``                  ``INPROGRESS`` or ``COMPLETED``
``InProgressExpiresAtMs``   epoch milliseconds: the invocation's start plus its remaining time (the function timeout)
``ExpiresAt``               epoch seconds, ``IDEMPOTENCY_TTL_SECONDS`` (7 days) after the write: the table's TTL
``Result``                  the task's result as JSON (``COMPLETED`` only)
``PayloadHash``             SHA-256 of the task input that matters (the Lead, the call, the outcome)
==========================  ========================================================================================

**One delivery**, in order:

1. conditional ``PutItem`` of an ``INPROGRESS`` record. The condition holds when there is no record, when it has
   expired (``ExpiresAt`` passed), or when it is ``INPROGRESS`` and its ``InProgressExpiresAtMs`` has passed.
2. The condition holds: the work runs; then ``UpdateItem`` stores ``COMPLETED`` and the result. If the work
   raises, ``DeleteItem`` removes the record (so a retry may try again) and the error goes on unchanged.
3. The condition fails (``ReturnValuesOnConditionCheckFailure`` hands back the record): ``COMPLETED`` returns the
   stored result without doing the work again; ``INPROGRESS`` raises :class:`IdempotencyInProgressError`, which
   the workflow retries with backoff, so the retry picks up the first delivery's result. A record whose
   ``PayloadHash`` differs raises :class:`IdempotencyKeyReusedError` (not retryable).

**A delivery that crashes** (Lambda timeout, out of memory, a killed runtime) after the work's side effect but
before step 2's ``UpdateItem`` leaves the record ``INPROGRESS``. Until ``InProgressExpiresAtMs`` (that
invocation's deadline) every retry gets :class:`IdempotencyInProgressError`; after it, the next retry takes the
record over and runs the work again, and the work's own second line of defence decides: CreateLead's upsert on
the external-id field, or its duplicate check (the open Lead with the same LastName, Phone and Email), finds the
Lead; InvokeOutboundCall sends the same Connect ``ClientToken`` (Connect returns the first contact for 7 days);
UpdateLead writes the same fields again. So the record alone gives exactly-once for overlapping and repeated
deliveries, and the handlers' own checks cover the crash window.

**Time.** The ``PutItem`` is started only when a whole DynamoDB call (9 s worst case) fits the invocation's
deadline, and the work runs inside ``deadline.reserve(9 s)`` so that the ``UpdateItem`` or ``DeleteItem`` after it
still fits. If that final write fails once the work has succeeded, the result is returned anyway (logged): the
record stays ``INPROGRESS`` until its in-progress expiry, which only delays a later duplicate delivery.

Errors: :class:`IdempotencyInProgressError` and :class:`IdempotencyStoreError` (retryable),
:class:`IdempotencyKeyReusedError` (not), plus whatever the work raises. Setting Powertools'
``POWERTOOLS_IDEMPOTENCY_DISABLED`` turns the records off (development only; logged as a warning on every use).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import deadline
from .clients import error_code, get_client, require_time, worst_case_seconds
from .exceptions import IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyStoreError
from .logs import get_logger
from .settings import get_settings

PARTITION_KEY_PREFIX = "IDEMPOTENCY#"
# Attribute names of the record, in the table's own style (docs/contracts.md).
RECORD_ATTRIBUTES: Mapping[str, str] = {
    "key_attr": "PK",
    "sort_key_attr": "SK",
    "expiry_attr": "ExpiresAt",
    "in_progress_expiry_attr": "InProgressExpiresAtMs",
    "status_attr": "Status",
    "data_attr": "Result",
    "validation_key_attr": "PayloadHash",
}
# Without a Lambda context (local runs, tests) an in-progress record expires after Lambda's longest timeout.
FALLBACK_REMAINING_MS = 900_000
_DISABLED_ENV = "POWERTOOLS_IDEMPOTENCY_DISABLED"

_logger = get_logger("idempotency")
_stores: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


class _RemainingTime:
    """The one thing Powertools reads from the Lambda context: ``get_remaining_time_in_millis()``."""

    def __init__(self, context: Any) -> None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        self._remaining: Callable[[], int] = remaining if callable(remaining) else lambda: FALLBACK_REMAINING_MS

    def get_remaining_time_in_millis(self) -> int:
        return int(self._remaining())


def run_once(
    task: str,
    key: str | None,
    payload: Any,
    work: Callable[[], dict[str, Any]],
    *,
    context: Any,
) -> dict[str, Any]:
    """Run ``work()`` at most once per ``(task, key)``; a repeat delivery gets the first delivery's result.

    Args:
        task: the record's name within the function, e.g. ``"CreateLead"`` (part of ``SK``).
        key: the execution's ``idempotency_key``. ``None`` runs ``work`` without a record (logged).
        payload: JSON-serialisable input that must match on a repeat delivery (hashed into ``PayloadHash``).
        work: the task; returns a JSON-serialisable dict (stored as ``Result``).
        context: the Lambda context (its remaining time sets the in-progress expiry).

    Returns:
        ``work()``'s result, or the stored result of an earlier delivery with the same key.

    Raises:
        IdempotencyInProgressError: another delivery with this key is still running (retry later).
        IdempotencyStoreError: DynamoDB failed or there was no time to write the record (retry).
        IdempotencyKeyReusedError: the key was used before with a different ``payload``.
        Exception: whatever ``work`` raises (its record is deleted first).
    """
    if key is None:
        _logger.warning(
            "No idempotency_key: the task runs without an idempotency record",
            extra={"event": "idempotency_skipped", "task": task},
        )
        return work()
    if os.environ.get(_DISABLED_ENV, "").strip().lower() in ("1", "true", "yes", "on", "y", "t"):
        _logger.warning(
            "%s is set: the task runs without an idempotency record",
            _DISABLED_ENV,
            extra={"event": "idempotency_disabled", "task": task},
        )

    require_time("dynamodb", "DynamoDB PutItem of the idempotency record", IdempotencyStoreError)
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyInconsistentStateError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    settings = get_settings()
    outcome: dict[str, Any] = {}

    def guarded(request: Mapping[str, Any]) -> dict[str, Any]:
        try:
            with deadline.reserve(worst_case_seconds("dynamodb")):
                result = work()
        except Exception as exc:
            outcome["error"] = exc
            raise
        outcome["result"] = result
        return result

    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="payload",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
        hash_function="sha256",
        lambda_context=_RemainingTime(context),  # type: ignore[arg-type]
    )
    once = idempotent_function(
        guarded, data_keyword_argument="request", persistence_store=_store(), config=config, key_prefix=task
    )
    try:
        return once(request={"key": key, "payload": payload})
    except IdempotencyAlreadyInProgressError:
        _logger.info(
            "Another delivery of this task is in progress; failing retryably",
            extra={"event": "idempotency_in_progress", "task": task},
        )
        raise IdempotencyInProgressError(
            f"{task} is already running for this idempotency_key (another delivery of the same task); "
            "retry to get its result"
        ) from None
    except IdempotencyValidationError:
        raise IdempotencyKeyReusedError(
            f"idempotency_key was already used for {task} with a different input; give each execution its own key"
        ) from None
    except IdempotencyPersistenceLayerError as exc:
        if "error" in outcome:
            # The work failed and deleting the record failed too: the work's own error is the one that matters.
            _logger.warning(
                "Could not delete the idempotency record after the task failed; it stays in progress until it expires",
                extra={"event": "idempotency_store_failed", "task": task, "error": _cause(exc)},
            )
            raise outcome["error"] from None
        if "result" in outcome:
            _logger.warning(
                "Could not mark the idempotency record completed; returning the result anyway",
                extra={"event": "idempotency_store_failed", "task": task, "error": _cause(exc)},
            )
            return outcome["result"]
        raise IdempotencyStoreError(
            f"The idempotency record for {task} could not be written ({_cause(exc)}); nothing was done"
        ) from exc
    except IdempotencyInconsistentStateError as exc:
        raise IdempotencyStoreError(
            f"The idempotency record for {task} changed while it was being read; nothing was done"
        ) from exc


def _store() -> Any:
    """The container's DynamoDB persistence layer (one per table and function), on the shared DynamoDB client."""
    settings = get_settings().require("IDEMPOTENCY_TABLE_NAME")
    table = str(settings.idempotency_table_name)
    cache_key = (table, settings.function_name)
    store = _stores.get(cache_key)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(cache_key)
        if store is None:
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

            store = DynamoDBPersistenceLayer(
                table_name=table,
                static_pk_value=f"{PARTITION_KEY_PREFIX}{settings.function_name}",
                boto3_client=get_client("dynamodb"),
                **RECORD_ATTRIBUTES,
            )
            _stores[cache_key] = store
    return store


def _cause(exc: BaseException) -> str:
    """The underlying error's name and AWS code (Powertools wraps it): e.g. ``ClientError (ThrottlingException)``."""
    inner = exc.__cause__ or exc
    code = error_code(inner)
    return f"{type(inner).__name__} ({code})" if code != type(inner).__name__ else code


def reset() -> None:
    """Forget the cached persistence layers (tests; a new DynamoDB client)."""
    with _lock:
        _stores.clear()
