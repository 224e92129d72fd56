#!/usr/bin/env python3
"""Point an existing Amazon Lex V2 bot alias's locale code hooks at a qualified Lambda ARN.

Run by the lex_code_hook Terraform module (terraform_data + local-exec) because the hashicorp/aws provider
has no Lex V2 bot alias resource. Usable by hand too::

    python3 lex_code_hook.py --region us-west-2 --bot-id ABCDE12345 --bot-alias-id FGHIJ67890 \\
        --locale en_US [--locale es_US] [--bot-version 3] [--dry-run] \\
        [--role-arn arn:aws:iam::123456789012:role/atlas-engine-deployer] \\
        arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live

What it does, in order:

0. With ``--role-arn``, STS ``AssumeRole``
   (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html) with the default credential
   chain, and every later call as that role with the temporary credentials it returns. This is how the script
   reaches the account a Terraform provider ``assume_role`` block deploys to: the provider's role does not
   reach local-exec. Without it the script runs as whatever the default chain resolves to.
1. ``DescribeBotAlias`` (https://docs.aws.amazon.com/lexv2/latest/APIReference/API_DescribeBotAlias.html).
   An alias that reports a status other than Available is polled until it is Available, for at most
   ``--wait-timeout`` seconds.
2. Builds the wanted alias from what it read: for each requested locale
   ``botAliasLocaleSettings[locale] = {"enabled": true, "codeHookSpecification": {"lambdaCodeHook":
   {"lambdaARN": ARN, "codeHookInterfaceVersion": "1.0"}}}``, keeping anything else in that locale's settings;
   ``botVersion`` too when ``--bot-version`` is given. Every other locale, ``conversationLogSettings``,
   ``sentimentAnalysisSettings``, ``botAliasName`` and ``description`` stay as they are.
3. ``UpdateBotAlias`` (https://docs.aws.amazon.com/lexv2/latest/APIReference/API_UpdateBotAlias.html), only
   when the wanted alias differs from the current one. UpdateBotAlias replaces the whole alias configuration
   (omitted fields are reset), which is why this is a read-modify-write and never a partial update. It then
   waits, bounded the same way, for the alias to be Available again.

Every change is printed as ``path: old -> new``. ``--dry-run`` prints them and stops before step 3.

Exit codes:
    0  the alias is as wanted (updated now, already up to date, or --dry-run printed the changes)
    1  unexpected error (a bug: the traceback says where)
    2  invalid arguments: unqualified or $LATEST Lambda ARN, malformed id, locale, bot version, role ARN or
       role session name
    3  bot or bot alias not found (ResourceNotFoundException; moto answers unknown ids with HTTP 500 or KeyError)
    4  the alias is Failed or Deleting, or not Available within --wait-timeout
    5  any other AWS error (access denied, validation, throttling after retries, no credentials, no endpoint),
       AssumeRole of --role-arn refused or failing included
    6  boto3 cannot be imported by the Python running the script (lex_code_hook_python / python_executable)

Environment:
    AWS_ENDPOINT_URL              endpoint override, e.g. http://127.0.0.1:5000 for moto server
    AWS_MAX_ATTEMPTS              botocore attempts per call (standard retry mode: throttling and 5xx retried)
    LEX_CODE_HOOK_WAIT_TIMEOUT    default for --wait-timeout, in seconds (0: never wait, never check status)
    plus the usual AWS credential chain (AWS_PROFILE, ...), which --role-arn's AssumeRole uses too.
    Credentials, the runner's or the role's temporary ones, are never printed.

Needs Python 3.9+ and boto3; nothing else outside the standard library.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

EXIT_OK = 0
EXIT_INVALID_ARGUMENTS = 2
EXIT_NOT_FOUND = 3
EXIT_NOT_AVAILABLE = 4
EXIT_AWS_ERROR = 5
EXIT_MISSING_BOTO3 = 6

DEFAULT_WAIT_TIMEOUT_SECONDS = 300.0
POLL_INTERVAL_SECONDS = 5.0
CODE_HOOK_INTERFACE_VERSIONS = ("1.0",)
DEFAULT_ROLE_SESSION_NAME = "terraform-lex-code-hook"

# Lex V2 ids are 10 upper-case letters and digits; botocore only enforces a minimum length of 10, and moto
# hands out UUIDs, so the script accepts both. The Terraform module enforces the strict AWS form.
_ID_PATTERN = re.compile(r"[0-9A-Za-z-]{10,}")
_LOCALE_PATTERN = re.compile(r"[a-z]{2}_[A-Z]{2}")
_BOT_VERSION_PATTERN = re.compile(r"[1-9][0-9]{0,4}")
# arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], per
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html#versioning-versions-using
_LAMBDA_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>[^:]+))?"
)
_QUALIFIER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
# arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME, with IAM's name and path characters, per
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
_ROLE_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}")
# RoleSessionName, per https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
_ROLE_SESSION_NAME_PATTERN = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")

_AVAILABLE = "available"
_TERMINAL_STATUSES = ("failed", "deleting")
_UNSET = "<unset>"


class CodeHookError(Exception):
    """Base of every error this script reports; ``exit_code`` is the process exit status to use."""

    exit_code = 1


class InvalidArgumentError(CodeHookError):
    """An argument can never work (bad ARN, id, locale or version). Exit code 2."""

    exit_code = EXIT_INVALID_ARGUMENTS


class AliasNotFoundError(CodeHookError):
    """The bot or the bot alias does not exist in this account and region. Exit code 3."""

    exit_code = EXIT_NOT_FOUND


class AliasNotAvailableError(CodeHookError):
    """The alias is Failed or Deleting, or did not become Available in time. Exit code 4."""

    exit_code = EXIT_NOT_AVAILABLE


class AwsApiError(CodeHookError):
    """Any other AWS error, after botocore's retries. Exit code 5."""

    exit_code = EXIT_AWS_ERROR


