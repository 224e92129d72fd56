"""atlas_shared.salesforce: JWT claims, connection reuse, secret rotation and expired sessions.

Salesforce HTTP is faked with ``responses`` (token endpoint and REST); the secret lives in moto.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from atlas_shared.exceptions import (
    SalesforceAuthError,
    SalesforceCredentialsError,
    SalesforceRequestError,
    SalesforceUnavailableError,
)
from atlas_shared.salesforce import (
    JWT_BEARER_GRANT_TYPE,
    PRODUCTION_AUDIENCE,
    SANDBOX_AUDIENCE,
    SalesforceConnection,
    SalesforceCredentials,
    build_assertion,
    get_salesforce,
)
from atlas_shared.secrets import SecretCache
from tests.conftest import CLIENT_ID, LEAD_ID, SECRET_NAME, USERNAME, FakeAws, FakeSalesforce

LEAD_URL_PATH = f"/sobjects/Lead/{LEAD_ID}"
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def _credentials(private_key: str, **overrides: Any) -> SalesforceCredentials:
    data = {"client_id": CLIENT_ID, "username": USERNAME, "private_key": private_key, **overrides}
    return SalesforceCredentials.from_secret(data)


def _claims(assertion: str, public_key: str, audience: str = PRODUCTION_AUDIENCE) -> dict[str, Any]:
    return jwt.decode(assertion, public_key, algorithms=["RS256"], audience=audience)


# ------------------------------------------------------------------------------------------------ JWT


@pytest.mark.parametrize(
    ("is_sandbox", "login_url", "audience"),
    [
        (False, None, PRODUCTION_AUDIENCE),
        (True, None, SANDBOX_AUDIENCE),
        ("true", None, SANDBOX_AUDIENCE),
        (False, "https://atlas.my.salesforce.com", PRODUCTION_AUDIENCE),
        (True, "https://atlas--uat.sandbox.my.salesforce.com", SANDBOX_AUDIENCE),
        (False, "https://test.salesforce.com", PRODUCTION_AUDIENCE),
    ],
)
def test_audience_depends_only_on_is_sandbox(
    rsa_keys: tuple[str, str], is_sandbox: Any, login_url: str | None, audience: str
) -> None:
    credentials = _credentials(rsa_keys[0], is_sandbox=is_sandbox, login_url=login_url)
    claims = _claims(build_assertion(credentials, now=time.time()), rsa_keys[1], audience)
    assert claims["aud"] == audience
    assert claims["iss"] == CLIENT_ID and claims["sub"] == USERNAME


def test_exp_is_integer_epoch_seconds_three_minutes_ahead(rsa_keys: tuple[str, str]) -> None:
    before = int(time.time())
    assertion = build_assertion(_credentials(rsa_keys[0]), now=time.time())
    after = int(time.time())
    payload = json.loads(jwt.utils.base64url_decode(assertion.split(".")[1]))
    assert isinstance(payload["exp"], int)
    assert before + 180 <= payload["exp"] <= after + 180
    _claims(assertion, rsa_keys[1])  # verifies signature and that exp is in the future


@pytest.fixture
def restore_tz() -> Iterator[None]:
    original = os.environ.get("TZ")
    yield
    if original is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original
    time.tzset()


@pytest.mark.usefixtures("restore_tz")
def test_exp_does_not_depend_on_the_timezone(rsa_keys: tuple[str, str]) -> None:
    credentials = _credentials(rsa_keys[0])
    now = 1_738_144_800.4  # a fixed instant in the past, so exp is checked by value, not verified as live
    exps = []
    for tz in ("UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"):
        os.environ["TZ"] = tz
        time.tzset()
        assertion = build_assertion(credentials, now=now)
        claims = jwt.decode(
            assertion, rsa_keys[1], algorithms=["RS256"], audience=PRODUCTION_AUDIENCE, options={"verify_exp": False}
        )
        exps.append(claims["exp"])
    assert exps == [int(now) + 180] * 4


@pytest.mark.usefixtures("restore_tz")
def test_default_clock_is_timezone_independent(
    aws: FakeAws, salesforce_api: FakeSalesforce, rsa_keys: tuple[str, str]
) -> None:
    """Through the real login path, with the real clock, a non-UTC TZ still yields exp = now + 180 (UTC epoch)."""
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    get_salesforce().get()
    exp = _claims(salesforce_api.token_requests[0]["assertion"], rsa_keys[1])["exp"]
    assert abs(exp - (time.time() + 180)) < 5


def test_token_request_goes_to_login_url_when_given(
    aws: FakeAws, salesforce_api: FakeSalesforce, salesforce_secret: dict, rsa_keys: tuple[str, str]
) -> None:
    aws.rotate_secret({**salesforce_secret, "login_url": "https://atlas.my.salesforce.com/"})
    get_salesforce().get()
    assert salesforce_api.token_hosts == ["https://atlas.my.salesforce.com"]
    form = salesforce_api.token_requests[0]
    assert form["grant_type"] == JWT_BEARER_GRANT_TYPE
    assert _claims(form["assertion"], rsa_keys[1])["aud"] == PRODUCTION_AUDIENCE


def test_token_request_defaults_to_the_audience_host(
    aws: FakeAws, salesforce_api: FakeSalesforce, salesforce_secret: dict
) -> None:
    aws.rotate_secret({**salesforce_secret, "is_sandbox": True})
    get_salesforce().get()
    assert salesforce_api.token_hosts == [SANDBOX_AUDIENCE]


# ------------------------------------------------------------------------------------------------ credentials


@pytest.mark.parametrize("missing", ["client_id", "username", "private_key"])
def test_incomplete_secret_names_the_missing_key(rsa_keys: tuple[str, str], missing: str) -> None:
    data = {"client_id": CLIENT_ID, "username": USERNAME, "private_key": rsa_keys[0]}
    del data[missing]
    with pytest.raises(SalesforceCredentialsError, match=missing):
        SalesforceCredentials.from_secret(data)


def test_escaped_newlines_in_the_key_are_repaired(rsa_keys: tuple[str, str]) -> None:
    credentials = _credentials(rsa_keys[0].replace("\n", "\\n"))
    _claims(build_assertion(credentials, now=time.time()), rsa_keys[1])


def test_unusable_key_is_reported_without_key_material() -> None:
    bad = "-----BEGIN PRIVATE KEY-----\nMIIBroken0123456789abcdefghijklmnopqrstuvwxyz\n-----END PRIVATE KEY-----\n"
    with pytest.raises(SalesforceCredentialsError) as caught:
        build_assertion(_credentials(bad), now=time.time())
    assert "MIIBroken" not in str(caught.value) and caught.value.__cause__ is None


def test_private_key_is_not_in_repr(rsa_keys: tuple[str, str]) -> None:
    assert "PRIVATE KEY" not in repr(_credentials(rsa_keys[0]))


# ------------------------------------------------------------------------------------------------ connection reuse


def _lead(salesforce_api: FakeSalesforce, status: int = 200, body: Any = None) -> None:
    salesforce_api.mock.add(
        "GET",
        salesforce_api.data_url + LEAD_URL_PATH,
        json=body if body is not None else {"Id": LEAD_ID},
        status=status,
    )


def test_connection_is_reused_across_calls(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    _lead(salesforce_api)
    connection = get_salesforce()
    for _ in range(3):
        assert connection.call(lambda sf: sf.Lead.get(LEAD_ID))["Id"] == LEAD_ID
    assert len(salesforce_api.token_requests) == 1
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    assert len(salesforce_api.rest_calls("GET")) == 3
    assert get_salesforce() is connection


def test_rest_calls_carry_the_access_token(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    _lead(salesforce_api)
    get_salesforce().call(lambda sf: sf.Lead.get(LEAD_ID))
    (request,) = salesforce_api.rest_calls("GET")
    assert request.headers["Authorization"].startswith("Bearer 00D")


# ------------------------------------------------------------------------------------------------ rotation


def test_rejected_jwt_refetches_the_secret_once_and_retries(
    aws: FakeAws, salesforce_api: FakeSalesforce, salesforce_secret: dict, other_rsa_keys: tuple[str, str]
) -> None:
    """The key was rotated: the cached secret's key is rejected; the refetched secret's key works."""
    cache = SecretCache(ttl_seconds=300)
    connection = SalesforceConnection(SECRET_NAME, secret_cache=cache)
    cache.get_secret_json(SECRET_NAME)  # warm cache holds the old key
    aws.rotate_secret({**salesforce_secret, "private_key": other_rsa_keys[0]})
    salesforce_api.reject_next_token()
    aws.counter.reset()

    connection.get()

    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    assert len(salesforce_api.token_requests) == 2
    # The retry was signed with the rotated key.
    _claims(salesforce_api.token_requests[1]["assertion"], other_rsa_keys[1])
    assert connection.connected


def test_second_rejection_raises_a_clear_error(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    salesforce_api.reject_next_token(times=2)
    with pytest.raises(SalesforceAuthError) as caught:
        get_salesforce().get()
    message = str(caught.value)
    assert "invalid_grant" in message and "re-reading the secret" in message
    assert caught.value.status == 400 and caught.value.error == "invalid_grant"
    assert len(salesforce_api.token_requests) == 2
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 2
    assert not get_salesforce().connected


def test_unavailable_token_endpoint_does_not_refetch_the_secret(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    salesforce_api.token_unavailable()
    with pytest.raises(SalesforceUnavailableError):
        get_salesforce().get()
    assert len(salesforce_api.token_requests) == 1
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1


# ------------------------------------------------------------------------------------------------ expired session


def test_invalid_session_relogs_in_once_and_retries_once(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    connection = get_salesforce()
    connection.get()
    _lead(salesforce_api, status=401, body=INVALID_SESSION)
    _lead(salesforce_api)  # responses serves registrations for one URL in order

    assert connection.call(lambda sf: sf.Lead.get(LEAD_ID))["Id"] == LEAD_ID

    assert len(salesforce_api.token_requests) == 2
    assert len(salesforce_api.rest_calls("GET")) == 2
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1  # the secret is still fresh


def test_invalid_session_twice_gives_up_after_one_retry(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    _lead(salesforce_api, status=401, body=INVALID_SESSION)
    _lead(salesforce_api, status=401, body=INVALID_SESSION)
    _lead(salesforce_api)  # never reached
    with pytest.raises(SalesforceRequestError) as caught:
        get_salesforce().call(lambda sf: sf.Lead.get(LEAD_ID), action="Lead lookup")
    assert caught.value.error_code == "INVALID_SESSION_ID" and "Lead lookup" in str(caught.value)
    assert len(salesforce_api.token_requests) == 2
    assert len(salesforce_api.rest_calls("GET")) == 2


def test_other_errors_are_translated_without_relogin(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    _lead(
        salesforce_api,
        status=404,
        body=[{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}],
    )
    with pytest.raises(SalesforceRequestError) as caught:
        get_salesforce().call(lambda sf: sf.Lead.get(LEAD_ID), action="Lead lookup")
    assert caught.value.status == 404 and caught.value.error_code == "NOT_FOUND"
    assert len(salesforce_api.token_requests) == 1


def test_server_errors_are_unavailable(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    _lead(salesforce_api, status=503, body=[{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}])
    with pytest.raises(SalesforceUnavailableError):
        get_salesforce().call(lambda sf: sf.Lead.get(LEAD_ID))


def test_nothing_secret_is_logged(
    aws: FakeAws,
    salesforce_api: FakeSalesforce,
    rsa_keys: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    salesforce_api.reject_next_token()
    _lead(salesforce_api, status=401, body=INVALID_SESSION)
    _lead(salesforce_api)
    get_salesforce().call(lambda sf: sf.Lead.get(LEAD_ID))
    logged = capsys.readouterr().out + caplog.text
    key_body = "".join(rsa_keys[0].splitlines()[1:-1])
    for secret in (
        key_body[:32],
        key_body[-32:],
        "PRIVATE KEY",
        *(r["assertion"] for r in salesforce_api.token_requests),
    ):
        assert secret not in logged
    from tests.conftest import ACCESS_TOKEN

    assert ACCESS_TOKEN not in logged and ACCESS_TOKEN.split("!")[1] not in logged
    assert "[CACHE] MISS salesforce_session" in logged


# ------------------------------------------------------------------------------------------------ remembered failures


class FakeClock:
    """Epoch seconds that move only when told (shared by the connection and the secret cache)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _connection(clock: FakeClock, **kwargs: Any) -> SalesforceConnection:
    return SalesforceConnection(
        SECRET_NAME, secret_cache=SecretCache(ttl_seconds=300, clock=clock), clock=clock, **kwargs
    )


