"""atlas_shared.deadline, and how clients, bedrock, secrets, scenario and salesforce keep to it.

Time is a fake clock behind a fake Lambda context (tests/functional/handlers/slow_dependencies.py). The tests
with a real stalled endpoint (:class:`HangingServer`) shrink the client timeouts to 0.2 s and count
connections, one per attempt; none asserts on elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from atlas_shared import bedrock, clients, deadline, runtime
from atlas_shared.bedrock import GenerationConfig, Message
from atlas_shared.deadline import SAFETY_MARGIN_SECONDS, Deadline
from atlas_shared.exceptions import (
    BedrockError,
    InvocationDeadlineError,
    SalesforceUnavailableError,
    ScenarioStoreError,
    SecretError,
)
from atlas_shared.salesforce import HTTP_TIMEOUT, SalesforceConnection, SalesforceCredentials, request_access_token
from atlas_shared.scenario import Scenario, ScenarioStore
from atlas_shared.secrets import SecretCache
from tests.conftest import CLIENT_ID, INTERACTION_KEY, LEAD_ID, MODEL_ID, SECRET_NAME, TABLE_NAME, USERNAME, FakeAws
from tests.functional.handlers.slow_dependencies import (
    ClockedContext,
    FakeClock,
    HangingServer,
    SlowAwsClient,
    SlowSalesforce,
    bedrock_answer,
)

CONFIG = GenerationConfig(model_id=MODEL_ID, max_tokens=150, temperature=0.7)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def invocation(clock: FakeClock, timeout_seconds: float) -> Any:
    """A ``with`` block that is one invocation of a function with ``timeout_seconds``, at ``clock`` time 0."""
    return deadline.scope(Deadline.from_context(ClockedContext(clock=clock, timeout_seconds=timeout_seconds)))


# ------------------------------------------------------------------------------------------------ Deadline


def test_remaining_comes_from_the_context_less_the_margin(clock: FakeClock) -> None:
    limit = Deadline.from_context(ClockedContext(clock=clock, timeout_seconds=30))
    assert limit.bounded and limit.remaining() == 30 - SAFETY_MARGIN_SECONDS
    clock.advance(10)
    assert limit.remaining() == 20 - SAFETY_MARGIN_SECONDS  # read afresh on every question
    assert limit.fits(18) and not limit.fits(18.5)


def test_without_a_lambda_context_there_is_no_limit() -> None:
    limit = Deadline.from_context(object())
    assert not limit.bounded and limit.fits(10**9)
    assert deadline.current().fits(10**9)  # outside an invocation, too


def test_require_raises_the_callers_error(clock: FakeClock) -> None:
    limit = Deadline.from_context(ClockedContext(clock=clock, timeout_seconds=10))
    limit.require(8, "a call")
    with pytest.raises(InvocationDeadlineError, match="a call skipped"):
        limit.require(8.5, "a call")
    with pytest.raises(ScenarioStoreError, match="GetItem skipped: it may take 9.0 s and 8.0 s are left"):
        limit.require(9, "GetItem", ScenarioStoreError)


def test_reserve_keeps_time_for_a_later_step_and_ends_with_its_block(clock: FakeClock) -> None:
    with invocation(clock, 30):
        with deadline.reserve(12) as inner:
            assert inner.remaining() == 30 - SAFETY_MARGIN_SECONDS - 12 == deadline.current().remaining()
            with deadline.reserve(9):
                assert deadline.current().remaining() == 30 - SAFETY_MARGIN_SECONDS - 21
        assert deadline.current().remaining() == 30 - SAFETY_MARGIN_SECONDS
    assert not deadline.current().bounded


@pytest.mark.parametrize(
    ("left", "expected"),
    [(20.0, (3.05, 10.0)), (13.05, (3.05, 10.0)), (6.525, (1.525, 5.0)), (1.0, (1.0 * 3.05 / 13.05, 10.0 / 13.05))],
)
def test_http_timeouts_shrink_to_the_time_left(clock: FakeClock, left: float, expected: tuple[float, float]) -> None:
    limit = Deadline.from_context(ClockedContext(clock=clock, timeout_seconds=left + SAFETY_MARGIN_SECONDS))
    connect, read = limit.capped_timeout((3.05, 10.0))  # type: ignore[misc]
    assert connect == pytest.approx(expected[0]) and read == pytest.approx(expected[1])
    assert connect + read <= left + 1e-9


def test_no_http_timeout_when_less_than_a_second_is_left(clock: FakeClock) -> None:
    limit = Deadline.from_context(ClockedContext(clock=clock, timeout_seconds=SAFETY_MARGIN_SECONDS + 0.9))
    assert limit.capped_timeout((3.05, 10.0)) is None


def test_the_entrypoint_opens_the_invocations_deadline(clock: FakeClock) -> None:
    seen: list[float] = []

    @runtime.entrypoint
    def handler(event: Any, context: Any) -> None:
        seen.append(deadline.current().remaining())

    handler({}, ClockedContext(clock=clock, timeout_seconds=60))
    assert seen == [60 - SAFETY_MARGIN_SECONDS]
    assert not deadline.current().bounded  # closed with the invocation


# ------------------------------------------------------------------------------------------------ clients


@pytest.mark.parametrize(
    ("service", "attempts", "worst_case"),
    [("bedrock-runtime", 1, 12), ("dynamodb", 2, 9), ("secretsmanager", 2, 9), ("connect", 2, 25)],
)
def test_clients_count_attempts_in_total(service: str, attempts: int, worst_case: float) -> None:
    client = clients.get_client(service)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": attempts}
    assert clients.worst_case_seconds(service) == worst_case


def test_every_worst_case_fits_its_functions_timeout() -> None:
    """The budgets of lambda_src/README.md, with the timeouts of main.tf's function_defaults."""
    bedrock_attempt = clients.attempt_seconds("bedrock-runtime")
    # A Lex turn (30 s): the scenario read, or the secret read, still leaves one Bedrock attempt.
    for lookup in ("dynamodb", "secretsmanager"):
        assert clients.worst_case_seconds(lookup) + bedrock_attempt <= 30 - SAFETY_MARGIN_SECONDS
    # InvokeOutboundCallHandler (30 s): one whole StartOutboundVoiceContact.
    assert clients.worst_case_seconds("connect") <= 30 - SAFETY_MARGIN_SECONDS
    # GenerateDynamicScenarioHandler (60 s): every Bedrock attempt with its backoff, then the PutItem.
    generate = bedrock.MAX_ATTEMPTS * (bedrock_attempt + bedrock.RETRY_BACKOFF_SECONDS)
    assert generate + clients.worst_case_seconds("dynamodb") <= 60 - SAFETY_MARGIN_SECONDS