class AssumeRoleError(AwsApiError):
    """STS AssumeRole of ``--role-arn`` was refused or failed, so nothing was read or changed. Exit code 5."""


class MissingBoto3Error(CodeHookError):
    """The Python running the script cannot import boto3. Exit code 6."""

    exit_code = EXIT_MISSING_BOTO3


@dataclass(frozen=True)
class CodeHookRequest:
    """What the alias should look like after the run.

    ``locale_ids`` are Lex V2 locale ids (``en_US``); ``lambda_arn`` is a qualified Lambda ARN;
    ``bot_version`` is a numbered bot version or None to keep the alias's current one.
    ``allow_new_locales`` lets the run add a locale the alias does not list yet; without it such a locale is
    taken for a typo (the real locale would silently keep its old code hook) and rejected.
    """

    bot_id: str
    bot_alias_id: str
    locale_ids: tuple[str, ...]
    lambda_arn: str
    bot_version: str | None = None
    code_hook_interface_version: str = "1.0"
    allow_new_locales: bool = False


@dataclass(frozen=True)
class CodeHookResult:
    """Outcome of :func:`set_code_hook`.

    ``changes`` holds one ``path: old -> new`` line per differing field (empty when the alias was already as
    wanted); ``updated`` is True only when UpdateBotAlias was called.
    """

    changes: tuple[str, ...]
    updated: bool
    alias: dict[str, Any]


def validate_lambda_arn(arn: str) -> str:
    """Return ``arn`` when it is a Lambda ARN qualified with an alias or a published version.

    Lex must call a qualified ARN: the unqualified ARN and ``$LATEST`` run unpublished code without
    provisioned concurrency, which is the cold-start problem this module exists to fix.

    Raises:
        InvalidArgumentError: not a Lambda function ARN, unqualified, or qualified with ``$LATEST``.
    """
    match = _LAMBDA_ARN_PATTERN.fullmatch(arn)
    if match is None:
        raise InvalidArgumentError(
            f"{arn!r} is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER)"
        )
    qualifier = match.group("qualifier")
    if qualifier is None:
        raise InvalidArgumentError(
            f"Lambda ARN {arn!r} is unqualified; give the alias ARN (...:function:{match.group('name')}:live) "
            "or a published version so Lex calls the code behind provisioned concurrency"
        )
    if qualifier == "$LATEST":
        raise InvalidArgumentError(
            f"Lambda ARN {arn!r} points at $LATEST; give the alias ARN or a published version instead"
        )
    if _QUALIFIER_PATTERN.fullmatch(qualifier) is None:
        raise InvalidArgumentError(f"Lambda ARN {arn!r} has an invalid qualifier {qualifier!r}")
    return arn


