"""LexFulfillmentHandler: the Amazon Lex V2 code hook that answers each turn of an AtlasEngine call.

Invoked by Lex (bot alias locale code hook, interface version 1.0) for ``DialogCodeHook`` and
``FulfillmentCodeHook``. Event and response follow the Lex V2 Lambda formats
(https://docs.aws.amazon.com/lexv2/latest/dg/lambda-input-format.html,
https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html); see :mod:`atlas_shared.lex`.

Attributes it reads (request attributes first, then session attributes):

* ``interactionKey`` — the call's key (the names are ``INTERACTION_KEY_ATTRIBUTES``, Terraform
  ``interaction_key_attributes``: the first one present wins). Amazon Connect passes it from the contact attribute
  that InvokeOutboundCallHandler set; it selects the DynamoDB scenario item through ``SCENARIO_KEY_LAYOUTS``. A key
  that matches no layout is a configuration error, logged once per container; the call goes on without a scenario.
* ``leadId`` — the Salesforce Lead (also taken from the scenario item's ``LeadId``).

A turn:

1. **Parse** the event.
2. **Decide**: ``GreetingIntent`` speaks the scenario's greeting. An intent still collecting its slots on a
   dialog code hook (Lex proposes ``ElicitSlot``) is delegated back to Lex so the bot's own slot prompts run;
   its Bedrock reply comes at fulfillment. A delegated turn still looks the scenario up (session, container,
   else DynamoDB: it has no Bedrock call to wait for), so the scenario cache rides on to the next turn. Every
   other intent, ``FallbackIntent`` included, gets a Bedrock reply with the scenario as system context and the
   last ``CONVERSATION_HISTORY_TURNS`` exchanges as history (``inputTranscript``, cut to 2,000 characters on a
   word boundary, is the user's turn).
3. **Call out**: the scenario (session attributes, then this container, then DynamoDB on the first turn only);
   the Lead's name, company and title from the scenario item (a phone call: no Salesforce at all), else from
   Salesforce once per call when a ``leadId`` is known (web chat, older items); Bedrock. The lookups are done on
   the first turn of the call, the greeting when the call opens with one: a greeting has no Bedrock call, so the
   caller's first question is then Bedrock-only. A greeting turn that needs no lookup refreshes a Salesforce
   session that has been idle past the org's session timeout, so no later turn pays for the re-login.
4. **Respond**: ``ElicitIntent`` with the reply as a PlainText message, so the call goes on and Lex listens for
   the next intent; the inbound intent is echoed with state ``Fulfilled`` (``Failed`` when the turn degraded).
   Session attributes carry the key, lead, scenario cache and history, all strings, ours within 8 KB and the
   whole map within Lex's limit; messages are at most 1,024 characters, cut on a whole sentence
   (:mod:`atlas_shared.lex`, :mod:`atlas_shared.session`, :mod:`atlas_shared.limits`).

Failure policy: nothing a dependency does crashes the turn. A Salesforce failure only loses the Lead's name
(logged, the reply still comes from Bedrock). A DynamoDB or Bedrock failure, or anything unexpected, is logged
and answered with a short apology that keeps the session, and the next turn tries again. A greeting whose
scenario cannot be read, or whose ``Greeting`` is blank, uses a neutral greeting. A malformed ``leadContext`` or
``conversationHistory`` counts as absent; an unexpected failure's apology drops the attributes this handler
manages, so a bad value cannot break the turns after it. lambda_src/README.md lists every error a turn can meet.

Time: every outbound call fits the invocation's deadline (:mod:`atlas_shared.deadline`). The lookups (DynamoDB,
the secret, Salesforce) run leaving one full Bedrock attempt (12 s) and the 2 s safety margin untouched, and a
lookup that no longer fits is skipped; Bedrock is retried only when another attempt fits. With every dependency
hanging until its timeout, Lex still gets an answer before the function's 30 s are up (lambda_src/README.md has
the budget).

A warm turn (second and later of a call, same container) calls only Bedrock: no Secrets Manager, DynamoDB,
Salesforce token or Salesforce REST request.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from atlas_shared import bedrock, deadline, lex, metrics, runtime
from atlas_shared.bedrock import GenerationConfig, Message
from atlas_shared.exceptions import AtlasError, ScenarioStoreError
from atlas_shared.logs import get_logger
from atlas_shared.salesforce import get_salesforce
from atlas_shared.scenario import Scenario, ScenarioKeys, ScenarioLookup, ScenarioStore
from atlas_shared.session import (
    ATTR_INTERACTION_KEY,
    ATTR_LEAD_CONTEXT,
    ATTR_LEAD_ID,
    MANAGED_ATTRIBUTES,
    encode_lead_context,
    pack_session_attributes,
    read_history,
    read_lead_context,
    user_turn,
)

SETTINGS = runtime.bootstrap(
    required=("SCENARIO_TABLE_NAME", "SALESFORCE_SECRET_ARN"),
    services=("dynamodb", "bedrock-runtime", "secretsmanager"),
    salesforce=True,
)
GENERATION = GenerationConfig.from_settings(
    SETTINGS, default_max_tokens=150, default_temperature=0.7, default_max_sentences=3
)
SCENARIOS = ScenarioStore(str(SETTINGS.scenario_table_name), keys=ScenarioKeys(SETTINGS.scenario_key_layouts))

GREETING_INTENT = "GreetingIntent"
NEUTRAL_GREETING = "Hi, thanks for taking my call! Do you have a couple of minutes to talk?"
APOLOGY = "Sorry, I'm having a little trouble on my end. Could you say that again?"
UNCLEAR_REPLY = "Could you tell me a little more about that?"
SYSTEM_PROMPT = (
    "You are a friendly, concise representative speaking with someone on a live phone call.\n"
    "Answer in one to three short spoken sentences of plain text: no lists, markdown, emojis or stage "
    "directions. Stay within the call scenario below. If you don't know something, say so briefly and offer to "
    "follow up. Never invent prices, dates or commitments the scenario does not state.\n\n"
    "Call scenario:\n{scenario}{lead}"
)
GENERIC_SCENARIO = "A courteous follow-up call to someone who recently showed interest in our products."
_SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")

logger = get_logger("lex_fulfillment")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Lex V2 turn; always returns a valid Lex response (see the module docstring).

    Emits the turn's duration in ms as the TurnDuration metric by path (``greeting``, ``reply``, ``apology``,
    ``delegate``; atlas_shared.metrics).
    """
    started = time.perf_counter()
    path = "apology"
    try:
        response = _answer(event)
        path = _turn_path(response)
        return response
    except Exception as exc:  # the last line of defence: a Lex turn never errors
        logger.error(
            "Turn failed; answering with an apology",
            extra={"event": "turn_failed", "error_type": type(exc).__name__},
            exc_info=not isinstance(exc, AtlasError),
        )
        return lex.fallback_response(event, APOLOGY, drop_attributes=MANAGED_ATTRIBUTES)
    finally:
        metrics.put("TurnDuration", (time.perf_counter() - started) * 1000, path)


