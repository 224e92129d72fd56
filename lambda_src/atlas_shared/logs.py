"""Structured logs: one JSON object a line on stdout, through the standard ``logging`` module.

Every line carries ``timestamp`` (ISO 8601 UTC), ``level``, ``logger``, ``message``, the function name,
the current ``request_id``, ``cold_start`` and any ``extra={...}`` fields. CloudWatch Logs Insights
discovers the JSON fields by itself (``filter event = "cache_hit"``).

Cache events follow docs/contracts.md: ``"message": "[CACHE] <HIT|MISS|STORE|EXPIRED> <cache>"`` plus
``"event"`` and ``"cache"`` fields, so ``aws logs filter-log-events --filter-pattern '"[CACHE]"'`` (the plan's
validation step) finds them as well. ``event`` is ``cache_hit`` for HIT and ``cache_miss`` for MISS and
EXPIRED (an expired entry is a miss), and ``cache_store`` for STORE, so a hit rate is
``cache_hit / (cache_hit + cache_miss)``.

Secrets never reach a log line: fields whose names look secret are replaced, and PEM private keys, JWTs,
Salesforce access tokens and ``Bearer`` credentials are masked in messages and tracebacks as a last line of
defence. The code still never passes a secret to a logger in the first place.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, Literal, TextIO

ROOT_LOGGER_NAME = "atlas"

CacheAction = Literal["HIT", "MISS", "STORE", "EXPIRED"]
CacheName = Literal["secret", "scenario", "salesforce_session"]

_CACHE_EVENTS: dict[str, str] = {
    "HIT": "cache_hit",
    "MISS": "cache_miss",
    "EXPIRED": "cache_miss",
    "STORE": "cache_store",
}

# Matched against a field name turned snake_case: ``access_token``, ``privateKey`` and ``client_secret`` are
# masked, while ``max_tokens`` or ``output_tokens`` (counts) are not.
_SENSITIVE_KEY = re.compile(
    r"(^|_)(secret|password|passwd|private_key|privatekey|assertion|authorization|token|jwt|api_key|"
    r"credentials?|session_id)$"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "[REDACTED PRIVATE KEY]",
    ),
    (re.compile(r"MII[A-Za-z0-9+/=\\n]{60,}"), "[REDACTED KEY MATERIAL]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED JWT]"),
    (re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{20,}"), "[REDACTED TOKEN]"),
    (re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/!=-]+"), "Bearer [REDACTED]"),
)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is emitted as a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_context: dict[str, Any] = {}


def redact(text: str) -> str:
    """Mask private keys, JWTs, Salesforce access tokens and Bearer credentials inside ``text``."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_key(key: str) -> bool:
    """True when a field named ``key`` may hold a secret (``access_token``, ``privateKey``, ``password`` ...)."""
    return _SENSITIVE_KEY.search(_CAMEL_BOUNDARY.sub("_", key).lower()) is not None


def _scrub(key: str, value: Any) -> Any:
    if is_sensitive_key(key):
        return "[REDACTED]"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(key, v) for v in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line (keys in a stable order: timestamp, level, logger, message, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        payload.update(_context)
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = _scrub(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            payload["exception_type"] = record.exc_info[0].__name__
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, default=str, ensure_ascii=False, separators=(",", ":"))


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (Lambda's stdout, or a test's capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


# Third-party loggers that print request or response bodies at DEBUG (botocore.parsers prints GetSecretValue's
# SecretString). They are held at WARNING whatever the root level, e.g. under Lambda's AWS_LAMBDA_LOG_LEVEL=DEBUG.
BODY_LOGGING_LIBRARIES = ("botocore", "boto3", "urllib3", "s3transfer", "simple_salesforce", "zeep")


def setup_logging(level: str = "INFO") -> logging.Logger:
    """Configure the ``atlas`` logger tree once (JSON to stdout, no propagation); later calls only set the level.

    Propagation is off because the Lambda Python runtime puts its own tab-separated handler on the root logger,
    which would print every line twice. Libraries in :data:`BODY_LOGGING_LIBRARIES` are held at WARNING.
    """
    root = logging.getLogger(ROOT_LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in root.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level.upper())
    for name in BODY_LOGGING_LIBRARIES:
        library = logging.getLogger(name)
        if library.level < logging.WARNING:  # NOTSET (0) included: it would inherit a DEBUG root
            library.setLevel(logging.WARNING)
    return root


def get_logger(name: str) -> logging.Logger:
    """A child of the ``atlas`` logger, e.g. ``get_logger("secrets")`` -> ``atlas.secrets``."""
    setup_logging_if_needed()
    return logging.getLogger(f"{ROOT_LOGGER_NAME}.{name}")


def setup_logging_if_needed() -> None:
    """Install the JSON handler with level INFO unless :func:`setup_logging` already ran."""
    root = logging.getLogger(ROOT_LOGGER_NAME)
    if not any(isinstance(h, _StdoutHandler) for h in root.handlers):
        setup_logging("INFO")


def bind(**fields: Any) -> None:
    """Add fields to every following log line of this container (e.g. ``request_id``); ``None`` removes one."""
    for key, value in fields.items():
        if value is None:
            _context.pop(key, None)
        else:
            _context[key] = value


def clear_context() -> None:
    """Drop every field set by :func:`bind`."""
    _context.clear()


def log_cache_event(
    logger: logging.Logger, action: CacheAction, cache: CacheName, level: int = logging.INFO, **fields: Any
) -> None:
    """Log a cache event in the contract's shape, e.g. ``[CACHE] HIT secret`` with ``event=cache_hit``.

    Args:
        logger: where to log.
        action: HIT, MISS, STORE or EXPIRED.
        cache: which cache (``secret``, ``scenario``, ``salesforce_session``).
        level: logging level, INFO by default.
        fields: extra JSON fields (age_seconds, source, bytes ...); never secret values.
    """
    logger.log(
        level,
        "[CACHE] %s %s",
        action,
        cache,
        extra={"event": _CACHE_EVENTS[action], "cache": cache, "cache_action": action, **fields},
    )
