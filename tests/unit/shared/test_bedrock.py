"""atlas_shared.bedrock and atlas_shared.models: the Converse request per model and option, settings from the
environment, whole-sentence replies, streaming that stops early, retries, and the models table."""

from __future__ import annotations

import json
import types
from typing import Any

import pytest

from atlas_shared import bedrock, models
from atlas_shared.bedrock import MAX_ATTEMPTS, GenerationConfig, Message, build_request, last_whole_sentences
from atlas_shared.exceptions import BedrockError, ConfigurationError
from atlas_shared.settings import DEFAULT_BEDROCK_MODEL_ID, Settings
from tests.conftest import MODEL_ID, FakeBedrock, bedrock_payload

HAIKU_5_5 = "us.anthropic.claude-haiku-5-5"
HAIKU_4_5 = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "us.amazon.nova-micro-v1:0"
CONFIG = GenerationConfig(model_id=MODEL_ID, max_tokens=150, temperature=0.7)
HELLO = [Message("user", "Hi")]


# --------------------------------------------------------------------------------------------- request shape


def test_the_default_model_is_haiku_5_5_through_the_us_profile() -> None:
    assert DEFAULT_BEDROCK_MODEL_ID == MODEL_ID == HAIKU_5_5
    assert models.facts_for(HAIKU_5_5).known and models.facts_for(HAIKU_5_5).lifecycle == "Active"


def test_request_for_the_default_model() -> None:
    assert build_request(CONFIG, system="Be brief.", messages=HELLO) == {
        "modelId": HAIKU_5_5,
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 150, "temperature": 0.7},
        # Haiku 5.5 thinks adaptively unless told not to: a spoken turn cannot wait for it (models.json).
        "additionalModelRequestFields": {"thinking": {"type": "disabled"}},
    }


def test_request_for_haiku_4_5_has_no_model_fields() -> None:
    config = GenerationConfig(HAIKU_4_5, 150, 0.7, top_k=40)
    request = build_request(config, system="", messages=HELLO)
    assert "system" not in request  # an empty system prompt is left out rather than sent empty
    assert request["additionalModelRequestFields"] == {"top_k": 40}


