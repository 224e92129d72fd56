"""The per-call dynamic scenario (Task 3): the DynamoDB store, and where a Lex turn finds it.

Storage (docs/contracts.md): GenerateDynamicScenarioHandler writes one DynamoDB item per call,
``PK = "INTERACTION#<interaction_key>"``, ``SK = "SCENARIO"``, with ``DynamicScenario``, ``Greeting``,
``LeadId``, ``LeadName``, ``LeadCompany``, ``LeadTitle`` (the Lead's details, so a phone call needs no
Salesforce read; empty ones are left out), ``CreatedAt`` (ISO 8601 UTC) and ``ExpiresAt`` (epoch seconds, the
table's TTL attribute). The key layout is configurable (``SCENARIO_KEY_LAYOUTS``, :class:`ScenarioKeys`), so
a table written by another bot can be read: the first layout whose pattern matches the key builds PK and SK.

Lookup on a Lex turn (:meth:`ScenarioStore.load`), cheapest first:

1. session attributes — the scenario rode along from the previous turn (``scenarioCache = "session"``);
2. this container's memory — the scenario was too big for the session (``scenarioCache = "container"``);
3. DynamoDB ``GetItem`` on PK/SK (strongly consistent: the item was written seconds before the call).
   This happens on the first turn of a call, or when a turn lands on another container than the one holding
   an oversized scenario. A call whose item does not exist is remembered as ``scenarioCache = "missing"``,
   so later turns don't ask again.

What rides in the Lex session from turn to turn (the scenario when it fits, the ``scenarioCache`` marker,
history, the Lead's details) and the size limits it keeps are :mod:`atlas_shared.session`'s.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from . import metrics
from .clients import error_code, get_client, is_client_error, require_time
from .exceptions import ConfigurationError, ScenarioStoreError
from .logs import get_logger, log_cache_event
from .session import ATTR_GREETING, ATTR_LEAD_ID, ATTR_SCENARIO, ATTR_SCENARIO_CACHE
from .settings import DEFAULT_KEY_LAYOUTS, PLACEHOLDER, KeyLayout

SCENARIO_SORT_KEY = "SCENARIO"
PARTITION_KEY_PREFIX = "INTERACTION#"

ScenarioSource = Literal["session", "container", "dynamodb", "missing"]

_logger = get_logger("scenario")


# DynamoDB's key size limits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
_PARTITION_KEY_MAX_BYTES = 2048
_SORT_KEY_MAX_BYTES = 1024
# The Lead's details on the item, by LEAD_CONTEXT_FIELDS name.
LEAD_ITEM_ATTRIBUTES = {"name": "LeadName", "company": "LeadCompany", "title": "LeadTitle"}


def partition_key(interaction_key: str) -> str:
    """``INTERACTION#<interaction_key>``: the item's PK in the default layout."""
    return PARTITION_KEY_PREFIX + interaction_key


class ScenarioKeys:
    """The scenario item's key, built from an interaction key by the configured layouts (``SCENARIO_KEY_LAYOUTS``).

    Args:
        layouts: tried in order; the first whose ``key_pattern`` matches the whole key builds ``PK``/``SK`` from its
            templates (``{key}``, and ``{name}`` for a named group of the pattern). Default: today's layout.
    """

    def __init__(self, layouts: Sequence[KeyLayout] = DEFAULT_KEY_LAYOUTS) -> None:
        if not layouts:
            raise ConfigurationError("SCENARIO_KEY_LAYOUTS needs at least one layout", ("SCENARIO_KEY_LAYOUTS",))
        self.layouts = tuple(layouts)
        self._compiled = [(layout, layout.compiled()) for layout in self.layouts]
        self._reported = False

    def item_key(self, interaction_key: str) -> tuple[str, str] | None:
        """``(PK, SK)`` of the key's item, or ``None`` when the key matches no layout (or makes a key too long)."""
        for layout, pattern in self._compiled:
            match = pattern.fullmatch(interaction_key)
            if match is None:
                continue
            values = {name: value or "" for name, value in match.groupdict().items()}
            values["key"] = interaction_key

            def fill(template: str, values: Mapping[str, str] = values) -> str:
                return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

            partition, sort = fill(layout.partition_key), fill(layout.sort_key)
            if len(partition.encode()) > _PARTITION_KEY_MAX_BYTES or len(sort.encode()) > _SORT_KEY_MAX_BYTES:
                return None  # DynamoDB would reject every GetItem with it
            return partition, sort
        return None

    def matches(self, interaction_key: str, *, attribute: str = "") -> bool:
        """True when a layout matches; otherwise log a configuration error, once per container, and say False.

        A key that matches no layout means the bot or contact flow sends keys this deployment was not told about
        (``scenario_key_layouts``); every call with such a key goes on without a scenario.
        """
        if self.item_key(interaction_key) is not None:
            return True
        if not self._reported:
            self._reported = True
            _logger.error(
                "Configuration error: interaction key %r (from attribute %s) matches none of the %d scenario key "
                "layouts; calls with keys like it get no scenario. Add a layout for it to the module's "
                "scenario_key_layouts (README: Adopting an existing bot's data)",
                interaction_key[:128],
                attribute or "?",
                len(self.layouts),
                extra={"event": "interaction_key_unmatched", "attribute": attribute, "chars": len(interaction_key)},
            )
        else:
            _logger.debug("Interaction key matches no layout", extra={"event": "interaction_key_unmatched"})
        return False


