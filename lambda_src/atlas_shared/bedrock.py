"""Bedrock Converse / ConverseStream for any model family, replies stopped at whole sentences (Task 4, issue 8).

Request (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html)::

    {"modelId": "us.anthropic.claude-haiku-5-5",
     "system": [{"text": "..."}, {"cachePoint": {"type": "default"}}?],
     "messages": [{"role": "user", "content": [{"text": "..."}]}, ...],
     "inferenceConfig": {"maxTokens": 150, "temperature": 0.7, "topP"?: 0.9, "stopSequences"?: [...]},
     "additionalModelRequestFields"?: {...},          # the model's own fields, from atlas_shared/models.json
     "performanceConfig"?: {"latency": "optimized"},  # latency-optimized inference, where offered
     "serviceTier"?: {"type": "priority"}}            # only with a botocore that knows the parameter

Nothing else is sent. The same request goes to every family (Anthropic Claude, Amazon Nova, ...): switching
models is a change of ``BEDROCK_MODEL_ID`` alone. Per-model facts (maximum output tokens, the fields a model
needs, prompt-cache minimum, latency-optimized Regions) come from :mod:`atlas_shared.models`, one table.

Response: ``{"output": {"message": {"content": [{"text": "..."}, ...]}}, "stopReason": "end_turn" | "max_tokens" |
"stop_sequence" | ..., "usage": {"inputTokens": n, "outputTokens": n, "cacheReadInputTokens"?: n, ...}}``.
ConverseStream (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html) sends
the same as events: ``contentBlockDelta`` ``{"delta": {"text": ...}}``, ``messageStop`` ``{"stopReason"}``,
``metadata`` ``{"usage"}``, or an error event (``throttlingException``, ``modelStreamErrorException`` ...).

What the caller gets (:class:`BedrockReply`):

* a reply stopped at ``max_tokens`` is cut back to its last whole sentence and the cut is logged; with not even
  one whole sentence, the caller's fallback line is spoken instead. The bot never speaks half a sentence;
* with ``max_sentences`` set, the reply stops after that many whole sentences, and never runs past ``max_chars``
  (Lex's 1,024-character message limit). With streaming, reading stops as soon as the reply has its sentences:
  the rest of the answer is never waited for;
* a body of another shape is a :class:`BedrockError` with code ``InvalidResponse``.

Attempts: the client makes one attempt per call (:mod:`atlas_shared.clients`: at most 12 s). :func:`invoke`
tries again, up to :data:`MAX_ATTEMPTS` in all, only after a transient failure (throttling, 5xx, a timeout) and
only when another full attempt plus its backoff still fits the invocation's deadline
(:mod:`atlas_shared.deadline`); with too little time for even the first attempt it raises at once.

IAM: Converse needs ``bedrock:InvokeModel``, ConverseStream ``bedrock:InvokeModelWithResponseStream``
(https://docs.aws.amazon.com/bedrock/latest/userguide/security_iam_id-based-policy-examples.html); the Terraform
module grants the one the function's settings use.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import deadline, metrics, models, tracing
from .clients import attempt_seconds, error_code, get_client, is_client_error, is_transient
from .exceptions import BedrockError, ConfigurationError
from .logs import get_logger
from .settings import Settings

DEFAULT_FALLBACK_TEXT = "Could you tell me a little more about that?"
MAX_ATTEMPTS = 2  # per invoke(); the second only when it fits the deadline
RETRY_BACKOFF_SECONDS = 1.0  # the wait before a retry is uniform in [0, this)
LEX_MESSAGE_MAX_CHARS = 1024  # https://docs.aws.amazon.com/lexv2/latest/APIReference/API_runtime_Message.html
CHARS_PER_TOKEN = 4  # a rough English average, used only to decide whether a prompt reaches the cache minimum
SERVICE_TIERS = ("default", "priority", "flex")
# ConverseStream error events (API_runtime_ConverseStreamOutput.html) and whether another attempt may help.
_STREAM_ERRORS = {
    "internalServerException": True,
    "modelStreamErrorException": True,
    "serviceUnavailableException": True,
    "throttlingException": True,
    "validationException": False,
}

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
    """Model, sampling and latency settings of one kind of call.

    Attributes:
        model_id: any ``modelId`` form Converse takes (see :mod:`atlas_shared.models`).
        max_tokens: output cap in tokens (1..the model's ``max_output_tokens``).
        temperature: 0..1.
        top_p, top_k, stop_sequences: sent only when set (top_k in the model's own field, when it has one).
        base_model_id: the foundation model behind ``model_id`` when the id alone does not tell (application
            inference profiles, provisioned models); used only to look up :mod:`atlas_shared.models`.
        max_sentences: stop the reply after this many whole sentences (None: no sentence limit).
        max_chars: never return more characters than this (cut back to whole sentences).
        stream: use ConverseStream and stop reading once the reply has ``max_sentences`` sentences.
        latency_optimized: send ``performanceConfig`` ``{"latency": "optimized"}``.
        service_tier: send ``serviceTier`` ``{"type": ...}`` (``default``, ``priority``, ``flex``); None sends nothing.
        cache_system_prompt: put a ``cachePoint`` after the system prompt when the model takes one and the prompt
            reaches the model's minimum.
    """

    model_id: str
    max_tokens: int
    temperature: float
    top_p: float | None = None
    top_k: int | None = None
    stop_sequences: tuple[str, ...] = ()
    base_model_id: str | None = None
    max_sentences: int | None = None
    max_chars: int = LEX_MESSAGE_MAX_CHARS
    stream: bool = False
    latency_optimized: bool = False
    service_tier: str | None = None
    cache_system_prompt: bool = False

    @property
    def model(self) -> models.ModelFacts:
        """The model's row in the models table (conservative defaults for a model it does not list)."""
        return models.facts_for(self.model_id, self.base_model_id)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        default_max_tokens: int,
        default_temperature: float,
        default_max_sentences: int | None = None,
        allow_stream: bool = True,
    ) -> GenerationConfig:
        """Read the ``BEDROCK_*`` environment (Terraform sets it per function) and check it against the model.

        The defaults apply only when the variable is unset. ``allow_stream=False`` keeps a caller that needs the
        whole answer (structured output) on Converse whatever ``BEDROCK_STREAM`` says.

        Raises:
            ConfigurationError: a setting the model cannot take (see :meth:`check`).
        """
        config = cls(
            model_id=settings.bedrock_model_id,
            max_tokens=settings.bedrock_max_tokens if settings.bedrock_max_tokens is not None else default_max_tokens,
            temperature=(
                settings.bedrock_temperature if settings.bedrock_temperature is not None else default_temperature
            ),
            top_p=settings.bedrock_top_p,
            top_k=settings.bedrock_top_k,
            stop_sequences=settings.bedrock_stop_sequences,
            base_model_id=settings.bedrock_base_model_id,
            max_sentences=(
                settings.bedrock_max_sentences if settings.bedrock_max_sentences is not None else default_max_sentences
            ),
            stream=settings.bedrock_stream and allow_stream,
            latency_optimized=settings.bedrock_latency_optimized,
            service_tier=settings.bedrock_service_tier,
            cache_system_prompt=settings.bedrock_cache_system_prompt,
        )
        config.check(settings.region)
        return config

    def check(self, region: str | None = None) -> None:
        """Refuse settings the model (per :mod:`atlas_shared.models`) cannot take.

        Raises:
            ConfigurationError: ``max_tokens`` above the model's maximum; temperature and top_p together for a model
                that refuses both; latency-optimized inference outside the model's Regions.
        """
        facts = self.model
        problems: list[str] = []
        if self.max_tokens > facts.max_output_tokens:
            problems.append(f"max_tokens {self.max_tokens} is above {facts.model_id}'s {facts.max_output_tokens}")
        if self.top_p is not None and not facts.temperature_and_top_p:
            problems.append(f"{facts.model_id} takes temperature or top_p, not both")
        if self.latency_optimized and (region or "") not in facts.latency_optimized_regions:
            offered = ", ".join(facts.latency_optimized_regions) or "no Region"
            problems.append(f"latency-optimized inference of {facts.model_id} is offered in {offered}, not {region}")
        if self.service_tier is not None and self.service_tier not in SERVICE_TIERS:
            problems.append(f"service tier {self.service_tier!r} is not one of {', '.join(SERVICE_TIERS)}")
        if problems:
            raise ConfigurationError(
                "Bedrock settings the model cannot take: " + "; ".join(problems), ("BEDROCK_MODEL_ID",)
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
        stop_reason: Converse's ``stopReason``; ``max_sentences`` when streaming stopped reading early.
        truncated: True when the reply hit ``max_tokens`` and was cut back.
        raw_text: the model's text before any cut (as far as it was read).
        input_tokens, output_tokens: usage as reported by the model (0 when absent, e.g. a stream left early).
        cache_read_tokens, cache_write_tokens: prompt-cache usage (0 when absent).
    """

    text: str
    stop_reason: str
    truncated: bool
    raw_text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


def normalise_messages(messages: Iterable[Message]) -> list[dict[str, str]]:
    """Messages in the shape Converse requires: non-empty, starting with ``user``, roles alternating.

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


def build_request(config: GenerationConfig, *, system: str, messages: Sequence[Message]) -> dict[str, Any]:
    """The Converse / ConverseStream keyword arguments (shape in the module docstring).

    Raises:
        BedrockError: ``EmptyPrompt`` when there is no user message to answer.
    """
    normalised = normalise_messages(messages)
    if not normalised or normalised[-1]["role"] != "user":
        raise BedrockError("Bedrock needs a conversation that ends with a user message", code="EmptyPrompt")
    facts = config.model
    inference: dict[str, Any] = {"maxTokens": config.max_tokens, "temperature": config.temperature}
    if config.top_p is not None:
        inference["topP"] = config.top_p
    if config.stop_sequences:
        inference["stopSequences"] = list(config.stop_sequences)
    request: dict[str, Any] = {
        "modelId": config.model_id,
        "messages": [{"role": m["role"], "content": [{"text": m["content"]}]} for m in normalised],
        "inferenceConfig": inference,
    }
    system = system.strip()
    if system:
        blocks: list[dict[str, Any]] = [{"text": system}]
        if config.cache_system_prompt and prompt_reaches_cache_minimum(system, facts):
            blocks.append({"cachePoint": {"type": "default"}})
        request["system"] = blocks
    extra = dict(facts.request_fields)
    if config.top_k is not None and facts.top_k_field:
        _set_path(extra, facts.top_k_field, config.top_k)
    if extra:
        request["additionalModelRequestFields"] = extra
    if config.latency_optimized:
        request["performanceConfig"] = {"latency": "optimized"}
    if config.service_tier is not None:
        request["serviceTier"] = {"type": config.service_tier}
    return request


def prompt_reaches_cache_minimum(system: str, facts: models.ModelFacts) -> bool:
    """True when the model takes a cache point and ``system`` likely holds its minimum token count.

    Tokens are estimated as characters / :data:`CHARS_PER_TOKEN`; a prompt under the minimum gets no cache point
    (it would not be cached, https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html).
    """
    return facts.prompt_cache_min_tokens is not None and len(system) / CHARS_PER_TOKEN >= facts.prompt_cache_min_tokens


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[leaf] = value


def _sentence_ends(text: str) -> list[int]:
    """The offsets just past each sentence end in ``text`` (abbreviations and initials are not ends)."""
    ends: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        if match.group(0).startswith(".") and len(match.group(0)) == 1:
            word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[: match.start()])
            if word and (word.group(1).lower() in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", word.group(1))):
                continue
        ends.append(match.end())
    return ends


def last_whole_sentences(text: str) -> str:
    """``text`` cut after its last complete sentence; ``""`` when it holds none.

    A period after a common abbreviation (``Dr.``, ``e.g.``) or a single capital initial is not taken as
    a sentence end.
    """
    text = text.strip()
    ends = _sentence_ends(text)
    return text[: ends[-1]].strip() if ends else ""


def first_sentences(text: str, max_sentences: int | None, max_chars: int = LEX_MESSAGE_MAX_CHARS) -> str:
    """The longest run of whole sentences from the start of ``text``: at most ``max_sentences`` (None: any
    number) and at most ``max_chars`` characters; ``""`` when not even the first sentence fits."""
    text = text.strip()
    ends = [end for end in _sentence_ends(text) if len(text[:end].strip()) <= max_chars]
    if max_sentences is not None:
        ends = ends[:max_sentences]
    return text[: ends[-1]].strip() if ends else ""


def has_sentences(text: str, count: int) -> bool:
    """True when ``text`` already holds ``count`` whole sentences (what a stream waits for)."""
    return len(_sentence_ends(text.strip())) >= count


def attempt_budget_seconds() -> float:
    """The longest one Converse attempt can take, in seconds (the client's connect plus read timeout)."""
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
        config: model, sampling and latency settings.
        system: the system prompt.
        messages: the conversation, ending with the user's turn.
        fallback_text: spoken when the reply has not one whole sentence to keep.
        whole_sentences: cut the reply to whole sentences (``max_tokens`` cut, ``max_sentences``, ``max_chars``);
            False for structured output such as JSON, which the caller repairs itself from ``raw_text``.
        client: a ``bedrock-runtime`` client; default the shared one.
        max_attempts: attempts at most; a retry happens only after a transient failure and only when a full
            attempt (:func:`attempt_budget_seconds`) plus its backoff fits the deadline.

    Raises:
        BedrockError: the call failed (``.code`` is the AWS error code, ``DeadlineExceeded`` when no attempt fit,
            ``InvalidResponse`` for a body of the wrong shape, ``UnsupportedParameter`` for a service tier this
            botocore cannot send) or the answer held no text.
    """
    request = build_request(config, system=system, messages=messages)
    client = client if client is not None else get_client("bedrock-runtime")
    operation = "ConverseStream" if config.stream else "Converse"
    if "serviceTier" in request and not client_knows(client, operation, "serviceTier"):
        raise BedrockError(
            f"this botocore does not know {operation}'s serviceTier; unset the service tier or ship a newer botocore",
            code="UnsupportedParameter",
        )
    budget = attempt_budget_seconds()
    deadline.current().require(
        budget, f"Bedrock {operation} on {config.model_id}", lambda m: BedrockError(m, code="DeadlineExceeded")
    )
    attempt = 1
    while True:
        try:
            started = time.perf_counter()
            raw = _stream_once(client, config, request) if config.stream else _converse_once(client, config, request)
            metrics.put("BedrockLatency", (time.perf_counter() - started) * 1000)
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
    return _finish(raw, config, fallback_text=fallback_text, whole_sentences=whole_sentences)


def client_knows(client: Any, operation: str, member: str) -> bool:
    """True when ``client``'s service model has ``member`` in ``operation``'s input (botocore refuses others)."""
    try:
        return member in client.meta.service_model.operation_model(operation).input_shape.members
    except Exception:  # a test double without a service model: let the call decide
        return True


def _sleep(seconds: float) -> None:
    """The wait before a retry (tests replace it with a fake clock's)."""
    time.sleep(seconds)


@dataclass(slots=True)
class _Raw:
    text: str
    stop_reason: str
    usage: dict[str, Any]


def _client_error(exc: Exception, config: GenerationConfig, operation: str) -> BedrockError:
    code = error_code(exc)
    return BedrockError(
        f"Bedrock {operation} on {config.model_id} failed: {code}", code=code, retryable=is_transient(exc)
    )


def _converse_once(client: Any, config: GenerationConfig, request: dict[str, Any]) -> _Raw:
    """One Converse attempt. Errors become :class:`BedrockError` (``.retryable`` set)."""
    with tracing.subsegment("bedrock.converse", model_id=config.model_id, max_tokens=config.max_tokens):
        try:
            response = client.converse(**request)
        except Exception as exc:
            if is_client_error(exc):
                raise _client_error(exc, config, "Converse") from exc
            raise
    return _raw_from_response(response, config.model_id)


def _stream_once(client: Any, config: GenerationConfig, request: dict[str, Any]) -> _Raw:
    """One ConverseStream attempt, read until the stream ends or the reply has ``config.max_sentences`` sentences.

    An error event before any whole sentence is a :class:`BedrockError` (retryable per :data:`_STREAM_ERRORS`);
    after one, the sentences so far are kept and the reply counts as stopped at ``max_tokens`` (logged, cut back).
    """
    with tracing.subsegment("bedrock.converse_stream", model_id=config.model_id, max_tokens=config.max_tokens):
        try:
            response = client.converse_stream(**request)
        except Exception as exc:
            if is_client_error(exc):
                raise _client_error(exc, config, "ConverseStream") from exc
            raise
        stream = response.get("stream") if isinstance(response, dict) else None
        if stream is None:
            raise BedrockError(f"Bedrock ({config.model_id}) returned no stream", code="InvalidResponse")
        parts: list[str] = []
        stop_reason, usage = "", {}
        try:
            for event in stream:
                if not isinstance(event, dict):
                    raise BedrockError(
                        f"Bedrock ({config.model_id}) sent an event that is not an object", code="InvalidResponse"
                    )
                error = next((name for name in event if name in _STREAM_ERRORS), None)
                if error is not None:
                    if last_whole_sentences("".join(parts)):
                        stop_reason = "max_tokens"
                        break
                    raise BedrockError(
                        f"Bedrock ConverseStream on {config.model_id} failed: {error}",
                        code=error[0].upper() + error[1:],
                        retryable=_STREAM_ERRORS[error],
                    )
                if "contentBlockDelta" in event:
                    text = (event["contentBlockDelta"].get("delta") or {}).get("text")
                    if text is not None and not isinstance(text, str):
                        raise BedrockError(
                            f"Bedrock ({config.model_id}) sent a text delta that is not a string",
                            code="InvalidResponse",
                        )
                    if text:
                        parts.append(text)
                        if config.max_sentences is not None and has_sentences("".join(parts), config.max_sentences):
                            stop_reason = "max_sentences"
                            break
                elif "messageStop" in event:
                    stop_reason = str(event["messageStop"].get("stopReason") or "")
                elif "metadata" in event:
                    usage = event["metadata"].get("usage") or {}
        finally:
            close = getattr(stream, "close", None)
            if stop_reason == "max_sentences" and callable(close):
                close()  # stop reading: the rest of the answer is not waited for
        return _Raw("".join(parts).strip(), stop_reason, usage)


def _raw_from_response(payload: Any, model_id: str) -> _Raw:
    """The text, stop reason and usage of a Converse response (shape in the module docstring).

    Raises:
        BedrockError: ``InvalidResponse`` when the response has another shape.
    """

    def invalid(what: str) -> BedrockError:
        return BedrockError(f"Bedrock ({model_id}) returned a response whose {what}", code="InvalidResponse")

    if not isinstance(payload, dict):
        raise invalid("top level is not an object")
    message = (payload.get("output") or {}).get("message") if isinstance(payload.get("output"), dict) else None
    blocks = message.get("content") if isinstance(message, dict) else None
    if blocks is None:
        blocks = []
    if not isinstance(blocks, list) or not all(isinstance(block, dict) for block in blocks):
        raise invalid("content is not a list of blocks")
    texts: list[Any] = [block["text"] for block in blocks if "text" in block]
    if not all(isinstance(text, str) for text in texts):
        raise invalid("text blocks do not all hold a string")
    stop_reason = payload.get("stopReason")
    usage = payload.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise invalid("usage is not an object")
    return _Raw("".join(texts).strip(), stop_reason if isinstance(stop_reason, str) else "", usage or {})


def _finish(raw: _Raw, config: GenerationConfig, *, fallback_text: str, whole_sentences: bool) -> BedrockReply:
    """Usage checked, then the text cut to whole sentences as the module docstring says."""
    counts = [
        raw.usage.get(key) or 0
        for key in ("inputTokens", "outputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
    ]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise BedrockError(
            f"Bedrock ({config.model_id}) returned a response whose usage token counts are not whole numbers",
            code="InvalidResponse",
        )
    if not raw.text:
        raise BedrockError(
            f"Bedrock ({config.model_id}) returned no text (stopReason={raw.stop_reason!r})", code="EmptyResponse"
        )
    text, truncated = raw.text, False
    if whole_sentences:
        if raw.stop_reason == "max_tokens":
            truncated = True
            text = last_whole_sentences(raw.text)
        text = first_sentences(text, config.max_sentences, config.max_chars) or (
            fallback_text if truncated or len(raw.text) > config.max_chars else text
        )
        if truncated or text != raw.text:
            _logger.info(
                "Bedrock reply cut back to whole sentences",
                extra={
                    "event": "bedrock_reply_truncated" if truncated else "bedrock_reply_shortened",
                    "stop_reason": raw.stop_reason,
                    "chars_before": len(raw.text),
                    "chars_after": len(text),
                    "used_fallback": text == fallback_text,
                    "output_tokens": counts[1],
                },
            )
    metrics.put("BedrockOutputTokens", float(counts[1]))
    if truncated:
        metrics.put("BedrockTruncated")
    return BedrockReply(
        text=text,
        stop_reason=raw.stop_reason,
        truncated=truncated,
        raw_text=raw.text,
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_read_tokens=counts[2],
        cache_write_tokens=counts[3],
    )