def test_request_for_nova_uses_the_same_shape_and_nova_s_top_k() -> None:
    config = GenerationConfig(NOVA, 150, 0.7, top_p=0.9, top_k=40, stop_sequences=("\nUser:",))
    request = build_request(config, system="Be brief.", messages=HELLO)
    assert request["inferenceConfig"] == {
        "maxTokens": 150,
        "temperature": 0.7,
        "topP": 0.9,
        "stopSequences": ["\nUser:"],
    }
    assert request["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 40}}
    assert "thinking" not in json.dumps(request)


def test_top_k_is_not_sent_to_a_model_the_table_does_not_know() -> None:
    request = build_request(
        GenerationConfig("meta.llama3-1-8b-instruct-v1:0", 150, 0.7, top_k=40), system="", messages=HELLO
    )
    assert "additionalModelRequestFields" not in request


def test_latency_optimized_request() -> None:
    config = GenerationConfig("us.amazon.nova-pro-v1:0", 150, 0.7, latency_optimized=True)
    assert build_request(config, system="", messages=HELLO)["performanceConfig"] == {"latency": "optimized"}
    assert "performanceConfig" not in build_request(CONFIG, system="", messages=HELLO)


def test_service_tier_request() -> None:
    config = GenerationConfig(MODEL_ID, 150, 0.7, service_tier="priority")
    assert build_request(config, system="", messages=HELLO)["serviceTier"] == {"type": "priority"}
    assert "serviceTier" not in build_request(CONFIG, system="", messages=HELLO)


def test_a_service_tier_this_botocore_cannot_send_is_refused_before_any_call(bedrock: FakeBedrock) -> None:
    # botocore 1.40.61 (the dev venv) and the python3.12 runtime's botocore have no Converse serviceTier.
    assert not bedrock.client.meta.service_model.operation_model("Converse").input_shape.members.get("serviceTier")
    config = GenerationConfig(MODEL_ID, 150, 0.7, service_tier="priority")
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke(config)
    assert caught.value.code == "UnsupportedParameter" and bedrock.requests == []


def test_a_service_tier_goes_out_when_the_client_knows_it() -> None:
    sent: list[dict[str, Any]] = []
    client = types.SimpleNamespace(converse=lambda **kw: sent.append(kw) or bedrock_payload("Yes."))
    config = GenerationConfig(MODEL_ID, 150, 0.7, service_tier="flex")
    assert bedrock.invoke(config, system="", messages=HELLO, client=client).text == "Yes."
    assert sent[0]["serviceTier"] == {"type": "flex"}


def test_cache_point_follows_a_system_prompt_that_reaches_the_model_s_minimum() -> None:
    long_prompt = "x" * (4096 * bedrock.CHARS_PER_TOKEN)
    config = GenerationConfig(MODEL_ID, 150, 0.7, cache_system_prompt=True)
    assert build_request(config, system=long_prompt, messages=HELLO)["system"] == [
        {"text": long_prompt},
        {"cachePoint": {"type": "default"}},
    ]
    # Too short for Haiku's 4,096-token minimum: no cache point (it would not be cached).
    assert build_request(config, system=long_prompt[:-8], messages=HELLO)["system"] == [{"text": long_prompt[:-8]}]
    # Nova's minimum is lower.
    nova = GenerationConfig(NOVA, 150, 0.7, cache_system_prompt=True)
    assert len(build_request(nova, system="y" * 4000, messages=HELLO)["system"]) == 2
    # Off by default.
    assert build_request(CONFIG, system=long_prompt, messages=HELLO)["system"] == [{"text": long_prompt}]


def test_a_model_without_prompt_caching_gets_no_cache_point() -> None:
    config = GenerationConfig("meta.llama3-1-8b-instruct-v1:0", 150, 0.7, cache_system_prompt=True)
    assert build_request(config, system="z" * 100_000, messages=HELLO)["system"] == [{"text": "z" * 100_000}]


def test_messages_are_normalised() -> None:
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
        build_request(CONFIG, system="", messages=[Message("user", "hi"), Message("assistant", "hello")])


# --------------------------------------------------------------------------------------------- settings


def test_config_comes_from_the_environment() -> None:
    settings = Settings.from_environ(
        {
            "AWS_REGION": "us-east-2",
            "BEDROCK_MODEL_ID": "us.amazon.nova-pro-v1:0",
            "BEDROCK_MAX_TOKENS": "99",
            "BEDROCK_TEMPERATURE": "0.2",
            "BEDROCK_MAX_SENTENCES": "2",
            "BEDROCK_STREAM": "true",
            "BEDROCK_LATENCY_OPTIMIZED": "true",
            "BEDROCK_SERVICE_TIER": "priority",
            "BEDROCK_CACHE_SYSTEM_PROMPT": "true",
        }
    )
    config = GenerationConfig.from_settings(settings, default_max_tokens=150, default_temperature=0.7)
    assert (config.model_id, config.max_tokens, config.temperature, config.max_sentences) == (
        "us.amazon.nova-pro-v1:0",
        99,
        0.2,
        2,
    )
    assert config.stream and config.latency_optimized and config.cache_system_prompt
    assert config.service_tier == "priority"
    assert not GenerationConfig.from_settings(
        settings, default_max_tokens=1, default_temperature=0, allow_stream=False
    ).stream


def test_per_function_defaults_apply_only_when_unset() -> None:
    config = GenerationConfig.from_settings(
        Settings.from_environ({}), default_max_tokens=200, default_temperature=0.8, default_max_sentences=3
    )
    assert (config.max_tokens, config.temperature, config.max_sentences, config.stream) == (200, 0.8, 3, False)
    assert not config.latency_optimized and config.service_tier is None and not config.cache_system_prompt


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"BEDROCK_MODEL_ID": "us.anthropic.claude-haiku-5-5", "BEDROCK_TOP_P": "0.9"}, "not both"),
        ({"BEDROCK_LATENCY_OPTIMIZED": "true", "AWS_REGION": "us-west-2"}, "latency-optimized"),
        (
            {
                "BEDROCK_MODEL_ID": "us.amazon.nova-pro-v1:0",
                "BEDROCK_LATENCY_OPTIMIZED": "true",
                "AWS_REGION": "us-west-2",
            },
            "us-east-2",
        ),
        (
            {
                "BEDROCK_MODEL_ID": "meta.llama3-1-8b-instruct-v1:0",
                "BEDROCK_MAX_TOKENS": "4096",
                "BEDROCK_TOP_P": "0.5",
            },
            "not both",
        ),
    ],
)
def test_settings_the_model_cannot_take_fail_the_cold_start(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        GenerationConfig.from_settings(Settings.from_environ(environ), default_max_tokens=150, default_temperature=0.7)


def test_max_tokens_above_the_model_s_maximum_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="above"):
        GenerationConfig("unknown.model-v1", 5000, 0.5).check()


@pytest.mark.parametrize("raw", ["yes", "1", "TRUE!"])
def test_boolean_settings_are_true_or_false(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="BEDROCK_STREAM"):
        Settings.from_environ({"BEDROCK_STREAM": raw})


# --------------------------------------------------------------------------------------------- models table


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("us.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("global.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("jp.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
        ("us-gov.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("eu.amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0"),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-5-5",
            "anthropic.claude-haiku-5-5",
        ),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz", None),
        ("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123xyz", None),
    ],
)
def test_base_model_id(model_id: str, base: str | None) -> None:
    assert models.base_model_id(model_id) == base


