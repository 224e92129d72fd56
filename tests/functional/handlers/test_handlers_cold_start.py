"""Cold start: on-demand init stays light; provisioned-concurrency init does the first turn's work up front."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BASE_ENV, LAMBDA_SRC, LEAD_ID, FakeAws, FakeBedrock, FakeSalesforce, LambdaContext

FUNCTIONS = (
    "LexFulfillmentHandler",
    "GenerateDynamicScenarioHandler",
    "CreateLeadHandler",
    "InvokeOutboundCallHandler",
    "UpdateLeadHandler",
)
HEAVY = ("aws_xray_sdk", "simple_salesforce", "jwt", "requests", "boto3")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_on_demand_import_defers_heavy_libraries(function: str) -> None:
    """Importing a handler as Lambda's on-demand init does loads none of the heavy libraries."""
    code = textwrap.dedent(
        f"""
        import json, sys
        sys.path[:0] = [{str(LAMBDA_SRC / function)!r}, {str(LAMBDA_SRC)!r}]
        import lambda_function
        assert callable(lambda_function.lambda_handler)
        print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
        """
    )
    env = {**os.environ, **BASE_ENV, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_XRAY_SDK_ENABLED": "true"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == dict.fromkeys(HEAVY, False)


def test_provisioned_concurrency_init_does_the_work_before_the_first_turn(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    aws.put_scenario(scenario="Call Ada.", greeting="Hi Ada!")
    salesforce_api.mock.add("GET", f"{salesforce_api.data_url}/sobjects/Lead/{LEAD_ID}", json={"LastName": "Lovelace"})
    aws.counter.reset()

    handler = load_handler("LexFulfillmentHandler")  # init
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    assert len(salesforce_api.token_requests) == 1

    aws.counter.reset()
    bedrock.reply("Sure.")
    handler.lambda_handler(load_event("lex_question_turn"), lambda_context)  # the first turn
    assert aws.counter.count("secretsmanager") == 0
    assert len(salesforce_api.token_requests) == 1  # none added by the turn
    assert len(salesforce_api.rest_calls("GET")) == 1  # only the Lead itself


def test_provisioned_init_survives_an_unreachable_salesforce(
    aws: FakeAws,
    bedrock: FakeBedrock,
    salesforce_api: FakeSalesforce,
    load_handler: Callable[[str], types.ModuleType],
    load_event: Callable[..., dict[str, Any]],
    lambda_context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    salesforce_api.token_unavailable()
    handler = load_handler("LexFulfillmentHandler")
    bedrock.reply("Hello there.")
    response = handler.lambda_handler(load_event("lex_fallback_turn"), lambda_context)
    assert response["messages"][0]["content"] == "Hello there."
