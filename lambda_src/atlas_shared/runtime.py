"""Cold start, written once: settings, logging, and init-time warm-up when nobody is waiting.

Each handler module calls :func:`bootstrap` at import (Lambda's init phase) and wraps its handler in
:func:`entrypoint`.

``AWS_LAMBDA_INITIALIZATION_TYPE`` decides how much work init does
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html):

* ``on-demand``: init runs while the first caller waits, so it does the minimum. Heavy libraries
  (``aws_xray_sdk``, ``simple_salesforce``, ``jwt``, ``requests``) and clients load on first use, and a turn
  that never needs Salesforce never pays for it.
* ``provisioned-concurrency`` or ``snap-start``: init runs before any request is routed to the environment, so
  :func:`bootstrap` does everything up front: imports, X-Ray patching, boto3 clients, the Salesforce secret and
  the Salesforce login. A failure there is logged and left for the first invocation to retry; it never fails
  init (a failed provisioned init would be retried by Lambda in a loop).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from . import deadline, logs, metrics, tracing
from .clients import get_client
from .settings import Settings, get_settings

R = TypeVar("R")

_logger = logs.get_logger("runtime")
_cold_start = True


def bootstrap(
    *,
    required: Iterable[str] = (),
    services: Iterable[str] = (),
    salesforce: bool = False,
) -> Settings:
    """Read and check settings, configure JSON logging, and warm up when init is ahead of traffic.

    Args:
        required: environment variables this function cannot work without.
        services: boto3 service names the function calls (built now only when pre-initialized).
        salesforce: the function uses Salesforce (secret and login now only when pre-initialized).

    Returns:
        The container's settings.

    Raises:
        ConfigurationError: a required variable is missing or a value is invalid. Lambda reports it as an init
            error naming the variable, which is what a misconfigured deployment should do.
    """
    settings = get_settings().require(*required)
    logs.setup_logging(settings.log_level)
    logs.bind(function_name=settings.function_name)
    if settings.pre_initialized:
        warm_up(services=services, salesforce=salesforce, settings=settings)
    return settings


def warm_up(*, services: Iterable[str], salesforce: bool, settings: Settings) -> None:
    """Do the first invocation's one-time work now; log and carry on when any of it fails."""
    try:
        for service in services:
            get_client(service)
        if salesforce:
            from .salesforce import get_salesforce

            get_salesforce().get()  # imports simple_salesforce, jwt and requests; reads the secret; logs in
        tracing.patch_libraries()  # last, so init's own calls don't make orphan subsegments
        _logger.info(
            "Init warm-up done",
            extra={"event": "init_warm_up", "initialization_type": settings.initialization_type},
        )
    except Exception as exc:
        _logger.warning(
            "Init warm-up failed; the first invocation will do the work instead",
            extra={"event": "init_warm_up_failed", "error_type": type(exc).__name__, "error": str(exc)},
        )


def entrypoint(handler: Callable[[Any, Any], R]) -> Callable[[Any, Any], R]:
    """Wrap a ``lambda_handler(event, context)``: log fields, X-Ray patching on first use, the deadline.

    Every log line of the invocation carries ``request_id`` and ``cold_start`` (true on the container's first
    invocation). The invocation's :class:`~atlas_shared.deadline.Deadline` (from
    ``context.get_remaining_time_in_millis()``) is :func:`atlas_shared.deadline.current` while the handler runs.
    An exception that escapes the handler is logged with its type and re-raised, so Lambda (and Step Functions)
    report it by class name.
    """

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> R:
        global _cold_start
        logs.bind(request_id=getattr(context, "aws_request_id", None), cold_start=_cold_start)
        if _cold_start:
            # A provisioned-concurrency (or SnapStart-restored) init ran before this caller; only on-demand and
            # snap-start inits are cold starts a caller waits for (metrics.py's ColdStart).
            init_type = get_settings().initialization_type
            metrics.put("ColdStart", 0.0 if init_type == "provisioned-concurrency" else 1.0, init_type)
        _cold_start = False
        tracing.patch_libraries()
        try:
            with deadline.scope(deadline.Deadline.from_context(context)):
                return handler(event, context)
        except Exception as exc:
            _logger.error(
                "Invocation failed: %s",
                type(exc).__name__,
                extra={"event": "invocation_failed", "error_type": type(exc).__name__, "error": str(exc)},
            )
            raise

    return wrapper


def is_cold_start() -> bool:
    """True until the container's first invocation has started."""
    return _cold_start


def reset_runtime() -> None:
    """Forget cold-start state and log context (tests)."""
    global _cold_start
    _cold_start = True
    logs.clear_context()
