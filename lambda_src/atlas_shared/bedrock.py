"""Bedrock ``InvokeModel`` with Anthropic's Messages format (Task 4).

Request body (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html)::

    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 150, "temperature": 0.7,
     "system": "...", "messages": [{"role": "user", "content": "..."}, ...]}

plus ``top_p``, ``top_k`` and ``stop_sequences`` only when configured. Nothing else goes in the body: Bedrock
rejects unknown keys with a ValidationException. ``max_tokens``, ``temperature`` and the model id come from
the environment (:class:`GenerationConfig.from_settings`): 150/0.7 for Lex turns, 200/0.8 for scenarios.

Response body: ``{"content": [{"type": "text", "text": "..."}], "stop_reason": "end_turn" | "max_tokens" |
"stop_sequence", "usage": {"input_tokens": n, "output_tokens": n}, ...}``.

A reply that stopped at ``max_tokens`` is cut back to its last whole sentence and the cut is logged; when not
even one sentence is whole, the caller's short fallback line is returned instead. The bot never speaks half a
sentence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import tracing
from .clients import error_code, get_client, is_client_error
from .exceptions import BedrockError
from .logs import get_logger
from .settings import Settings

ANTHROPIC_VERSION = "bedrock-2023-05-31"
ALLOWED_BODY_KEYS = frozenset(
    {"anthropic_version", "max_tokens", "system", "messages", "temperature", "top_p", "top_k", "stop_sequences"}
)
DEFAULT_FALLBACK_TEXT = "Could you tell me a little more about that?"

Role = Literal["user", "assistant"]

_logger = get_logger("bedrock")

# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes or brackets, then a space or
# the end of the text. "3.5" and "e.g." inside a word don't match because a space (or the end) must follow.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd", "co", "corp"}
)


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """Model and sampling settings of one kind of call.

    Attributes:
        model_id: Bedrock model id or ARN.
        max_tokens: output cap in tokens (1..4096).
        temperature: 0..1.
        top_p, top_k, stop_sequences: sent only when set.
    """

    model_id: str
    max_tokens: int
    temperature: float
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, default_max_tokens: int, default_temperature: float
    ) -> GenerationConfig:
        """Read BEDROCK_MODEL_ID/MAX_TOKENS/TEMPERATURE (and the optional TOP_P/TOP_K/STOP_SEQUENCES).

        The defaults apply only when the variable is unset; Terraform sets it per function.
        """
        return cls(
            model_id=settings.bedrock_model_id,
            max_tokens=settings.bedrock_max_tokens if settings.bedrock_max_tokens is not None else default_max_tokens,
            temperature=(
                settings.bedrock_temperature if settings.bedrock_temperature is not None else default_temperature
            ),
            top_p=settings.bedrock_top_p,
            top_k=settings.bedrock_top_k,
            stop_sequences=settings.bedrock_stop_sequences,
        )


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation: ``role`` is ``user`` or ``assistant``; ``content`` is plain text."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class BedrockReply:
    """What the model said, ready to speak.

    Attributes:
        text: whole sentences only (or the fallback line).
        stop_reason: Anthropic's ``stop_reason``.
        truncated: True when the reply hit ``max_tokens`` and was cut back.
        raw_text: the model's text before any cut.
        input_tokens, output_tokens: usage as reported by the model (0 when absent).
    """

    text: str
    stop_reason: str
    truncated: bool
    raw_text: str
    input_tokens: int = 0
    output_tokens: int = 0


def normalise_messages(messages: Iterable[Message]) -> list[dict[str, str]]:
    """Messages in the shape Anthropic requires: non-empty, starting with ``user``, roles alternating.

    Consecutive messages of one role are joined with a newline; leading assistant messages are dropped.
    """
    result: list[dict[str, str]] = []
    for message in messages:
        content = message.content.strip()
        if not content:
            continue
        if not result and message.role != "user":
            continue
        if result and result[-1]["role"] == message.role:
            result[-1]["content"] += "\n" + content
        else:
            result.append({"role": message.role, "content": content})
    return result


def build_request_body(config: GenerationConfig, *, system: str, messages: Sequence[Message]) -> dict[str, Any]:
    """The InvokeModel body: only keys in :data:`ALLOWED_BODY_KEYS`.

    Raises:
        BedrockError: there is no user message to answer.
    """
    normalised = normalise_messages(messages)
    if not normalised or normalised[-1]["role"] != "user":
        raise BedrockError("Bedrock needs a conversation that ends with a user message", code="EmptyPrompt")
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
        "messages": normalised,
    }
    if system.strip():
        body["system"] = system.strip()
    if config.top_p is not None:
        body["top_p"] = config.top_p
    if config.top_k is not None:
        body["top_k"] = config.top_k
    if config.stop_sequences:
        body["stop_sequences"] = list(config.stop_sequences)
    return body


def last_whole_sentences(text: str) -> str:
    """``text`` cut after its last complete sentence; ``""`` when it holds none.

    A period after a common abbreviation (``Dr.``, ``e.g.``) or a single capital initial is not taken as
    a sentence end.
    """
    text = text.strip()
    cut = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(0).startswith(".") and len(match.group(0)) == 1:
            word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[: match.start()])
            if word and (word.group(1).lower() in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", word.group(1))):
                continue
        cut = match.end()
    return text[:cut].strip()


def invoke(
    config: GenerationConfig,
    *,
    system: str,
    messages: Sequence[Message],
    fallback_text: str = DEFAULT_FALLBACK_TEXT,
    whole_sentences: bool = True,
    client: Any | None = None,
) -> BedrockReply:
    """Ask the model and return a reply that never ends mid-sentence.

    Args:
        config: model and sampling settings.
        system: the system prompt.
        messages: the conversation, ending with the user's turn.
        fallback_text: spoken when the reply hit ``max_tokens`` before finishing one sentence.
        whole_sentences: cut a ``max_tokens`` reply back to whole sentences (False for structured output such
            as JSON, which the caller repairs itself from ``raw_text``).
        client: a ``bedrock-runtime`` client; default the shared one.

    Raises:
        BedrockError: the call failed (``.code`` is the AWS error code) or the answer held no text.
    """
    body = build_request_body(config, system=system, messages=messages)
    client = client if client is not None else get_client("bedrock-runtime")
    with tracing.subsegment("bedrock.invoke_model", model_id=config.model_id, max_tokens=config.max_tokens):
        try:
            response = client.invoke_model(
                modelId=config.model_id,
                body=json.dumps(body).encode("utf-8"),
                contentType="application/json",
                accept="application/json",
            )
            payload = json.loads(response["body"].read())
        except Exception as exc:
            if is_client_error(exc):
                code = error_code(exc)
                raise BedrockError(f"Bedrock InvokeModel on {config.model_id} failed: {code}", code=code) from exc
            if isinstance(exc, (ValueError, KeyError)):
                raise BedrockError("Bedrock returned a body that is not JSON", code="InvalidResponse") from exc
            raise
    return _reply_from_payload(
        payload, fallback_text=fallback_text, model_id=config.model_id, whole_sentences=whole_sentences
    )


def _reply_from_payload(payload: Any, *, fallback_text: str, model_id: str, whole_sentences: bool) -> BedrockReply:
    if not isinstance(payload, dict):
        raise BedrockError("Bedrock returned a body that is not a JSON object", code="InvalidResponse")
    blocks = payload.get("content") or []
    raw_text = "".join(
        str(block.get("text", "")) for block in blocks if isinstance(block, dict) and block.get("type") == "text"
    ).strip()
    stop_reason = str(payload.get("stop_reason") or "")
    usage = payload.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    input_tokens, output_tokens = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    if not raw_text:
        raise BedrockError(f"Bedrock ({model_id}) returned no text (stop_reason={stop_reason!r})", code="EmptyResponse")
    text, truncated = raw_text, False
    if stop_reason == "max_tokens" and whole_sentences:
        truncated = True
        text = last_whole_sentences(raw_text) or fallback_text
        _logger.info(
            "Bedrock reply hit max_tokens; cut back to the last whole sentence",
            extra={
                "event": "bedrock_reply_truncated",
                "chars_before": len(raw_text),
                "chars_after": len(text),
                "used_fallback": text == fallback_text,
                "output_tokens": output_tokens,
            },
        )
    return BedrockReply(
        text=text,
        stop_reason=stop_reason,
        truncated=truncated,
        raw_text=raw_text,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
