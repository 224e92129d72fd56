"""Part 2, smoke: the deployed code hook answers, in Lex's format, and whole conversations go through Lex.

- :func:`invoke_smoke` invokes LexFulfillmentHandler's ``live`` alias with a greeting event and a question
  event (the plan's Task 1 Step 3) and checks each answer with :func:`post_deploy.lex_format.response_problems`.
- :func:`conversations` runs N conversations through the Lex V2 runtime's RecognizeText against the bot alias
  (https://docs.aws.amazon.com/lexv2/latest/APIReference/API_runtime_RecognizeText.html), timing each turn
  end to end: the stand-in for the plan's five web-chat test conversations.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from post_deploy.aws import CallFailed, ClientFactory, call
from post_deploy.lex_format import code_hook_event, response_problems
from post_deploy.outputs import DeployOutputs
from post_deploy.report import Result

PART = "smoke"
LEX_HANDLER = "LexFulfillmentHandler"
CONVERSATION = ("Hello", "What does your product do for a sales team?", "How long does it take to set up?")


def invoke_smoke(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Invoke the ``live`` alias with a greeting and a question; a row each, failing on an error or a bad answer."""
    function_name = outputs.function_names.get(LEX_HANDLER)
    if not function_name:
        return [Result(PART, "invoke", "fail", f"no {LEX_HANDLER} in the outputs", "check the root's outputs")]
    session_id = f"validate-{uuid.uuid4()}"
    results = []
    attributes: dict[str, str] = {}
    for label, text, intent in (
        ("greeting", "hello", "GreetingIntent"),
        ("question", CONVERSATION[1], "FallbackIntent"),
    ):
        event = code_hook_event(text, intent, session_id=session_id, session_attributes=attributes)
        name = f"invoke {outputs.alias_name} ({label})"
        started = time.perf_counter()
        try:
            answer = call(
                clients,
                "lambda",
                "invoke",
                FunctionName=function_name,
                Qualifier=outputs.alias_name,
                Payload=json.dumps(event).encode(),
            )
        except CallFailed as exc:
            results.append(Result(PART, name, "fail", str(exc), "grant lambda:InvokeFunction on the alias"))
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            results.append(
                Result(
                    PART, name, "fail", f"{answer['FunctionError']} error: {payload[:300]!r}", "read the function's log"
                )
            )
            continue
        try:
            response = json.loads(payload)
        except ValueError:
            results.append(Result(PART, name, "fail", f"not JSON: {payload[:200]!r}", "read the function's log"))
            continue
        problems = response_problems(response)
        text_out = " ".join(m.get("content", "") for m in response.get("messages") or [] if isinstance(m, dict))
        if problems:
            results.append(
                Result(PART, name, "fail", "; ".join(problems), "the answer breaks the Lex V2 response format")
            )
        else:
            attributes = response["sessionState"].get("sessionAttributes") or {}
            results.append(
                Result(
                    PART,
                    name,
                    "pass",
                    f"{elapsed_ms:.0f} ms: {text_out[:80]!r}",
                    data={"ms": elapsed_ms, "reply": text_out},
                )
            )
    return results


@dataclass(frozen=True)
class Turn:
    """One RecognizeText turn: what was said, what came back, and how long it took end to end."""

    text: str
    reply: str
    ms: float
    error: str = ""


def conversations(
    clients: ClientFactory, outputs: DeployOutputs, count: int, locale: str | None = None
) -> list[list[Turn]]:
    """Run ``count`` conversations (greeting, two questions) through the bot alias; a list of turns each."""
    if not outputs.lex_bot_alias_arn or count <= 0:
        return []
    bot_id, alias_id = outputs.lex_bot_alias_arn.rsplit("/", 2)[-2:]
    locale_id = locale or (outputs.lex_locale_ids[0] if outputs.lex_locale_ids else "en_US")
    runs = []
    for _ in range(count):
        session_id = f"validate-{uuid.uuid4()}"
        turns = []
        for text in CONVERSATION:
            started = time.perf_counter()
            try:
                answer = call(
                    clients,
                    "lexv2-runtime",
                    "recognize_text",
                    botId=bot_id,
                    botAliasId=alias_id,
                    localeId=locale_id,
                    sessionId=session_id,
                    text=text,
                )
                reply = " ".join(m.get("content", "") for m in answer.get("messages") or [])
                turns.append(Turn(text, reply, (time.perf_counter() - started) * 1000))
            except CallFailed as exc:
                turns.append(Turn(text, "", (time.perf_counter() - started) * 1000, str(exc)))
                break
        runs.append(turns)
    return runs


def conversation_results(runs: list[list[Turn]]) -> list[Result]:
    """One row per conversation: passed when every turn answered."""
    results = []
    for i, turns in enumerate(runs, 1):
        errors = [t.error for t in turns if t.error]
        times = ", ".join(f"{t.ms:.0f}" for t in turns)
        data: dict[str, Any] = {"turns": [t.__dict__ for t in turns]}
        if errors:
            results.append(Result(PART, f"conversation {i}", "fail", errors[0], "see the code hook's log", data))
        else:
            results.append(Result(PART, f"conversation {i}", "pass", f"{len(turns)} turns, ms: {times}", data=data))
    return results


def format_conversation(turns: list[Turn]) -> str:
    """A conversation as people read it: each line said, the bot's reply, and the turn's time."""
    lines = []
    for t in turns:
        lines.append(f"  caller: {t.text}")
        lines.append(f"  bot ({t.ms:.0f} ms): {t.reply if not t.error else 'ERROR ' + t.error}")
    return "\n".join(lines)
