"""GenerateDynamicScenarioHandler: writes the per-call scenario and greeting that the Lex bot will use.

Step Functions task (the workflow invokes the function's ``live`` alias directly). Input::

    {"lead": {"FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines",
              "Title": "CTO", "Industry": "Computing", "Description": "...", ...},
     "lead_id": "00Q5g00000AbCdEEAZ",
     "idempotency_key": "<execution name>",           # optional, makes retries idempotent
     ... other fields of the accumulated state are ignored}

Output::

    {"interaction_key": "<32 hex>", "lead_id": "00Q5g00000AbCdEEAZ"}

The turn of work:

1. **Parse**: ``lead`` (an object with ``LastName`` and ``Company``) and ``lead_id``.
2. **Decide** the interaction key: with an ``idempotency_key``, a uuid5 of it (a retried step gets the same
   key); without one, a random uuid4. Either way 32 hex characters.
3. **Call out**: Bedrock (``max_tokens`` 200, temperature 0.8, from the environment) is asked for JSON
   ``{"scenario": ..., "greeting": ...}``. Only business fields of the Lead are sent (no email or phone).
   The answer is parsed leniently (code fences, prose around the JSON, a reply cut at ``max_tokens``); a
   missing or cut greeting is replaced by a neutral one built from the Lead's first name.
4. **Store** the item per docs/contracts.md (``PK = INTERACTION#<key>``, ``SK = SCENARIO`` by default; the
   layout is ``SCENARIO_KEY_LAYOUTS``) with a conditional ``PutItem``: when a retry finds the item already
   written, the first scenario stays (a call may already be using it) and the same key is returned. The item
   also carries the Lead's name, company and title (``LeadName``, ``LeadCompany``, ``LeadTitle``), so the call's
   Lex turns never read Salesforce.

Time (:mod:`atlas_shared.deadline`): Bedrock runs leaving the ``PutItem``'s worst case (9 s) and the 2 s safety
margin untouched: one attempt takes at most 12 s, a second is made after a transient failure when it still fits.
A dependency that hangs therefore ends the task with ``BedrockError`` or ``ScenarioStoreError``, never a Lambda
timeout (60 s).

Errors (Step Functions ``errorType``): ``InvalidInputError`` (fix the input; don't retry),
``BedrockError`` and ``ScenarioStoreError`` (transient; retry with backoff), ``ScenarioGenerationError``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from atlas_shared import bedrock, clients, deadline, runtime, workflow
from atlas_shared.bedrock import GenerationConfig, Message
from atlas_shared.exceptions import ScenarioGenerationError
from atlas_shared.logs import get_logger
from atlas_shared.scenario import Scenario, ScenarioKeys, ScenarioStore

SETTINGS = runtime.bootstrap(required=("SCENARIO_TABLE_NAME",), services=("dynamodb", "bedrock-runtime"))
# Its own generation settings: a whole JSON answer is needed, so no streaming and no sentence limit.
GENERATION = GenerationConfig.from_settings(
    SETTINGS, default_max_tokens=200, default_temperature=0.8, allow_stream=False
)
SCENARIOS = ScenarioStore(str(SETTINGS.scenario_table_name), keys=ScenarioKeys(SETTINGS.scenario_key_layouts))

# Lead fields worth a scenario; contact details stay out of the prompt.
PROMPT_FIELDS = (
    "FirstName",
    "LastName",
    "Title",
    "Company",
    "Industry",
    "LeadSource",
    "City",
    "State",
    "Country",
    "NumberOfEmployees",
    "Description",
    "ProductInterest__c",
)
SYSTEM_PROMPT = (
    "You prepare outbound sales calls. Given a lead, answer with one JSON object and nothing else:\n"
    '{"scenario": "...", "greeting": "..."}\n'
    "scenario: at most 80 words for the agent: who the person is, why we are calling, what to learn and what to "
    "offer.\n"
    "greeting: one or two short spoken sentences that open the call and greet the person by first name.\n"
    "Plain text inside the strings: no markdown, no lists."
)

logger = get_logger("generate_dynamic_scenario")


@runtime.entrypoint
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Generate, store and return the call's interaction key (see the module docstring)."""
    payload = workflow.require_mapping(event, "input")
    lead = workflow.require_mapping(payload.get("lead"), "lead")
    workflow.require_text(lead, "LastName", path="lead")
    workflow.require_text(lead, "Company", path="lead")
    lead_id = workflow.salesforce_id(payload.get("lead_id"), path="lead_id")
    key = workflow.idempotency_key(payload)
    interaction_key = workflow.derived_id("interaction", key).hex if key else uuid.uuid4().hex

    with deadline.reserve(clients.worst_case_seconds("dynamodb")):  # the PutItem below must still fit
        scenario_text, greeting = _generate(lead)
    scenario = Scenario(
        interaction_key=interaction_key,
        text=scenario_text,
        greeting=greeting,
        lead_id=lead_id,
        lead_context=lead_context(lead),
    )
    now = time.time()
    written = SCENARIOS.save(
        scenario,
        created_at=datetime.fromtimestamp(now, tz=UTC),
        expires_at=int(now) + SETTINGS.scenario_ttl_seconds,
        only_if_new=True,
    )
    logger.info(
        "Scenario stored" if written else "Scenario already stored by an earlier attempt; keeping it",
        extra={
            "event": "scenario_stored" if written else "scenario_kept",
            "interaction_key": interaction_key,
            "lead_id": lead_id,
            "scenario_chars": len(scenario_text),
        },
    )
    return {"interaction_key": interaction_key, "lead_id": lead_id}


