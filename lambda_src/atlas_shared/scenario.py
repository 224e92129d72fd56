"""The per-call dynamic scenario (Task 3) and the conversation history, kept inside Lex's session limits.

Storage (docs/contracts.md): GenerateDynamicScenarioHandler writes one DynamoDB item per call,
``PK = "INTERACTION#<interaction_key>"``, ``SK = "SCENARIO"``, with ``DynamicScenario``, ``Greeting``,
``LeadId``, ``CreatedAt`` (ISO 8601 UTC) and ``ExpiresAt`` (epoch seconds, the table's TTL attribute).

Lookup on a Lex turn (:meth:`ScenarioStore.load`), cheapest first:

1. session attributes — the scenario rode along from the previous turn (``scenarioCache = "session"``);
2. this container's memory — the scenario was too big for the session (``scenarioCache = "container"``);
3. DynamoDB ``GetItem`` on PK/SK (strongly consistent: the item was written seconds before the call).
   This happens on the first turn of a call, or when a turn lands on another container than the one holding
   an oversized scenario. A call whose item does not exist is remembered as ``scenarioCache = "missing"``,
   so later turns don't ask again.

Budget (:func:`pack_session_attributes`): Lex V2 caps session attributes at 12 KB. This module keeps the
whole map at or under :data:`SESSION_ATTRIBUTES_BUDGET_BYTES` (8 KB, measured as UTF-8 JSON), leaving room for
attributes other parties set (Amazon Connect, the bot). Within it the scenario and greeting may take
:data:`SCENARIO_MAX_BYTES`, and history :data:`HISTORY_MAX_BYTES`, newest turns first.

History is bounded twice: by turns (``CONVERSATION_HISTORY_TURNS`` user/assistant exchanges) and by bytes. A
user's turn is cut to :data:`USER_TURN_MAX_CHARS` (:func:`user_turn`) before it reaches Bedrock or the history.

Session attributes come back from Lex as they were sent, but anyone on the session can change them, and one
malformed value must not break every later turn. So :func:`read_history` and :func:`read_lead_context` parse a
bounded amount of JSON, accept only the shape this module writes, and treat anything else as absent (logged);
the attributes in :data:`MANAGED_ATTRIBUTES` are always rewritten from what the turn validated.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .bedrock import Message
from .clients import error_code, get_client, is_client_error, require_time
from .exceptions import ScenarioStoreError
from .logs import get_logger, log_cache_event

ATTR_INTERACTION_KEY = "interactionKey"
ATTR_LEAD_ID = "leadId"
ATTR_SCENARIO = "dynamicScenario"
ATTR_GREETING = "scenarioGreeting"
ATTR_SCENARIO_CACHE = "scenarioCache"
ATTR_HISTORY = "conversationHistory"
ATTR_LEAD_CONTEXT = "leadContext"
# Attributes this module and LexFulfillmentHandler own: never passed through from the inbound turn, always
# rewritten from what the turn validated (and dropped by a failed turn's fallback response).
MANAGED_ATTRIBUTES = frozenset({ATTR_SCENARIO, ATTR_GREETING, ATTR_SCENARIO_CACHE, ATTR_HISTORY, ATTR_LEAD_CONTEXT})

LEX_SESSION_ATTRIBUTES_LIMIT_BYTES = 12 * 1024
SESSION_ATTRIBUTES_BUDGET_BYTES = 8 * 1024
SCENARIO_MAX_BYTES = 4 * 1024
HISTORY_MAX_BYTES = 2 * 1024
USER_TURN_MAX_CHARS = 2000  # ~400 spoken words: far more than one turn of a call
LEAD_CONTEXT_FIELDS = ("name", "company", "title")
# Longest attribute values worth parsing: twice what this module writes, so a value from another version fits.
_HISTORY_MAX_CHARS = 2 * HISTORY_MAX_BYTES
_LEAD_CONTEXT_MAX_CHARS = 1024

SCENARIO_SORT_KEY = "SCENARIO"
PARTITION_KEY_PREFIX = "INTERACTION#"

ScenarioSource = Literal["session", "container", "dynamodb", "missing"]

_logger = get_logger("scenario")


def partition_key(interaction_key: str) -> str:
    """``INTERACTION#<interaction_key>``: the item's PK."""
    return PARTITION_KEY_PREFIX + interaction_key