def _turn_path(response: dict[str, Any]) -> str:
    """The turn's path for TurnDuration: delegate, apology (a Failed intent), greeting or reply."""
    state = response.get("sessionState") or {}
    if (state.get("dialogAction") or {}).get("type") == "Delegate":
        return "delegate"
    intent = state.get("intent") or {}
    if intent.get("state") == "Failed":
        return "apology"
    return "greeting" if intent.get("name") == GREETING_INTENT else "reply"


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    turn = lex.parse_event(event)
    interaction_key, key_attribute = _interaction_key(turn)
    history = read_history(turn.session_attributes)
    lead_context = read_lead_context(turn.session_attributes)

    if _lex_is_collecting_slots(turn):
        # No Bedrock call on this turn, so its time is free: the lookup keeps (or fills) the scenario cache, and
        # the next turn finds the scenario where this one did (0 DynamoDB reads on a warm turn).
        lookup, _ = _load_scenario(interaction_key, turn)
        scenario = lookup.scenario if lookup else None
        attributes = pack_session_attributes(
            turn.session_attributes,
            lookup=lookup,
            history=history,
            max_turns=SETTINGS.conversation_history_turns,
            cache=SCENARIOS.cache,
            extra=_call_attributes(
                interaction_key,
                key_attribute,
                turn.attribute(ATTR_LEAD_ID) or (scenario.lead_id if scenario else None),
                lead_context,
            ),
        )
        return lex.delegate(turn, attributes)

    wants_reply = turn.intent_name != GREETING_INTENT
    # The lookups leave one full Bedrock attempt untouched: a slow DynamoDB or Salesforce can't crowd out the reply.
    with deadline.reserve(bedrock.attempt_budget_seconds() if wants_reply else 0):
        lookup, scenario_failed = _load_scenario(interaction_key, turn)
        scenario = lookup.scenario if lookup else None
        lead_id = turn.attribute(ATTR_LEAD_ID) or (scenario.lead_id if scenario else None)
        if lead_context is None and scenario is not None and scenario.lead_context is not None:
            lead_context = dict(scenario.lead_context)  # a phone call: the workflow stored them on the item
        if not scenario_failed and lead_context is None and lead_id:
            lead_context = _read_lead_context(lead_id)  # web chat, or an item written without them
        elif not wants_reply:
            get_salesforce().refresh_if_stale()  # free time: no caller's question waits on this turn

    user_text = user_turn(turn.input_transcript)
    state: lex.IntentState = "Fulfilled"
    if not wants_reply:
        reply = scenario.greeting if scenario and scenario.greeting.strip() else NEUTRAL_GREETING
    elif scenario_failed:
        reply, state = APOLOGY, "Failed"
    else:
        try:
            reply = _bedrock_reply(turn, user_text, scenario, lead_context, history)
        except AtlasError as exc:
            logger.error(
                "Bedrock reply failed; answering with an apology",
                extra={"event": "bedrock_failed", "error_type": type(exc).__name__, "error": str(exc)},
            )
            reply, state = APOLOGY, "Failed"

    # What Lex will speak (<= 1,024 characters, never blank), and so what the history keeps.
    reply = lex.fit_message(reply) or UNCLEAR_REPLY
    if state == "Fulfilled":
        history = [*history, Message("user", user_text or "(no words)"), Message("assistant", reply)]
    attributes = pack_session_attributes(
        turn.session_attributes,
        lookup=lookup,
        history=history,
        max_turns=SETTINGS.conversation_history_turns,
        cache=SCENARIOS.cache,
        extra=_call_attributes(interaction_key, key_attribute, lead_id, lead_context),
    )
    return lex.elicit_intent(turn, attributes, reply, intent_state=state)


