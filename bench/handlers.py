"""Handler benchmarks (no pass/fail): cold import time of each handler, warm-turn latency of the Lex code hook.

Run with the dev virtualenv (Python 3.12)::

    .venv/bin/python bench/handlers.py [--imports 5] [--turns 50]

Prints one JSON object:

* ``cold_import_ms`` — per function, the median wall time of ``import lambda_function`` in a fresh interpreter
  under ``AWS_LAMBDA_INITIALIZATION_TYPE=on-demand``: what Lambda's init phase spends on our code.
* ``library_import_ms`` — the same for the heavy libraries the handlers defer (context for the figures above).
* ``lex_warm_turn_ms`` — LexFulfillmentHandler turns 2..N of one call in one container, with DynamoDB and
  Secrets Manager in moto, Bedrock stubbed (botocore Stubber) and Salesforce faked (``responses``), so the
  figure is the handler's own overhead, not the network's. ``lex_first_turn_ms`` is the first turn of the
  call in a warm container (DynamoDB GetItem, Salesforce login and Lead read included).
* ``lex_warm_turn_calls`` — AWS and Salesforce calls counted over the warm turns (expected: Bedrock only).

Absolute numbers depend on the machine; compare runs on one machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
FUNCTIONS = (
    "LexFulfillmentHandler",
    "GenerateDynamicScenarioHandler",
    "CreateLeadHandler",
    "InvokeOutboundCallHandler",
    "UpdateLeadHandler",
)
LIBRARIES = ("boto3", "aws_xray_sdk.core", "simple_salesforce", "jwt", "requests")
REGION = "us-west-2"
TABLE = "atlas-bench"
SECRET = "atlas/bench-salesforce"
INTERACTION_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
LEAD_ID = "00Q5g00000AbCdEEAZ"
INSTANCE_URL = "https://atlas-bench.my.salesforce.com"
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_XRAY_SDK_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
    "SCENARIO_TABLE_NAME": TABLE,
    "IDEMPOTENCY_TABLE_NAME": TABLE,
    "SALESFORCE_SECRET_ARN": SECRET,
    "BEDROCK_MAX_TOKENS": "150",
    "BEDROCK_TEMPERATURE": "0.7",
    "CONVERSATION_HISTORY_TURNS": "6",
    "CONNECT_INSTANCE_ID": "11111111-2222-3333-4444-555555555555",
    "CONNECT_CONTACT_FLOW_ID": "66666666-7777-8888-9999-000000000000",
    "CONNECT_QUEUE_ID": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _time_import(setup: str, statement: str, repeats: int) -> float:
    """Median ms of ``statement`` in fresh interpreters (one warm-up run first fills the bytecode cache)."""
    code = f"{setup}\nimport time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    env = {**os.environ, **ENV}
    env.pop("PYTHONPATH", None)
    samples = []
    for i in range(repeats + 1):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        if i:
            samples.append(float(out.stdout.strip().splitlines()[-1]))
    return _ms(statistics.median(samples))


def cold_imports(repeats: int) -> dict[str, float]:
    return {
        name: _time_import(
            f"import sys; sys.path[:0] = [{str(LAMBDA_SRC / name)!r}, {str(LAMBDA_SRC)!r}]",
            "import lambda_function",
            repeats,
        )
        for name in FUNCTIONS
    }


def library_imports(repeats: int) -> dict[str, float]:
    return {name: _time_import("", f"import {name}", repeats) for name in LIBRARIES}


def _rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _lex_event(transcript: str, session_attributes: dict[str, str]) -> dict[str, Any]:
    return {
        "messageVersion": "1.0",
        "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Speech",
        "sessionId": "bench-session",
        "inputTranscript": transcript,
        "bot": {"id": "ABCDEFGHIJ", "aliasId": "KLMNOPQRST", "localeId": "en_US", "version": "1"},
        "requestAttributes": {"interactionKey": INTERACTION_KEY},
        "sessionState": {
            "sessionAttributes": session_attributes,
            "intent": {"name": "FallbackIntent", "slots": {}, "state": "InProgress", "confirmationState": "None"},
        },
    }


def lex_turns(turns: int) -> dict[str, Any]:
    """Warm-turn latency of LexFulfillmentHandler against moto, a Bedrock Stubber and a Salesforce fake."""
    os.environ.update(ENV)
    sys.path[:0] = [str(LAMBDA_SRC / "LexFulfillmentHandler"), str(LAMBDA_SRC)]
    import boto3
    import responses
    from botocore.stub import Stubber
    from moto import mock_aws

    from atlas_shared import clients

    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as http:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        bedrock = boto3.client("bedrock-runtime", region_name=REGION)
        for client in (dynamodb, secrets, bedrock):
            client.meta.events.register("provide-client-params", count)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "PK": {"S": f"INTERACTION#{INTERACTION_KEY}"},
                "SK": {"S": "SCENARIO"},
                "DynamicScenario": {"S": "Ada is CTO at Analytical Engines and asked about the premium plan. " * 8},
                "Greeting": {"S": "Hi Ada, this is Sam from Atlas!"},
                "LeadId": {"S": LEAD_ID},
            },
        )
        secrets.create_secret(
            Name=SECRET,
            SecretString=json.dumps({"client_id": "bench", "username": "bench@example.com", "private_key": _rsa_key()}),
        )
        http.add(
            responses.POST,
            "https://login.salesforce.com/services/oauth2/token",
            json={"access_token": "00Dbench!token", "instance_url": INSTANCE_URL},
        )
        http.add(
            responses.GET,
            f"{INSTANCE_URL}/services/data/v59.0/sobjects/Lead/{LEAD_ID}",
            json={"FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines"},
        )
        clients.set_client("dynamodb", dynamodb)
        clients.set_client("secretsmanager", secrets)
        clients.set_client("bedrock-runtime", bedrock)
        calls.clear()

        stubber = Stubber(bedrock)
        reply = {  # a Converse response (API_runtime_Converse.html)
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [{"text": "The premium plan adds priority support. Shall I book a demo?"}],
                }
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 400, "outputTokens": 20, "totalTokens": 420},
            "metrics": {"latencyMs": 400},
        }
        for _ in range(turns + 1):
            stubber.add_response("converse", reply)
        with stubber, contextlib.redirect_stdout(io.StringIO()):
            import lambda_function

            context = type("Context", (), {"aws_request_id": "bench"})()
            started = time.perf_counter()
            response = lambda_function.lambda_handler(_lex_event("What does the premium plan include?", {}), context)
            first_turn = time.perf_counter() - started
            calls.clear()
            http.calls.reset()
            samples = []
            for i in range(turns):
                event = _lex_event(f"Tell me more, part {i}.", response["sessionState"]["sessionAttributes"])
                started = time.perf_counter()
                response = lambda_function.lambda_handler(event, context)
                samples.append(time.perf_counter() - started)
        samples.sort()
        return {
            "lex_first_turn_ms": _ms(first_turn),
            "lex_warm_turn_ms": {
                "turns": turns,
                "min": _ms(samples[0]),
                "median": _ms(statistics.median(samples)),
                "p95": _ms(samples[max(0, round(0.95 * len(samples)) - 1)]),
                "mean": _ms(statistics.fmean(samples)),
            },
            "lex_warm_turn_calls": {**dict(calls), "salesforce_http": len(http.calls)},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--imports", type=int, default=5, help="fresh interpreters per import measurement")
    parser.add_argument("--turns", type=int, default=50, help="warm Lex turns to time")
    args = parser.parse_args()
    summary = {
        "python": sys.version.split()[0],
        "cold_import_ms": cold_imports(args.imports),
        "library_import_ms": library_imports(args.imports),
        **lex_turns(args.turns),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