@dataclass(frozen=True, slots=True)
class Scenario:
    """A call's scenario: ``text`` (context for Bedrock), ``greeting`` (first line spoken) and the Lead id."""

    interaction_key: str
    text: str
    greeting: str = ""
    lead_id: str = ""


@dataclass(frozen=True, slots=True)
class ScenarioLookup:
    """Result of :meth:`ScenarioStore.load`: the scenario (``None`` when the call has none) and where it was found."""

    scenario: Scenario | None
    source: ScenarioSource


class ContainerScenarioCache:
    """Scenarios too big for session attributes, kept in this container's memory.

    Bounded both ways so a long-lived (provisioned) container cannot grow without limit: at most
    ``max_entries`` scenarios (least recently used evicted first), each for at most ``ttl_seconds``.
    """

    def __init__(self, *, max_entries: int = 256, ttl_seconds: float = 3600, clock: Callable[[], float] = time.time):
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Scenario]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, interaction_key: str) -> Scenario | None:
        """The cached scenario, or ``None`` when absent or older than the TTL."""
        with self._lock:
            entry = self._entries.get(interaction_key)
            if entry is None:
                return None
            stored_at, scenario = entry
            if self._clock() - stored_at >= self.ttl_seconds:
                del self._entries[interaction_key]
                return None
            self._entries.move_to_end(interaction_key)
            return scenario

    def put(self, scenario: Scenario) -> None:
        """Keep ``scenario``, evicting the least recently used entry when full."""
        with self._lock:
            self._entries[scenario.interaction_key] = (self._clock(), scenario)
            self._entries.move_to_end(scenario.interaction_key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


container_cache = ContainerScenarioCache()


class ScenarioStore:
    """Reads and writes scenario items in the DynamoDB table.

    Args:
        table_name: the scenario table (``SCENARIO_TABLE_NAME``).
        client: a DynamoDB client; default the shared one (low-level client: no resource-layer cold start).
        cache: the container cache for oversized scenarios; default the module's :data:`container_cache`.
    """

    def __init__(self, table_name: str, *, client: Any | None = None, cache: ContainerScenarioCache | None = None):
        self.table_name = table_name
        self._client = client
        self.cache = cache if cache is not None else container_cache

    @property
    def client(self) -> Any:
        """The injected DynamoDB client, else the container's shared one."""
        return self._client if self._client is not None else get_client("dynamodb")

    def load(self, interaction_key: str, session_attributes: Mapping[str, str]) -> ScenarioLookup:
        """Find the call's scenario: session attributes, then this container, then DynamoDB (see module doc).

        Raises:
            ScenarioStoreError: DynamoDB could not be read.
        """
        marker = session_attributes.get(ATTR_SCENARIO_CACHE)
        if marker == "session" and session_attributes.get(ATTR_SCENARIO):
            log_cache_event(_logger, "HIT", "scenario", source="session")
            scenario = Scenario(
                interaction_key=interaction_key,
                text=session_attributes[ATTR_SCENARIO],
                greeting=session_attributes.get(ATTR_GREETING, ""),
                lead_id=session_attributes.get(ATTR_LEAD_ID, ""),
            )
            return ScenarioLookup(scenario, "session")
        if marker == "missing":
            log_cache_event(_logger, "HIT", "scenario", source="session", found=False)
            return ScenarioLookup(None, "missing")
        if marker == "container":
            cached = self.cache.get(interaction_key)
            if cached is not None:
                log_cache_event(_logger, "HIT", "scenario", source="container")
                return ScenarioLookup(cached, "container")
            log_cache_event(_logger, "MISS", "scenario", reason="not in this container")
        else:
            log_cache_event(_logger, "MISS", "scenario", reason="first turn")
        fetched = self.fetch(interaction_key)
        if fetched is None:
            _logger.warning(
                "No scenario item for this interaction key; the call goes on without one",
                extra={"event": "scenario_not_found", "interaction_key": interaction_key},
            )
            return ScenarioLookup(None, "missing")
        return ScenarioLookup(fetched, "dynamodb")

    def fetch(self, interaction_key: str) -> Scenario | None:
        """``GetItem`` (strongly consistent) of the call's item; ``None`` when there is none.

        Raises:
            ScenarioStoreError: the read failed (``.__cause__`` holds the botocore error), or the invocation's
                deadline leaves no time for it.
        """
        require_time("dynamodb", f"GetItem on {self.table_name}", ScenarioStoreError)
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": partition_key(interaction_key)}, "SK": {"S": SCENARIO_SORT_KEY}},
                ConsistentRead=True,
                ProjectionExpression="DynamicScenario, Greeting, LeadId",
            )
        except Exception as exc:
            if is_client_error(exc):
                raise ScenarioStoreError(f"GetItem on {self.table_name} failed: {error_code(exc)}") from exc
            raise
        item = response.get("Item")
        if not item:
            return None
        text = item.get("DynamicScenario", {}).get("S", "")
        if not text:
            return None
        return Scenario(
            interaction_key=interaction_key,
            text=text,
            greeting=item.get("Greeting", {}).get("S", ""),
            lead_id=item.get("LeadId", {}).get("S", ""),
        )

    def save(self, scenario: Scenario, *, created_at: datetime, expires_at: int, only_if_new: bool = True) -> bool:
        """``PutItem`` the scenario item.

        Args:
            scenario: what to store.
            created_at: timezone-aware UTC time, stored as ISO 8601 ``CreatedAt``.
            expires_at: epoch seconds, stored as ``ExpiresAt`` (the table's TTL attribute).
            only_if_new: write only when no item exists for the key, so a retried workflow step keeps the first
                scenario (the one a call may already be using).

        Returns:
            True when written, False when an item already existed (``only_if_new``).

        Raises:
            ScenarioStoreError: the write failed, or the invocation's deadline leaves no time for it.
        """
        if created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware (UTC)")
        item = {
            "PK": {"S": partition_key(scenario.interaction_key)},
            "SK": {"S": SCENARIO_SORT_KEY},
            "DynamicScenario": {"S": scenario.text},
            "Greeting": {"S": scenario.greeting},
            "LeadId": {"S": scenario.lead_id},
            "CreatedAt": {"S": created_at.isoformat(timespec="seconds").replace("+00:00", "Z")},
            "ExpiresAt": {"N": str(int(expires_at))},
        }
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": item}
        require_time("dynamodb", f"PutItem on {self.table_name}", ScenarioStoreError)
        if only_if_new:
            kwargs["ConditionExpression"] = "attribute_not_exists(PK)"
        try:
            self.client.put_item(**kwargs)
        except Exception as exc:
            if not is_client_error(exc):
                raise
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise ScenarioStoreError(f"PutItem on {self.table_name} failed: {error_code(exc)}") from exc
        return True


