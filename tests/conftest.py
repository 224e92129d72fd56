"""Shared test helpers: event fixtures, handler loading, and fakes for AWS, Bedrock, Connect and Salesforce.

Nothing here is autouse: tests/unit/shared/conftest.py and tests/functional/handlers/conftest.py switch on
the isolation they need (:func:`atlas_env`), so other suites are untouched.

* :func:`load_event` — the one loader of ``tests/events/*.json`` (a deep copy, optionally updated).
* :func:`load_handler` — imports ``lambda_src/<Function>/lambda_function.py`` afresh, as Lambda's init would.
* :func:`aws` — moto (``mock_aws``) with the scenario table and the Salesforce secret, clients injected into
  ``atlas_shared.clients`` and every API call counted.
* :func:`bedrock` / :func:`connect` — botocore ``Stubber`` clients; request bodies are captured.
* :func:`salesforce_api` — ``responses`` fakes of the token endpoint and the REST API, counting token requests.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
import responses
from botocore.stub import Stubber
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = ROOT / "tests" / "events"
LAMBDA_SRC = ROOT / "lambda_src"

REGION = "us-west-2"
ACCOUNT_ID = "123456789012"
TABLE_NAME = "atlas-scenarios-test"
SECRET_NAME = "atlas/salesforce-jwt-test"
MODEL_ID = "us.anthropic.claude-haiku-5-5"  # the module's default (issue 8)
INSTANCE_URL = "https://atlas-test.my.salesforce.com"
API_VERSION = "59.0"
LEAD_ID = "00Q5g00000AbCdEEAZ"
INTERACTION_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
ACCESS_TOKEN = "00D5g000004ABCD!AQ0AQFakeAccessTokenValueForTests1234567890abcdef"
CLIENT_ID = "3MVG9FakeConsumerKeyForTests"
USERNAME = "integration@atlas.example.com"

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_LAMBDA_FUNCTION_NAME": "AtlasTestFunction",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_XRAY_SDK_ENABLED": "false",
    "LOG_LEVEL": "INFO",
    "SCENARIO_TABLE_NAME": TABLE_NAME,
    "IDEMPOTENCY_TABLE_NAME": TABLE_NAME,
    "SALESFORCE_SECRET_ARN": SECRET_NAME,
    "SECRETS_CACHE_TTL_SECONDS": "300",
    "BEDROCK_MODEL_ID": MODEL_ID,
    "BEDROCK_MAX_TOKENS": "150",
    "BEDROCK_TEMPERATURE": "0.7",
    "CONVERSATION_HISTORY_TURNS": "6",
    "CONNECT_INSTANCE_ID": "11111111-2222-3333-4444-555555555555",
    "CONNECT_CONTACT_FLOW_ID": "66666666-7777-8888-9999-000000000000",
    "CONNECT_QUEUE_ID": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
}
# Variables a developer's shell might carry that would change what the code under test sees.
_CLEARED_ENV = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "LAMBDA_TASK_ROOT",
    "_X_AMZN_TRACE_ID",
    "AWS_XRAY_CONTEXT_MISSING",
    "SALESFORCE_LEAD_EXTERNAL_ID_FIELD",
    "SALESFORCE_LEAD_OUTCOME_FIELD",
    "CONNECT_SOURCE_PHONE_NUMBER",
    "BEDROCK_TOP_P",
    "BEDROCK_TOP_K",
    "BEDROCK_STOP_SEQUENCES",
    "SCENARIO_TTL_SECONDS",
    "IDEMPOTENCY_TTL_SECONDS",
    "POWERTOOLS_IDEMPOTENCY_DISABLED",
    "SALESFORCE_API_VERSION",
)


# --------------------------------------------------------------------------------------------- events


def _load_event(name: str, **overrides: Any) -> dict[str, Any]:
    path = EVENTS_DIR / (name if name.endswith(".json") else f"{name}.json")
    event = json.loads(path.read_text(encoding="utf-8"))
    for key, value in overrides.items():
        event[key] = value
    return copy.deepcopy(event)


@pytest.fixture
def load_event() -> Callable[..., dict[str, Any]]:
    """``load_event("lex_fallback_turn", inputTranscript="...")``: a fresh copy of a tests/events fixture."""
    return _load_event


# --------------------------------------------------------------------------------------------- environment


@pytest.fixture
def atlas_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean, fake AWS environment and a cold container: every ``atlas_shared`` cache emptied before and after."""
    import atlas_shared

    for name in _CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    atlas_shared.reset_container_state()
    yield monkeypatch
    atlas_shared.reset_container_state()