def _events(out: str, event: str) -> int:
    return out.count(f'"event":"{event}"')


def test_a_rejected_login_is_remembered_for_the_back_off_window(
    aws: FakeAws, salesforce_api: FakeSalesforce, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 6: 25 turns with a wrong key made 50 token requests and 26 GetSecretValue calls."""
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=60)
    salesforce_api.reject_next_token(times=1000)
    errors = []
    for _ in range(25):  # 25 turns within one window
        with pytest.raises(SalesforceAuthError) as caught:
            connection.call(lambda sf: sf.Lead.get(LEAD_ID), action="Lead lookup")
        errors.append(caught.value)
        clock.now += 2
    assert len(salesforce_api.token_requests) == 2  # the first login and its one re-read of the secret
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 2
    assert errors[0].retry_after_seconds == 0 and all(e.retry_after_seconds > 0 for e in errors[1:])
    assert all(e.error == "invalid_grant" and e.status == 400 for e in errors)  # same class, same fields
    assert "pre-authorized" in str(errors[-1]) and "remembered" in str(errors[-1])
    out = capsys.readouterr().out
    assert _events(out, "salesforce_login_rejected") == 1  # logged once, at ERROR, with what to fix
    assert '"level":"ERROR"' in next(line for line in out.splitlines() if "salesforce_login_rejected" in line)


def test_at_most_one_login_attempt_per_window_and_it_rereads_the_secret(
    aws: FakeAws, salesforce_api: FakeSalesforce, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=60)
    salesforce_api.reject_next_token(times=1000)
    for _ in range(25):  # a turn every 10 s for 250 s: attempts at 0, 60, 120, 180 and 240 s
        with pytest.raises(SalesforceAuthError):
            connection.get()
        clock.now += 10
    assert len(salesforce_api.token_requests) == 2 + 4  # after a window: one token request, no second try
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 2 + 4  # each after a window re-reads
    out = capsys.readouterr().out
    assert _events(out, "salesforce_login_rejected") == 1 and _events(out, "salesforce_login_backoff") == 4


def test_a_rotated_key_is_picked_up_within_one_window(
    aws: FakeAws, salesforce_api: FakeSalesforce, salesforce_secret: dict, other_rsa_keys: tuple[str, str]
) -> None:
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=60)
    salesforce_api.reject_next_token(times=2)
    with pytest.raises(SalesforceAuthError):
        connection.get()
    aws.rotate_secret({**salesforce_secret, "private_key": other_rsa_keys[0]})  # the fix: a new key ...
    clock.now += 30
    with pytest.raises(SalesforceAuthError):  # ... not tried before the window is over
        connection.get()
    assert len(salesforce_api.token_requests) == 2
    clock.now += 30  # one window after the rejection; the cached secret (TTL 300 s) would still be the old one
    assert connection.get() is not None and connection.connected
    assert len(salesforce_api.token_requests) == 3
    _claims(salesforce_api.token_requests[-1]["assertion"], other_rsa_keys[1])  # signed with the rotated key
    assert not connection.backing_off


def test_an_unusable_secret_is_remembered_too(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=60)
    aws.rotate_secret({"client_id": CLIENT_ID, "username": USERNAME})  # no private_key
    aws.counter.reset()
    for _ in range(5):
        with pytest.raises(SalesforceCredentialsError):
            connection.get()
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    assert salesforce_api.token_requests == []


def test_an_unavailable_token_endpoint_is_not_remembered(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    """A 5xx or a timeout may pass at once: the next turn tries again."""
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=60)
    salesforce_api.token_unavailable()
    with pytest.raises(SalesforceUnavailableError):
        connection.get()
    connection.get()
    assert len(salesforce_api.token_requests) == 2 and not connection.backing_off


def test_back_off_zero_retries_every_time(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    clock = FakeClock()
    connection = _connection(clock, auth_backoff_seconds=0)
    salesforce_api.reject_next_token(times=4)
    for _ in range(2):
        with pytest.raises(SalesforceAuthError):
            connection.get()
    assert len(salesforce_api.token_requests) == 3  # 2, then 1 with the secret re-read first


# ------------------------------------------------------------------------------------------------ idle session


def test_a_session_idle_past_the_timeout_is_replaced_before_use(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    """No INVALID_SESSION_ID round trip: the connection knows Salesforce's inactivity rule."""
    clock = FakeClock()
    connection = _connection(clock, session_timeout_minutes=120)
    _lead(salesforce_api)
    _lead(salesforce_api)
    connection.call(lambda sf: sf.Lead.get(LEAD_ID))
    clock.now += 2 * 3600
    assert connection.stale
    connection.call(lambda sf: sf.Lead.get(LEAD_ID))
    assert len(salesforce_api.token_requests) == 2 and len(salesforce_api.rest_calls("GET")) == 2


def test_activity_moves_the_session_clock_only_after_half_the_timeout(
    aws: FakeAws, salesforce_api: FakeSalesforce
) -> None:
    """Salesforce updates "last active" only for a request more than half the timeout after it."""
    clock = FakeClock()
    connection = _connection(clock, session_timeout_minutes=30)
    for _ in range(3):
        _lead(salesforce_api)
    connection.call(lambda sf: sf.Lead.get(LEAD_ID))  # login at t=0
    clock.now += 10 * 60
    connection.call(lambda sf: sf.Lead.get(LEAD_ID))  # t=10 min: before half-time, the session still ends at 30
    clock.now += 20 * 60 - 30
    assert connection.stale  # within the safety margin of t=30 min
    clock.now -= 60
    assert not connection.stale
    clock.now += 60 + 1  # t = 30 min: a new login
    connection.call(lambda sf: sf.Lead.get(LEAD_ID))
    assert len(salesforce_api.token_requests) == 2


def test_refresh_if_stale_logs_in_again_only_when_needed(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    clock = FakeClock()
    connection = _connection(clock)
    assert connection.refresh_if_stale() is False and salesforce_api.token_requests == []  # never logged in
    connection.get()
    assert connection.refresh_if_stale() is True and len(salesforce_api.token_requests) == 1
    clock.now += 3 * 3600
    assert connection.refresh_if_stale() is True and len(salesforce_api.token_requests) == 2
    clock.now += 3 * 3600
    salesforce_api.token_unavailable()
    assert connection.refresh_if_stale() is False  # never raises


def test_a_secret_that_is_not_there_is_remembered_too(aws: FakeAws, salesforce_api: FakeSalesforce) -> None:
    from atlas_shared.exceptions import SecretError

    clock = FakeClock()
    connection = SalesforceConnection(
        "atlas/no-such-secret", secret_cache=SecretCache(ttl_seconds=300, clock=clock), clock=clock
    )
    for _ in range(5):
        with pytest.raises(SecretError) as caught:
            connection.get()
        assert caught.value.permanent and "SALESFORCE_SECRET_ARN" in str(caught.value)
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    clock.now += 61
    with pytest.raises(SecretError):
        connection.get()
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 2
