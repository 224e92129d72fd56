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
sentence. A body of any other shape (``content`` not a list of blocks, ``usage`` counts that are not whole
numbers) is a :class:`BedrockError` with code ``InvalidResponse``.

Attempts: the client makes one attempt per call (:mod:`atlas_shared.clients`: at most 12 s). :func:`invoke`
tries again, up to :data:`MAX_ATTEMPTS` in all, only after a transient failure (throttling, 5xx, a timeout) and
only when another full attempt plus its backoff still fits the invocation's deadline
(:mod:`atlas_shared.deadline`); with too little time for even the first attempt it raises at once.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import deadline, tracing
from .clients import attempt_seconds, error_code, get_client, is_client_error, is_transient
from .exceptions import BedrockError
from .logs import get_logger
from .settings import Settings

ANTHROPIC_VERSION = "bedrock-2023-05-31"
ALLOWED_BODY_KEYS = frozenset(
    {"anthropic_version", "max_tokens", "system", "messages", "temperature", "top_p", "top_k", "stop_sequences"}
)
DEFAULT_FALLBACK_TEXT = "Could you tell me a little more about that?"
MAX_ATTEMPTS = 2  # per invoke(); the second only when it fits the deadline
RETRY_BACKOFF_SECONDS = 1.0  # the wait before a retry is uniform in [0, this)

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


def attempt_budget_seconds() -> float:
    """The longest one InvokeModel attempt can take, in seconds (the client's connect plus read timeout)."""
    return attempt_seconds("bedrock-runtime")


def invoke(
    config: GenerationConfig,
    *,
    system: str,
    messages: Sequence[Message],
    fallback_text: str = DEFAULT_FALLBACK_TEXT,
    whole_sentences: bool = True,
    client: Any | None = None,
    max_attempts: int = MAX_ATTEMPTS,
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
        max_attempts: InvokeModel attempts at most; a retry happens only after a transient failure and only when
            a full attempt (:func:`attempt_budget_seconds`) plus its backoff fits the deadline.

    Raises:
        BedrockError: the call failed (``.code`` is the AWS error code, ``DeadlineExceeded`` when no attempt fit,
            ``InvalidResponse`` for a body of the wrong shape) or the answer held no text.
    """
    body = json.dumps(build_request_body(config, system=system, messages=messages)).encode("utf-8")
    client = client if client is not None else get_client("bedrock-runtime")
    budget = attempt_budget_seconds()
    deadline.current().require(
        budget, f"Bedrock InvokeModel on {config.model_id}", lambda m: BedrockError(m, code="DeadlineExceeded")
    )
    attempt = 1
    while True:
        try:
            payload = _invoke_once(client, config, body)
            break
        except BedrockError as exc:
            if not exc.retryable or attempt >= max_attempts:
                raise
            wait = random.uniform(0, RETRY_BACKOFF_SECONDS)
            if not deadline.current().fits(wait + budget):
                raise
            _logger.warning(
                "Bedrock attempt %d failed (%s); trying again",
                attempt,
                exc.code,
                extra={"event": "bedrock_retry", "code": exc.code, "attempt": attempt, "wait_seconds": round(wait, 3)},
            )
            _sleep(wait)
            attempt += 1
    return _reply_from_payload(
        payload, fallback_text=fallback_text, model_id=config.model_id, whole_sentences=whole_sentences
    )


def _sleep(seconds: float) -> None:
    """The wait before a retry (tests replace it with a fake clock's)."""
    time.sleep(seconds)


def _invoke_once(client: Any, config: GenerationConfig, body: bytes) -> Any:
    """One InvokeModel attempt: the decoded JSON body. Errors become :class:`BedrockError` (``.retryable`` set)."""
    with tracing.subsegment("bedrock.invoke_model", model_id=config.model_id, max_tokens=config.max_tokens):
        try:
            response = client.invoke_model(
                modelId=config.model_id, body=body, contentType="application/json", accept="application/json"
            )
            return json.loads(response["body"].read())
        except Exception as exc:
            if is_client_error(exc):
                code = error_code(exc)
                raise BedrockError(
                    f"Bedrock InvokeModel on {config.model_id} failed: {code}", code=code, retryable=is_transient(exc)
                ) from exc
            if isinstance(exc, (ValueError, KeyError, TypeError, RecursionError)):
                raise BedrockError("Bedrock returned a body that is not JSON", code="InvalidResponse") from exc
            raise


def _reply_from_payload(payload: Any, *, fallback_text: str, model_id: str, whole_sentences: bool) -> BedrockReply:
    """The reply in an Anthropic Messages body (shape in the module docstring).

    Raises:
        BedrockError: ``InvalidResponse`` when the body has another shape, ``EmptyResponse`` when it holds no text.
    """

    def invalid(what: str) -> BedrockError:
        return BedrockError(f"Bedrock ({model_id}) returned a body whose {what}", code="InvalidResponse")

    if not isinstance(payload, dict):
        raise invalid("top level is not a JSON object")
    blocks = payload.get("content")
    if blocks is None:
        blocks = []
    if not isinstance(blocks, list) or not all(isinstance(block, dict) for block in blocks):
        raise invalid("content is not a list of blocks")
    texts: list[Any] = [block.get("text") for block in blocks if block.get("type") == "text"]
    if not all(isinstance(text, str) for text in texts):
        raise invalid("text blocks do not all hold a string")
    raw_text = "".join(texts).strip()
    stop_reason = payload.get("stop_reason")
    stop_reason = stop_reason if isinstance(stop_reason, str) else ""
    usage = payload.get("usage")
    usage = {} if usage is None else usage
    if not isinstance(usage, dict):
        raise invalid("usage is not an object")
    counts = [usage.get(key) or 0 for key in ("input_tokens", "output_tokens")]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise invalid("usage token counts are not whole numbers")
    input_tokens, output_tokens = counts
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