@pytest.fixture
def load_handler(atlas_env: pytest.MonkeyPatch) -> Iterator[Callable[[str], types.ModuleType]]:
    """Import ``lambda_src/<name>/lambda_function.py`` as a new module: a cold start of that function."""
    loaded: list[str] = []

    def load(name: str) -> types.ModuleType:
        path = LAMBDA_SRC / name / "lambda_function.py"
        module_name = f"atlas_handler_{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        loaded.append(module_name)
        spec.loader.exec_module(module)
        return module

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the handlers read."""

    aws_request_id: str = "req-0001"
    function_name: str = "AtlasTestFunction"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:AtlasTestFunction:live"


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


# --------------------------------------------------------------------------------------------- AWS (moto)


@dataclass
class CallCounter:
    """Counts AWS API calls per (service, operation) through botocore's ``provide-client-params`` event.

    That event fires once per API call before any stub or moto answers it (``before-call`` handlers can be
    short-circuited by a Stubber's, which botocore runs first).
    """

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)

    def attach(self, client: Any) -> Any:
        client.meta.events.register("provide-client-params", self._record)
        return client

    def _record(self, model: Any, **_: Any) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1

    def count(self, service: str, operation: str | None = None) -> int:
        return sum(n for (s, o), n in self.calls.items() if s == service and (operation is None or o == operation))

    def reset(self) -> None:
        self.calls.clear()


@dataclass
class FakeAws:
    """moto-backed clients (already injected into atlas_shared.clients) and their call counter."""

    dynamodb: Any
    secretsmanager: Any
    counter: CallCounter
    secret_arn: str

    def put_scenario(
        self,
        interaction_key: str = INTERACTION_KEY,
        *,
        scenario: str,
        greeting: str,
        lead_id: str = LEAD_ID,
        lead: dict[str, str] | None = None,
        key: tuple[str, str] | None = None,
    ) -> None:
        """Write a scenario item; ``lead`` adds ``LeadName``/``LeadCompany``/``LeadTitle`` (by ``name`` ...),
        ``key`` replaces the default ``(PK, SK)``. Without ``lead`` it is an item written before they were stored."""
        pk, sk = key or (f"INTERACTION#{interaction_key}", "SCENARIO")
        item = {
            "PK": {"S": pk},
            "SK": {"S": sk},
            "DynamicScenario": {"S": scenario},
            "Greeting": {"S": greeting},
            "LeadId": {"S": lead_id},
            "CreatedAt": {"S": "2025-01-29T10:00:00Z"},
            "ExpiresAt": {"N": "1893456000"},
        }
        for name, attribute in (("name", "LeadName"), ("company", "LeadCompany"), ("title", "LeadTitle")):
            if lead and lead.get(name):
                item[attribute] = {"S": lead[name]}
        self.dynamodb.put_item(TableName=TABLE_NAME, Item=item)

    def get_scenario_item(self, interaction_key: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName=TABLE_NAME, Key={"PK": {"S": f"INTERACTION#{interaction_key}"}, "SK": {"S": "SCENARIO"}}
        ).get("Item")

    def rotate_secret(self, value: dict[str, Any]) -> None:
        self.secretsmanager.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps(value))


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """``(private_pem, public_pem)`` of a throwaway RSA key for the JWT bearer flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@pytest.fixture(scope="session")
def other_rsa_keys() -> tuple[str, str]:
    """A second key pair: the 'rotated' key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


@pytest.fixture
def salesforce_secret(rsa_keys: tuple[str, str]) -> dict[str, Any]:
    """The Salesforce secret's JSON (docs/contracts.md shape)."""
    return {"client_id": CLIENT_ID, "username": USERNAME, "private_key": rsa_keys[0], "is_sandbox": False}


@pytest.fixture
def aws(atlas_env: pytest.MonkeyPatch, salesforce_secret: dict[str, Any]) -> Iterator[FakeAws]:
    """moto with the scenario table and the Salesforce secret; clients injected and counted."""
    from moto import mock_aws

    from atlas_shared import clients

    with mock_aws():
        counter = CallCounter()
        dynamodb = counter.attach(boto3.client("dynamodb", region_name=REGION))
        secretsmanager = counter.attach(boto3.client("secretsmanager", region_name=REGION))
        dynamodb.create_table(
            TableName=TABLE_NAME,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        arn = secretsmanager.create_secret(Name=SECRET_NAME, SecretString=json.dumps(salesforce_secret))["ARN"]
        counter.reset()
        clients.set_client("dynamodb", dynamodb)
        clients.set_client("secretsmanager", secretsmanager)
        yield FakeAws(dynamodb=dynamodb, secretsmanager=secretsmanager, counter=counter, secret_arn=arn)


# --------------------------------------------------------------------------------------------- Bedrock, Connect


def bedrock_payload(
    text: str, stop_reason: str = "end_turn", output_tokens: int = 42, input_tokens: int = 321
) -> dict[str, Any]:
    """A Converse response as bedrock-runtime returns it (API_runtime_Converse.html, Response Syntax)."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 420},
    }


def stream_events(chunks: list[str], stop_reason: str = "end_turn", output_tokens: int = 42) -> list[dict[str, Any]]:
    """ConverseStream events speaking ``chunks`` in order (API_runtime_ConverseStreamOutput.html)."""
    events: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
    events += [{"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": c}}} for c in chunks]
    events += [
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": stop_reason}},
        {
            "metadata": {
                "usage": {"inputTokens": 321, "outputTokens": output_tokens, "totalTokens": 321 + output_tokens}
            }
        },
    ]
    return events


class FakeEventStream:
    """An EventStream stand-in: iterates ``events``; ``read`` counts the events handed out, ``closed`` the close()."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for event in self.events:
            if self.closed:
                return
            self.read += 1
            yield event

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeBedrock:
    """A Stubber-backed ``bedrock-runtime`` client for Converse, plus queued ConverseStream answers.

    ``requests`` holds every Converse / ConverseStream request as sent (botocore validates it against the service
    model first); ``bodies`` the same in a short form (``system`` and message contents as plain text,
    ``max_tokens``, ``temperature``); ``streams`` every FakeEventStream handed out.
    """

    client: Any
    stubber: Stubber
    requests: list[dict[str, Any]] = field(default_factory=list)
    model_ids: list[str] = field(default_factory=list)
    streams: list[FakeEventStream] = field(default_factory=list)
    _stream_answers: list[Any] = field(default_factory=list)
    _expected_models: list[str] = field(default_factory=list)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        def text(blocks: list[dict[str, Any]]) -> str:
            return "".join(b.get("text", "") for b in blocks)

        return [
            {
                "system": text(r.get("system", [])),
                "messages": [{"role": m["role"], "content": text(m["content"])} for m in r["messages"]],
                "max_tokens": r["inferenceConfig"]["maxTokens"],
                "temperature": r["inferenceConfig"].get("temperature"),
            }
            for r in self.requests
        ]

    def reply(self, text: str, stop_reason: str = "end_turn", *, model_id: str = MODEL_ID) -> None:
        self.stubber.add_response("converse", bedrock_payload(text, stop_reason))
        self._expected_models.append(model_id)

    def reply_stream(self, chunks: list[str], stop_reason: str = "end_turn") -> None:
        self._stream_answers.append(stream_events(chunks, stop_reason))

    def fail(self, code: str = "ThrottlingException", status: int = 429) -> None:
        self.stubber.add_client_error("converse", service_error_code=code, http_status_code=status)

    def fail_stream(self, code: str = "ThrottlingException", status: int = 429) -> None:
        from botocore.exceptions import ClientError

        self._stream_answers.append(
            ClientError(
                {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                "ConverseStream",
            )
        )

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        if self._expected_models:
            expected = self._expected_models.pop(0)
            assert params["modelId"] == expected, f"Converse on {params['modelId']}, expected {expected}"
        self.model_ids.append(params["modelId"])
        self.requests.append(params)

    def _converse_stream(self, **params: Any) -> dict[str, Any]:
        from botocore.validate import validate_parameters

        validate_parameters(params, self.client.meta.service_model.operation_model("ConverseStream").input_shape)
        self.model_ids.append(params["modelId"])
        self.requests.append(params)
        if not self._stream_answers:
            raise AssertionError("ConverseStream called with no answer queued")
        answer = self._stream_answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        stream = FakeEventStream(answer)
        self.streams.append(stream)
        return {"stream": stream}


@pytest.fixture
def bedrock(atlas_env: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    from atlas_shared import clients

    client = boto3.client("bedrock-runtime", region_name=REGION)
    fake = FakeBedrock(client=client, stubber=Stubber(client))
    client.meta.events.register("provide-client-params.bedrock-runtime.Converse", fake._capture)
    client.converse_stream = fake._converse_stream  # type: ignore[method-assign]
    clients.set_client("bedrock-runtime", client)
    with fake.stubber:
        yield fake


@dataclass
class FakeConnect:
    """A Stubber-backed ``connect`` client; ``requests`` holds every StartOutboundVoiceContact request."""

    client: Any
    stubber: Stubber
    requests: list[dict[str, Any]] = field(default_factory=list)

    def started(self, contact_id: str = "c0ffee00-1111-2222-3333-444455556666") -> None:
        self.stubber.add_response("start_outbound_voice_contact", {"ContactId": contact_id})

    def fail(self, code: str, status: int = 400) -> None:
        self.stubber.add_client_error("start_outbound_voice_contact", service_error_code=code, http_status_code=status)

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(copy.deepcopy(params))


@pytest.fixture
def connect(atlas_env: pytest.MonkeyPatch) -> Iterator[FakeConnect]:
    from atlas_shared import clients

    client = boto3.client("connect", region_name=REGION)
    fake = FakeConnect(client=client, stubber=Stubber(client))
    client.meta.events.register("provide-client-params.connect.StartOutboundVoiceContact", fake._capture)
    clients.set_client("connect", client)
    with fake.stubber:
        yield fake


# --------------------------------------------------------------------------------------------- Salesforce


@dataclass
class FakeSalesforce:
    """``responses`` fakes of Salesforce's token endpoint and REST API.

    ``token_requests`` holds each token request's form fields (``grant_type``, ``assertion``); queue failures
    with :meth:`reject_next_token` / :meth:`token_unavailable`.
    """

    mock: responses.RequestsMock
    instance_url: str = INSTANCE_URL
    token_requests: list[dict[str, str]] = field(default_factory=list)
    token_hosts: list[str] = field(default_factory=list)
    _token_failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def data_url(self) -> str:
        return f"{self.instance_url}/services/data/v{API_VERSION}"

    def reject_next_token(self, times: int = 1, error: str = "invalid_grant", status: int = 400) -> None:
        for _ in range(times):
            self._token_failures.append(
                (status, {"error": error, "error_description": "user hasn't approved this consumer"})
            )

    def token_unavailable(self) -> None:
        self._token_failures.append((503, {}))

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {
            k: v[0]
            for k, v in parse_qs(request.body if isinstance(request.body, str) else request.body.decode()).items()
        }
        self.token_requests.append(form)
        self.token_hosts.append(request.url.split("/services/")[0])
        if self._token_failures:
            status, body = self._token_failures.pop(0)
            return status, {"Content-Type": "application/json"}, json.dumps(body)
        body = {
            "access_token": ACCESS_TOKEN,
            "instance_url": self.instance_url,
            "id": "https://login.salesforce.com/id/00D5g000004ABCD/0055g00000XyZaBAAV",
            "token_type": "Bearer",
            "scope": "api",
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def rest_calls(self, method: str | None = None) -> list[Any]:
        return [
            c.request
            for c in self.mock.calls
            if c.request.url.startswith(self.instance_url) and (method is None or c.request.method == method)
        ]


@pytest.fixture
def salesforce_api(atlas_env: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    import re

    from moto.core.models import override_responses_real_send

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeSalesforce(mock=mock)
        token_url = re.compile(r"https://[A-Za-z0-9.-]+/services/oauth2/token")
        mock.add_callback(responses.POST, token_url, callback=fake._token)
        # moto's own responses mock passes unknown URLs on; send them here rather than to the network.
        override_responses_real_send(mock)
        try:
            yield fake
        finally:
            override_responses_real_send(None)
