"""What "already exists" in the real account, created in moto before Terraform runs: the Lex V2 bot and its
"Production" alias.

The alias starts as the plan describes it (Phase 1, Task 1): its en_US code hook calls the unqualified
function, that is ``$LATEST``, and it carries conversation logs, sentiment analysis and a second, disabled
locale (es_US). After the apply, ``bot_alias_problems`` checks that only the code hook of the managed locales
moved and everything else is as it was.

Shapes follow the Lex V2 API: https://docs.aws.amazon.com/lexv2/latest/APIReference/API_CreateBotAlias.html and
https://docs.aws.amazon.com/lexv2/latest/APIReference/API_BotAliasLocaleSettings.html.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_aws.errors import FixtureError

BOT_NAME = "AtlasEngineBot"
BOT_ALIAS_NAME = "Production"
BOT_ALIAS_DESCRIPTION = "AtlasEngine voice and chat bot, production traffic"
BOT_VERSION = "1"
MANAGED_LOCALE_IDS = ("en_US",)
CODE_HOOK_INTERFACE_VERSION = "1.0"

# The fields of DescribeBotAlias that the code hook module must leave alone.
KEPT_FIELDS = ("botAliasName", "description", "botVersion", "conversationLogSettings", "sentimentAnalysisSettings")


@dataclass(frozen=True)
class LexFixture:
    """The bot and alias created in moto.

    Attributes:
        bot_id: 10-character Lex V2 bot id.
        bot_alias_id: 10-character bot alias id.
        locale_ids: the locales whose code hook Terraform manages (en_US).
        initial_alias: DescribeBotAlias's answer right after creation (without ResponseMetadata and timestamps),
            the baseline for ``bot_alias_problems``.
    """

    bot_id: str
    bot_alias_id: str
    locale_ids: tuple[str, ...]
    initial_alias: dict[str, Any] = field(repr=False)


def _initial_alias_settings(region: str, account_id: str) -> dict[str, Any]:
    lambda_latest = f"arn:aws:lambda:{region}:{account_id}:function:LexFulfillmentHandler"
    return {
        "botAliasLocaleSettings": {
            "en_US": {
                "enabled": True,
                "codeHookSpecification": {
                    "lambdaCodeHook": {
                        "lambdaARN": lambda_latest,
                        "codeHookInterfaceVersion": CODE_HOOK_INTERFACE_VERSION,
                    }
                },
            },
            "es_US": {"enabled": False},
        },
        "conversationLogSettings": {
            "textLogSettings": [
                {
                    "enabled": True,
                    "destination": {
                        "cloudWatch": {
                            "cloudWatchLogGroupArn": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/lex/{BOT_NAME}",
                            "logPrefix": "production/",
                        }
                    },
                }
            ]
        },
        "sentimentAnalysisSettings": {"detectSentiment": True},
    }


def _comparable(alias: dict[str, Any]) -> dict[str, Any]:
    volatile = {
        "ResponseMetadata",
        "creationDateTime",
        "lastUpdatedDateTime",
        "botAliasHistoryEvents",
        "botAliasStatus",
    }
    return {k: copy.deepcopy(v) for k, v in alias.items() if k not in volatile}


def create_lex_fixture(lex_client: Any, region: str, account_id: str) -> LexFixture:
    """Create the bot and its "Production" alias through ``lex_client`` (a boto3 lexv2-models client on moto).

    Raises:
        FixtureError: a Lex V2 call failed; the message names the call and moto's error.
    """
    try:
        bot = lex_client.create_bot(
            botName=BOT_NAME,
            description="AtlasEngine outbound calling bot",
            roleArn=f"arn:aws:iam::{account_id}:role/aws-service-role/lexv2.amazonaws.com/AWSServiceRoleForLexV2Bots_{BOT_NAME}",
            dataPrivacy={"childDirected": False},
            idleSessionTTLInSeconds=300,
        )
        alias = lex_client.create_bot_alias(
            botId=bot["botId"],
            botAliasName=BOT_ALIAS_NAME,
            description=BOT_ALIAS_DESCRIPTION,
            botVersion=BOT_VERSION,
            **_initial_alias_settings(region, account_id),
        )
        described = lex_client.describe_bot_alias(botId=bot["botId"], botAliasId=alias["botAliasId"])
    except (ClientError, BotoCoreError) as exc:
        raise FixtureError(f"could not create the Lex V2 bot and alias in moto: {exc}") from exc
    return LexFixture(
        bot_id=bot["botId"],
        bot_alias_id=alias["botAliasId"],
        locale_ids=MANAGED_LOCALE_IDS,
        initial_alias=_comparable(described),
    )


def bot_alias_problems(current: dict[str, Any], fixture: LexFixture, expected_lambda_arn: str) -> list[str]:
    """Compare a DescribeBotAlias answer with the fixture's baseline after Terraform pointed the code hook.

    Args:
        current: DescribeBotAlias's answer now.
        fixture: the baseline.
        expected_lambda_arn: the qualified alias ARN the managed locales must call (ends in ``:live``).

    Returns:
        One human-readable line per difference; empty when the code hook points at ``expected_lambda_arn``
        with interface version 1.0 on every managed locale and every other setting is unchanged.
    """
    problems: list[str] = []
    now = _comparable(current)
    before = fixture.initial_alias
    for key in KEPT_FIELDS:
        if now.get(key) != before.get(key):
            problems.append(f"{key} changed: {before.get(key)!r} -> {now.get(key)!r}")
    locales_now = now.get("botAliasLocaleSettings") or {}
    locales_before = before.get("botAliasLocaleSettings") or {}
    for locale_id, settings_before in locales_before.items():
        settings_now = locales_now.get(locale_id)
        if settings_now is None:
            problems.append(f"locale {locale_id} disappeared from the bot alias")
            continue
        if locale_id not in fixture.locale_ids:
            if settings_now != settings_before:
                problems.append(f"unmanaged locale {locale_id} changed: {settings_before!r} -> {settings_now!r}")
            continue
        if settings_now.get("enabled") != settings_before.get("enabled"):
            problems.append(f"locale {locale_id} enabled changed to {settings_now.get('enabled')!r}")
        hook = (settings_now.get("codeHookSpecification") or {}).get("lambdaCodeHook") or {}
        if hook.get("lambdaARN") != expected_lambda_arn:
            problems.append(
                f"locale {locale_id} code hook is {hook.get('lambdaARN')!r}, expected {expected_lambda_arn!r}"
            )
        if hook.get("codeHookInterfaceVersion") != CODE_HOOK_INTERFACE_VERSION:
            problems.append(
                f"locale {locale_id} codeHookInterfaceVersion is {hook.get('codeHookInterfaceVersion')!r}, expected 1.0"
            )
    return problems