@dataclass(frozen=True, slots=True)
class Scenario:
    """A call's scenario: ``text`` (context for Bedrock), ``greeting`` (first line spoken) and the Lead id.

    ``lead_context`` holds the Lead's ``{"name", "company", "title"}`` (non-empty ones) when the item carries
    them (items GenerateDynamicScenarioHandler writes); ``None`` when it does not (older items, web chat), and
    the handler reads Salesforce instead.
    """

    interaction_key: str
    text: str
    greeting: str = ""
    lead_id: str = ""
    lead_context: Mapping[str, str] | None = None


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

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        cache: ContainerScenarioCache | None = None,
        keys: ScenarioKeys | None = None,
    ):
        self.table_name = table_name
        self._client = client
        self.cache = cache if cache is not None else container_cache
        self.keys = keys if keys is not None else ScenarioKeys()

    def _key(self, interaction_key: str) -> dict[str, Any]:
        item_key = self.keys.item_key(interaction_key)
        if item_key is None:
            raise ConfigurationError(
                f"Interaction key {interaction_key[:128]!r} matches none of the scenario key layouts "
                "(SCENARIO_KEY_LAYOUTS); add a layout for it to the module's scenario_key_layouts",
                ("SCENARIO_KEY_LAYOUTS",),
            )
        return {"PK": {"S": item_key[0]}, "SK": {"S": item_key[1]}}

    @property
    def client(self) -> Any:
        """The injected DynamoDB client, else the container's shared one."""
        return self._client if self._client is not None else get_client("dynamodb")

    def load(self, interaction_key: str, session_attributes: Mapping[str, str]) -> ScenarioLookup:
        """Find the call's scenario: session attributes, then this container, then DynamoDB (see module doc).
        Emits one ScenarioLookup metric by where it was found (``session``, ``container``, ``dynamodb``,
        ``missing``).

        Raises:
            ScenarioStoreError: DynamoDB could not be read.
        """
        lookup = self._load(interaction_key, session_attributes)
        metrics.put("ScenarioLookup", 1.0, lookup.source)
        return lookup

    def _load(self, interaction_key: str, session_attributes: Mapping[str, str]) -> ScenarioLookup:
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
            ConfigurationError: the key matches no layout (check with ``keys.matches`` first).
        """
        key = self._key(interaction_key)
        require_time("dynamodb", f"GetItem on {self.table_name}", ScenarioStoreError)
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key=key,
                ConsistentRead=True,
                ProjectionExpression="DynamicScenario, Greeting, LeadId, " + ", ".join(LEAD_ITEM_ATTRIBUTES.values()),
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
            lead_context=_item_lead_context(item),
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
            **self._key(scenario.interaction_key),
            "DynamicScenario": {"S": scenario.text},
            "Greeting": {"S": scenario.greeting},
            "LeadId": {"S": scenario.lead_id},
            "CreatedAt": {"S": created_at.isoformat(timespec="seconds").replace("+00:00", "Z")},
            "ExpiresAt": {"N": str(int(expires_at))},
        }
        for field_name, attribute in LEAD_ITEM_ATTRIBUTES.items():
            value = (scenario.lead_context or {}).get(field_name)
            if value:
                item[attribute] = {"S": value}
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


def _item_lead_context(item: Mapping[str, Any]) -> dict[str, str] | None:
    """The Lead's details stored on the item; ``None`` for an item written without them (read Salesforce)."""
    details = {
        field_name: item[attribute]["S"]
        for field_name, attribute in LEAD_ITEM_ATTRIBUTES.items()
        if isinstance(item.get(attribute), dict) and isinstance(item[attribute].get("S"), str) and item[attribute]["S"]
    }
    return details or None