def test_an_application_profile_is_looked_up_by_the_base_model_terraform_passes() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz"
    assert not models.facts_for(arn).known
    assert models.facts_for(arn, "amazon.nova-micro-v1:0").family == "amazon-nova"


def test_every_row_of_the_table_is_complete() -> None:
    raw = json.loads(models.TABLE_PATH.read_text())["models"]
    for model_id, row in raw.items():
        assert models.base_model_id(model_id) == model_id, f"{model_id} is keyed by a profile, not a foundation model"
        assert set(row) == {
            "family",
            "max_output_tokens",
            "prompt_cache_min_tokens",
            "latency_optimized_regions",
            "request_fields",
            "top_k_field",
            "temperature_and_top_p",
            "lifecycle",
            "source",
        }, model_id
        assert row["max_output_tokens"] >= 4096 and row["source"].startswith("https://docs.aws.amazon.com/"), model_id
    families = {row["family"] for row in raw.values()}
    assert {"anthropic", "amazon-nova"} <= families


# --------------------------------------------------------------------------------------------- sentences


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


@pytest.mark.parametrize(
    ("text", "count", "max_chars", "expected"),
    [
        ("One. Two! Three? Four.", 2, 1024, "One. Two!"),
        ("One. Two! Three? Four.", None, 1024, "One. Two! Three? Four."),
        ("Dr. Who is here. He waves. Bye.", 1, 1024, "Dr. Who is here."),
        ("A" * 600 + ". " + "B" * 600 + ".", 3, 1024, "A" * 600 + "."),
        ("C" * 1100 + ".", 3, 1024, ""),
    ],
)
def test_first_sentences(text: str, count: int | None, max_chars: int, expected: str) -> None:
    assert bedrock.first_sentences(text, count, max_chars) == expected


# --------------------------------------------------------------------------------------------- Converse


def bedrock_invoke(config: GenerationConfig = CONFIG, **kwargs: Any) -> bedrock.BedrockReply:
    return bedrock.invoke(config, system="Be brief.", messages=[Message("user", "What's included?")], **kwargs)


def test_invoke_sends_the_request_and_returns_the_text(bedrock: FakeBedrock) -> None:
    bedrock.reply("The premium plan includes priority support.")
    reply = bedrock_invoke()
    assert reply.text == "The premium plan includes priority support." and not reply.truncated
    assert reply.stop_reason == "end_turn" and reply.output_tokens == 42 and reply.input_tokens == 321
    (request,) = bedrock.requests
    assert request["inferenceConfig"] == {"maxTokens": 150, "temperature": 0.7}
    assert bedrock.model_ids == [MODEL_ID]