def validate_role(role_arn: str | None, role_session_name: str) -> None:
    """Check ``--role-arn`` (None: no role to assume) and ``--role-session-name``.

    Raises:
        InvalidArgumentError: the ARN is not an IAM role ARN, or the session name is not 2-64 characters of
            letters, digits and ``_+=,.@-``.
    """
    if role_arn is not None and _ROLE_ARN_PATTERN.fullmatch(role_arn) is None:
        raise InvalidArgumentError(
            f"role ARN {role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME, 12-digit account)"
        )
    if _ROLE_SESSION_NAME_PATTERN.fullmatch(role_session_name) is None:
        raise InvalidArgumentError(
            f"role session name {role_session_name!r} must be 2-64 letters, digits or _+=,.@- characters"
        )


def validate_request(request: CodeHookRequest) -> CodeHookRequest:
    """Check every field of ``request``; return it unchanged.

    Raises:
        InvalidArgumentError: naming the first field that can never work.
    """
    for label, value in (
        ("bot id", request.bot_id),
        ("bot alias id", request.bot_alias_id),
    ):
        if _ID_PATTERN.fullmatch(value) is None:
            raise InvalidArgumentError(
                f"{label} {value!r} is not a Lex V2 id (10 upper-case letters and digits, e.g. ABCDE12345)"
            )
    if not request.locale_ids:
        raise InvalidArgumentError("give at least one locale, e.g. --locale en_US")
    for locale_id in request.locale_ids:
        if _LOCALE_PATTERN.fullmatch(locale_id) is None:
            raise InvalidArgumentError(f"locale {locale_id!r} is not a Lex V2 locale id such as en_US")
    if request.bot_version is not None and _BOT_VERSION_PATTERN.fullmatch(request.bot_version) is None:
        raise InvalidArgumentError(
            f"bot version {request.bot_version!r} must be a numbered version such as 3; "
            "only the built-in TestBotAlias may point at DRAFT"
        )
    if request.code_hook_interface_version not in CODE_HOOK_INTERFACE_VERSIONS:
        raise InvalidArgumentError(
            f"code hook interface version {request.code_hook_interface_version!r} is not one of "
            f"{', '.join(CODE_HOOK_INTERFACE_VERSIONS)}"
        )
    validate_lambda_arn(request.lambda_arn)
    return request


def prune_to_shape(value: Any, shape: Any) -> Any:
    """Keep only what botocore ``shape`` accepts from ``value``, recursively; None when nothing is left.

    DescribeBotAlias returns read-only fields (status, dates, history) that UpdateBotAlias refuses, and may
    grow new ones; filtering by UpdateBotAlias's own input shape keeps every field the update can carry,
    including ones added to the API after this script was written. A structure that lacks one of its
    required members is dropped, since UpdateBotAlias would reject it (moto returns ``{}`` for unset
    sentiment settings).
    """
    if value is None:
        return None
    type_name = shape.type_name
    if type_name == "structure":
        if not isinstance(value, Mapping):
            return None
        kept = {}
        for name, member in shape.members.items():
            pruned = prune_to_shape(value.get(name), member)
            if pruned is not None:
                kept[name] = pruned
        if any(name not in kept for name in shape.required_members):
            return None
        return kept
    if type_name == "map":
        if not isinstance(value, Mapping):
            return None
        kept_map = {}
        for key, item in value.items():
            pruned = prune_to_shape(item, shape.value)
            if pruned is not None:
                kept_map[key] = pruned
        return kept_map
    if type_name == "list":
        if not isinstance(value, (list, tuple)):
            return None
        return [p for p in (prune_to_shape(item, shape.member) for item in value) if p is not None]
    return value


