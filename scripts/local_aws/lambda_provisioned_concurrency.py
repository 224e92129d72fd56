"""Lambda provisioned concurrency for moto server: the configuration API and the alias behaviour around it.

moto 5.2 implements no provisioned-concurrency API. ``patch_lambda_provisioned_concurrency()`` adds, in the
moto server process (moto_launcher.py calls it before the server starts):

- ``PutProvisionedConcurrencyConfig`` (``PUT /2019-09-30/functions/NAME/provisioned-concurrency?Qualifier=Q``,
  HTTP 202): the configuration starts ``IN_PROGRESS`` and turns ``READY`` once the allocation delay has passed.
  Source: https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html
- ``GetProvisionedConcurrencyConfig`` (HTTP 200): ``RequestedProvisionedConcurrentExecutions``,
  ``AvailableProvisionedConcurrentExecutions``, ``AllocatedProvisionedConcurrentExecutions``, ``Status``
  (``IN_PROGRESS`` | ``READY`` | ``FAILED``), ``StatusReason`` (only when FAILED) and ``LastModified``; an
  unknown qualifier is ``ProvisionedConcurrencyConfigNotFoundException`` (HTTP 404).
  Source: https://docs.aws.amazon.com/lambda/latest/api/API_GetProvisionedConcurrencyConfig.html
- ``DeleteProvisionedConcurrencyConfig`` (HTTP 204).
  Source: https://docs.aws.amazon.com/lambda/latest/api/API_DeleteProvisionedConcurrencyConfig.html

and what Lambda does to an alias that carries provisioned concurrency:

- Moving the alias to another version (UpdateAlias with a new ``FunctionVersion``) re-allocates the
  environments for the new version: the configuration goes back to ``IN_PROGRESS`` and, until it is ``READY``
  again, GetAlias/UpdateAlias report transient routing weights that keep the traffic on the previous version
  (``RoutingConfig.AdditionalVersionWeights = {PREVIOUS: 1.0}``), as Lambda does (hashicorp/terraform#24957,
  hashicorp/terraform-provider-aws#48116).
- ``PutProvisionedConcurrencyConfig`` on an alias that has routing weights, transient or configured, is refused
  with ``InvalidParameterValueException`` (HTTP 400) "Alias with weights can not be used with Provisioned
  Concurrency": the error type and message reported from Lambda in hashicorp/terraform#24957.

Knobs (environment of the moto server process; tests start their own server with them):

- ``LOCAL_AWS_PC_ALLOCATION_SECONDS`` (float, default 3): how long a configuration stays ``IN_PROGRESS``, and
  how long the transient weights of a version move last. Real allocations take one to several minutes.
- ``LOCAL_AWS_PC_FAIL_AT_OR_ABOVE`` (int, unset by default): a request for at least this many environments
  ends ``FAILED`` instead of ``READY``, with a ``StatusReason``, the way an allocation that exceeds the
  account's concurrency fails. For tests of the FAILED path.

Being no kinder than Lambda: ``$LATEST`` cannot carry provisioned concurrency, the count must be at least 1,
and the function and qualifier must exist (``ResourceNotFoundException``, HTTP 404).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

ALLOCATION_SECONDS_ENV = "LOCAL_AWS_PC_ALLOCATION_SECONDS"
FAIL_AT_OR_ABOVE_ENV = "LOCAL_AWS_PC_FAIL_AT_OR_ABOVE"
DEFAULT_ALLOCATION_SECONDS = 3.0
WEIGHTS_ERROR_MESSAGE = "Alias with weights can not be used with Provisioned Concurrency"
URL_PATH = r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/provisioned-concurrency/?$"


@dataclass
class ProvisionedConcurrencyConfig:
    """One configuration on a qualified function (alias or version), as Lambda keeps it.

    Attributes:
        requested: RequestedProvisionedConcurrentExecutions.
        allocated: environments ready now (AllocatedProvisionedConcurrentExecutions).
        ready_at: time.monotonic() at which the current allocation finishes.
        fails: the current allocation ends FAILED instead of READY.
        last_modified: ISO 8601 time of the last Put.
        previous_version: while a version move re-allocates, the version the alias routes to meanwhile.
    """

    requested: int
    allocated: int
    ready_at: float
    fails: bool
    last_modified: str
    previous_version: str | None = None

    def settled(self, now: float) -> bool:
        """True once the current allocation has finished (READY or FAILED)."""
        return now >= self.ready_at

    def status(self, now: float) -> str:
        """IN_PROGRESS, READY or FAILED at ``now``."""
        if not self.settled(now):
            return "IN_PROGRESS"
        return "FAILED" if self.fails else "READY"


class ProvisionedConcurrencyStore:
    """The configurations of one moto server process, keyed by qualified function ARN; thread-safe.

    Args:
        allocation_seconds: how long an allocation stays IN_PROGRESS.
        fail_at_or_above: requests for at least this many environments end FAILED; None never fails.
        clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(self, allocation_seconds: float, fail_at_or_above: int | None, clock: Any = time.monotonic) -> None:
        self.allocation_seconds = allocation_seconds
        self.fail_at_or_above = fail_at_or_above
        self.clock = clock
        self.configs: dict[str, ProvisionedConcurrencyConfig] = {}
        self.lock = threading.Lock()
        # Called as hook(qualified_arn, allocated) when an allocation turns READY (lambda_invoke.py pre-warms
        # the environments then, as Lambda initializes them during allocation).
        self.on_ready: list[Any] = []
        self._announced: dict[str, float] = {}

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ProvisionedConcurrencyStore:
        """A store configured by LOCAL_AWS_PC_ALLOCATION_SECONDS and LOCAL_AWS_PC_FAIL_AT_OR_ABOVE.

        Raises:
            ValueError: a knob is set but is not a number (the message names it).
        """
        env = os.environ if environ is None else environ
        try:
            seconds = float(env.get(ALLOCATION_SECONDS_ENV) or DEFAULT_ALLOCATION_SECONDS)
        except ValueError as exc:
            raise ValueError(f"{ALLOCATION_SECONDS_ENV} must be a number of seconds") from exc
        raw_fail = env.get(FAIL_AT_OR_ABOVE_ENV)
        try:
            fail = int(raw_fail) if raw_fail else None
        except ValueError as exc:
            raise ValueError(f"{FAIL_AT_OR_ABOVE_ENV} must be a whole number of environments") from exc
        return cls(max(seconds, 0.0), fail)

    def put(self, qualified_arn: str, requested: int) -> ProvisionedConcurrencyConfig:
        """Start an allocation of ``requested`` environments on ``qualified_arn`` (keeps what is allocated)."""
        with self.lock:
            previous = self.configs.get(qualified_arn)
            now = self.clock()
            allocated = 0
            if previous is not None and previous.settled(now) and not previous.fails:
                allocated = previous.requested
            config = ProvisionedConcurrencyConfig(
                requested=requested,
                allocated=allocated,
                ready_at=now + self.allocation_seconds,
                fails=self.fail_at_or_above is not None and requested >= self.fail_at_or_above,
                last_modified=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            )
            self.configs[qualified_arn] = config
            return config

    def get(self, qualified_arn: str) -> ProvisionedConcurrencyConfig | None:
        """The configuration on ``qualified_arn``, brought up to date, or None; runs :attr:`on_ready` hooks once
        per finished allocation."""
        ready_now = False
        with self.lock:
            config = self.configs.get(qualified_arn)
            if config is not None and config.settled(self.clock()):
                config.previous_version = None
                if not config.fails:
                    config.allocated = config.requested
                    ready_now = self._announced.get(qualified_arn) != config.ready_at
                    self._announced[qualified_arn] = config.ready_at
        if ready_now and config is not None:
            for hook in self.on_ready:
                hook(qualified_arn, config.allocated)
        return config

    def delete(self, qualified_arn: str) -> bool:
        """Remove the configuration; False when there was none."""
        with self.lock:
            return self.configs.pop(qualified_arn, None) is not None

    def alias_moved(self, alias_arn: str, previous_version: str) -> None:
        """An alias with a configuration moved off ``previous_version``: re-allocate, weights meanwhile."""
        with self.lock:
            config = self.configs.get(alias_arn)
            if config is None:
                return
            now = self.clock()
            config.previous_version = previous_version
            config.ready_at = now + self.allocation_seconds

    def transient_weights(self, alias_arn: str) -> dict[str, float]:
        """The routing weights Lambda reports on the alias right now because of a version move ({} when none)."""
        config = self.get(alias_arn)
        if config is None or config.previous_version is None:
            return {}
        return {config.previous_version: 1.0}

    def describe(self, config: ProvisionedConcurrencyConfig) -> dict[str, Any]:
        """The GetProvisionedConcurrencyConfig answer for ``config``."""
        status = config.status(self.clock())
        answer: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": config.requested,
            "AvailableProvisionedConcurrentExecutions": config.allocated,
            "AllocatedProvisionedConcurrentExecutions": config.allocated,
            "Status": status,
            "LastModified": config.last_modified,
        }
        if status == "FAILED":
            answer["StatusReason"] = (
                f"Requested {config.requested} provisioned concurrent executions exceed the account's unreserved "
                f"concurrency (local AWS: {FAIL_AT_OR_ABOVE_ENV}={self.fail_at_or_above})"
            )
        return answer


