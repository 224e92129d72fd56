"""What rides in the Lex session: the attributes LexFulfillmentHandler keeps from turn to turn, within Lex's limits.

Attributes (all strings; names in the ``ATTR_*`` constants):

=========================================  ========================================================================
``interactionKey``, ``leadId``             the call's keys
``leadContext``                            ``{"name", "company", "title"}`` (JSON, each optional), read once
``dynamicScenario``, ``scenarioGreeting``  the scenario, when it fits (:data:`~atlas_shared.limits.SCENARIO_MAX_BYTES`)
``scenarioCache``                          where the next turn finds the scenario: ``session``, ``container``
                                           (this container's memory) or ``missing`` (no item: not asked again);
                                           read by :meth:`atlas_shared.scenario.ScenarioStore.load`
``conversationHistory``                    ``[["u", text], ["a", text], ...]``, newest exchanges that fit
=========================================  ========================================================================

Sizes (:mod:`atlas_shared.limits` has the table and sources): :func:`pack_session_attributes` keeps our
attributes within :data:`~atlas_shared.limits.SESSION_ATTRIBUTES_BUDGET_BYTES` (8 KB), leaving room for
attributes other parties set (Amazon Connect, the bot), and the whole map within Lex's hard limit
:data:`~atlas_shared.limits.LEX_SESSION_ATTRIBUTES_MAX_BYTES`. Bytes are counted as the map's compact JSON in
UTF-8 (:func:`atlas_shared.lex.attributes_size`). When the map is over the hard limit, what we manage goes first
(history, scenario, lead context, the cache marker), then other parties' attributes, largest first, then the
call's keys; every dropped name is logged (``session_attributes_dropped``), never a value.

History is bounded by turns (``CONVERSATION_HISTORY_TURNS`` user/assistant exchanges), by bytes
(:data:`~atlas_shared.limits.HISTORY_MAX_BYTES`) and per entry
(:data:`~atlas_shared.limits.HISTORY_ENTRY_MAX_BYTES`): one long reply is clipped rather than pushing every
older turn out. A user's turn is cut to :data:`~atlas_shared.limits.USER_TURN_MAX_CHARS` (:func:`user_turn`)
before it reaches Bedrock or the history.

Session attributes come back from Lex as they were sent, but anyone on the session can change them, and one
malformed value must not break every later turn. So :func:`read_history` and :func:`read_lead_context` parse a
bounded amount of JSON, accept only the shape this module writes, and treat anything else as absent (logged);
the attributes in :data:`MANAGED_ATTRIBUTES` are always rewritten from what the turn validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .bedrock import Message
from .lex import attributes_size, cap_session_attributes
from .limits import (
    HISTORY_ENTRY_MAX_BYTES,
    HISTORY_MAX_BYTES,
    LEX_SESSION_ATTRIBUTES_MAX_BYTES,
    SCENARIO_MAX_BYTES,
    SESSION_ATTRIBUTES_BUDGET_BYTES,
    USER_TURN_MAX_CHARS,
)
from .logs import get_logger, log_cache_event

if TYPE_CHECKING:
    from .scenario import ContainerScenarioCache, ScenarioLookup

__all__ = [
    "ATTR_GREETING",
    "ATTR_HISTORY",
    "ATTR_INTERACTION_KEY",
    "ATTR_LEAD_CONTEXT",
    "ATTR_LEAD_ID",
    "ATTR_SCENARIO",
    "ATTR_SCENARIO_CACHE",
    "LEAD_CONTEXT_FIELDS",
    "MANAGED_ATTRIBUTES",
    "attributes_size",
    "encode_history",
    "encode_lead_context",
    "pack_session_attributes",
    "read_history",
    "read_lead_context",
    "user_turn",
]

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
# Over Lex's limit, these go first, in this order (each can be rebuilt: history restarts, the scenario and the
# Lead are read again), and the call's keys go last.
_DROP_FIRST = (ATTR_HISTORY, ATTR_SCENARIO, ATTR_GREETING, ATTR_LEAD_CONTEXT, ATTR_SCENARIO_CACHE)
_KEEP_LAST = frozenset({ATTR_INTERACTION_KEY, ATTR_LEAD_ID})

LEAD_CONTEXT_FIELDS = ("name", "company", "title")
# Longest attribute values worth parsing: twice what this module writes, so a value from another version fits.
_HISTORY_MAX_CHARS = 2 * HISTORY_MAX_BYTES
_LEAD_CONTEXT_MAX_CHARS = 1024

_logger = get_logger("session")


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


def _encoded_bytes(messages: Sequence[Message]) -> int:
    return len(_encode_history(messages).encode("utf-8"))


def _clip_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def _clip_entry(message: Message, max_bytes: int) -> Message | None:
    """``message`` whose encoded entry (``["u","..."]``) is at most ``max_bytes``; ``None`` when nothing fits.

    The text is cut at a UTF-8 character boundary, back to the last word boundary when one is near.
    """
    if _encoded_bytes([message]) <= max_bytes:
        return message
    budget = max_bytes - _encoded_bytes([Message(message.role, "")])
    while budget > 0:
        clipped = _clip_utf8(message.content, budget)
        word_end = clipped.rfind(" ")
        if word_end > len(clipped) * 3 // 4:
            clipped = clipped[:word_end]
        clipped = clipped.rstrip()
        # JSON escaping can grow text, so clip a little further each round until it fits.
        if clipped and _encoded_bytes([Message(message.role, clipped)]) <= max_bytes:
            return Message(message.role, clipped)
        budget -= 16
    return None


def encode_history(
    messages: Sequence[Message], *, max_turns: int, max_bytes: int, entry_max_bytes: int = HISTORY_ENTRY_MAX_BYTES
) -> str:
    """The newest history that fits: at most ``max_turns`` user/assistant exchanges and ``max_bytes`` bytes.

    Each entry is first clipped to ``entry_max_bytes`` (and to ``max_bytes``), so one long reply keeps its
    start and the older turns that still fit stay; then the oldest entries go until the whole fits. Returns
    ``""`` when nothing fits.
    """
    recent = list(messages[-2 * max_turns :]) if max_turns > 0 else []
    per_entry = min(entry_max_bytes, max_bytes)
    clipped = [c for c in (_clip_entry(m, per_entry) for m in recent) if c is not None]
    # Walk back from the newest while the list still fits: len(list) = 2 + sum(entries) + commas.
    kept: list[Message] = []
    total = 2
    for message in reversed(clipped):
        size = _encoded_bytes([message]) - 2 + (1 if kept else 0)
        if total + size > max_bytes:
            break
        kept.append(message)
        total += size
    kept.reverse()
    return _encode_history(kept) if kept else ""


def pack_session_attributes(
    inbound: Mapping[str, str],
    *,
    lookup: ScenarioLookup | None,
    history: Sequence[Message],
    max_turns: int,
    cache: ContainerScenarioCache,
    extra: Mapping[str, str] | None = None,
    budget_bytes: int = SESSION_ATTRIBUTES_BUDGET_BYTES,
    max_bytes: int = LEX_SESSION_ATTRIBUTES_MAX_BYTES,
) -> dict[str, str]:
    """Session attributes for the response: everything inbound plus ours, all strings, within Lex's limit.

    Args:
        inbound: the turn's session attributes (other parties' attributes are kept as they are).
        lookup: this turn's scenario lookup; ``None`` when there was none or it failed (next turn tries again).
        history: the whole conversation so far, oldest first, including this turn's exchange.
        max_turns: ``CONVERSATION_HISTORY_TURNS``.
        cache: where a scenario too big for the session goes (the store's
            :class:`~atlas_shared.scenario.ContainerScenarioCache`).
        extra: small attributes to set, e.g. ``{"interactionKey": ..., "leadId": ...}``.
        budget_bytes: the cap our own attributes keep the map under (history and the scenario give way first).
        max_bytes: the hard cap of the whole map (Lex's limit); see the module docstring for what is dropped.
    """
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
    return cap_session_attributes(attributes, max_bytes=max_bytes, drop_first=_DROP_FIRST, keep_last=_KEEP_LAST)
