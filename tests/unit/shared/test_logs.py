"""atlas_shared.logs: JSON lines, cache events in the contract's shape, and no secrets."""

from __future__ import annotations

import json
import logging

import pytest

from atlas_shared import logs


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_each_record_is_one_json_line_with_context(capsys: pytest.CaptureFixture[str]) -> None:
    logs.bind(function_name="LexFulfillmentHandler", request_id="req-42", cold_start=True)
    logs.get_logger("unit").info("hello %s", "world", extra={"turn": 3})
    (line,) = _lines(capsys.readouterr().out)
    assert line["message"] == "hello world"
    assert line["level"] == "INFO" and line["logger"] == "atlas.unit"
    assert line["request_id"] == "req-42" and line["cold_start"] is True
    assert line["function_name"] == "LexFulfillmentHandler" and line["turn"] == 3
    assert line["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("action", "event"),
    [("HIT", "cache_hit"), ("MISS", "cache_miss"), ("EXPIRED", "cache_miss"), ("STORE", "cache_store")],
)
def test_cache_events_follow_the_contract(capsys: pytest.CaptureFixture[str], action: str, event: str) -> None:
    logs.log_cache_event(logs.get_logger("unit"), action, "secret", age_seconds=1.5)  # type: ignore[arg-type]
    (line,) = _lines(capsys.readouterr().out)
    assert line["message"] == f"[CACHE] {action} secret"
    assert line["event"] == event and line["cache"] == "secret"
    # filter-log-events --filter-pattern '"[CACHE]"' matches the raw line text:
    assert "[CACHE]" in json.dumps(line, ensure_ascii=False)


def test_level_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup_logging("WARNING")
    logger = logs.get_logger("unit")
    logger.info("quiet")
    logger.warning("loud")
    assert [line["message"] for line in _lines(capsys.readouterr().out)] == ["loud"]
    logs.setup_logging("INFO")


def test_setup_is_idempotent_and_does_not_propagate(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup_logging("INFO")
    logs.setup_logging("INFO")
    root = logging.getLogger(logs.ROOT_LOGGER_NAME)
    assert root.propagate is False
    logs.get_logger("unit").info("once")
    assert len(_lines(capsys.readouterr().out)) == 1


def test_secret_looking_fields_are_masked_but_counts_are_not(capsys: pytest.CaptureFixture[str]) -> None:
    logs.get_logger("unit").info(
        "fields",
        extra={
            "access_token": "00Dxx!abc",
            "privateKey": "-----BEGIN PRIVATE KEY-----abc",
            "client_secret": "s3cret",
            "nested": {"password": "hunter2", "ok": "fine"},
            "output_tokens": 42,
            "max_tokens": 150,
        },
    )
    (line,) = _lines(capsys.readouterr().out)
    assert line["access_token"] == line["privateKey"] == line["client_secret"] == "[REDACTED]"
    assert line["nested"] == {"password": "[REDACTED]", "ok": "fine"}
    assert line["output_tokens"] == 42 and line["max_tokens"] == 150


def test_secrets_inside_messages_and_tracebacks_are_masked(
    capsys: pytest.CaptureFixture[str], rsa_keys: tuple[str, str]
) -> None:
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhYmMiLCJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl"
    token = "00D5g000004ABCD!AQ0AQFakeAccessTokenValueForTests1234567890"
    logger = logs.get_logger("unit")
    logger.info("key %s jwt %s token %s", rsa_keys[0], jwt_like, token)
    try:
        raise RuntimeError(f"Authorization: Bearer {token}")
    except RuntimeError:
        logger.exception("failed")
    out = capsys.readouterr().out
    body = "".join(rsa_keys[0].splitlines()[1:-1])
    for secret in (body[:40], jwt_like, token, "BEGIN PRIVATE KEY"):
        assert secret not in out
    first, second = _lines(out)
    assert "[REDACTED PRIVATE KEY]" in first["message"] and "[REDACTED JWT]" in first["message"]
    assert second["exception_type"] == "RuntimeError" and "Bearer [REDACTED" in second["exception"]


def test_output_follows_sys_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """The handler resolves sys.stdout at emit time, so a later capture (or Lambda's stdout) receives lines."""
    logs.get_logger("unit").info("first")
    assert "first" in capsys.readouterr().out
    logs.get_logger("unit").info("second")
    assert "second" in capsys.readouterr().out


def test_bind_none_removes_a_field(capsys: pytest.CaptureFixture[str]) -> None:
    logs.bind(request_id="r1")
    logs.bind(request_id=None)
    logs.get_logger("unit").info("x")
    assert "request_id" not in _lines(capsys.readouterr().out)[0]