def attributes_size(attributes: Mapping[str, str]) -> int:
    """Size of a session attribute map in bytes, as compact UTF-8 JSON (what travels in the Lex request)."""
    return len(json.dumps(attributes, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _json_attribute(session_attributes: Mapping[str, str], name: str, max_chars: int) -> tuple[bool, Any]:
    """``(present, value)`` of a JSON session attribute; ``value`` is ``None`` when present but unreadable.

    Values longer than ``max_chars`` are not parsed; nesting too deep for the parser counts as unreadable.
    """
    raw = session_attributes.get(name)
    if not raw:
        return False, None
    if len(raw) > max_chars:
        return True, None
    try:
        return True, json.loads(raw)
    except (ValueError, RecursionError):
        return True, None


def _ignored(name: str, raw: str | None, why: str) -> None:
    _logger.warning(
        "Session attribute %s is malformed (%s); treating it as absent",
        name,
        why,
        extra={"event": "session_attribute_ignored", "attribute": name, "chars": len(raw or "")},
    )


def read_history(session_attributes: Mapping[str, str]) -> list[Message]:
    """The history kept in session attributes, oldest first; ``[]`` when absent or malformed (logged).

    The attribute must be a JSON list of ``["u" | "a", text]`` pairs of at most 4 KB; anything else is ignored
    whole, so the turn starts a fresh history instead of failing.
    """
    present, entries = _json_attribute(session_attributes, ATTR_HISTORY, _HISTORY_MAX_CHARS)
    if not present:
        return []
    if not isinstance(entries, list) or not all(
        isinstance(entry, list) and len(entry) == 2 and entry[0] in ("u", "a") and isinstance(entry[1], str)
        for entry in entries
    ):
        _ignored(ATTR_HISTORY, session_attributes.get(ATTR_HISTORY), "not a list of [role, text] pairs")
        return []
    return [Message("user" if role == "u" else "assistant", text) for role, text in entries]


def read_lead_context(session_attributes: Mapping[str, str]) -> dict[str, str] | None:
    """The Lead's details kept in session attributes: ``{"name", "company", "title"}``, each optional.

    Returns ``None`` when the attribute is absent or malformed (logged): not a JSON object of strings of at most
    1 KB. Keys other than :data:`LEAD_CONTEXT_FIELDS` are dropped. ``{}`` means the Lead was read and told nothing.
    """
    present, details = _json_attribute(session_attributes, ATTR_LEAD_CONTEXT, _LEAD_CONTEXT_MAX_CHARS)
    if not present:
        return None
    if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
        _ignored(ATTR_LEAD_CONTEXT, session_attributes.get(ATTR_LEAD_CONTEXT), "not a JSON object of strings")
        return None
    return {k: details[k] for k in LEAD_CONTEXT_FIELDS if details.get(k)}


def encode_lead_context(details: Mapping[str, str]) -> str:
    """The ``leadContext`` attribute value: compact JSON of the non-empty :data:`LEAD_CONTEXT_FIELDS`."""
    kept = {k: details[k] for k in LEAD_CONTEXT_FIELDS if details.get(k)}
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def user_turn(transcript: str, *, max_chars: int = USER_TURN_MAX_CHARS) -> str:
    """What the caller said, at most ``max_chars`` characters, cut at the last word boundary before the limit.

    A single word longer than the limit is cut mid-word. Lex transcripts are short; this bounds what a text
    channel or a stuck recogniser can send to Bedrock and into the history.
    """
    text = transcript.strip()
    if len(text) <= max_chars:
        return text
    # The longest prefix that ends a word right before whitespace, looking one character past the limit so that
    # a word ending exactly at it is kept.
    match = re.match(r"(.*\S)\s", text[: max_chars + 1], re.DOTALL)
    return match.group(1) if match else text[:max_chars]


def _encode_history(messages: Sequence[Message]) -> str:
    return json.dumps(
        [["u" if m.role == "user" else "a", m.content] for m in messages], ensure_ascii=False, separators=(",", ":")
    )


def _clip_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def encode_history(messages: Sequence[Message], *, max_turns: int, max_bytes: int) -> str:
    """The newest history that fits: at most ``max_turns`` user/assistant exchanges and ``max_bytes`` bytes.

    Oldest messages go first; when even the newest message alone is too big, its text is clipped (at a UTF-8
    character boundary). Returns ``""`` when nothing fits.
    """
    kept = list(messages[-2 * max_turns :]) if max_turns > 0 else []
    while kept and len(_encode_history(kept).encode("utf-8")) > max_bytes:
        if len(kept) > 1:
            kept.pop(0)
            continue
        only = kept[0]
        overhead = len(_encode_history([Message(only.role, "")]).encode("utf-8"))
        # JSON escaping can grow text, so clip a little further each round until it fits.
        budget = max_bytes - overhead
        clipped = _clip_utf8(only.content, budget)
        while clipped and len(_encode_history([Message(only.role, clipped)]).encode("utf-8")) > max_bytes:
            budget -= 16
            clipped = _clip_utf8(only.content, budget)
        kept = [Message(only.role, clipped)] if clipped else []
    return _encode_history(kept) if kept else ""


def pack_session_attributes(
    inbound: Mapping[str, str],
    *,
    lookup: ScenarioLookup | None,
    history: Sequence[Message],
    max_turns: int,
    extra: Mapping[str, str] | None = None,
    cache: ContainerScenarioCache | None = None,
    budget_bytes: int = SESSION_ATTRIBUTES_BUDGET_BYTES,
) -> dict[str, str]:
    """Session attributes for the response: everything inbound plus ours, all strings, within ``budget_bytes``.

    Args:
        inbound: the turn's session attributes (other parties' attributes are kept as they are).
        lookup: this turn's scenario lookup; ``None`` when it failed (next turn tries again).
        history: the whole conversation so far, oldest first, including this turn's exchange.
        max_turns: ``CONVERSATION_HISTORY_TURNS``.
        extra: small attributes to set, e.g. ``{"interactionKey": ..., "leadId": ...}``.
        cache: where an oversized scenario goes; default the module's :data:`container_cache`.
        budget_bytes: the size cap of the whole map.
    """
    cache = cache if cache is not None else container_cache
    attributes = {k: v for k, v in inbound.items() if k not in MANAGED_ATTRIBUTES}
    attributes.update(extra or {})

    if lookup is not None and lookup.scenario is None:
        attributes[ATTR_SCENARIO_CACHE] = "missing"
    elif lookup is not None and lookup.scenario is not None:
        scenario = lookup.scenario
        in_session = {ATTR_SCENARIO: scenario.text, ATTR_GREETING: scenario.greeting, ATTR_SCENARIO_CACHE: "session"}
        scenario_bytes = attributes_size(in_session)
        reserve = HISTORY_MAX_BYTES if history else 0
        if (
            scenario_bytes <= SCENARIO_MAX_BYTES
            and attributes_size({**attributes, **in_session}) + reserve <= budget_bytes
        ):
            attributes.update(in_session)
            location = "session"
        else:
            cache.put(scenario)
            attributes[ATTR_SCENARIO_CACHE] = "container"
            location = "container"
        if lookup.source == "dynamodb" or (lookup.source == "session") != (location == "session"):
            log_cache_event(_logger, "STORE", "scenario", location=location, bytes=scenario_bytes)

    room = budget_bytes - attributes_size(attributes) - len(f',"{ATTR_HISTORY}":""'.encode())
    encoded = encode_history(history, max_turns=max_turns, max_bytes=min(HISTORY_MAX_BYTES, room))
    if encoded:
        attributes[ATTR_HISTORY] = encoded

    if attributes_size(attributes) > budget_bytes:
        # Other parties' attributes crowd ours out: drop what we can rebuild (history; scenario to memory).
        attributes.pop(ATTR_HISTORY, None)
        if attributes.get(ATTR_SCENARIO_CACHE) == "session" and lookup is not None and lookup.scenario is not None:
            for key in (ATTR_SCENARIO, ATTR_GREETING):
                attributes.pop(key, None)
            cache.put(lookup.scenario)
            attributes[ATTR_SCENARIO_CACHE] = "container"
        if attributes_size(attributes) > budget_bytes:
            _logger.warning(
                "Session attributes set by others exceed the budget",
                extra={"event": "session_attributes_over_budget", "bytes": attributes_size(attributes)},
            )
    return attributes