def _interaction_key(turn: lex.LexTurn) -> tuple[str | None, str]:
    """``(key, attribute name)``: the call's key from the first configured attribute present.

    The key is ``None`` when absent, or when it matches none of the scenario key layouts (a configuration error,
    logged once per container: such a key would never find its item, and a huge one would fail every GetItem).
    """
    for name in SETTINGS.interaction_key_attributes:
        key = turn.attribute(name)
        if key:
            return (key, name) if SCENARIOS.keys.matches(key, attribute=name) else (None, name)
    return None, SETTINGS.interaction_key_attributes[0]


def _lex_is_collecting_slots(turn: lex.LexTurn) -> bool:
    """A dialog hook on a slot-filling intent where Lex proposes to elicit a slot: let Lex prompt for it."""
    return (
        turn.is_dialog_hook
        and turn.intent_name not in (GREETING_INTENT, lex.FALLBACK_INTENT)
        and turn.proposed_dialog_action is not None
        and turn.proposed_dialog_action.get("type") == "ElicitSlot"
    )


def _load_scenario(interaction_key: str | None, turn: lex.LexTurn) -> tuple[ScenarioLookup | None, bool]:
    """``(lookup, failed)``: the call's scenario lookup, or ``(None, True)`` when DynamoDB failed."""
    if not interaction_key:
        if not any(turn.attribute(name) for name in SETTINGS.interaction_key_attributes):  # else: logged once
            logger.warning(
                "No interactionKey on this turn; answering without a scenario", extra={"event": "no_interaction_key"}
            )
        return None, False
    try:
        return SCENARIOS.load(interaction_key, turn.session_attributes), False
    except ScenarioStoreError as exc:
        logger.error("Scenario lookup failed", extra={"event": "scenario_lookup_failed", "error": str(exc)})
        return None, True


