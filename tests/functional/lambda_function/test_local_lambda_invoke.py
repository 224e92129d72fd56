"""The local AWS runs deployed zips (scripts/local_aws/lambda_invoke.py) and Lex V2 text turns
(scripts/local_aws/lex_runtime.py) the way Lambda and Lex do: qualifiers, warm containers, errors, timeouts,
isolation from the dev virtualenv, provisioned environments and transient weights, Lex's resource policy check."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from lambda_local_aws import ALLOCATION_SECONDS, REGION, LiveAlias

pytestmark = pytest.mark.slow

COUNTER = """
import os, time
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    if event.get("raise"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"count": count, "init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            "remaining_ms": context.get_remaining_time_in_millis(), "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}
"""


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", source)
    return buffer.getvalue()


def _function(live_alias: LiveAlias, suffix: str, source: str, timeout: int = 10) -> str:
    lam = live_alias.client
    name = f"{live_alias.function_name[:50]}-{suffix}"
    role = lam.get_function(FunctionName=live_alias.function_name)["Configuration"]["Role"]
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": _zip(source)},
        Timeout=timeout,
        Publish=True,
    )
    return name


def _invoke(lam: Any, name: str, event: dict | None = None, **kwargs: Any) -> tuple[Any, dict]:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail", **kwargs)
    return json.loads(answer["Payload"].read()), answer


def test_qualifier_picks_the_version(live_alias: LiveAlias) -> None:
    lam = live_alias.client
    assert _invoke(lam, live_alias.function_name, Qualifier="live")[0] == "v1"
    assert _invoke(lam, live_alias.function_name, Qualifier="2")[0] == "v2"
    assert _invoke(lam, live_alias.arn)[0] == "v1"
    assert _invoke(lam, live_alias.function_name)[0] == "v2"  # unqualified is $LATEST


def test_a_warm_container_keeps_module_state_and_reports_init_once(live_alias: LiveAlias) -> None:
    name = _function(live_alias, "warm", COUNTER)
    first, answer1 = _invoke(live_alias.client, name)
    second, answer2 = _invoke(live_alias.client, name)
    assert (first["count"], second["count"]) == (1, 2)
    assert first["init"] == "on-demand" and 0 < first["remaining_ms"] <= 10_000
    assert "Init Duration" in base64.b64decode(answer1["LogResult"]).decode()
    assert "Init Duration" not in base64.b64decode(answer2["LogResult"]).decode()


def test_an_exception_is_an_unhandled_error_with_its_type(live_alias: LiveAlias) -> None:
    name = _function(live_alias, "raise", COUNTER)
    payload, answer = _invoke(live_alias.client, name, {"raise": True})
    assert answer["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "asked to fail")


def test_the_timeout_ends_the_invocation_and_the_container(live_alias: LiveAlias) -> None:
    name = _function(live_alias, "slow", COUNTER, timeout=1)
    payload, answer = _invoke(live_alias.client, name, {"sleep": 5})
    assert answer["FunctionError"] == "Unhandled"
    assert payload["errorMessage"] == "Task timed out after 1.00 seconds"
    assert _invoke(live_alias.client, name)[0]["count"] == 1  # a new container


def test_only_the_zip_and_the_runtime_sdk_are_importable(live_alias: LiveAlias) -> None:
    source = "import boto3\nimport moto\ndef lambda_handler(event, context):\n    return 'imported'\n"
    name = _function(live_alias, "deps", source)
    payload, answer = _invoke(live_alias.client, name)
    assert answer["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ModuleNotFoundError" and "moto" in payload["errorMessage"]


def _wait_ready(lam: Any, name: str) -> None:
    deadline = time.monotonic() + 20
    while lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")["Status"] != "READY":
        assert time.monotonic() < deadline, "allocation never turned READY"
        time.sleep(0.2)


def test_provisioned_environments_are_ready_ahead_and_weights_route_to_the_previous_version(
    live_alias: LiveAlias,
) -> None:
    lam = live_alias.client
    name = _function(live_alias, "pc", COUNTER)
    lam.update_function_code(FunctionName=name, ZipFile=_zip(COUNTER + "\n# v2\n"), Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    _wait_ready(lam, name)
    time.sleep(3)  # the pre-warm runs in the background once READY is seen

    payload, answer = _invoke(lam, name, Qualifier="live")
    assert payload["init"] == "provisioned-concurrency" and payload["count"] == 1
    assert "Init Duration" not in base64.b64decode(answer["LogResult"]).decode()

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert _invoke(lam, name, Qualifier="live")[0]["version"] == "1"  # re-allocating: weights keep version 1
    time.sleep(ALLOCATION_SECONDS + 0.3)
    _wait_ready(lam, name)
    assert _invoke(lam, name, Qualifier="live")[0]["version"] == "2"


def test_recognize_text_needs_lex_in_the_resource_policy(live_alias: LiveAlias, moto_endpoint: str) -> None:
    from local_aws.fixtures import create_lex_fixture

    kwargs = {
        "region_name": REGION,
        "endpoint_url": moto_endpoint,
        "aws_access_key_id": "t",
        "aws_secret_access_key": "t",
    }
    lex_models = boto3.client("lexv2-models", **kwargs)
    runtime = boto3.client("lexv2-runtime", **kwargs)
    lam = live_alias.client
    source = (
        "def lambda_handler(event, context):\n"
        "    intent = event['sessionState']['intent']\n"
        "    return {'sessionState': {'dialogAction': {'type': 'ElicitIntent'}, 'intent': {**intent, 'state': 'Fulfilled'},"
        " 'sessionAttributes': {'turns': str(int(event['sessionState']['sessionAttributes'].get('turns', '0')) + 1)}},"
        " 'messages': [{'contentType': 'PlainText', 'content': 'heard: ' + event['inputTranscript']}]}\n"
    )
    name = _function(live_alias, "lex", source)
    arn = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["AliasArn"]
    fixture = create_lex_fixture(lex_models, REGION, "123456789012")
    alias = lex_models.describe_bot_alias(botId=fixture.bot_id, botAliasId=fixture.bot_alias_id)
    settings = alias["botAliasLocaleSettings"]
    settings["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = arn
    lex_models.update_bot_alias(
        botId=fixture.bot_id,
        botAliasId=fixture.bot_alias_id,
        botAliasName=alias["botAliasName"],
        botVersion=alias["botVersion"],
        botAliasLocaleSettings=settings,
    )
    turn = {"botId": fixture.bot_id, "botAliasId": fixture.bot_alias_id, "localeId": "en_US", "sessionId": "s1"}

    with pytest.raises(ClientError) as denied:
        runtime.recognize_text(text="hello", **turn)
    assert denied.value.response["Error"]["Code"] == "DependencyFailedException"

    lam.add_permission(
        FunctionName=name,
        Qualifier="live",
        StatementId="lex",
        Action="lambda:InvokeFunction",
        Principal="lexv2.amazonaws.com",
        SourceArn=f"arn:aws:lex:{REGION}:123456789012:bot-alias/{fixture.bot_id}/{fixture.bot_alias_id}",
    )
    first = runtime.recognize_text(text="hello", **turn)
    second = runtime.recognize_text(text="what do you sell", **turn)
    assert first["messages"][0]["content"] == "heard: hello"
    assert first["interpretations"][0]["intent"]["name"] == "GreetingIntent"
    assert second["interpretations"][0]["intent"]["name"] == "FallbackIntent"
    assert second["sessionState"]["sessionAttributes"]["turns"] == "2"  # attributes carried between turns