def _generate(lead: Mapping[str, Any]) -> tuple[str, str]:
    """``(scenario, greeting)`` from Bedrock, repaired or completed where the answer falls short."""
    facts = {k: lead[k] for k in PROMPT_FIELDS if lead.get(k) not in (None, "")}
    prompt = "Lead:\n" + json.dumps(facts, ensure_ascii=False, indent=1, default=str)
    reply = bedrock.invoke(GENERATION, system=SYSTEM_PROMPT, messages=[Message("user", prompt)], whole_sentences=False)
    scenario, greeting = parse_scenario_reply(reply.raw_text)
    if not scenario:
        raise ScenarioGenerationError(f"Bedrock's answer held no scenario (stop_reason={reply.stop_reason})")
    if not greeting:
        greeting = neutral_greeting(lead)
        logger.info("Bedrock gave no whole greeting; using a neutral one", extra={"event": "greeting_fallback"})
    return scenario, greeting


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def _json_string_field(text: str, name: str, *, closed: bool) -> str | None:
    """The value of ``"name": "..."`` in possibly broken JSON; with ``closed=False`` an unterminated one too."""
    end = '"' if closed else '(?:"|$)'
    match = re.search(rf'"{name}"\s*:\s*"((?:[^"\\]|\\.)*){end}', text, re.DOTALL)
    if match is None:
        return None
    raw = match.group(1)
    try:
        return str(json.loads(f'"{raw}"'))
    except json.JSONDecodeError:
        return raw.replace('\\"', '"').replace("\\n", "\n")


def parse_scenario_reply(text: str) -> tuple[str, str]:
    """``(scenario, greeting)`` from the model's answer; ``""`` for a part that can't be recovered whole.

    Accepts a bare JSON object, one inside code fences or prose, and an answer cut off at ``max_tokens``
    (the scenario is then cut back to whole sentences; a cut greeting is dropped). An answer that is not
    JSON at all is taken as the scenario itself.
    """
    text = _FENCE.sub("", text.strip()).strip()
    start = text.find("{")
    if start >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            scenario, greeting = str(data.get("scenario") or "").strip(), str(data.get("greeting") or "").strip()
            return scenario, bedrock.last_whole_sentences(greeting)
        closed = _json_string_field(text, "scenario", closed=True)
        if closed is None:
            partial = _json_string_field(text, "scenario", closed=False) or ""
            scenario = bedrock.last_whole_sentences(partial)
        else:
            scenario = closed
        greeting = _json_string_field(text, "greeting", closed=True) or ""
        return scenario.strip(), bedrock.last_whole_sentences(greeting)
    return bedrock.last_whole_sentences(text) or text, ""


def lead_context(lead: Mapping[str, Any]) -> dict[str, str]:
    """The Lead's ``{"name", "company", "title"}`` as LexFulfillmentHandler would read them from Salesforce.

    ``name`` is ``FirstName LastName``; empty values are left out. Each is cut to 255 characters (the Lead fields'
    own length), so a malformed input cannot bloat the item or the Lex session attributes.
    """
    name = " ".join(str(lead.get(k) or "").strip() for k in ("FirstName", "LastName")).strip()
    details = {"name": name, "company": str(lead.get("Company") or "").strip(), "title": str(lead.get("Title") or "")}
    return {k: v.strip()[:255] for k, v in details.items() if v.strip()}


def neutral_greeting(lead: Mapping[str, Any]) -> str:
    """A safe opening line when the model gave none: ``Hi Ada, thanks for taking my call! ...``."""
    first_name = str(lead.get("FirstName") or "").strip()
    hello = f"Hi {first_name}" if first_name else "Hi there"
    return f"{hello}, thanks for taking my call! Do you have a couple of minutes to talk?"
