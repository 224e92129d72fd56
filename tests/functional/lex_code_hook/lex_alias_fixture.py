"""The plan's existing Lex V2 bot and "Production" alias, for the lex_code_hook script's functional tests.

The alias has two locales (en_US still on the unqualified function, as before Task 1; es_US on another
function), text and audio conversation logs and sentiment analysis, so tests can check the script keeps them.
Shapes: https://docs.aws.amazon.com/lexv2/latest/APIReference/API_CreateBotAlias.html
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "modules" / "lex_code_hook" / "scripts" / "lex_code_hook.py"

REGION = "us-west-2"
ACCOUNT_ID = "123456789012"  # moto's default account
LIVE_ALIAS_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:LexFulfillmentHandler:live"
SPANISH_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:SpanishFulfillment:3"

ALIAS_SETTINGS: dict[str, Any] = {
    "botAliasName": "Production",
    "description": "Production traffic (phone and web chat)",
    "botVersion": "1",
    "botAliasLocaleSettings": {
        "en_US": {
            "enabled": True,
            "codeHookSpecification": {
                "lambdaCodeHook": {
                    "lambdaARN": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:LexFulfillmentHandler",
                    "codeHookInterfaceVersion": "1.0",
                }
            },
        },
        "es_US": {
            "enabled": True,
            "codeHookSpecification": {
                "lambdaCodeHook": {
                    "lambdaARN": SPANISH_ARN,
                    "codeHookInterfaceVersion": "1.0",
                }
            },
        },
    },
    "conversationLogSettings": {
        "textLogSettings": [
            {
                "enabled": True,
                "destination": {
                    "cloudWatch": {
                        "cloudWatchLogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lex/AtlasEngine",
                        "logPrefix": "production",
                    }
                },
                "selectiveLoggingEnabled": False,
            }
        ],
        "audioLogSettings": [
            {
                "enabled": True,
                "destination": {
                    "s3Bucket": {
                        "s3BucketArn": "arn:aws:s3:::atlasengine-lex-audio",
                        "logPrefix": "production",
                    }
                },
            }
        ],
    },
    "sentimentAnalysisSettings": {"detectSentiment": True},
}


def create_bot_and_alias(client: Any) -> tuple[str, str]:
    """Create the bot and its Production alias (ALIAS_SETTINGS); return (bot_id, bot_alias_id)."""
    bot = client.create_bot(
        botName="AtlasEngine",
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/LexV2BotRole",
        dataPrivacy={"childDirected": False},
        idleSessionTTLInSeconds=300,
    )
    alias = client.create_bot_alias(botId=bot["botId"], **copy.deepcopy(ALIAS_SETTINGS))
    return bot["botId"], alias["botAliasId"]


@dataclass
class LexAlias:
    """An existing bot alias in in-process moto, and every lexv2-models operation the client called."""

    client: Any
    bot_id: str
    bot_alias_id: str
    backend_alias: Any
    calls: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return self.client.describe_bot_alias(botId=self.bot_id, botAliasId=self.bot_alias_id)

    def count(self, operation: str) -> int:
        return self.calls.count(operation)
