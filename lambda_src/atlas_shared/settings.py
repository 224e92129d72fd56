"""One typed, frozen settings object, read from the environment once per container (at cold start).

Configuration flows one way: Terraform variable -> Lambda environment variable -> :class:`Settings`.
The variables and their Terraform defaults are listed in docs/contracts.md. Every value is parsed and
range-checked here, so a typo fails the cold start with a :class:`ConfigurationError` that names the
variable, instead of failing a customer's turn later.

Variables beyond the contract table are optional and have safe defaults:

========================================  ============================================================
BEDROCK_TOP_P, BEDROCK_TOP_K              sent to Bedrock only when set
BEDROCK_STOP_SEQUENCES                    JSON list of strings (``["\\nUser:"]``), sent only when set
BEDROCK_BASE_MODEL_ID                     foundation model behind an application profile / provisioned model
BEDROCK_MAX_SENTENCES                     stop a spoken reply after this many whole sentences (1..10)
BEDROCK_STREAM                            ``true``: ConverseStream, reading stops once the sentences are in
BEDROCK_LATENCY_OPTIMIZED                 ``true``: performanceConfig latency ``optimized``
BEDROCK_SERVICE_TIER                      ``default`` | ``priority`` | ``flex``: Converse's serviceTier
BEDROCK_CACHE_SYSTEM_PROMPT               ``true``: a cachePoint after a long enough system prompt
SCENARIO_TTL_SECONDS                      lifetime of a scenario item (``ExpiresAt``), default 7 days
SALESFORCE_LEAD_EXTERNAL_ID_FIELD         Lead external-id field for idempotent upserts, e.g. ``Atlas_Key__c``
SALESFORCE_LEAD_OUTCOME_FIELD             Lead field that receives the call outcome, default ``Description``
SALESFORCE_API_VERSION                    REST API version, default ``59.0``
IDEMPOTENCY_TTL_SECONDS                   lifetime of a task's idempotency record (``ExpiresAt``), default 7 days
SALESFORCE_AUTH_BACKOFF_SECONDS           wait after a login failure only a person can fix, default 60 s
SALESFORCE_SESSION_TIMEOUT_MINUTES        the org's Salesforce session timeout, default 120 (5-1440)
INTERACTION_KEY_ATTRIBUTES                JSON list of Lex attribute names holding the interaction key,
                                          first present wins; default ``["interactionKey"]``
SCENARIO_KEY_LAYOUTS                      JSON list of ``{"key_pattern", "partition_key", "sort_key"}``:
                                          the scenario item's PK/SK built from the key (see below)
========================================  ============================================================

Scenario key layouts: the first layout whose ``key_pattern`` (a regular expression matched against the whole
interaction key) matches gives the item's key. ``partition_key`` and ``sort_key`` are templates in which
``{key}`` is the whole interaction key and ``{name}`` the pattern's named group ``(?P<name>...)``; braces are
for placeholders only. The default is today's layout, ``INTERACTION#{key}`` / ``SCENARIO`` for keys of 8-128
letters, digits, ``-`` or ``_``.

Usage::

    settings = get_settings().require("SCENARIO_TABLE_NAME")   # once, at module import
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .exceptions import ConfigurationError

# Claude Haiku 5.5 through the US cross-Region inference profile (issue 8; README "Bedrock").
DEFAULT_BEDROCK_MODEL_ID = "us.anthropic.claude-haiku-5-5"
PRE_INITIALIZED_TYPES = ("provisioned-concurrency", "snap-start")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
E164_PATTERN = re.compile(r"^\+[1-9]\d{1,14}$")
_SALESFORCE_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_API_VERSION = re.compile(r"^\d{2,3}\.0$")
# Lex session attribute names the handler reads the interaction key from (a key of the session attribute map).
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
DEFAULT_INTERACTION_KEY_ATTRIBUTES = ("interactionKey",)


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """One form of interaction key and the scenario item's key built from it (``SCENARIO_KEY_LAYOUTS``).

    Attributes:
        key_pattern: a regular expression the whole interaction key must match; its named groups
            (``(?P<lead>...)``) can be used in the templates.
        partition_key: template of the item's ``PK``, e.g. ``INTERACTION#{key}``.
        sort_key: template of the item's ``SK``, e.g. ``SCENARIO``.
    """

    key_pattern: str
    partition_key: str
    sort_key: str

    def compiled(self) -> re.Pattern[str]:
        """The compiled ``key_pattern``."""
        return re.compile(self.key_pattern)


DEFAULT_KEY_LAYOUTS = (KeyLayout(r"^[A-Za-z0-9_-]{8,128}$", "INTERACTION#{key}", "SCENARIO"),)


def _env(name: str, **kwargs: Any) -> Any:
    """A dataclass field bound to environment variable ``name``."""
    return field(metadata={"env": name}, **kwargs)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the handlers read from their environment.

    Optional values are ``None`` when the variable is unset or empty; :meth:`require` turns a missing one
    into a :class:`ConfigurationError` for the function that needs it.
    """

    log_level: str = _env("LOG_LEVEL", default="INFO")
    function_name: str = _env("AWS_LAMBDA_FUNCTION_NAME", default="local")
    initialization_type: str = _env("AWS_LAMBDA_INITIALIZATION_TYPE", default="on-demand")
    region: str | None = _env("AWS_REGION", default=None)

    salesforce_secret_arn: str | None = _env("SALESFORCE_SECRET_ARN", default=None)
    secrets_cache_ttl_seconds: int = _env("SECRETS_CACHE_TTL_SECONDS", default=300)
    salesforce_lead_external_id_field: str | None = _env("SALESFORCE_LEAD_EXTERNAL_ID_FIELD", default=None)
    salesforce_lead_outcome_field: str = _env("SALESFORCE_LEAD_OUTCOME_FIELD", default="Description")
    salesforce_api_version: str = _env("SALESFORCE_API_VERSION", default="59.0")
    salesforce_auth_backoff_seconds: int = _env("SALESFORCE_AUTH_BACKOFF_SECONDS", default=60)
    salesforce_session_timeout_minutes: int = _env("SALESFORCE_SESSION_TIMEOUT_MINUTES", default=120)
    interaction_key_attributes: tuple[str, ...] = _env(
        "INTERACTION_KEY_ATTRIBUTES", default=DEFAULT_INTERACTION_KEY_ATTRIBUTES
    )
    scenario_key_layouts: tuple[KeyLayout, ...] = _env("SCENARIO_KEY_LAYOUTS", default=DEFAULT_KEY_LAYOUTS)

    scenario_table_name: str | None = _env("SCENARIO_TABLE_NAME", default=None)
    scenario_ttl_seconds: int = _env("SCENARIO_TTL_SECONDS", default=7 * 24 * 3600)

    # The workflow tasks' idempotency records (atlas_shared.idempotency); Terraform sets the scenario table.
    idempotency_table_name: str | None = _env("IDEMPOTENCY_TABLE_NAME", default=None)
    idempotency_ttl_seconds: int = _env("IDEMPOTENCY_TTL_SECONDS", default=7 * 24 * 3600)

    bedrock_model_id: str = _env("BEDROCK_MODEL_ID", default=DEFAULT_BEDROCK_MODEL_ID)
    bedrock_max_tokens: int | None = _env("BEDROCK_MAX_TOKENS", default=None)
    bedrock_temperature: float | None = _env("BEDROCK_TEMPERATURE", default=None)
    bedrock_top_p: float | None = _env("BEDROCK_TOP_P", default=None)
    bedrock_top_k: int | None = _env("BEDROCK_TOP_K", default=None)
    bedrock_stop_sequences: tuple[str, ...] = _env("BEDROCK_STOP_SEQUENCES", default=())
    bedrock_base_model_id: str | None = _env("BEDROCK_BASE_MODEL_ID", default=None)
    bedrock_max_sentences: int | None = _env("BEDROCK_MAX_SENTENCES", default=None)
    bedrock_stream: bool = _env("BEDROCK_STREAM", default=False)
    bedrock_latency_optimized: bool = _env("BEDROCK_LATENCY_OPTIMIZED", default=False)
    bedrock_service_tier: str | None = _env("BEDROCK_SERVICE_TIER", default=None)
    bedrock_cache_system_prompt: bool = _env("BEDROCK_CACHE_SYSTEM_PROMPT", default=False)

    conversation_history_turns: int = _env("CONVERSATION_HISTORY_TURNS", default=6)

    connect_instance_id: str | None = _env("CONNECT_INSTANCE_ID", default=None)
    connect_contact_flow_id: str | None = _env("CONNECT_CONTACT_FLOW_ID", default=None)
    connect_queue_id: str | None = _env("CONNECT_QUEUE_ID", default=None)
    connect_source_phone_number: str | None = _env("CONNECT_SOURCE_PHONE_NUMBER", default=None)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse and validate ``environ`` (default ``os.environ``).

        Raises:
            ConfigurationError: naming every variable whose value is invalid.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for f in fields(cls):
            name = f.metadata["env"]
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            try:
                values[f.name] = _PARSERS[name](raw)
            except (ValueError, TypeError) as exc:
                errors.append((name, str(exc)))
        if errors:
            detail = "; ".join(f"{name}: {why}" for name, why in errors)
            raise ConfigurationError(
                f"Invalid environment variable(s) — {detail}. Fix the value in the Terraform module's inputs.",
                tuple(name for name, _ in errors),
            )
        return cls(**values)

    def require(self, *variables: str) -> Settings:
        """Check that each named environment variable was set; return ``self`` for chaining.

        Raises:
            ConfigurationError: listing every missing variable and the function that needs it.
        """
        by_env = {f.metadata["env"]: f.name for f in fields(self)}
        unknown = [v for v in variables if v not in by_env]
        if unknown:
            raise ConfigurationError(f"Unknown setting(s) required: {', '.join(unknown)}", tuple(unknown))
        missing = tuple(v for v in variables if getattr(self, by_env[v]) in (None, ""))
        if missing:
            raise ConfigurationError(
                f"{self.function_name} needs environment variable(s) {', '.join(missing)}, which are not set. "
                "The Terraform module sets them from its inputs; check the function's configuration.",
                missing,
            )
        return self

    @property
    def pre_initialized(self) -> bool:
        """True when Lambda runs init ahead of any request (provisioned concurrency or a SnapStart snapshot)."""
        return self.initialization_type in PRE_INITIALIZED_TYPES


