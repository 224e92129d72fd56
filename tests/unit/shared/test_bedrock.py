"""atlas_shared.bedrock: the request body, settings from the environment, and whole-sentence replies."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY

from atlas_shared import bedrock
from atlas_shared.bedrock import (
    ALLOWED_BODY_KEYS,
    MAX_ATTEMPTS,
    GenerationConfig,
    Message,
    build_request_body,
    last_whole_sentences,
)
from atlas_shared.exceptions import BedrockError
from atlas_shared.settings import Settings
from tests.conftest import MODEL_ID, FakeBedrock

CONFIG = GenerationConfig(model_id=MODEL_ID, max_tokens=150, temperature=0.7)


def test_body_holds_only_accepted_keys() -> None:
    body = build_request_body(CONFIG, system="Be brief.", messages=[Message("user", "Hi")])
    assert set(body) <= ALLOWED_BODY_KEYS
    assert body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 150,
        "temperature": 0.7,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }


def test_optional_parameters_appear_only_when_configured() -> None:
    config = GenerationConfig(MODEL_ID, 150, 0.7, top_p=0.9, top_k=40, stop_sequences=("\nUser:",))
    body = build_request_body(config, system="", messages=[Message("user", "Hi")])
    assert body["top_p"] == 0.9 and body["top_k"] == 40 and body["stop_sequences"] == ["\nUser:"]
    assert "system" not in body  # an empty system prompt is left out rather than sent empty
    assert set(body) <= ALLOWED_BODY_KEYS


def test_config_comes_from_the_environment() -> None:
    settings = Settings.from_environ(
        {
            "BEDROCK_MODEL_ID": "anthropic.claude-3-haiku-20240307-v1:0",
            "BEDROCK_MAX_TOKENS": "99",
            "BEDROCK_TEMPERATURE": "0.2",
        }
    )
    config = GenerationConfig.from_settings(settings, default_max_tokens=150, default_temperature=0.7)
    assert (config.model_id, config.max_tokens, config.temperature) == (
        "anthropic.claude-3-haiku-20240307-v1:0",
        99,
        0.2,
    )
    assert config.top_p is None and config.top_k is None and config.stop_sequences == ()


def test_per_function_defaults_apply_only_when_unset() -> None:
    config = GenerationConfig.from_settings(Settings.from_environ({}), default_max_tokens=200, default_temperature=0.8)
    assert (config.max_tokens, config.temperature) == (200, 0.8)


def test_messages_are_normalised_for_anthropic() -> None:
    messages = [
        Message("assistant", "stray opener"),
        Message("user", "one"),
        Message("user", "two"),
        Message("assistant", "  "),
        Message("assistant", "reply"),
        Message("user", "three"),
    ]
    assert bedrock.normalise_messages(messages) == [
        {"role": "user", "content": "one\ntwo"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "three"},
    ]


def test_a_conversation_must_end_with_the_user() -> None:
    with pytest.raises(BedrockError):
        build_request_body(CONFIG, system="", messages=[Message("user", "hi"), Message("assistant", "hello")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sure thing. We can meet on Tuesday and", "Sure thing."),
        ("Great question! The plan costs $20 a month. It also incl", "Great question! The plan costs $20 a month."),
        ("Version 3.5 is faster. Dr. Smith will", "Version 3.5 is faster."),
        ('He said "yes." Then we', 'He said "yes."'),
        ("Really?! I see. We offer e.g. support and", "Really?! I see."),
        ("No whole sentence here at all", ""),
        ("Ends cleanly.", "Ends cleanly."),
        ("Wait\u2026 let me check", "Wait\u2026"),
    ],
)
def test_last_whole_sentences(text: str, expected: str) -> None:
    assert last_whole_sentences(text) == expected


def test_invoke_sends_the_body_and_returns_the_text(bedrock: FakeBedrock) -> None:
    bedrock.reply("The premium plan includes priority support.")
    reply = bedrock_invoke()
    assert reply.text == "The premium plan includes priority support." and not reply.truncated
    assert reply.stop_reason == "end_turn" and reply.output_tokens == 42 and reply.input_tokens == 321
    (body,) = bedrock.bodies
    assert set(body) <= ALLOWED_BODY_KEYS and body["max_tokens"] == 150 and body["temperature"] == 0.7
    assert bedrock.model_ids == [MODEL_ID]


def raw_reply(fake: FakeBedrock, raw: bytes) -> None:
    """Queue an InvokeModel answer whose body is ``raw`` bytes."""
    fake.stubber.add_response(
        "invoke_model",
        {"body": StreamingBody(io.BytesIO(raw), len(raw)), "contentType": "application/json"},
        {"modelId": MODEL_ID, "body": ANY, "contentType": "application/json", "accept": "application/json"},
    )


def bedrock_invoke(**kwargs: object) -> bedrock.BedrockReply:
    return bedrock.invoke(CONFIG, system="Be brief.", messages=[Message("user", "What's included?")], **kwargs)  # type: ignore[arg-type]


def test_max_tokens_reply_is_cut_to_whole_sentences_and_logged(
    bedrock: FakeBedrock, capsys: pytest.CaptureFixture[str]
) -> None:
    bedrock.reply("It includes support. It also includes onboarding and a dedicated", stop_reason="max_tokens")
    reply = bedrock_invoke()
    assert reply.text == "It includes support." and reply.truncated
    assert reply.raw_text.endswith("dedicated")
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (cut,) = [e for e in events if e.get("event") == "bedrock_reply_truncated"]
    assert cut["chars_before"] > cut["chars_after"] and cut["used_fallback"] is False


def test_max_tokens_reply_without_a_whole_sentence_uses_the_fallback(bedrock: FakeBedrock) -> None:
    bedrock.reply("Well, the thing about our premium plan is that it", stop_reason="max_tokens")
    assert bedrock_invoke(fallback_text="Could you say more?").text == "Could you say more?"


def test_a_complete_reply_is_never_cut(bedrock: FakeBedrock) -> None:
    bedrock.reply("Sure, Tuesday works", stop_reason="end_turn")
    assert bedrock_invoke().text == "Sure, Tuesday works"


def test_structured_output_can_skip_the_cut(bedrock: FakeBedrock) -> None:
    bedrock.reply('{"scenario": "Call Ada. Ask about', stop_reason="max_tokens")
    reply = bedrock_invoke(whole_sentences=False)
    assert reply.text == reply.raw_text == '{"scenario": "Call Ada. Ask about' and not reply.truncated


@pytest.mark.parametrize(("code", "status"), [("ValidationException", 400), ("AccessDeniedException", 403)])
def test_a_request_error_is_not_retried(bedrock: FakeBedrock, code: str, status: int) -> None:
    bedrock.fail(code, status)
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke()
    assert caught.value.code == code and MODEL_ID in str(caught.value) and not caught.value.retryable
    assert len(bedrock.bodies) == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 429), ("ModelTimeoutException", 408), ("ServiceUnavailableException", 503)],
)
def test_a_transient_error_is_retried_once(bedrock: FakeBedrock, code: str, status: int) -> None:
    bedrock.fail(code, status)
    bedrock.fail(code, status)
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke()
    assert caught.value.code == code and caught.value.retryable
    assert len(bedrock.bodies) == MAX_ATTEMPTS == 2


def test_a_retry_can_succeed(bedrock: FakeBedrock) -> None:
    bedrock.fail("ThrottlingException", 429)
    bedrock.reply("Second time lucky.")
    assert bedrock_invoke().text == "Second time lucky."
    assert len(bedrock.bodies) == 2


def test_empty_content_is_an_error(bedrock: FakeBedrock) -> None:
    bedrock.reply("", stop_reason="end_turn")
    with pytest.raises(BedrockError, match="no text"):
        bedrock_invoke()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"content": 5}',
        b'{"content": "hello"}',
        b'{"content": [5]}',
        b'{"content": [{"type": "text", "text": 5}]}',
        b'{"content": [{"type": "text", "text": "Hi."}], "usage": {"input_tokens": "abc"}}',
        b'{"content": [{"type": "text", "text": "Hi."}], "usage": {"output_tokens": -1}}',
        b'{"content": [{"type": "text", "text": "Hi."}], "usage": [1, 2]}',
        b"[1, 2]",
        b"garbage",
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_body_of_the_wrong_shape_is_a_bedrock_error(bedrock: FakeBedrock, raw: bytes) -> None:
    raw_reply(bedrock, raw)
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke()
    assert caught.value.code == "InvalidResponse" and not caught.value.retryable


def test_usage_may_be_absent(bedrock: FakeBedrock) -> None:
    raw_reply(bedrock, b'{"content": [{"type": "text", "text": "Hi."}], "stop_reason": "end_turn"}')
    reply = bedrock_invoke()
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("Hi.", 0, 0)
