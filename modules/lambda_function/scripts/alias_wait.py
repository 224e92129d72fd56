#!/usr/bin/env python3
"""Wait, bounded, until a Lambda alias is safe for the next step of a deploy.

Run by the lambda_function Terraform module (terraform_data + local-exec), because hashicorp/aws 5.x does not
wait for either condition. Usable by hand too::

    python3 alias_wait.py --until no-weights|ready [--timeout 900] [--role-arn ARN] \\
        arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live

``--until no-weights``: polls GetAlias
(https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html) until ``RoutingConfig.AdditionalVersionWeights``
is empty. An alias that carries provisioned concurrency keeps routing weights for a while after its version
moves, and PutProvisionedConcurrencyConfig fails meanwhile with "Alias with weights can not be used with
Provisioned Concurrency" (hashicorp/terraform#24957; the provider waits only from
hashicorp/terraform-provider-aws#48116 on). The module runs this between the alias update and the
provisioned-concurrency change.

``--until ready``: polls GetProvisionedConcurrencyConfig
(https://docs.aws.amazon.com/lambda/latest/api/API_GetProvisionedConcurrencyConfig.html) on the alias until
``Status`` is READY; FAILED stops at once with its ``StatusReason``. The module runs this after the
provisioned-concurrency change and, when asked, after every version move, before anything (the Lex code hook)
sends callers to the alias.

Both print one line with what they waited for and how long, in seconds. Polls come every second for the first
10 s, then every 5 s (the provider's own waiter polls every 5 s), so a wait is bounded by ``--timeout`` and
costs at most a few GetAlias/GetProvisionedConcurrencyConfig calls a minute.

Exit codes:
    0  the alias has no routing weights / its provisioned concurrency is READY
    2  invalid arguments (not a qualified alias ARN, bad timeout)
    3  --timeout passed first; the message names the alias and its weights or status
    4  provisioned concurrency is FAILED (message: StatusReason), or there is no configuration to wait for
    5  any other AWS error (not found, access denied, no credentials, no endpoint)
    6  boto3 cannot be imported by the Python running the script (python_executable)

Environment: AWS_ENDPOINT_URL (e.g. moto server), the usual AWS credential chain, which ``--role-arn``'s STS
AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html) uses too. Credentials are
never printed. Needs Python 3.9+ and boto3.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_INVALID_ARGUMENTS = 2
EXIT_TIMEOUT = 3
EXIT_FAILED = 4
EXIT_AWS_ERROR = 5
EXIT_MISSING_BOTO3 = 6

ALIAS_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):function:"
    r"(?P<function>[A-Za-z0-9_-]{1,64}):(?P<alias>(?!\$LATEST$)(?![0-9]+$)[A-Za-z0-9_-]{1,128})$"
)


class WaitError(Exception):
    """Base of every error this script reports; ``exit_code`` is the process exit status to use."""

    exit_code = 1


class InvalidArgumentError(WaitError):
    """An argument cannot be right (see EXIT_INVALID_ARGUMENTS)."""

    exit_code = EXIT_INVALID_ARGUMENTS


class WaitTimeoutError(WaitError):
    """The condition did not hold within the timeout."""

    exit_code = EXIT_TIMEOUT


class AllocationFailedError(WaitError):
    """Provisioned concurrency is FAILED, or not configured at all."""

    exit_code = EXIT_FAILED


class AwsApiError(WaitError):
    """Any other AWS error."""

    exit_code = EXIT_AWS_ERROR


class MissingBoto3Error(WaitError):
    """boto3 is not importable."""

    exit_code = EXIT_MISSING_BOTO3


@dataclass(frozen=True)
class Alias:
    """A qualified alias ARN split into what the Lambda API takes."""

    arn: str
    region: str
    function_name: str
    name: str

    @classmethod
    def parse(cls, arn: str) -> Alias:
        """Split ``arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS``.

        Raises:
            InvalidArgumentError: unqualified, a version number, or $LATEST.
        """
        match = ALIAS_ARN.match(arn)
        if match is None:
            raise InvalidArgumentError(
                f"{arn!r} is not a Lambda alias ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS; "
                "not a version, not $LATEST)"
            )
        return cls(arn=arn, region=match["region"], function_name=match["function"], name=match["alias"])


def poll_interval(elapsed_s: float) -> float:
    """Seconds to sleep before the next poll: 1 s during the first 10 s, then 5 s."""
    return 1.0 if elapsed_s < 10 else 5.0


def _poll(
    probe: Callable[[], tuple[bool, str]],
    timeout_s: float,
    what: str,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> float:
    started = clock()
    while True:
        done, state = probe()
        elapsed = clock() - started
        if done:
            return elapsed
        if elapsed >= timeout_s:
            raise WaitTimeoutError(f"{what}: still {state} after {elapsed:.0f} s (timeout {timeout_s:.0f} s)")
        sleep(min(poll_interval(elapsed), max(timeout_s - elapsed, 0.0)))


def _call(operation: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return operation(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ProvisionedConcurrencyConfigNotFoundException":
            raise AllocationFailedError(
                f"{kwargs.get('FunctionName')}:{kwargs.get('Qualifier')} has no provisioned concurrency "
                "configuration to wait for (deleted outside Terraform?)"
            ) from exc
        raise AwsApiError(f"{exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise AwsApiError(f"Lambda call failed: {exc}") from exc


def wait_until_no_weights(
    lambda_client: Any,
    alias: Alias,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Poll GetAlias until the alias has no ``AdditionalVersionWeights``; return the seconds waited.

    Raises:
        WaitTimeoutError: weights still set after ``timeout_s``; the message names the alias and the weights.
        AwsApiError: GetAlias failed.
    """

    def probe() -> tuple[bool, str]:
        answer = _call(lambda_client.get_alias, FunctionName=alias.function_name, Name=alias.name)
        weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return not weights, f"routing to version {answer.get('FunctionVersion')} with weights {weights}"

    what = (
        f"alias {alias.function_name}:{alias.name} must have no routing weights before its provisioned "
        "concurrency can change (PutProvisionedConcurrencyConfig refuses an alias with weights)"
    )
    return _poll(probe, timeout_s, what, clock, sleep)


