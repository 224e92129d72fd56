"""boto3 clients, built on first use and kept for the life of the container.

Building a client costs tens of milliseconds (endpoint resolution, service model load), so each service gets
one client per container, reused by every invocation. boto3 itself is imported on first use too: a function
that never calls AWS in a given path doesn't pay for it.

Tests inject stubs or moto-backed clients with :func:`set_client` and clear them with :func:`reset_clients`.

Timeouts and retries are per service (botocore ``Config``): a Lex turn must answer well inside the Lambda
timeout (30 s), so Bedrock gets a 10 s read timeout (150-200 output tokens take a few seconds) and one retry in
``standard`` mode (which backs off on throttling): two attempts fit. The quick data-plane calls get short
timeouts.
"""

from __future__ import annotations

import threading
from typing import Any

# service -> botocore Config keyword arguments
_CONFIGS: dict[str, dict[str, Any]] = {
    "bedrock-runtime": {"connect_timeout": 2, "read_timeout": 10, "retries": {"mode": "standard", "max_attempts": 2}},
    "dynamodb": {"connect_timeout": 1, "read_timeout": 3, "retries": {"mode": "standard", "max_attempts": 3}},
    "secretsmanager": {"connect_timeout": 1, "read_timeout": 3, "retries": {"mode": "standard", "max_attempts": 3}},
    "connect": {"connect_timeout": 2, "read_timeout": 10, "retries": {"mode": "standard", "max_attempts": 3}},
}
_DEFAULT_CONFIG: dict[str, Any] = {"connect_timeout": 2, "read_timeout": 10, "retries": {"mode": "standard"}}

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

            config = Config(**_CONFIGS.get(service_name, _DEFAULT_CONFIG))
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
