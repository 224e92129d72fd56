"""scripts/local_aws/cloudcontrol.py: Cloud Control GetResource for AWS::Lex::BotAlias in the launcher's moto server.

The lex_code_hook module's drift check reads the alias through the provider's aws_cloudcontrolapi_resource data
source; this proves the local AWS answers it like AWS (shape of GetResource, errors) and with what
DescribeBotAlias says at that moment.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "scripts"))

from local_aws.emulator import MotoServer  # noqa: E402
from local_aws.fixtures import create_lex_fixture  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
LIVE = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:LexFulfillmentHandler:live"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with MotoServer(sys.executable, log) as moto:
        yield moto.endpoint_url


def client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )


def get_properties(endpoint: str, identifier: str) -> dict[str, Any]:
    answer = client(endpoint, "cloudcontrol").get_resource(TypeName="AWS::Lex::BotAlias", Identifier=identifier)
    assert answer["TypeName"] == "AWS::Lex::BotAlias"
    assert answer["ResourceDescription"]["Identifier"] == identifier
    return json.loads(answer["ResourceDescription"]["Properties"])


def test_get_resource_answers_the_bot_alias_as_its_cloudformation_properties(endpoint: str) -> None:
    lex = client(endpoint, "lexv2-models")
    fixture = create_lex_fixture(lex, REGION, ACCOUNT)

    properties = get_properties(endpoint, f"{fixture.bot_alias_id}|{fixture.bot_id}")

    assert properties["BotAliasId"] == fixture.bot_alias_id and properties["BotId"] == fixture.bot_id
    assert properties["Arn"] == f"arn:aws:lex:{REGION}:{ACCOUNT}:bot-alias/{fixture.bot_id}/{fixture.bot_alias_id}"
    assert properties["BotAliasName"] == "Production" and properties["BotVersion"] == "1"
    locales = {item["LocaleId"]: item["BotAliasLocaleSetting"] for item in properties["BotAliasLocaleSettings"]}
    assert locales["en_US"] == {
        "Enabled": True,
        "CodeHookSpecification": {
            "LambdaCodeHook": {
                "LambdaArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:LexFulfillmentHandler",
                "CodeHookInterfaceVersion": "1.0",
            }
        },
    }
    assert locales["es_US"] == {"Enabled": False}
    text_log = properties["ConversationLogSettings"]["TextLogSettings"][0]
    assert text_log["Destination"]["CloudWatch"]["LogPrefix"] == "production/"
    assert properties["SentimentAnalysisSettings"] == {"DetectSentiment": True}


def test_get_resource_follows_a_change_made_with_update_bot_alias(endpoint: str) -> None:
    lex = client(endpoint, "lexv2-models")
    fixture = create_lex_fixture(lex, REGION, ACCOUNT)
    described = lex.describe_bot_alias(botId=fixture.bot_id, botAliasId=fixture.bot_alias_id)
    settings = described["botAliasLocaleSettings"]
    settings["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = LIVE
    lex.update_bot_alias(
        botId=fixture.bot_id,
        botAliasId=fixture.bot_alias_id,
        botAliasName=described["botAliasName"],
        botVersion=described["botVersion"],
        botAliasLocaleSettings=settings,
    )

    properties = get_properties(endpoint, f"{fixture.bot_alias_id}|{fixture.bot_id}")

    en_us = next(i for i in properties["BotAliasLocaleSettings"] if i["LocaleId"] == "en_US")
    assert en_us["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"]["LambdaArn"] == LIVE


@pytest.mark.parametrize(
    ("type_name", "identifier", "code"),
    [
        ("AWS::Lex::BotAlias", "NOSUCHALIA|NOSUCHBOT1", "ResourceNotFoundException"),
        ("AWS::Lex::BotAlias", "NOSUCHALIA", "InvalidRequestException"),
        ("AWS::Lambda::Function", "LexFulfillmentHandler", "UnsupportedActionException"),
    ],
)
def test_get_resource_errors_are_aws_errors(endpoint: str, type_name: str, identifier: str, code: str) -> None:
    with pytest.raises(ClientError) as caught:
        client(endpoint, "cloudcontrol").get_resource(TypeName=type_name, Identifier=identifier)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_alias_of_another_bot_is_not_found(endpoint: str) -> None:
    lex = client(endpoint, "lexv2-models")
    first = create_lex_fixture(lex, REGION, ACCOUNT)
    second = create_lex_fixture(lex, REGION, ACCOUNT)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        get_properties(endpoint, f"{first.bot_alias_id}|{second.bot_id}")


def test_other_services_still_reach_moto(endpoint: str) -> None:
    assert "botSummaries" in client(endpoint, "lexv2-models").list_bots()
    assert client(endpoint, "sts").get_caller_identity()["Account"] == ACCOUNT