def _error(error_type: str, message: str, status: int) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(error_type, message)
    error.code = status
    return error


def _alias_weights(alias: Any, store: ProvisionedConcurrencyStore) -> dict[str, float]:
    configured = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    return {**configured, **store.transient_weights(alias.arn)}


def patch_lambda_provisioned_concurrency(
    store: ProvisionedConcurrencyStore | None = None,
) -> ProvisionedConcurrencyStore:
    """Add the provisioned-concurrency API and the alias behaviour above to moto's Lambda, in this process.

    Call before moto server handles its first Lambda request (the URL map is built then).

    Returns:
        The store that holds the configurations (for in-process tests).

    Raises:
        RuntimeError: moto's Lambda is not shaped as expected (a moto upgrade); the message names what is missing.
        ValueError: a knob in the environment is malformed.
    """
    from moto.awslambda import models, responses, urls

    store = store or ProvisionedConcurrencyStore.from_environment()
    response_class = responses.LambdaResponse
    alias_class = models.LambdaAlias
    for owner, attr in ((alias_class, "update"), (alias_class, "to_json"), (response_class, "backend")):
        if not hasattr(owner, attr):
            raise RuntimeError(
                f"moto.awslambda {owner.__name__} has no {attr}; lambda_provisioned_concurrency.py needs updating"
            )
    if hasattr(response_class, "put_provisioned_concurrency_config"):
        raise RuntimeError("moto now implements provisioned concurrency; retire lambda_provisioned_concurrency.py")

    original_update = alias_class.update
    original_to_json = alias_class.to_json

    def update(self: Any, description: str | None, function_version: str | None, routing_config: Any) -> None:
        previous = self.function_version
        original_update(self, description, function_version, routing_config)
        if function_version is not None and function_version != previous:
            store.alias_moved(self.arn, previous)

    def to_json(self: Any) -> dict[str, Any]:
        answer = dict(original_to_json(self))
        weights = _alias_weights(self, store)
        answer["RoutingConfig"] = {"AdditionalVersionWeights": weights} if weights else None
        return answer

    alias_class.update = update  # type: ignore[method-assign]
    alias_class.to_json = to_json  # type: ignore[method-assign]

    def qualified(self: Any) -> tuple[str, Any]:
        function_name = unquote(self.path.rstrip("/").rsplit("/", 2)[-2])
        qualifier = self.querystring.get("Qualifier", [None])[0]
        if not qualifier:
            raise _error("InvalidParameterValueException", "Qualifier is required.", 400)
        if qualifier == "$LATEST":
            raise _error(
                "InvalidParameterValueException",
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
                400,
            )
        function = self.backend.get_function(function_name)  # ResourceNotFoundException when absent
        base_arn = function.function_arn.split(":function:")[0] + f":function:{function.function_name}"
        alias = None
        if qualifier.isdigit():
            self.backend.get_function(function_name, qualifier)
        else:
            alias = self.backend.get_alias(qualifier, function.function_name)
        return f"{base_arn}:{qualifier}", alias

    def put_provisioned_concurrency_config(self: Any) -> tuple[int, dict[str, Any], str]:
        arn, alias = qualified(self)
        requested = json.loads(self.body or "{}").get("ProvisionedConcurrentExecutions")
        if not isinstance(requested, int) or requested < 1:
            raise _error("InvalidParameterValueException", "ProvisionedConcurrentExecutions must be at least 1.", 400)
        if alias is not None and _alias_weights(alias, store):
            raise _error("InvalidParameterValueException", WEIGHTS_ERROR_MESSAGE, 400)
        config = store.put(arn, requested)
        answer = store.describe(config)
        answer.pop("AvailableProvisionedConcurrentExecutions")
        return 202, {"status": 202}, json.dumps(answer)

    def get_provisioned_concurrency_config(self: Any) -> tuple[int, dict[str, Any], str]:
        arn, _ = qualified(self)
        config = store.get(arn)
        if config is None:
            raise _error(
                "ProvisionedConcurrencyConfigNotFoundException",
                "No Provisioned Concurrency Config found for this function",
                404,
            )
        return 200, {"status": 200}, json.dumps(store.describe(config))

    def delete_provisioned_concurrency_config(self: Any) -> tuple[int, dict[str, Any], str]:
        arn, _ = qualified(self)
        store.delete(arn)
        return 204, {"status": 204}, ""

    for action in (
        put_provisioned_concurrency_config,
        get_provisioned_concurrency_config,
        delete_provisioned_concurrency_config,
    ):
        setattr(response_class, action.__name__, action)
    urls.url_paths.setdefault(URL_PATH, response_class.dispatch)
    return store