def wait_until_ready(
    lambda_client: Any,
    alias: Alias,
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Poll GetProvisionedConcurrencyConfig on the alias until Status is READY; return the seconds waited.

    Raises:
        AllocationFailedError: Status FAILED (the message carries StatusReason) or no configuration.
        WaitTimeoutError: still IN_PROGRESS after ``timeout_s``.
        AwsApiError: the call failed otherwise.
    """

    def probe() -> tuple[bool, str]:
        answer = _call(
            lambda_client.get_provisioned_concurrency_config, FunctionName=alias.function_name, Qualifier=alias.name
        )
        status = answer.get("Status")
        if status == "FAILED":
            raise AllocationFailedError(
                f"provisioned concurrency on {alias.function_name}:{alias.name} is FAILED: "
                f"{answer.get('StatusReason') or 'no StatusReason given'}"
            )
        allocated = answer.get("AllocatedProvisionedConcurrentExecutions")
        requested = answer.get("RequestedProvisionedConcurrentExecutions")
        return status == "READY", f"{status} ({allocated} of {requested} environments allocated)"

    what = f"provisioned concurrency on {alias.function_name}:{alias.name} must be READY before callers arrive"
    return _poll(probe, timeout_s, what, clock, sleep)


def lambda_client_for(alias: Alias, role_arn: str | None) -> Any:
    """A Lambda client in the alias's region, as ``role_arn`` when given (STS AssumeRole).

    Raises:
        MissingBoto3Error: boto3 is not installed for this Python.
        AwsApiError: AssumeRole failed.
    """
    try:
        import boto3
    except ImportError as exc:
        raise MissingBoto3Error(
            f"boto3 is not importable by {sys.executable}: install it (pip install boto3) or point "
            "python_executable at a Python that has it"
        ) from exc
    session = boto3.Session(region_name=alias.region)
    if role_arn:
        answer = _call(session.client("sts").assume_role, RoleArn=role_arn, RoleSessionName="atlas-engine-alias-wait")
        credentials = answer["Credentials"]
        session = boto3.Session(
            region_name=alias.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    return session.client("lambda")


def main(argv: list[str] | None = None, client_factory: Callable[[Alias, str | None], Any] = lambda_client_for) -> int:
    """Parse ``argv``, wait, print the outcome and return the exit code (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--until", choices=("no-weights", "ready"), required=True)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most (default 900)")
    parser.add_argument("--role-arn", default=None, help="IAM role to assume first")
    parser.add_argument("alias_arn", help="qualified alias ARN")
    args = parser.parse_args(argv)
    try:
        if not 0 < args.timeout <= 3600:
            raise InvalidArgumentError(f"--timeout must be between 0 and 3600 seconds, got {args.timeout}")
        alias = Alias.parse(args.alias_arn)
        client = client_factory(alias, args.role_arn)
        if args.until == "no-weights":
            waited = wait_until_no_weights(client, alias, args.timeout)
            print(f"alias_wait: {alias.function_name}:{alias.name} has no routing weights (waited {waited:.1f} s)")
        else:
            waited = wait_until_ready(client, alias, args.timeout)
            print(
                f"alias_wait: provisioned concurrency on {alias.function_name}:{alias.name} is READY "
                f"(waited {waited:.1f} s)"
            )
    except WaitError as error:
        print(f"alias_wait: error: {error}", file=sys.stderr)
        return error.exit_code
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
