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

4. Re-reads the alias and verifies that this run's change and every field it preserved stuck. UpdateBotAlias
   has no precondition, so a console edit or another Terraform root racing the script can undo either write
   (measured: one locale's hook vanished). When the re-read differs, the alias is read afresh (keeping the other
   writer's fields) and written again: at most ``--verify-attempts`` writes (3), then exit 8.

Every change is printed as ``path: old -> new``. ``--dry-run`` prints them and stops before step 3.

Before anything is written the script refuses (exit 7) a botocore older than 1.31.81 (the first with
``textLogSettings[].selectiveLoggingEnabled``; botocore 1.31.80 lacks it, measured on the published wheels), and
any DescribeBotAlias answer whose raw HTTP body holds a field the local botocore's model of the answer lacks:
botocore's parser drops unknown keys, so the read-modify-write would reset them.

``--remove`` is the removal mode the module's destroy-time provisioner runs: each ``--locale`` that still calls
LAMBDA_ARN gets back the hook in ``--recorded`` (found when the module adopted the alias; ``null``: no code hook),
or the ARN given as ``--on-removal``; ``--on-removal keep`` changes nothing. Each target is checked with Lambda
GetFunction first; a missing one stops the run (exit 9) with a message naming the override.

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
    7  the local botocore cannot carry every field the alias has (older than 1.31.81, or the alias has a field
       it does not know): nothing was written
    8  another writer kept undoing the change: still not as wanted after --verify-attempts writes
    9  --remove: the hook to put back names a Lambda function (version, alias) that no longer exists

Environment:
    AWS_ENDPOINT_URL              endpoint override, e.g. http://127.0.0.1:5000 for moto server
    AWS_MAX_ATTEMPTS              botocore attempts per call (standard retry mode: throttling and 5xx retried)
    LEX_CODE_HOOK_WAIT_TIMEOUT    default for --wait-timeout, in seconds (0: never wait, never check status)
    LEX_CODE_HOOK_VERIFY_ATTEMPTS default for --verify-attempts (3)
    plus the usual AWS credential chain (AWS_PROFILE, ...), which --role-arn's AssumeRole uses too.
    Credentials, the runner's or the role's temporary ones, are never printed.

Needs Python 3.9+ and boto3; nothing else outside the standard library.
"""

from __future__ import annotations

import argparse
import copy
import functools
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
EXIT_BOTOCORE_TOO_OLD = 7
EXIT_CONCURRENT_UPDATE = 8
EXIT_RESTORE_TARGET_MISSING = 9

# The first botocore whose lexv2-models model has textLogSettings[].selectiveLoggingEnabled (and the audio one):
# measured on the published wheels, 1.31.80 lacks it and 1.31.81 has it. An older botocore drops the field from
# DescribeBotAlias and UpdateBotAlias then resets it to false.
MIN_BOTOCORE_VERSION = (1, 31, 81)
DEFAULT_VERIFY_ATTEMPTS = 3
ON_REMOVAL_RESTORE = "restore"
ON_REMOVAL_KEEP = "keep"

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


class BotocoreTooOldError(CodeHookError):
    """The local botocore cannot carry every field the alias has, so UpdateBotAlias would reset one. Exit code 7."""

    exit_code = EXIT_BOTOCORE_TOO_OLD


class ConcurrentUpdateError(CodeHookError):
    """Another writer kept undoing this run's change; still not as wanted after the bounded retries. Exit code 8."""

    exit_code = EXIT_CONCURRENT_UPDATE


class RestoreTargetMissingError(CodeHookError):
    """The code hook recorded at adoption names a Lambda function that no longer exists. Exit code 9."""

    exit_code = EXIT_RESTORE_TARGET_MISSING


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


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.31.81"`` -> ``(1, 31, 81)``; a suffix such as ``"1.34.0rc1"`` or ``"1.29.0+deb"`` is ignored."""
    parts = []
    for piece in text.split(".")[:3]:
        digits = re.match(r"[0-9]+", piece)
        parts.append(int(digits.group(0)) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


def require_botocore_version(version: str | None = None) -> None:
    """Refuse a botocore older than :data:`MIN_BOTOCORE_VERSION` (``version`` defaults to the installed one).

    Why: UpdateBotAlias replaces the whole alias, and the script rebuilds it from the DescribeBotAlias fields the
    local botocore knows. botocore < 1.31.81 has no ``selectiveLoggingEnabled`` in ``TextLogSetting`` or
    ``AudioLogSetting``, drops it from the read and so resets it to false on the write, without the printed diff
    showing it. See also :func:`unknown_fields`, which catches fields added to the API after this floor.

    Raises:
        BotocoreTooOldError: naming the installed and the minimum version and how to upgrade.
    """
    if version is None:
        import botocore

        version = botocore.__version__
    if parse_version(version) < MIN_BOTOCORE_VERSION:
        minimum = ".".join(str(p) for p in MIN_BOTOCORE_VERSION)
        raise BotocoreTooOldError(
            f"botocore {version} (used by {sys.executable}) is older than {minimum}, the first release whose "
            "Lex V2 model has conversationLogSettings.textLogSettings[].selectiveLoggingEnabled; UpdateBotAlias "
            "replaces the whole alias, so this botocore would silently reset that setting. Install "
            f"botocore>={minimum} (boto3>=1.28.81; Debian bookworm's python3-botocore is older), e.g. "
            f"`python3 -m pip install 'boto3>=1.28.81' 'botocore>={minimum}'`, or point python_executable "
            "(the root module's lex_code_hook_python) at a Python that has it"
        )


def unknown_fields(value: Any, shape: Any, path: str = "") -> list[str]:
    """Paths (``a.b[].c``, ``map.{key}``) in the raw JSON ``value`` that botocore ``shape`` has no member for.

    botocore's parser keeps only the members its model knows, so a field AWS added after the local botocore was
    released is silently missing from the parsed DescribeBotAlias answer, and UpdateBotAlias would then reset it.
    Comparing the raw HTTP body with the operation's output shape finds such fields before anything is written.
    """
    found: list[str] = []
    if shape is None or value is None:
        return found
    type_name = shape.type_name
    if type_name == "structure" and isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            member = shape.members.get(key)
            if member is None:
                found.append(child)
            else:
                found.extend(unknown_fields(item, member, child))
    elif type_name == "list" and isinstance(value, list):
        for item in value:
            for field in unknown_fields(item, shape.member, f"{path}[]"):
                if field not in found:
                    found.append(field)
    elif type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            found.extend(unknown_fields(item, shape.value, f"{path}.{key}"))
    return found


class _RawBodyRecorder:
    """botocore ``after-call`` handler that keeps the raw HTTP body of the last answer (None when stubbed)."""

    def __init__(self) -> None:
        self.body: bytes | None = None

    def __call__(self, http_response: Any = None, **_: Any) -> None:
        self.body = None
        if getattr(http_response, "raw", None) is None:
            return
        try:
            self.body = http_response.content
        except Exception:  # a streamed or already closed body: nothing to compare
            self.body = None


def check_botocore_knows(client: Any, body: bytes | None) -> None:
    """Refuse to go on when the raw DescribeBotAlias ``body`` holds fields the local botocore model lacks.

    Raises:
        BotocoreTooOldError: naming the fields and the installed botocore version.
    """
    if not body:
        return
    try:
        raw = json.loads(body)
    except ValueError:
        return
    output_shape = client.meta.service_model.operation_model("DescribeBotAlias").output_shape
    unknown = unknown_fields(raw, output_shape)
    if unknown:
        import botocore

        minimum = ".".join(str(p) for p in MIN_BOTOCORE_VERSION)
        raise BotocoreTooOldError(
            f"the bot alias has {', '.join(unknown)}, which botocore {botocore.__version__} does not know: "
            "UpdateBotAlias replaces the whole alias, so that setting would be reset. Upgrade botocore (at least "
            f"{minimum}; a release newer than the field) on the machine running terraform, or point "
            "python_executable (lex_code_hook_python) at a Python that has it"
        )


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

    The raw HTTP body is compared with botocore's model of the answer (:func:`check_botocore_knows`): a field the
    local botocore does not know would be lost by the read-modify-write, so the run stops before writing.

    Raises:
        BotocoreTooOldError: the answer carries a field the local botocore does not know.
        AliasNotFoundError: ResourceNotFoundException; moto's answers for unknown ids (HTTP 500 without an
            AWS error code from moto server, KeyError from in-process mock_aws); or an alias that belongs to
            another bot (moto looks aliases up by alias id alone).
        AwsApiError: any other AWS or connection error.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    region = client.meta.region_name
    recorder = _RawBodyRecorder()
    event = f"after-call.{client.meta.service_model.service_id.hyphenize()}.DescribeBotAlias"
    client.meta.events.register(event, recorder, unique_id="lex-code-hook-raw-describe")
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
    finally:
        client.meta.events.unregister(event, unique_id="lex-code-hook-raw-describe")
    check_botocore_knows(client, recorder.body)
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


Transform = Callable[[dict[str, Any]], dict[str, Any]]


def _update_alias(client: Any, request: CodeHookRequest, wanted: Mapping[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

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
    return dict(response)


def _read_current(
    client: Any,
    request: CodeHookRequest,
    *,
    wait: bool,
    wait_timeout_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    out: TextIO,
) -> dict[str, Any]:
    """DescribeBotAlias (waiting for Available when ``wait``), as UpdateBotAlias parameters."""
    described = describe_alias(client, request)
    if wait:
        described = wait_until_available(
            client, request, described, wait_timeout_seconds, sleep=sleep, clock=clock, out=out
        )
    input_shape = client.meta.service_model.operation_model("UpdateBotAlias").input_shape
    current = prune_to_shape(described, input_shape) or {}
    # The ids are required members the description need not carry; describe_alias checked they match.
    current.update(botId=request.bot_id, botAliasId=request.bot_alias_id)
    return current


def converge_alias(
    client: Any,
    request: CodeHookRequest,
    transform: Transform,
    *,
    dry_run: bool = False,
    wait_timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    verify_attempts: int = DEFAULT_VERIFY_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    out: TextIO = sys.stdout,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> CodeHookResult:
    """Read the alias, write ``transform(current)`` if it differs, re-read and verify; retry on a lost update.

    UpdateBotAlias has no precondition (no revision or ETag): a console edit or another Terraform root that read
    the alias before this run wrote it can write its own copy afterwards and undo this run's change, or this run
    can undo theirs. So after each write (and the wait for Available) the alias is read again and compared with
    what was written: this run's own change and every field it preserved must still be there. When they are
    not, the alias is read afresh (keeping whatever the other writer set) and written again, at most
    ``verify_attempts`` writes in all. A field someone else changed after this run's write, while this run's own
    change stuck, is theirs to keep: the next read finds nothing to change and the run ends.

    ``check`` (called with the first read) may refuse the request for this alias. ``transform`` returns the
    wanted UpdateBotAlias parameters from the current ones.

    Raises:
        ConcurrentUpdateError: still not as wanted after ``verify_attempts`` writes; the message lists what differs.
        InvalidArgumentError, AliasNotFoundError, AliasNotAvailableError, AwsApiError, BotocoreTooOldError.
    """
    validate_request(request)
    name = f"bot {request.bot_id} alias {request.bot_alias_id}"
    attempts = max(1, int(verify_attempts))
    all_changes: list[str] = []
    writes = 0
    read_kwargs = {"wait_timeout_seconds": wait_timeout_seconds, "sleep": sleep, "clock": clock, "out": out}
    current = _read_current(client, request, wait=not dry_run, **read_kwargs)
    if check is not None:
        check(current)
    while True:
        wanted = transform(copy.deepcopy(current))
        changes = describe_changes(current, wanted)
        alias_name = current.get("botAliasName", "?")
        if not changes:
            if writes == 0:
                print(f"lex_code_hook: {name} ({alias_name}) is up to date; nothing to change", file=out)
            else:
                print(f"lex_code_hook: {name} ({alias_name}) verified after {writes} write(s)", file=out)
            return CodeHookResult(changes=tuple(all_changes), updated=writes > 0, alias=current)
        verb = "would change" if dry_run else "changing"
        print(f"lex_code_hook: {name} ({alias_name}): {verb}", file=out)
        for line in changes:
            print(f"  {line}", file=out)
        if dry_run:
            return CodeHookResult(changes=tuple(changes), updated=False, alias=wanted)
        if writes >= attempts:
            raise ConcurrentUpdateError(
                f"{name} is still not as wanted after {writes} UpdateBotAlias call(s): another writer (the Lex "
                "console, another Terraform root, a pipeline) keeps changing it. Differences now: "
                + "; ".join(changes)
                + ". Find the other writer, then re-run (the apply will retry this resource)"
            )
        response = _update_alias(client, request, wanted)
        writes += 1
        all_changes.extend(line for line in changes if line not in all_changes)
        wait_until_available(client, request, response, wait_timeout_seconds, sleep=sleep, clock=clock, out=out)
        current = _read_current(client, request, wait=True, **read_kwargs)
        lost = describe_changes(wanted, current)
        if not lost:
            print(f"lex_code_hook: {name} ({alias_name}) updated and verified", file=out)
            return CodeHookResult(changes=tuple(all_changes), updated=True, alias=current)
        print(
            f"lex_code_hook: {name}: after UpdateBotAlias the alias differs from what was written "
            f"(another writer?); write {writes} of at most {attempts}:",
            file=out,
        )
        for line in lost:
            print(f"  {line}", file=out)
        sleep(min(POLL_INTERVAL_SECONDS, float(writes)))


def set_code_hook(
    client: Any,
    request: CodeHookRequest,
    *,
    dry_run: bool = False,
    wait_timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    verify_attempts: int = DEFAULT_VERIFY_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    out: TextIO = sys.stdout,
) -> CodeHookResult:
    """Make the bot alias's code hooks match ``request``; call UpdateBotAlias only if something differs, then
    re-read and verify (see :func:`converge_alias`).

    ``client`` is a boto3 ``lexv2-models`` client. Progress and changes go to ``out``, never credentials.

    Returns:
        A :class:`CodeHookResult`; ``alias`` is the UpdateBotAlias parameters as they now are (or would be).

    Raises:
        InvalidArgumentError, AliasNotFoundError, AliasNotAvailableError, AwsApiError, BotocoreTooOldError,
        ConcurrentUpdateError (see the exit codes).
    """
    return converge_alias(
        client,
        request,
        lambda current: wanted_alias(current, request),
        dry_run=dry_run,
        wait_timeout_seconds=wait_timeout_seconds,
        verify_attempts=verify_attempts,
        sleep=sleep,
        clock=clock,
        out=out,
        check=lambda current: check_fits_alias(current, request, client.meta.region_name),
    )


def _hook_arn(alias: Mapping[str, Any], locale_id: str) -> str | None:
    settings = (alias.get("botAliasLocaleSettings") or {}).get(locale_id) or {}
    return ((settings.get("codeHookSpecification") or {}).get("lambdaCodeHook") or {}).get("lambdaARN")


def parse_recorded(text: str) -> dict[str, dict[str, str] | None]:
    """Parse ``--recorded``: a JSON object ``{locale: {"lambdaARN": ARN, "codeHookInterfaceVersion": "1.0"} | null}``.

    ``null`` means the locale had no Lambda code hook when the module adopted the alias.

    Raises:
        InvalidArgumentError: not that shape, or an ARN that is not a Lambda function ARN.
    """
    try:
        recorded = json.loads(text)
    except ValueError as error:
        raise InvalidArgumentError(f"--recorded is not JSON: {error}") from None
    if not isinstance(recorded, dict):
        raise InvalidArgumentError("--recorded must be a JSON object keyed by locale id")
    result: dict[str, dict[str, str] | None] = {}
    for locale_id, hook in recorded.items():
        if _LOCALE_PATTERN.fullmatch(str(locale_id)) is None:
            raise InvalidArgumentError(f"--recorded has {locale_id!r}, which is not a Lex V2 locale id")
        if hook is None:
            result[locale_id] = None
            continue
        arn = hook.get("lambdaARN") if isinstance(hook, dict) else None
        if not isinstance(arn, str) or _LAMBDA_ARN_PATTERN.fullmatch(arn) is None:
            raise InvalidArgumentError(f"--recorded {locale_id}: {hook!r} has no Lambda function ARN (lambdaARN)")
        result[locale_id] = {
            "lambdaARN": arn,
            "codeHookInterfaceVersion": str(hook.get("codeHookInterfaceVersion") or "1.0"),
        }
    return result


def removal_targets(
    request: CodeHookRequest, recorded: Mapping[str, Mapping[str, str] | None], on_removal: str
) -> dict[str, dict[str, str] | None]:
    """The code hook each of ``request.locale_ids`` gets back on removal: the recorded one (``restore``), the
    Lambda ARN ``on_removal`` names, or nothing to do (``keep``: an empty dict).

    Raises:
        InvalidArgumentError: ``on_removal`` is none of restore, keep or a Lambda function ARN, or a locale has no
            recorded hook under ``restore``.
    """
    if on_removal == ON_REMOVAL_KEEP:
        return {}
    if on_removal == ON_REMOVAL_RESTORE:
        missing = [locale_id for locale_id in request.locale_ids if locale_id not in recorded]
        if missing:
            raise InvalidArgumentError(f"no code hook was recorded for {', '.join(missing)}; nothing to restore")
        return {locale_id: recorded[locale_id] for locale_id in request.locale_ids}
    if _LAMBDA_ARN_PATTERN.fullmatch(on_removal) is None:
        raise InvalidArgumentError(
            f"--on-removal {on_removal!r} must be restore, keep or a Lambda function ARN to point the alias at"
        )
    hook = {"lambdaARN": on_removal, "codeHookInterfaceVersion": request.code_hook_interface_version}
    return {locale_id: dict(hook) for locale_id in request.locale_ids}


def check_targets_exist(
    lambda_client: Any, targets: Mapping[str, Mapping[str, str] | None], request: CodeHookRequest
) -> None:
    """GetFunction on every target ARN (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html).

    Raises:
        RestoreTargetMissingError: a target function (or its version or alias) does not exist; the message names
            the override (``code_hook_on_removal``).
        AwsApiError: any other error, e.g. AccessDenied without lambda:GetFunction.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    for arn in sorted({hook["lambdaARN"] for hook in targets.values() if hook is not None}):
        try:
            lambda_client.get_function(FunctionName=arn)
        except ClientError as error:
            code = _error_code(error)
            if code in ("ResourceNotFoundException", "404"):
                raise RestoreTargetMissingError(
                    f"bot {request.bot_id} alias {request.bot_alias_id}: the code hook to put back on "
                    f"{', '.join(sorted(k for k, v in targets.items() if v and v['lambdaARN'] == arn))}, {arn}, no "
                    "longer exists, so the alias would call a missing function. Nothing was changed. Decide what "
                    "the alias calls after removal: set the lex_code_hook module's code_hook_on_removal (the root "
                    'module\'s lex.code_hook_on_removal) to "keep" to leave the alias as it is, or to the ARN of a '
                    "Lambda function Lex may invoke, run terraform apply, then remove again"
                ) from None
            raise AwsApiError(
                f"GetFunction {arn} failed: {code}: {_error_message(error)} (the identity running the script "
                "needs lambda:GetFunction on the function it restores)"
            ) from None
        except BotoCoreError as error:
            raise AwsApiError(f"GetFunction {arn} failed: {error}") from None


def restore_code_hooks(
    client: Any,
    lambda_client: Any,
    request: CodeHookRequest,
    recorded: Mapping[str, Mapping[str, str] | None],
    on_removal: str = ON_REMOVAL_RESTORE,
    *,
    wait_timeout_seconds: float = DEFAULT_WAIT_TIMEOUT_SECONDS,
    verify_attempts: int = DEFAULT_VERIFY_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    out: TextIO = sys.stdout,
) -> CodeHookResult:
    """Undo the module's change on removal (terraform destroy, ``lex = null``, another bot alias).

    For each of ``request.locale_ids`` whose code hook is still ``request.lambda_arn`` (what the module set),
    put back the hook ``recorded`` when the module adopted the alias (no hook: ``codeHookSpecification`` is
    removed), or the Lambda ARN ``on_removal`` names; ``on_removal = "keep"`` changes nothing. A locale that now
    calls something else was changed by someone after the module, and is left alone. Every target function is
    checked with GetFunction first, so the alias is never pointed at a function that is gone. Writes are
    verified and retried like :func:`set_code_hook`'s.

    Raises:
        RestoreTargetMissingError, InvalidArgumentError, AliasNotFoundError, AliasNotAvailableError, AwsApiError,
        BotocoreTooOldError, ConcurrentUpdateError.
    """
    validate_request(request)
    targets = removal_targets(request, recorded, on_removal)
    name = f"bot {request.bot_id} alias {request.bot_alias_id}"
    if not targets:
        print(f"lex_code_hook: {name}: code_hook_on_removal = keep; leaving the alias as it is", file=out)
        return CodeHookResult(changes=(), updated=False, alias={})
    first = _read_current(client, request, wait=False, wait_timeout_seconds=0, sleep=sleep, clock=clock, out=out)
    for locale_id in list(targets):
        arn = _hook_arn(first, locale_id)
        if arn != request.lambda_arn:
            print(
                f"lex_code_hook: {name}: {locale_id} calls {arn or 'no Lambda'}, not {request.lambda_arn}: "
                "changed after this module set it, so it is left as it is",
                file=out,
            )
            del targets[locale_id]
    own = sorted(k for k, v in targets.items() if v and v["lambdaARN"] == request.lambda_arn)
    if own:
        raise RestoreTargetMissingError(
            f"{name}: {', '.join(own)} already called {request.lambda_arn} when the module adopted the alias, so "
            "there is no earlier code hook to put back. Set code_hook_on_removal (root: lex.code_hook_on_removal) "
            'to "keep" or to the Lambda ARN the alias should call, run terraform apply, then remove again'
        )
    check_targets_exist(lambda_client, targets, request)
    managed = _LAMBDA_ARN_PATTERN.fullmatch(request.lambda_arn)
    for locale_id, hook in targets.items():
        target = _LAMBDA_ARN_PATTERN.fullmatch(hook["lambdaARN"]) if hook else None
        if managed and target and target.group("name") == managed.group("name"):
            print(
                f"lex_code_hook: warning: {locale_id} goes back to {hook['lambdaARN']}, a version of the function "
                "this configuration deploys; if this is terraform destroy, that function is deleted next and the "
                "alias will call a missing function (set code_hook_on_removal to keep or another ARN to avoid it)",
                file=out,
            )

    def transform(current: dict[str, Any]) -> dict[str, Any]:
        locales = current.get("botAliasLocaleSettings") or {}
        for locale_id, hook in targets.items():
            settings = locales.get(locale_id)
            if settings is None or _hook_arn(current, locale_id) != request.lambda_arn:
                continue
            if hook is None:
                settings.pop("codeHookSpecification", None)
            else:
                settings["codeHookSpecification"] = {"lambdaCodeHook": dict(hook)}
        return current

    return converge_alias(
        client,
        request,
        transform,
        wait_timeout_seconds=wait_timeout_seconds,
        verify_attempts=verify_attempts,
        sleep=sleep,
        clock=clock,
        out=out,
    )


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
    service_name: str = "lexv2-models",
) -> Any:
    """Build the ``lexv2-models`` client (or ``service_name``'s, e.g. ``lambda`` for the removal's GetFunction): standard retry mode, so throttling and 5xx answers are retried
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
    return session.client(service_name, region_name=region, config=_client_config())


def _wait_timeout_default() -> float:
    raw = os.environ.get("LEX_CODE_HOOK_WAIT_TIMEOUT")
    if raw is None or raw.strip() == "":
        return DEFAULT_WAIT_TIMEOUT_SECONDS
    try:
        return float(raw)
    except ValueError:
        raise InvalidArgumentError(f"LEX_CODE_HOOK_WAIT_TIMEOUT={raw!r} is not a number of seconds") from None


def _verify_attempts_default() -> int:
    raw = os.environ.get("LEX_CODE_HOOK_VERIFY_ATTEMPTS")
    if raw is None or raw.strip() == "":
        return DEFAULT_VERIFY_ATTEMPTS
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InvalidArgumentError(f"LEX_CODE_HOOK_VERIFY_ATTEMPTS={raw!r} must be a whole number of at least 1")
    return int(raw)


def build_parser() -> argparse.ArgumentParser:
    """The command line: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog="lex_code_hook.py",
        description="Point a Lex V2 bot alias's locale code hooks at a qualified Lambda ARN (idempotent).",
        epilog="Exit codes: 0 done, 1 unexpected error, 2 invalid arguments, 3 bot or alias not found, "
        "4 alias not Available, 5 other AWS error (a refused AssumeRole included), 6 boto3 not installed, "
        "7 botocore too old for the alias's fields, 8 another writer kept undoing the change, "
        "9 the hook to restore names a missing function.",
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
    parser.add_argument(
        "--verify-attempts",
        type=int,
        default=None,
        metavar="N",
        help="UpdateBotAlias calls at most, each re-read and verified, before giving up on a racing writer "
        f"(default: LEX_CODE_HOOK_VERIFY_ATTEMPTS or {DEFAULT_VERIFY_ATTEMPTS})",
    )
    parser.add_argument(
        "--remove",
        action="store_true",
        help="removal mode: locales still calling LAMBDA_ARN get back the --recorded hook (or --on-removal's)",
    )
    parser.add_argument(
        "--recorded",
        default="{}",
        metavar="JSON",
        help='with --remove: {"en_US": {"lambdaARN": ARN, "codeHookInterfaceVersion": "1.0"} | null, ...}, '
        "the hooks found when the alias was adopted",
    )
    parser.add_argument(
        "--on-removal",
        default=ON_REMOVAL_RESTORE,
        metavar="restore|keep|ARN",
        help="with --remove: put back the recorded hooks (default), leave the alias as it is, or point it at ARN",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    client_factory: Callable[..., Any] = make_client,
    lambda_client_factory: Callable[..., Any] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Parse ``argv``, run :func:`set_code_hook` and return the exit code (see the module docstring).

    ``client_factory`` is called as ``client_factory(region, role_arn=..., role_session_name=...)``, like
    :func:`make_client`, and returns the ``lexv2-models`` client; ``lambda_client_factory`` likewise returns the
    ``lambda`` client ``--remove`` checks its targets with (default: :func:`make_client` for ``lambda``).
    """
    if lambda_client_factory is None:
        lambda_client_factory = functools.partial(make_client, service_name="lambda")
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
        verify_attempts = args.verify_attempts if args.verify_attempts is not None else _verify_attempts_default()
        if verify_attempts < 1:
            raise InvalidArgumentError("--verify-attempts must be at least 1")
        recorded = parse_recorded(args.recorded) if args.remove else {}
        if args.remove:
            removal_targets(request, recorded, args.on_removal)
        require_boto3()
        require_botocore_version()
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
        if args.remove:
            if args.on_removal == ON_REMOVAL_KEEP:
                lambda_client = None
            else:
                try:
                    lambda_client = lambda_client_factory(
                        args.region,
                        role_arn=args.role_arn,
                        role_session_name=args.role_session_name,
                    )
                except CodeHookError:
                    raise
                except Exception as error:
                    raise AwsApiError(f"cannot create the lambda client: {error}") from None
            restore_code_hooks(
                client,
                lambda_client,
                request,
                recorded,
                args.on_removal,
                wait_timeout_seconds=wait_timeout,
                verify_attempts=verify_attempts,
                out=out,
            )
        else:
            set_code_hook(
                client,
                request,
                dry_run=args.dry_run,
                wait_timeout_seconds=wait_timeout,
                verify_attempts=verify_attempts,
                out=out,
            )
    except CodeHookError as error:
        print(f"lex_code_hook: error: {error}", file=err)
        return error.exit_code
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