@pytest.mark.parametrize(
    "model_id",
    [HAIKU_5_5, HAIKU_4_5, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", NOVA, "us.amazon.nova-2-lite-v1:0"],
)
def test_one_code_path_for_every_family(bedrock: FakeBedrock, model_id: str) -> None:
    """botocore validates each request against the Converse model before the stub answers."""
    bedrock.reply("Yes, it does.", model_id=model_id)
    config = GenerationConfig(model_id, 150, 0.7, top_k=20, cache_system_prompt=True)
    assert bedrock_invoke(config).text == "Yes, it does."
    assert bedrock.model_ids == [model_id]


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


def test_a_complete_reply_without_a_period_is_kept(bedrock: FakeBedrock) -> None:
    bedrock.reply("Sure, Tuesday works", stop_reason="end_turn")
    assert bedrock_invoke().text == "Sure, Tuesday works"


def test_a_long_reply_stops_after_max_sentences(bedrock: FakeBedrock, capsys: pytest.CaptureFixture[str]) -> None:
    bedrock.reply("One thing. Two things. Three things. Four things.")
    reply = bedrock_invoke(GenerationConfig(MODEL_ID, 150, 0.7, max_sentences=2))
    assert reply.text == "One thing. Two things." and not reply.truncated
    assert any('"bedrock_reply_shortened"' in line for line in capsys.readouterr().out.splitlines())


def test_a_reply_never_passes_lex_s_1024_characters(bedrock: FakeBedrock) -> None:
    sentence = "This sentence is exactly fifty characters long ok. "
    bedrock.reply(sentence * 40)
    reply = bedrock_invoke(GenerationConfig(MODEL_ID, 150, 0.7, max_sentences=None))
    assert len(reply.text) <= 1024 and reply.text.endswith(".")


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
    assert len(bedrock.requests) == 1


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
    assert len(bedrock.requests) == MAX_ATTEMPTS == 2


def test_a_retry_can_succeed(bedrock: FakeBedrock) -> None:
    bedrock.fail("ThrottlingException", 429)
    bedrock.reply("Second time lucky.")
    assert bedrock_invoke().text == "Second time lucky."
    assert len(bedrock.requests) == 2


def test_empty_content_is_an_error(bedrock: FakeBedrock) -> None:
    bedrock.reply("", stop_reason="end_turn")
    with pytest.raises(BedrockError, match="no text"):
        bedrock_invoke()


@pytest.mark.parametrize(
    "payload",
    [
        {"output": {"message": {"content": 5}}},
        {"output": {"message": {"content": "hello"}}},
        {"output": {"message": {"content": [5]}}},
        {"output": {"message": {"content": [{"text": 5}]}}},
        {"output": {"message": {"content": [{"text": "Hi."}]}}, "usage": {"inputTokens": "abc"}},
        {"output": {"message": {"content": [{"text": "Hi."}]}}, "usage": {"outputTokens": -1}},
        {"output": {"message": {"content": [{"text": "Hi."}]}}, "usage": [1, 2]},
        [1, 2],
        "garbage",
    ],
)
def test_a_response_of_the_wrong_shape_is_a_bedrock_error(payload: Any) -> None:
    client = types.SimpleNamespace(converse=lambda **_: payload)
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke(client=client)
    assert caught.value.code == "InvalidResponse" and not caught.value.retryable


def test_usage_may_be_absent() -> None:
    client = types.SimpleNamespace(
        converse=lambda **_: {"output": {"message": {"content": [{"text": "Hi."}]}}, "stopReason": "end_turn"}
    )
    reply = bedrock_invoke(client=client)
    assert (reply.text, reply.input_tokens, reply.output_tokens) == ("Hi.", 0, 0)


# --------------------------------------------------------------------------------------------- ConverseStream

STREAMING = GenerationConfig(MODEL_ID, 150, 0.7, max_sentences=2, stream=True)


def test_streaming_stops_reading_once_the_reply_has_its_sentences(bedrock: FakeBedrock) -> None:
    chunks = [
        "Sure",
        ", the premium",
        " plan adds support.",
        " It also adds",
        " onboarding.",
        " And a",
        " named engineer.",
    ]
    bedrock.reply_stream(chunks)
    reply = bedrock_invoke(STREAMING)
    assert reply.text == "Sure, the premium plan adds support. It also adds onboarding."
    assert reply.stop_reason == "max_sentences" and not reply.truncated
    (stream,) = bedrock.streams
    assert stream.closed and stream.read == 1 + 5  # messageStart + five deltas; the rest never read
    (request,) = bedrock.requests
    assert request["modelId"] == MODEL_ID and request["additionalModelRequestFields"] == {
        "thinking": {"type": "disabled"}
    }


def test_a_short_streamed_reply_is_read_to_the_end(bedrock: FakeBedrock) -> None:
    bedrock.reply_stream(["Yes", ", it does."])
    reply = bedrock_invoke(STREAMING)
    assert (reply.text, reply.stop_reason, reply.output_tokens) == ("Yes, it does.", "end_turn", 42)
    assert not bedrock.streams[0].closed


def test_a_streamed_max_tokens_reply_is_cut_back(bedrock: FakeBedrock) -> None:
    bedrock.reply_stream(["It adds support.", " It also"], stop_reason="max_tokens")
    reply = bedrock_invoke(STREAMING)
    assert reply.text == "It adds support." and reply.truncated


def test_a_stream_error_before_any_sentence_is_retried(bedrock: FakeBedrock) -> None:
    bedrock._stream_answers.append(
        [{"messageStart": {"role": "assistant"}}, {"throttlingException": {"message": "slow"}}]
    )
    bedrock.reply_stream(["Second try."])
    assert bedrock_invoke(STREAMING).text == "Second try."
    assert len(bedrock.requests) == 2


def test_a_stream_error_after_a_sentence_keeps_it(bedrock: FakeBedrock) -> None:
    events = [{"contentBlockDelta": {"delta": {"text": "It adds support. And"}}}, {"modelStreamErrorException": {}}]
    bedrock._stream_answers.append(events)
    reply = bedrock_invoke(STREAMING)
    assert reply.text == "It adds support." and reply.truncated and len(bedrock.requests) == 1


def test_a_refused_stream_is_not_retried(bedrock: FakeBedrock) -> None:
    bedrock.fail_stream("AccessDeniedException", 403)
    with pytest.raises(BedrockError) as caught:
        bedrock_invoke(STREAMING)
    assert caught.value.code == "AccessDeniedException" and len(bedrock.requests) == 1


def test_terraform_reads_the_same_models_table() -> None:
    """One table: the root module's plan-time checks read the file the handlers read."""
    bedrock_tf = (models.TABLE_PATH.parents[2] / "bedrock.tf").read_text()
    assert 'file("${path.module}/lambda_src/atlas_shared/models.json")' in bedrock_tf
