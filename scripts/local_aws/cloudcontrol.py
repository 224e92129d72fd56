"""Cloud Control API ``GetResource`` for ``AWS::Lex::BotAlias`` on the local AWS (moto 5.2 has no cloudcontrol).

The lex_code_hook module reads the bot alias at plan time with the hashicorp/aws provider's
``aws_cloudcontrolapi_resource`` data source, so ``terraform plan`` shows a code hook changed outside Terraform.
That data source calls Cloud Control's ``GetResource`` (JSON 1.0 protocol, ``X-Amz-Target:
CloudApiService.GetResource``). This module answers it from moto's own lexv2-models backend, so the answer is
always what ``DescribeBotAlias`` returns in the same server.

Request and answer, per https://docs.aws.amazon.com/cloudcontrolapi/latest/APIReference/API_GetResource.html:

- request ``{"TypeName": "AWS::Lex::BotAlias", "Identifier": "BOT_ALIAS_ID|BOT_ID"}`` (``RoleArn`` and
  ``TypeVersionId`` are accepted and ignored). The identifier is the type's primaryIdentifier
  ``["/properties/BotAliasId", "/properties/BotId"]`` joined with ``|``, per
  https://docs.aws.amazon.com/cloudcontrolapi/latest/userguide/resource-identifier.html.
- answer ``{"TypeName": ..., "ResourceDescription": {"Identifier": ..., "Properties": "<JSON string>"}}``. The
  Properties follow the AWS::Lex::BotAlias resource schema
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lex-botalias.html): ``BotAliasId``,
  ``BotId``, ``Arn``, ``BotAliasStatus``, ``BotAliasName``, ``Description``, ``BotVersion``,
  ``BotAliasLocaleSettings`` as a list of ``{"LocaleId", "BotAliasLocaleSetting": {"Enabled",
  "CodeHookSpecification": {"LambdaCodeHook": {"LambdaArn", "CodeHookInterfaceVersion"}}}}``,
  ``ConversationLogSettings`` and ``SentimentAnalysisSettings`` (the Lex V2 API's fields with their first letter
  upper-cased; ``lambdaARN`` becomes ``LambdaArn``). Unset properties are left out, as Cloud Control does.

No kinder than AWS: an unknown alias, or an alias of another bot, is ``ResourceNotFoundException``; an identifier
that is not ``BOT_ALIAS_ID|BOT_ID`` is ``InvalidRequestException``; every other type and every other Cloud Control
operation is ``UnsupportedActionException`` (HTTP 400), naming what this emulator covers, rather than an answer
that could pass for AWS's.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

TARGET_PREFIX = "CloudApiService."
BOT_ALIAS_TYPE = "AWS::Lex::BotAlias"
_JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([a-z0-9-]+)/")
_RENAMES = {"lambdaARN": "LambdaArn"}


class CloudControlError(Exception):
    """An error answer: ``code`` is the AWS error type (``__type``), ``status`` the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def to_properties(value: Any) -> Any:
    """Lex V2 API fields (``camelCase``) as CloudFormation properties (``PascalCase``), recursively."""
    if isinstance(value, dict):
        return {
            _RENAMES.get(key, key[:1].upper() + key[1:]): to_properties(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [to_properties(item) for item in value]
    return value


def bot_alias_properties(described: dict[str, Any], arn: str) -> dict[str, Any]:
    """The AWS::Lex::BotAlias Properties for a DescribeBotAlias answer (see the module docstring)."""
    properties: dict[str, Any] = {
        "BotAliasId": described["botAliasId"],
        "BotId": described["botId"],
        "Arn": arn,
        "BotAliasStatus": described.get("botAliasStatus"),
        "BotAliasName": described.get("botAliasName"),
        "Description": described.get("description"),
        "BotVersion": described.get("botVersion"),
    }
    locales = described.get("botAliasLocaleSettings") or {}
    if locales:
        properties["BotAliasLocaleSettings"] = [
            {"LocaleId": locale_id, "BotAliasLocaleSetting": to_properties(settings)}
            for locale_id, settings in sorted(locales.items())
        ]
    for key in ("conversationLogSettings", "sentimentAnalysisSettings"):
        converted = to_properties(described.get(key) or {})
        if converted:
            properties[key[:1].upper() + key[1:]] = converted
    return {key: value for key, value in properties.items() if value not in (None, "", [], {})}


def get_bot_alias(lex_backend: Any, identifier: str) -> dict[str, Any]:
    """GetResource of AWS::Lex::BotAlias ``identifier`` (``BOT_ALIAS_ID|BOT_ID``) from moto's lexv2-models backend.

    Raises:
        CloudControlError: InvalidRequestException (malformed identifier), ResourceNotFoundException.
    """
    parts = identifier.split("|")
    if len(parts) != 2 or not all(parts):
        raise CloudControlError(
            "InvalidRequestException",
            f"Identifier {identifier!r} is not valid for {BOT_ALIAS_TYPE}: expected BotAliasId|BotId",
        )
    alias_id, bot_id = parts
    alias = lex_backend.bot_aliases.get(alias_id)
    if alias is None or alias.bot_id != bot_id:
        raise CloudControlError(
            "ResourceNotFoundException",
            f"{BOT_ALIAS_TYPE} with identifier '{identifier}' was not found",
        )
    described = lex_backend.describe_bot_alias(bot_alias_id=alias_id, bot_id=bot_id)
    return {
        "TypeName": BOT_ALIAS_TYPE,
        "ResourceDescription": {
            "Identifier": identifier,
            "Properties": json.dumps(bot_alias_properties(described, alias.arn), sort_keys=True),
        },
    }


def handle(target: str, body: bytes, account_id: str, region: str) -> tuple[int, dict[str, Any]]:
    """Answer one Cloud Control request: ``(HTTP status, JSON body)``.

    ``target`` is the ``X-Amz-Target`` header; ``account_id`` and ``region`` select moto's backend.
    """
    operation = target[len(TARGET_PREFIX) :]
    try:
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            raise CloudControlError("InvalidRequestException", "The request body is not JSON") from None
        type_name = request.get("TypeName")
        if operation != "GetResource" or type_name != BOT_ALIAS_TYPE:
            raise CloudControlError(
                "UnsupportedActionException",
                f"The local AWS emulates Cloud Control GetResource for {BOT_ALIAS_TYPE} only; "
                f"got {operation} for {type_name}",
            )
        identifier = request.get("Identifier")
        if not isinstance(identifier, str):
            raise CloudControlError("InvalidRequestException", "Identifier is required")
        from moto.lexv2models.models import lexv2models_backends

        return 200, get_bot_alias(lexv2models_backends[account_id][region], identifier)
    except CloudControlError as error:
        return error.status, {"__type": error.code, "Message": str(error)}


def _account_and_region(environ: dict[str, Any]) -> tuple[str, str]:
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key, region = (match.group(1), match.group(2)) if match else ("", "us-east-1")
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key), region


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The WSGI answer to a request whose ``X-Amz-Target`` starts with ``CloudApiService.``."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    account_id, region = _account_and_region(environ)
    status, payload = handle(environ.get("HTTP_X_AMZ_TARGET", ""), body, account_id, region)
    data = json.dumps(payload).encode()
    reason = "OK" if status == 200 else "Bad Request"
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", _JSON_CONTENT_TYPE),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [data]


def patch_cloudcontrol() -> None:
    """Route Cloud Control requests in moto server to :func:`wsgi_app` (moto would answer them with a 404).

    Raises:
        RuntimeError: moto's DomainDispatcherApplication is not where this expects it (a moto upgrade).
    """
    from moto.moto_server import werkzeug_app

    dispatcher = getattr(werkzeug_app, "DomainDispatcherApplication", None)
    if dispatcher is None or "__call__" not in vars(dispatcher):
        raise RuntimeError("moto.moto_server.werkzeug_app has no DomainDispatcherApplication; update cloudcontrol.py")
    if getattr(dispatcher.__call__, "_atlas_cloudcontrol", False):
        return
    original = dispatcher.__call__

    def __call__(self: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX):
            return wsgi_app(environ, start_response)
        return original(self, environ, start_response)

    __call__._atlas_cloudcontrol = True  # type: ignore[attr-defined]
    dispatcher.__call__ = __call__  # type: ignore[method-assign]
