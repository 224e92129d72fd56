"""boto3 clients, built on first use and kept for the life of the container.

Building a client costs tens of milliseconds (endpoint resolution, service model load), so each service gets
one client per container, reused by every invocation. boto3 itself is imported on first use too: a function
that never calls AWS in a given path doesn't pay for it.

Tests inject stubs or moto-backed clients with :func:`set_client` and clear them with :func:`reset_clients`.

Timeouts and attempts are per service (botocore ``Config``; ``total_max_attempts`` counts the first attempt,
unlike botocore's ``max_attempts``, which counts retries). Each call must fit the invocation's deadline
(:mod:`atlas_shared.deadline`): a Lex turn has 30 s for its lookups, a Bedrock reply and a safety margin, so the
worst cases are kept small and known (:func:`worst_case_seconds`):

===================  =======  ====  ========  ==========  =================================================
service              connect  read  attempts  worst case  why
===================  =======  ====  ========  ==========  =================================================
``bedrock-runtime``  2 s      10 s  1         12 s        150-200 output tokens take a few seconds;
                                                          :func:`atlas_shared.bedrock.invoke` retries only
                                                          when another full attempt fits the deadline
``dynamodb``         1 s      3 s   2         9 s         one small item; one retry
``secretsmanager``   1 s      3 s   2         9 s         one small secret; one retry
``connect``          2 s      10 s  2         25 s        fits InvokeOutboundCallHandler's 30 s; its
                                                          ClientToken makes the retry safe
===================  =======  ====  ========  ==========  =================================================

The worst case is ``attempts * (connect + read)`` plus ``standard`` mode's backoff (at most 1 s before the
second attempt, 2 s before the third). Step Functions retries the resulting errors with its own backoff, so
more attempts here would only crowd the Lambda timeout.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from . import deadline


def _standard(*, connect: float, read: float, attempts: int) -> dict[str, Any]:
    """botocore ``Config`` keyword arguments: timeouts in seconds, ``attempts`` in total (first one included)."""
    return {
        "connect_timeout": connect,
        "read_timeout": read,
        "retries": {"mode": "standard", "total_max_attempts": attempts},
    }


# service -> botocore Config keyword arguments (see the module docstring for the budget)
_CONFIGS: dict[str, dict[str, Any]] = {
    "bedrock-runtime": _standard(connect=2, read=10, attempts=1),
    "dynamodb": _standard(connect=1, read=3, attempts=2),
    "secretsmanager": _standard(connect=1, read=3, attempts=2),
    "connect": _standard(connect=2, read=10, attempts=2),
}
_DEFAULT_CONFIG: dict[str, Any] = {"connect_timeout": 2, "read_timeout": 10, "retries": {"mode": "standard"}}
_BOTOCORE_DEFAULT_TOTAL_ATTEMPTS = 3  # standard mode without total_max_attempts
_MAX_BACKOFF_SECONDS = 20  # botocore.retries.standard.ExponentialBackoff

# Error codes that say "try again later" rather than "this request is wrong".
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "InternalServerException",
        "InternalServerError",
        "InternalServiceException",
        "InternalFailure",
        "ModelTimeoutException",
        "ModelNotReadyException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def get_client(service_name: str) -> Any:
    """The container's boto3 client for ``service_name`` (``"dynamodb"``, ``"bedrock-runtime"`` ...).

    The region comes from ``AWS_REGION`` as Lambda sets it. Returns a ``botocore.client.BaseClient``.
    """
    client = _clients.get(service_name)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(service_name)
        if client is None:
            import boto3  # deferred: see the module docstring
            from botocore.config import Config

            # A copy: botocore rewrites the retries dict it is given (max_attempts -> total_max_attempts).
            config = Config(**copy.deepcopy(_config(service_name)))
            client = boto3.client(service_name, config=config)
            _clients[service_name] = client
    return client


def set_client(service_name: str, client: Any) -> None:
    """Use ``client`` for ``service_name`` from now on (a Stubber-wrapped or moto client in tests)."""
    with _lock:
        _clients[service_name] = client


def reset_clients() -> None:
    """Forget every cached client; the next :func:`get_client` builds a new one."""
    with _lock:
        _clients.clear()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``"ThrottlingException"``), else the class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def is_client_error(exc: BaseException) -> bool:
    """True for botocore's ``ClientError`` and ``BotoCoreError`` (endpoint, timeout, credentials) families."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore ships with the runtime
        return False
    return isinstance(exc, (ClientError, BotoCoreError))


def is_transient(exc: BaseException) -> bool:
    """True when a botocore error is worth a retry: throttling, HTTP 5xx, a timeout or a dropped connection.

    ``ValidationException``, ``AccessDeniedException`` and the like are not: the same request fails again.
    """
    try:
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
    except ImportError:  # pragma: no cover - botocore ships with the runtime
        return False
    if isinstance(exc, (ConnectionError, HTTPClientError)):  # timeouts, refused or closed connections
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error_code(exc) in TRANSIENT_ERROR_CODES or status >= 500 or status == 429
    return False


def _config(service_name: str) -> dict[str, Any]:
    return _CONFIGS.get(service_name, _DEFAULT_CONFIG)


def attempt_seconds(service_name: str) -> float:
    """The longest one attempt of a ``service_name`` call can take: connect plus read timeout, in seconds."""
    config = _config(service_name)
    return float(config["connect_timeout"]) + float(config["read_timeout"])


def worst_case_seconds(service_name: str) -> float:
    """The longest a ``service_name`` call can take with all its attempts and botocore's backoff, in seconds."""
    attempts = int(_config(service_name)["retries"].get("total_max_attempts", _BOTOCORE_DEFAULT_TOTAL_ATTEMPTS))
    backoff = sum(min(2 ** (n - 1), _MAX_BACKOFF_SECONDS) for n in range(1, attempts))
    return attempts * attempt_seconds(service_name) + backoff


def require_time(service_name: str, what: str, error: Callable[[str], Exception]) -> None:
    """Raise ``error(message)`` unless a whole ``service_name`` call (:func:`worst_case_seconds`) fits the deadline.

    Args:
        service_name: e.g. ``"dynamodb"``.
        what: the call in words, e.g. ``"GetItem on atlas-scenarios"``.
        error: the caller's transient error class, e.g. ``ScenarioStoreError``.
    """
    deadline.current().require(worst_case_seconds(service_name), what, error)