@pytest.fixture
def stalled(monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingServer]:
    """Every AWS endpoint is a server that never answers; client timeouts are 0.2 s, attempts unchanged."""
    with HangingServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        for service, config in list(clients._CONFIGS.items()):
            monkeypatch.setitem(clients._CONFIGS, service, {**config, "connect_timeout": 0.2, "read_timeout": 0.2})
        # botocore's own backoff between attempts is random up to 1 s; not what these tests are about.
        monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0)
        clients.reset_clients()
        yield server
    clients.reset_clients()


@pytest.mark.parametrize(
    ("service", "call", "attempts"),
    [
        ("dynamodb", lambda c: c.get_item(TableName=TABLE_NAME, Key={"PK": {"S": "x"}}), 2),
        ("secretsmanager", lambda c: c.get_secret_value(SecretId=SECRET_NAME), 2),
        ("bedrock-runtime", lambda c: c.invoke_model(modelId=MODEL_ID, body=b"{}"), 1),
        (
            "connect",
            lambda c: c.start_outbound_voice_contact(
                DestinationPhoneNumber="+14155550123",
                ContactFlowId="66666666-7777-8888-9999-000000000000",
                InstanceId="11111111-2222-3333-4444-555555555555",
                QueueId="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            ),
            2,
        ),
    ],
)
def test_a_stalled_endpoint_gets_exactly_the_configured_attempts(
    stalled: HangingServer, service: str, call: Any, attempts: int
) -> None:
    from botocore.exceptions import ReadTimeoutError

    with pytest.raises(ReadTimeoutError) as caught:
        call(clients.get_client(service))
    assert clients.is_transient(caught.value)
    assert stalled.connections == attempts


def test_transient_errors() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    assert clients.is_transient(client_error("ThrottlingException", 400))
    assert clients.is_transient(client_error("SomethingNew", 503))
    assert clients.is_transient(EndpointConnectionError(endpoint_url="https://x"))
    assert not clients.is_transient(client_error("ValidationException", 400))
    assert not clients.is_transient(ValueError("not botocore"))


# ------------------------------------------------------------------------------------------------ bedrock


def _invoke(client: Any) -> bedrock.BedrockReply:
    return bedrock.invoke(CONFIG, system="Be brief.", messages=[Message("user", "Hi")], client=client)


@pytest.mark.parametrize(("timeout", "attempts"), [(30, 2), (20, 1)])
def test_bedrock_retries_only_when_a_full_attempt_fits(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch, timeout: float, attempts: int
) -> None:
    """30 s: the first attempt stalls 12 s, 16 s are left, so a second fits. 20 s: 6 s are left, so it doesn't."""
    monkeypatch.setattr(bedrock, "_sleep", clock.advance)
    client = SlowAwsClient(clock, "bedrock-runtime", "hang", {"converse": bedrock_answer("Hi.")})
    with invocation(clock, timeout), pytest.raises(BedrockError) as caught:
        _invoke(client)
    assert caught.value.code == "ReadTimeoutError" and caught.value.retryable
    assert len(client.calls) == attempts
    assert clock.now <= timeout - SAFETY_MARGIN_SECONDS


def test_bedrock_retry_after_throttling_can_answer(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bedrock, "_sleep", clock.advance)
    client = SlowAwsClient(clock, "bedrock-runtime", ["throttle", "slow"], {"converse": bedrock_answer("Hi.")})
    with invocation(clock, 30):
        assert _invoke(client).text == "Hi."
    assert client.calls == ["converse", "converse"] and clock.now <= 30 - SAFETY_MARGIN_SECONDS


def test_bedrock_is_not_called_without_time_for_one_attempt(clock: FakeClock) -> None:
    client = SlowAwsClient(clock, "bedrock-runtime", "ok", {"converse": bedrock_answer("Hi.")})
    with invocation(clock, 13), pytest.raises(BedrockError) as caught:
        _invoke(client)
    assert caught.value.code == "DeadlineExceeded" and client.calls == []


def test_a_stalled_bedrock_endpoint_is_tried_twice(stalled: HangingServer) -> None:
    """The real client makes one attempt per call; invoke() makes the second."""
    with pytest.raises(BedrockError) as caught:
        _invoke(None)
    assert caught.value.code == "ReadTimeoutError"
    assert stalled.connections == 2


# ------------------------------------------------------------------------------------------------ secrets, scenario


def test_a_secret_read_that_cannot_fit_is_not_started(aws: FakeAws, clock: FakeClock) -> None:
    cache = SecretCache(ttl_seconds=300)
    with invocation(clock, SAFETY_MARGIN_SECONDS + 8.9), pytest.raises(SecretError, match="skipped"):
        cache.get_secret_string(SECRET_NAME)
    assert aws.counter.count("secretsmanager") == 0
    with invocation(clock, SAFETY_MARGIN_SECONDS + 9):
        assert cache.get_secret_string(SECRET_NAME)


def test_a_scenario_read_or_write_that_cannot_fit_is_not_started(aws: FakeAws, clock: FakeClock) -> None:
    from datetime import UTC, datetime

    store = ScenarioStore(TABLE_NAME)
    with invocation(clock, SAFETY_MARGIN_SECONDS + 8.9):
        with pytest.raises(ScenarioStoreError, match="GetItem .* skipped"):
            store.fetch(INTERACTION_KEY)
        with pytest.raises(ScenarioStoreError, match="PutItem .* skipped"):
            store.save(Scenario(INTERACTION_KEY, "text"), created_at=datetime.now(UTC), expires_at=0)
    assert aws.counter.count("dynamodb") == 0


# ------------------------------------------------------------------------------------------------ salesforce


def _salesforce(transport: SlowSalesforce) -> SalesforceConnection:
    from atlas_shared.salesforce import _new_http_session

    return SalesforceConnection(SECRET_NAME, http_session_factory=lambda: transport.mount_on(_new_http_session()))


def test_every_salesforce_request_ends_before_the_deadline(aws: FakeAws, clock: FakeClock) -> None:
    """Each request takes its whole timeout: the token, then a GET answering INVALID_SESSION_ID, then the re-login.

    28 s are usable: the token and the GET get their full 13.05 s, the re-login the 1.9 s left, and the retried GET
    is not sent at all.
    """
    transport = SlowSalesforce(clock, token="slow", lead=["expired", "slow"], record={"Id": LEAD_ID})
    connection = _salesforce(transport)
    with invocation(clock, 30), pytest.raises(SalesforceUnavailableError, match="skipped"):
        connection.call(lambda sf: sf.Lead.get(LEAD_ID), action="Lead lookup")
    assert transport.timeouts[:2] == [HTTP_TIMEOUT, HTTP_TIMEOUT]
    assert len(transport.timeouts) == 3 and sum(transport.timeouts[2]) == pytest.approx(1.9)
    assert clock.now <= 30 - SAFETY_MARGIN_SECONDS


def test_a_hanging_salesforce_is_unavailable_not_a_request_error(aws: FakeAws, clock: FakeClock) -> None:
    transport = SlowSalesforce(clock, token="ok", lead="hang", record={"Id": LEAD_ID})
    connection = _salesforce(transport)
    with invocation(clock, 30), pytest.raises(SalesforceUnavailableError, match="did not answer"):
        connection.call(lambda sf: sf.Lead.get(LEAD_ID))
    # Logged in, but with half a second left the REST request is not sent; the error keeps its retryable name.
    with invocation(clock, clock.now + SAFETY_MARGIN_SECONDS + 0.5), pytest.raises(SalesforceUnavailableError):
        connection.call(lambda sf: sf.Lead.get(LEAD_ID))
    assert len(transport.urls) == 2  # the token request and the first GET


def test_a_stalled_token_endpoint_gets_the_capped_timeout(rsa_keys: tuple[str, str], clock: FakeClock) -> None:
    """A real socket that never answers TLS: the request is given (and held to) the 0.5 s that are left."""
    from atlas_shared.salesforce import _new_http_session

    with HangingServer() as server:
        credentials = SalesforceCredentials.from_secret(
            {
                "client_id": CLIENT_ID,
                "username": USERNAME,
                "private_key": rsa_keys[0],
                "login_url": server.url.replace("http://", "https://"),
            }
        )
        session = _new_http_session()
        timeouts: list[Any] = []
        adapter = session.get_adapter("https://")
        original = adapter.send
        adapter.send = lambda request, **kwargs: timeouts.append(kwargs["timeout"]) or original(request, **kwargs)
        with invocation(clock, SAFETY_MARGIN_SECONDS + 1.2), pytest.raises(SalesforceUnavailableError):
            request_access_token(credentials, http=session)
        assert server.connections == 1
    (timeout,) = timeouts
    assert sum(timeout) == pytest.approx(1.2)