def wanted_alias(current: Mapping[str, Any], request: CodeHookRequest) -> dict[str, Any]:
    """Return the UpdateBotAlias parameters that give ``request`` while keeping the rest of ``current``.

    ``current`` is the alias as UpdateBotAlias parameters (see :func:`prune_to_shape`). Each requested
    locale gets ``enabled: true`` and the Lambda code hook; keys of the locale settings other than these
    are kept. ``botVersion`` changes only when ``request.bot_version`` is set. Nothing else is touched.
    """
    wanted = copy.deepcopy(dict(current))
    locales = wanted.setdefault("botAliasLocaleSettings", {})
    for locale_id in request.locale_ids:
        settings = locales.setdefault(locale_id, {})
        settings["enabled"] = True
        code_hook = settings.setdefault("codeHookSpecification", {})
        code_hook["lambdaCodeHook"] = {
            "lambdaARN": request.lambda_arn,
            "codeHookInterfaceVersion": request.code_hook_interface_version,
        }
    if request.bot_version is not None:
        wanted["botVersion"] = request.bot_version
    return wanted


def describe_changes(current: Any, wanted: Any, path: str = "") -> list[str]:
    """List the differences between two JSON-like values as sorted ``path: old -> new`` lines."""
    if isinstance(current, Mapping) and isinstance(wanted, Mapping):
        lines: list[str] = []
        for key in sorted(set(current) | set(wanted)):
            child = f"{path}.{key}" if path else str(key)
            lines.extend(describe_changes(current.get(key, _UNSET), wanted.get(key, _UNSET), child))
        return lines
    if current == wanted:
        return []
    return [f"{path}: {_render(current)} -> {_render(wanted)}"]