def _ranged_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not an integer") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return parse


def _ranged_float(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a number") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return parse


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw
        if value not in options:
            raise ValueError(f"{raw!r} is not one of {', '.join(options)}")
        return value

    return parse


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not pattern.match(raw):
            raise ValueError(f"{raw!r} is not {what}")
        return raw

    return parse


def _string_list(raw: str) -> tuple[str, ...]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError('is not a JSON list of strings, e.g. ["\\nUser:"]') from None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("is not a JSON list of non-empty strings")
    return tuple(value)


def _boolean(raw: str) -> bool:
    value = raw.lower()
    if value not in ("true", "false"):
        raise ValueError(f"{raw!r} is not true or false")
    return value == "true"


def _text(raw: str) -> str:
    return raw


def _json_list(raw: str, what: str, example: str) -> list[Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"is not a JSON list of {what}, e.g. {example}") from None
    if not isinstance(value, list) or not value:
        raise ValueError(f"is not a non-empty JSON list of {what}, e.g. {example}")
    return value


def _attribute_names(raw: str) -> tuple[str, ...]:
    names = _json_list(raw, "attribute names", '["interactionKey"]')
    if not all(isinstance(n, str) and _ATTRIBUTE_NAME.match(n) for n in names):
        raise ValueError("holds a name that is not 1-100 letters, digits, '_', '.', ':' or '-'")
    if len(set(names)) != len(names):
        raise ValueError("names an attribute twice")
    return tuple(names)


def _key_template(template: Any, groups: set[str], where: str) -> str:
    if not isinstance(template, str) or not 1 <= len(template.encode("utf-8")) <= 1024:
        raise ValueError(f"{where} must be a string of 1-1024 bytes")
    unknown = sorted(set(PLACEHOLDER.findall(template)) - groups - {"key"})
    if unknown:
        raise ValueError(f"{where} uses {', '.join(unknown)}, which is not {{key}} or a named group of key_pattern")
    if "{" in PLACEHOLDER.sub("", template) or "}" in PLACEHOLDER.sub("", template):
        raise ValueError(f"{where} has a brace that is not part of a {{placeholder}}")
    return template


def _key_layouts(raw: str) -> tuple[KeyLayout, ...]:
    example = (
        '[{"key_pattern": "^[A-Za-z0-9_-]{8,128}$", "partition_key": "INTERACTION#{key}", "sort_key": "SCENARIO"}]'
    )
    entries = _json_list(raw, "key layouts", example)
    layouts = []
    for index, entry in enumerate(entries):
        where = f"layout {index}"
        if not isinstance(entry, dict) or set(entry) != {"key_pattern", "partition_key", "sort_key"}:
            raise ValueError(f"{where} must be an object with exactly key_pattern, partition_key and sort_key")
        pattern = entry["key_pattern"]
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"{where}: key_pattern must be a non-empty regular expression")
        try:
            groups = set(re.compile(pattern).groupindex)
        except re.error as exc:
            raise ValueError(f"{where}: key_pattern is not a valid regular expression ({exc})") from None
        partition = _key_template(entry["partition_key"], groups, f"{where}: partition_key")
        sort = _key_template(entry["sort_key"], groups, f"{where}: sort_key")
        if not PLACEHOLDER.search(partition + sort):
            raise ValueError(f"{where}: partition_key or sort_key must use the key (every call would share one item)")
        layouts.append(KeyLayout(pattern, partition, sort))
    return tuple(layouts)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "LOG_LEVEL": _choice(LOG_LEVELS, upper=True),
    "AWS_LAMBDA_FUNCTION_NAME": _text,
    # Set by Lambda itself (on-demand, provisioned-concurrency, snap-start); a future value must not break init.
    "AWS_LAMBDA_INITIALIZATION_TYPE": _text,
    "AWS_REGION": _text,
    "SALESFORCE_SECRET_ARN": _matching(
        re.compile(r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|[A-Za-z0-9/_+=.@-]{1,512})$"),
        "a Secrets Manager secret ARN or name",
    ),
    "SECRETS_CACHE_TTL_SECONDS": _ranged_int(0, 86400),
    "SALESFORCE_LEAD_EXTERNAL_ID_FIELD": _matching(_SALESFORCE_FIELD, "a Salesforce field API name"),
    "SALESFORCE_LEAD_OUTCOME_FIELD": _matching(_SALESFORCE_FIELD, "a Salesforce field API name"),
    "SALESFORCE_API_VERSION": _matching(_API_VERSION, "an API version such as 59.0"),
    "SALESFORCE_AUTH_BACKOFF_SECONDS": _ranged_int(0, 3600),
    "SALESFORCE_SESSION_TIMEOUT_MINUTES": _ranged_int(5, 1440),
    "INTERACTION_KEY_ATTRIBUTES": _attribute_names,
    "SCENARIO_KEY_LAYOUTS": _key_layouts,
    "SCENARIO_TABLE_NAME": _matching(re.compile(r"^[A-Za-z0-9_.-]{3,255}$"), "a DynamoDB table name"),
    "SCENARIO_TTL_SECONDS": _ranged_int(60, 366 * 24 * 3600),
    "IDEMPOTENCY_TABLE_NAME": _matching(re.compile(r"^[A-Za-z0-9_.-]{3,255}$"), "a DynamoDB table name"),
    "IDEMPOTENCY_TTL_SECONDS": _ranged_int(3600, 366 * 24 * 3600),
    "BEDROCK_MODEL_ID": _matching(re.compile(r"^[A-Za-z0-9.:/_-]{1,2048}$"), "a Bedrock model id or ARN"),
    "BEDROCK_MAX_TOKENS": _ranged_int(1, 4096),
    "BEDROCK_BASE_MODEL_ID": _matching(re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9.:_-]{1,200}$"), "a foundation-model id"),
    "BEDROCK_MAX_SENTENCES": _ranged_int(1, 10),
    "BEDROCK_STREAM": _boolean,
    "BEDROCK_LATENCY_OPTIMIZED": _boolean,
    "BEDROCK_SERVICE_TIER": _choice(("default", "priority", "flex")),
    "BEDROCK_CACHE_SYSTEM_PROMPT": _boolean,
    "BEDROCK_TEMPERATURE": _ranged_float(0.0, 1.0),
    "BEDROCK_TOP_P": _ranged_float(0.0, 1.0),
    "BEDROCK_TOP_K": _ranged_int(0, 500),
    "BEDROCK_STOP_SEQUENCES": _string_list,
    "CONVERSATION_HISTORY_TURNS": _ranged_int(0, 50),
    "CONNECT_INSTANCE_ID": _matching(re.compile(r"^[A-Za-z0-9:/_-]{1,256}$"), "a Connect instance id"),
    "CONNECT_CONTACT_FLOW_ID": _matching(re.compile(r"^[A-Za-z0-9:/_-]{1,500}$"), "a Connect contact flow id"),
    "CONNECT_QUEUE_ID": _matching(re.compile(r"^[A-Za-z0-9:/_-]{1,500}$"), "a Connect queue id"),
    "CONNECT_SOURCE_PHONE_NUMBER": _matching(E164_PATTERN, "an E.164 phone number such as +14155550123"),
}

_settings: Settings | None = None


def get_settings() -> Settings:
    """The container's settings, parsed from ``os.environ`` on the first call and cached after it."""
    global _settings
    if _settings is None:
        _settings = Settings.from_environ()
    return _settings


def reset_settings() -> None:
    """Forget the cached settings (tests, or a new environment)."""
    global _settings
    _settings = None