def _read_lead_context(lead_id: str) -> dict[str, str] | None:
    """The Lead's ``{"name", "company", "title"}`` (non-empty ones), or ``None`` (logged) when Salesforce fails."""
    if not _SALESFORCE_ID.match(lead_id):
        logger.warning("leadId is not a Salesforce id; skipping the Lead lookup", extra={"event": "bad_lead_id"})
        return None
    try:
        lead = get_salesforce().call(
            lambda sf: sf.Lead.get(lead_id, params={"fields": "FirstName,LastName,Company,Title"}),
            action="Lead lookup",
        )
    except AtlasError as exc:
        # A remembered login failure was logged once, at ERROR, when it happened: don't repeat it every turn.
        remembered = getattr(exc, "retry_after_seconds", 0) > 0
        logger.log(
            logging.INFO if remembered else logging.WARNING,
            "Salesforce Lead lookup failed; replying without the Lead's details",
            extra={"event": "salesforce_lookup_failed", "error_type": type(exc).__name__, "error": str(exc)},
        )
        return None
    name = " ".join(str(lead.get(k) or "").strip() for k in ("FirstName", "LastName")).strip()
    details = {"name": name, "company": str(lead.get("Company") or ""), "title": str(lead.get("Title") or "")}
    return {k: v for k, v in details.items() if v}


def _bedrock_reply(
    turn: lex.LexTurn,
    user_text: str,
    scenario: Scenario | None,
    lead_context: dict[str, str] | None,
    history: list[Message],
) -> str:
    facts = ", ".join(f"{k}: {v}" for k, v in (lead_context or {}).items())
    lead_line = f"\n\nThe person you are speaking with ({facts})." if facts else ""
    system = SYSTEM_PROMPT.format(scenario=scenario.text if scenario else GENERIC_SCENARIO, lead=lead_line)
    window = history[-2 * SETTINGS.conversation_history_turns :] if SETTINGS.conversation_history_turns else []
    messages = [*window, Message("user", user_text or "(the caller said nothing)")]
    reply = bedrock.invoke(GENERATION, system=system, messages=messages, fallback_text=UNCLEAR_REPLY)
    logger.info(
        "Bedrock replied",
        extra={
            "event": "bedrock_reply",
            "intent": turn.intent_name,
            "stop_reason": reply.stop_reason,
            "truncated": reply.truncated,
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "user_chars": len(user_text),
        },
    )
    return reply.text


def _call_attributes(
    interaction_key: str | None, key_attribute: str, lead_id: str | None, lead_context: dict[str, str] | None
) -> dict[str, str]:
    """The call's attributes kept in the session; the key under the name it came by (default ``interactionKey``)."""
    attributes = {
        key_attribute or ATTR_INTERACTION_KEY: interaction_key,
        ATTR_LEAD_ID: lead_id,
        ATTR_LEAD_CONTEXT: encode_lead_context(lead_context) if lead_context is not None else None,
    }
    return {k: v for k, v in attributes.items() if v}
