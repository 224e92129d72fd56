"""atlas_shared.secrets: the TTL cache in front of Secrets Manager (moto), counted call by call."""

from __future__ import annotations

import json

import pytest

from atlas_shared.exceptions import SecretError
from atlas_shared.secrets import SecretCache, get_secret_cache
from tests.conftest import SECRET_NAME, FakeAws


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _gets(aws: FakeAws) -> int:
    return aws.counter.count("secretsmanager", "GetSecretValue")


def test_second_read_inside_the_ttl_makes_no_call(aws: FakeAws) -> None:
    cache = SecretCache(ttl_seconds=300, clock=Clock())
    first = cache.get_secret_json(SECRET_NAME)
    second = cache.get_secret_json(SECRET_NAME)
    assert first == second and first["client_id"]
    assert _gets(aws) == 1


def test_ttl_expiry_refetches_once(aws: FakeAws) -> None:
    clock = Clock()
    cache = SecretCache(ttl_seconds=300, clock=clock)
    cache.get_secret_string(SECRET_NAME)
    clock.now += 299.9
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 1
    clock.now += 0.2  # 300.1 s after the fetch
    cache.get_secret_string(SECRET_NAME)
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 2


def test_expiry_returns_the_rotated_value(aws: FakeAws, salesforce_secret: dict) -> None:
    clock = Clock()
    cache = SecretCache(ttl_seconds=60, clock=clock)
    assert cache.get_secret_json(SECRET_NAME)["username"] == salesforce_secret["username"]
    aws.rotate_secret({**salesforce_secret, "username": "rotated@atlas.example.com"})
    assert cache.get_secret_json(SECRET_NAME)["username"] == salesforce_secret["username"]  # still cached
    clock.now += 61
    assert cache.get_secret_json(SECRET_NAME)["username"] == "rotated@atlas.example.com"


def test_force_refresh_skips_the_cache(aws: FakeAws) -> None:
    cache = SecretCache(ttl_seconds=300, clock=Clock())
    cache.get_secret_string(SECRET_NAME)
    cache.get_secret_string(SECRET_NAME, force_refresh=True)
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 2


def test_zero_ttl_disables_caching(aws: FakeAws) -> None:
    cache = SecretCache(ttl_seconds=0, clock=Clock())
    cache.get_secret_string(SECRET_NAME)
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 2


def test_clock_going_backwards_is_not_trusted(aws: FakeAws) -> None:
    """A restored SnapStart snapshot or a clock step must not extend a cached value's life."""
    clock = Clock()
    cache = SecretCache(ttl_seconds=300, clock=clock)
    cache.get_secret_string(SECRET_NAME)
    clock.now -= 10
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 2


def test_invalidate_forgets(aws: FakeAws) -> None:
    cache = SecretCache(ttl_seconds=300, clock=Clock())
    cache.get_secret_string(SECRET_NAME)
    cache.invalidate(SECRET_NAME)
    cache.get_secret_string(SECRET_NAME)
    cache.invalidate()
    cache.get_secret_string(SECRET_NAME)
    assert _gets(aws) == 3


def test_default_cache_takes_its_ttl_from_the_environment(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_CACHE_TTL_SECONDS", "42")
    assert get_secret_cache().ttl_seconds == 42
    assert get_secret_cache() is get_secret_cache()


def test_default_ttl_is_five_minutes(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRETS_CACHE_TTL_SECONDS")
    assert get_secret_cache().ttl_seconds == 300


def test_cache_events_are_logged(aws: FakeAws, capsys: pytest.CaptureFixture[str]) -> None:
    clock = Clock()
    cache = SecretCache(ttl_seconds=10, clock=clock)
    cache.get_secret_string(SECRET_NAME)
    cache.get_secret_string(SECRET_NAME)
    clock.now += 11
    cache.get_secret_string(SECRET_NAME)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    messages = [line["message"] for line in lines if line.get("cache") == "secret"]
    assert messages == [
        "[CACHE] MISS secret",
        "[CACHE] STORE secret",
        "[CACHE] HIT secret",
        "[CACHE] EXPIRED secret",
        "[CACHE] STORE secret",
    ]


def test_missing_secret_is_a_clear_error(aws: FakeAws) -> None:
    cache = SecretCache(ttl_seconds=300)
    with pytest.raises(SecretError) as caught:
        cache.get_secret_string("atlas/does-not-exist")
    assert "atlas/does-not-exist" in str(caught.value) and "ResourceNotFoundException" in str(caught.value)
    assert "SALESFORCE_SECRET_ARN" in str(caught.value)


def test_non_json_secret_is_a_clear_error(aws: FakeAws) -> None:
    aws.secretsmanager.create_secret(Name="atlas/plain", SecretString="not json")
    with pytest.raises(SecretError, match="not JSON"):
        SecretCache().get_secret_json("atlas/plain")


def test_binary_secret_is_a_clear_error(aws: FakeAws) -> None:
    aws.secretsmanager.create_secret(Name="atlas/binary", SecretBinary=b"\x00\x01")
    with pytest.raises(SecretError, match="SecretString"):
        SecretCache().get_secret_string("atlas/binary")


def test_negative_ttl_is_rejected() -> None:
    with pytest.raises(ValueError):
        SecretCache(ttl_seconds=-1)