def _render(value: Any) -> str:
    return value if value is _UNSET else json.dumps(value, sort_keys=True, default=str)


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _error_message(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip()


def _not_found(request: CodeHookRequest, region: str, detail: str) -> AliasNotFoundError:
    return AliasNotFoundError(
        f"bot {request.bot_id} / bot alias {request.bot_alias_id} not found in region {region} ({detail}); "
        "check the ids with `aws lexv2-models list-bots` and `aws lexv2-models list-bot-aliases --bot-id ID`"
    )


def describe_alias(client: Any, request: CodeHookRequest) -> dict[str, Any]:
    """Call DescribeBotAlias and return its response (without ResponseMetadata).

    Raises:
        AliasNotFoundError: ResourceNotFoundException; moto's answers for unknown ids (HTTP 500 without an
            AWS error code from moto server, KeyError from in-process mock_aws); or an alias that belongs to
            another bot (moto looks aliases up by alias id alone).
        AwsApiError: any other AWS or connection error.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    region = client.meta.region_name
    try:
        response = client.describe_bot_alias(botId=request.bot_id, botAliasId=request.bot_alias_id)
    except ClientError as error:
        code = _error_code(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "ResourceNotFoundException":
            raise _not_found(request, region, _error_message(error) or code) from None
        if status == 500 and code in ("", "500"):
            raise _not_found(request, region, "the endpoint answered HTTP 500 with no AWS error code") from None
        raise AwsApiError(f"DescribeBotAlias failed: {code}: {_error_message(error)}") from None
    except KeyError:
        raise _not_found(request, region, "the emulator has no such id") from None
    except BotoCoreError as error:
        raise AwsApiError(f"DescribeBotAlias failed: {error}") from None
    if response.get("botId") not in (None, request.bot_id):
        raise _not_found(
            request,
            region,
            f"alias {request.bot_alias_id} belongs to bot {response['botId']}",
        )
    response.pop("ResponseMetadata", None)
    return response


def wait_until_available(
    client: Any,
    request: CodeHookRequest,
    alias: dict[str, Any],
    timeout_seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """Poll DescribeBotAlias until ``botAliasStatus`` is Available; return the last description.

    ``alias`` is the description already in hand. Statuses compare case-insensitively (AWS says
    ``Available``, moto ``CREATING``). ``timeout_seconds`` bounds the wait; 0 returns ``alias`` at once
    without looking at its status (for emulators whose aliases never leave Creating).

    Raises:
        AliasNotAvailableError: the status is Failed or Deleting, or still not Available at the deadline.
    """
    if timeout_seconds <= 0:
        return alias
    deadline = clock() + timeout_seconds
    while True:
        status = str(alias.get("botAliasStatus", "Available"))
        if status.lower() == _AVAILABLE:
            return alias
        if status.lower() in _TERMINAL_STATUSES:
            raise AliasNotAvailableError(
                f"bot alias {request.bot_alias_id} is {status}; it cannot be updated"
                " (a Failed alias needs fixing in the Lex console first)"
            )
        remaining = deadline - clock()
        if remaining <= 0:
            raise AliasNotAvailableError(
                f"bot alias {request.bot_alias_id} is still {status} after {timeout_seconds:g} s; "
                "retry later or raise --wait-timeout (LEX_CODE_HOOK_WAIT_TIMEOUT)"
            )
        print(
            f"lex_code_hook: bot alias {request.bot_alias_id} is {status}; waiting",
            file=out,
        )
        sleep(min(POLL_INTERVAL_SECONDS, remaining))
        alias = describe_alias(client, request)


def check_fits_alias(current: Mapping[str, Any], request: CodeHookRequest, region: str | None) -> None:
    """Reject a request that is well formed but cannot be what the user meant for this alias.

    * The Lambda function must be in the bot's region: Lex V2 invokes code hooks in its own region only
      (https://docs.aws.amazon.com/lexv2/latest/dg/lambda-attach.html).
    * Every requested locale must already be listed in the alias's ``botAliasLocaleSettings`` (an alias lists
      the locales of its bot version), unless ``allow_new_locales``: a typo such as ``en_UK`` would otherwise add
      a locale nobody speaks while ``en_US`` kept calling ``$LATEST``. An alias that lists no locale at all
      takes any.

    Raises:
        InvalidArgumentError: naming the region or the locales, and what the alias has.
    """
    match = _LAMBDA_ARN_PATTERN.fullmatch(request.lambda_arn)
    arn_region = match.group("region") if match else None
    if region and arn_region and arn_region != region:
        raise InvalidArgumentError(
            f"Lambda ARN {request.lambda_arn!r} is in {arn_region} but the bot alias is in {region}; "
            "Lex V2 calls code hooks in its own region only"
        )
    known = sorted(current.get("botAliasLocaleSettings") or {})
    unknown = [locale_id for locale_id in request.locale_ids if locale_id not in known]
    if known and unknown and not request.allow_new_locales:
        raise InvalidArgumentError(
            f"bot {request.bot_id} alias {request.bot_alias_id} has no locale {', '.join(unknown)} "
            f"(it has {', '.join(known)}); check the locale ids, or pass --allow-new-locale to add one"
        )


def set_code_hook(
    client: Any,
    request: CodeHookRequest,
    *,
    dry_run: bool = False,
    wait_timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    out: TextIO = sys.stdout,
) -> CodeHookResult:
    """Make the bot alias's code hooks match ``request``; call UpdateBotAlias only if something differs.

    ``client`` is a boto3 ``lexv2-models`` client. Progress and changes go to ``out``, never credentials.

    Returns:
        A :class:`CodeHookResult`; ``alias`` is the UpdateBotAlias parameters as they now are (or would be).

    Raises:
        InvalidArgumentError, AliasNotFoundError, AliasNotAvailableError, AwsApiError (see the exit codes).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    validate_request(request)
    name = f"bot {request.bot_id} alias {request.bot_alias_id}"
    described = describe_alias(client, request)
    if not dry_run:
        described = wait_until_available(
            client,
            request,
            described,
            wait_timeout_seconds,
            sleep=sleep,
            clock=clock,
            out=out,
        )

    input_shape = client.meta.service_model.operation_model("UpdateBotAlias").input_shape
    current = prune_to_shape(described, input_shape) or {}
    # The ids are required members the description need not carry; describe_alias checked they match.
    current.update(botId=request.bot_id, botAliasId=request.bot_alias_id)
    check_fits_alias(current, request, client.meta.region_name)
    wanted = wanted_alias(current, request)
    changes = tuple(describe_changes(current, wanted))
    alias_name = current.get("botAliasName", "?")

    if not changes:
        print(
            f"lex_code_hook: {name} ({alias_name}) is up to date; nothing to change",
            file=out,
        )
        return CodeHookResult(changes=(), updated=False, alias=current)

    verb = "would change" if dry_run else "changing"
    print(f"lex_code_hook: {name} ({alias_name}): {verb}", file=out)
    for line in changes:
        print(f"  {line}", file=out)
    if dry_run:
        return CodeHookResult(changes=changes, updated=False, alias=wanted)

    try:
        response = client.update_bot_alias(**wanted)
    except ClientError as error:
        code = _error_code(error)
        if code == "ResourceNotFoundException":
            raise _not_found(request, client.meta.region_name, _error_message(error)) from None
        raise AwsApiError(f"UpdateBotAlias failed: {code}: {_error_message(error)}") from None
    except KeyError:
        raise _not_found(request, client.meta.region_name, "the emulator has no such id") from None
    except BotoCoreError as error:
        raise AwsApiError(f"UpdateBotAlias failed: {error}") from None

    wait_until_available(
        client,
        request,
        dict(response),
        wait_timeout_seconds,
        sleep=sleep,
        clock=clock,
        out=out,
    )
    print(f"lex_code_hook: {name} ({alias_name}) updated", file=out)
    return CodeHookResult(changes=changes, updated=True, alias=wanted)


def require_boto3() -> None:
    """Fail early, and say what to do, when this Python cannot import boto3 (or botocore and its deps).

    Raises:
        MissingBoto3Error: naming the interpreter and the Terraform variables that choose it.
    """
    try:
        import boto3  # noqa: F401
    except ImportError as error:
        raise MissingBoto3Error(
            f"{sys.executable} (Python {sys.version.split()[0]}) cannot import boto3 ({error}); the machine "
            "running terraform apply needs Python 3.9+ with boto3: install it (python3 -m pip install boto3) "
            "or point lex_code_hook_python (the lex_code_hook module's python_executable) at a Python that "
            "has it"
        ) from None


def assume_role(
    session: Any,
    region: str | None,
    role_arn: str,
    role_session_name: str = DEFAULT_ROLE_SESSION_NAME,
    *,
    session_factory: Callable[..., Any] | None = None,
) -> Any:
    """Call STS AssumeRole with ``session``'s credentials; return a boto3 Session holding the role's
    temporary credentials (one hour, STS's default), in ``region`` or else ``session``'s region.

    The STS client uses the same retry mode and endpoint handling as the Lex client (AWS_ENDPOINT_URL, or
    AWS_ENDPOINT_URL_STS, reaches STS too). The credentials stay in memory and are never printed.

    Raises:
        AssumeRoleError: AccessDenied (the caller may not assume the role, or the role's trust policy does not
            name the caller), a role that does not exist, no credentials, an unreachable endpoint.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    new_session = session_factory or boto3.session.Session
    sts = session.client("sts", region_name=region, config=_client_config())
    hint = (
        "the identity running terraform needs sts:AssumeRole on it, and the role's trust policy must allow "
        "that identity"
    )
    try:
        response = sts.assume_role(RoleArn=role_arn, RoleSessionName=role_session_name)
    except ClientError as error:
        raise AssumeRoleError(
            f"cannot assume role {role_arn}: {_error_code(error)}: {_error_message(error)}; {hint}"
        ) from None
    except BotoCoreError as error:
        raise AssumeRoleError(f"cannot assume role {role_arn}: {error}") from None
    credentials = response["Credentials"]
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region or session.region_name,
    )


def _client_config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard"}, user_agent_extra="atlasengine-lex-code-hook")


def make_client(
    region: str | None,
    *,
    role_arn: str | None = None,
    role_session_name: str = DEFAULT_ROLE_SESSION_NAME,
    session_factory: Callable[..., Any] | None = None,
) -> Any:
    """Build the ``lexv2-models`` client: standard retry mode, so throttling and 5xx answers are retried
    with backoff (attempts from AWS_MAX_ATTEMPTS or the AWS config, 3 by default); the endpoint comes from
    AWS_ENDPOINT_URL when it is set.

    With ``role_arn`` the client runs as that role (:func:`assume_role`, from the default credential chain);
    without it, as the default chain itself. ``session_factory`` (boto3's ``Session`` by default) is the seam
    tests use to see which credentials each session gets.

    Raises:
        AssumeRoleError: see :func:`assume_role`.
    """
    import boto3

    new_session = session_factory or boto3.session.Session
    session = new_session()
    if role_arn is not None:
        session = assume_role(session, region, role_arn, role_session_name, session_factory=new_session)
    return session.client("lexv2-models", region_name=region, config=_client_config())


def _wait_timeout_default() -> float:
    raw = os.environ.get("LEX_CODE_HOOK_WAIT_TIMEOUT")
    if raw is None or raw.strip() == "":
        return DEFAULT_WAIT_TIMEOUT_SECONDS
    try:
        return float(raw)
    except ValueError:
        raise InvalidArgumentError(f"LEX_CODE_HOOK_WAIT_TIMEOUT={raw!r} is not a number of seconds") from None


def build_parser() -> argparse.ArgumentParser:
    """The command line: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="lex_code_hook.py",
        description="Point a Lex V2 bot alias's locale code hooks at a qualified Lambda ARN (idempotent).",
        epilog="Exit codes: 0 done, 1 unexpected error, 2 invalid arguments, 3 bot or alias not found, "
        "4 alias not Available, 5 other AWS error (a refused AssumeRole included), 6 boto3 not installed.",
    )
    parser.add_argument(
        "lambda_arn",
        metavar="LAMBDA_ARN",
        help="qualified Lambda ARN (alias or version)",
    )
    parser.add_argument("--bot-id", required=True, help="Lex V2 bot id")
    parser.add_argument("--bot-alias-id", required=True, help="Lex V2 bot alias id")
    parser.add_argument(
        "--locale",
        dest="locale_ids",
        action="append",
        required=True,
        metavar="LOCALE_ID",
        help="locale to set, e.g. en_US; repeat for several",
    )
    parser.add_argument(
        "--bot-version",
        help="numbered bot version to move the alias to (default: keep)",
    )
    parser.add_argument("--code-hook-interface-version", default="1.0", help="default: 1.0")
    parser.add_argument("--region", help="AWS region of the bot (default: AWS_REGION / the AWS config)")
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"how long to wait for the alias to be Available (default: LEX_CODE_HOOK_WAIT_TIMEOUT or "
        f"{DEFAULT_WAIT_TIMEOUT_SECONDS:g}; 0 never waits)",
    )
    parser.add_argument(
        "--allow-new-locale",
        action="store_true",
        help="add a locale the alias does not list yet (default: reject it as a likely typo)",
    )
    parser.add_argument(
        "--role-arn",
        metavar="ARN",
        help="IAM role to assume (STS AssumeRole with the default credential chain) for every Lex call; "
        "give the role the Terraform provider assumes (default: run as the default chain)",
    )
    parser.add_argument(
        "--role-session-name",
        default=DEFAULT_ROLE_SESSION_NAME,
        metavar="NAME",
        help=f"RoleSessionName for --role-arn, shown in CloudTrail (default: {DEFAULT_ROLE_SESSION_NAME})",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the changes, do not update")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: Callable[..., Any] = make_client,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Parse ``argv``, run :func:`set_code_hook` and return the exit code (see the module docstring).

    ``client_factory`` is called as ``client_factory(region, role_arn=..., role_session_name=...)``, like
    :func:`make_client`, and returns the ``lexv2-models`` client.
    """
    args = build_parser().parse_args(argv)
    try:
        request = CodeHookRequest(
            bot_id=args.bot_id,
            bot_alias_id=args.bot_alias_id,
            locale_ids=tuple(dict.fromkeys(args.locale_ids)),
            lambda_arn=args.lambda_arn,
            bot_version=args.bot_version,
            code_hook_interface_version=args.code_hook_interface_version,
            allow_new_locales=args.allow_new_locale,
        )
        validate_request(request)
        validate_role(args.role_arn, args.role_session_name)
        wait_timeout = args.wait_timeout if args.wait_timeout is not None else _wait_timeout_default()
        require_boto3()
        try:
            client = client_factory(
                args.region,
                role_arn=args.role_arn,
                role_session_name=args.role_session_name,
            )
        except CodeHookError:
            raise
        except Exception as error:  # boto3 raises several unrelated types for a bad region or profile
            raise AwsApiError(f"cannot create the lexv2-models client: {error}") from None
        if args.role_arn is not None:
            print(
                f"lex_code_hook: running as role {args.role_arn} (session {args.role_session_name})",
                file=out,
            )
        set_code_hook(
            client,
            request,
            dry_run=args.dry_run,
            wait_timeout_seconds=wait_timeout,
            out=out,
        )
    except CodeHookError as error:
        print(f"lex_code_hook: error: {error}", file=err)
        return error.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
