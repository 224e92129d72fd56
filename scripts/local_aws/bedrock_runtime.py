"""Amazon Bedrock Runtime Converse and ConverseStream for the local AWS: a deterministic stand-in model.

moto 5.2's bedrock-runtime knows only InvokeModel (a Converse request there is a NotImplementedError, a 500). ``make run``'s
conversation and ``validate.py``'s smoke turns need the deployed LexFulfillmentHandler to get an answer, so
this module answers:

- ``POST /model/{modelId}/converse``: ``{"output": {"message": {"role": "assistant", "content": [{"text"}]}},
  "stopReason", "usage": {"inputTokens", "outputTokens", "totalTokens"}, "metrics": {"latencyMs"}}``.
  Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
- ``POST /model/{modelId}/converse-stream``: the same reply as an ``application/vnd.amazon.eventstream`` body
  of messageStart, contentBlockDelta (a few words each), contentBlockStop, messageStop and metadata events.
  Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html and the event
  stream encoding https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html (prelude, headers,
  payload, CRC32s).

No kinder than Bedrock: a model id (or the foundation model behind an inference profile id) that is not in the
project's model table (lambda_src/atlas_shared/models.json) is ``ValidationException`` "The provided model
identifier is invalid."; messages must be non-empty, start with a user turn and alternate roles, and
``inferenceConfig.maxTokens`` must be at least 1, each a ``ValidationException`` otherwise. A reply longer than
``maxTokens`` words is cut there with ``stopReason`` ``max_tokens``. The reply itself is canned: a short, polite
answer that repeats the caller's last words, enough to hold a conversation in a demo, not a language model.
"""

from __future__ import annotations

import binascii
import json
import re
import struct
from pathlib import Path
from typing import Any
from urllib.parse import unquote

MODELS_TABLE = Path(__file__).resolve().parents[2] / "lambda_src" / "atlas_shared" / "models.json"
PROFILE_PREFIX = re.compile(r"^(us|us-gov|eu|apac|jp|au|ca|global)\.")
CONVERSE = "{0}/model/(?P<modelId>.+)/converse$"
CONVERSE_STREAM = "{0}/model/(?P<modelId>.+)/converse-stream$"


def known_models() -> set[str]:
    """Foundation-model ids of the project's model table."""
    return set(json.loads(MODELS_TABLE.read_text(encoding="utf-8"))["models"])


def foundation_model(model_id: str) -> str:
    """The foundation-model id behind an id, a system inference profile id or a foundation-model/profile ARN."""
    model_id = unquote(model_id)
    for marker in (":foundation-model/", ":inference-profile/"):
        if marker in model_id:
            model_id = model_id.split(marker, 1)[1]
    return PROFILE_PREFIX.sub("", model_id)


def _error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], str]:
    return (
        status,
        {"x-amzn-ErrorType": error_type, "content-type": "application/json"},
        json.dumps({"message": message}),
    )


def reply_for(body: dict[str, Any]) -> str:
    """The canned reply: acknowledges the caller's last words and asks one question back."""
    last = ""
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            last = " ".join(c.get("text", "") for c in message.get("content") or [] if isinstance(c, dict))
    topic = " ".join(last.split()[:8]).rstrip("?.!,") or "that"
    return (
        f'Thanks for asking "{topic}". Our platform helps sales teams qualify leads faster with less manual work. '
        "Would you like to hear how teams like yours use it?"
    )


def _check(model_id: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str] | None:
    if foundation_model(model_id) not in known_models():
        return _error(400, "ValidationException", "The provided model identifier is invalid.")
    messages = body.get("messages") or []
    roles = [m.get("role") for m in messages]
    if not messages or roles[0] != "user" or any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        return _error(400, "ValidationException", "A conversation must start with a user message and alternate roles.")
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens", 4096)
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return _error(400, "ValidationException", "inferenceConfig.maxTokens must be at least 1.")
    return None


def _answer(body: dict[str, Any]) -> tuple[list[str], str, dict[str, int]]:
    words = reply_for(body).split()
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens", 4096)
    stop = "end_turn"
    if len(words) > max_tokens:
        words, stop = words[:max_tokens], "max_tokens"
    prompt = json.dumps(body.get("messages")) + json.dumps(body.get("system") or [])
    usage = {"inputTokens": len(prompt) // 4, "outputTokens": len(words), "totalTokens": len(prompt) // 4 + len(words)}
    return words, stop, usage


def converse(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """moto route handler for Converse (see the module docstring)."""
    model_id = re.search(CONVERSE.format(""), full_url.split("?", 1)[0]).group("modelId")  # type: ignore[union-attr]
    body = json.loads(request.data or b"{}")
    problem = _check(model_id, body)
    if problem:
        return problem
    words, stop, usage = _answer(body)
    answer = {
        "output": {"message": {"role": "assistant", "content": [{"text": " ".join(words)}]}},
        "stopReason": stop,
        "usage": usage,
        "metrics": {"latencyMs": 1},
    }
    return 200, {"content-type": "application/json"}, json.dumps(answer)


def event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One event-stream message: prelude (total and headers length, CRC32), string headers, JSON payload, CRC32."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        encoded = value.encode()
        headers += struct.pack(">B", len(name)) + name.encode() + struct.pack(">BH", 7, len(encoded)) + encoded
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def converse_stream(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes | str]:
    """moto route handler for ConverseStream (see the module docstring)."""
    model_id = re.search(CONVERSE_STREAM.format(""), full_url.split("?", 1)[0]).group("modelId")  # type: ignore[union-attr]
    body = json.loads(request.data or b"{}")
    problem = _check(model_id, body)
    if problem:
        return problem
    words, stop, usage = _answer(body)
    events = [event_message("messageStart", {"role": "assistant"})]
    for i in range(0, len(words), 4):
        chunk = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
        events.append(event_message("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": chunk}}))
    events.append(event_message("contentBlockStop", {"contentBlockIndex": 0}))
    events.append(event_message("messageStop", {"stopReason": stop}))
    events.append(event_message("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}))
    return 200, {"content-type": "application/vnd.amazon.eventstream"}, b"".join(events)


def patch_bedrock_runtime() -> None:
    """Put the Converse and ConverseStream routes ahead of moto's bedrock-runtime catch-all route.

    Raises:
        RuntimeError: moto's bedrockruntime.urls has no ``url_paths`` (a moto upgrade).
    """
    from moto.bedrockruntime import urls

    if not isinstance(getattr(urls, "url_paths", None), dict):
        raise RuntimeError("moto.bedrockruntime.urls has no url_paths; bedrock_runtime.py needs updating")
    urls.url_paths = {CONVERSE_STREAM: converse_stream, CONVERSE: converse, **urls.url_paths}
