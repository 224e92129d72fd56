"""Lex V2 runtime RecognizeText for the local AWS: a text turn through a bot alias and its Lambda code hook.

moto has the Lex V2 model-building API only. RecognizeText is added here, inside the moto server, so that
``make run`` and ``validate.py --conversations`` can hold a conversation with the deployed stack. It follows
https://docs.aws.amazon.com/lexv2/latest/APIReference/API_runtime_RecognizeText.html for the request and the
answer, and https://docs.aws.amazon.com/lexv2/latest/dg/lambda-input-format.html /
https://docs.aws.amazon.com/lexv2/latest/dg/lambda-response-format.html for the code hook:

- ``POST /bots/{botId}/botAliases/{botAliasId}/botLocales/{localeId}/sessions/{sessionId}/text`` with
  ``{"text", "sessionState"?, "requestAttributes"?}``; the answer is ``{"messages", "sessionState",
  "interpretations", "requestAttributes", "sessionId"}``.
- The alias must exist and belong to the bot (``ResourceNotFoundException``, 404), and the locale must be
  enabled on it (``ValidationException``, 400 here, a simplification of Lex's "locale not found" answer).
- The locale's code hook Lambda must allow ``lexv2.amazonaws.com`` with the bot alias ARN as source, or the
  turn fails with ``DependencyFailedException`` (424), as it does on Lex when the resource policy is missing.
  A code hook that errors, times out or answers something Lex cannot read is also a ``DependencyFailedException``.
- The answer must be a valid code hook response (:func:`post_deploy.lex_format.response_problems`), or the
  turn is a ``DependencyFailedException`` "Invalid Lambda Response", as on Lex.
- Session attributes carry from turn to turn for the session id, as Lex keeps them for the session.

What it does not do: natural-language understanding. The intent is chosen by a stand-in: a greeting
(``hello``, ``hi``, ``hey``, ``good morning/afternoon/evening``) is ``GreetingIntent``, anything else
``FallbackIntent``, which the bot's code hook answers with Bedrock. No slots are elicited.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from pathlib import Path
from typing import Any

# The code hook contract (event builder and answer checks) is validate.py's, at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from post_deploy.lex_format import code_hook_event, response_problems  # noqa: E402

GREETING = re.compile(r"^\s*(hello|hi|hey|good (morning|afternoon|evening))\b", re.IGNORECASE)
PATH = (
    "{0}/bots/(?P<botId>[^/]+)/botAliases/(?P<botAliasId>[^/]+)/botLocales/(?P<localeId>[^/]+)"
    "/sessions/(?P<sessionId>[^/]+)/text$"
)

_sessions_lock = threading.Lock()
_sessions: dict[tuple[str, str, str, str], dict[str, str]] = {}


def _error(status: int, error_type: str, message: str) -> tuple[int, dict[str, str], str]:
    return (
        status,
        {"x-amzn-ErrorType": error_type, "content-type": "application/json"},
        json.dumps({"message": message}),
    )


def classify(text: str) -> str:
    """The stand-in NLU: ``GreetingIntent`` for a greeting, else ``FallbackIntent``."""
    return "GreetingIntent" if GREETING.match(text or "") else "FallbackIntent"


def _lex_may_invoke(lambda_backend: Any, function_arn: str, alias_arn: str) -> bool:
    """Whether a statement of the function's resource policy lets Lex V2 (this alias) invoke it.

    moto keeps a statement added with a qualifier on the version the alias pointed at then, so every version's
    policy is read; the statement's Resource must still name the invoked qualifier.
    """
    name, _, qualifier = function_arn.split(":function:", 1)[1].partition(":")
    statements: list[dict[str, Any]] = []
    try:
        for version in lambda_backend.list_versions_by_function(name):
            statements.extend(version.policy.statements)
    except Exception:
        return False
    for statement in statements:
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else principal
        if service != "lexv2.amazonaws.com" or "lambda:InvokeFunction" not in str(statement.get("Action")):
            continue
        resource = str(statement.get("Resource", ""))
        if qualifier and not resource.endswith(f":{qualifier}"):
            continue
        condition = json.dumps(statement.get("Condition", {}))
        if alias_arn in condition:
            return True
    return False


def recognize_text(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    """moto route handler for RecognizeText (see the module docstring)."""
    from moto.awslambda.models import lambda_backends
    from moto.lexv2models.models import lexv2models_backends

    match = re.search(PATH.format(""), full_url.split("?", 1)[0])
    if match is None:
        return _error(400, "ValidationException", "malformed RecognizeText path")
    bot_id, alias_id, locale_id, session_id = match.group("botId", "botAliasId", "localeId", "sessionId")
    region = re.search(r"/([a-z]{2}(-[a-z]+)+-\d)/lex/", headers.get("Authorization", "")) or None
    region_name = region.group(1) if region else "us-east-1"
    from moto.core import DEFAULT_ACCOUNT_ID as account_id

    backend = lexv2models_backends[account_id][region_name]
    alias = backend.bot_aliases.get(alias_id)
    if alias is None or alias.bot_id != bot_id:
        return _error(404, "ResourceNotFoundException", f"Could not find bot alias {alias_id} of bot {bot_id}.")
    locale = (alias.bot_alias_locale_settings or {}).get(locale_id) or {}
    if not locale.get("enabled"):
        return _error(400, "ValidationException", f"Locale {locale_id} is not enabled on bot alias {alias_id}.")
    body = json.loads(request.data or b"{}") if hasattr(request, "data") else json.loads(request.body or "{}")
    text = body.get("text", "")
    key = (bot_id, alias_id, locale_id, session_id)
    with _sessions_lock:
        attributes = dict(_sessions.get(key, {}))
    attributes.update((body.get("sessionState") or {}).get("sessionAttributes") or {})
    request_attributes = body.get("requestAttributes") or {}
    intent = classify(text)
    bot = {
        "id": bot_id,
        "name": getattr(backend.bots.get(bot_id), "bot_name", bot_id),
        "aliasId": alias_id,
        "aliasName": alias.bot_alias_name,
        "localeId": locale_id,
        "version": alias.bot_version or "DRAFT",
    }
    hook = (locale.get("codeHookSpecification") or {}).get("lambdaCodeHook") or {}
    function_arn = hook.get("lambdaARN")
    if not function_arn:
        return _error(424, "DependencyFailedException", f"No Lambda code hook on locale {locale_id}.")
    lambda_backend = lambda_backends[account_id][region_name]
    if not _lex_may_invoke(lambda_backend, function_arn, alias.arn):
        return _error(
            424,
            "DependencyFailedException",
            f"Lex is unable to access the Lambda function {function_arn}: its resource-based policy does not "
            f"allow lexv2.amazonaws.com from {alias.arn}.",
        )
    event = code_hook_event(
        text,
        intent,
        session_id=session_id,
        bot=bot,
        session_attributes=attributes,
        request_attributes=request_attributes,
    )
    response_headers: dict[str, str] = {}
    try:
        payload = lambda_backend.invoke(function_arn, None, json.dumps(event), {}, response_headers)
    except Exception as exc:
        return _error(424, "DependencyFailedException", f"Invoking {function_arn} failed: {exc}")
    if response_headers.get("x-amz-function-error"):
        return _error(424, "DependencyFailedException", f"Lambda {function_arn} failed: {payload!r:.500}")
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    problems = response_problems(answer)
    if problems:
        return _error(424, "DependencyFailedException", f"Invalid Lambda Response: {'; '.join(problems)}")
    session_state = answer["sessionState"]
    attributes_out = session_state.get("sessionAttributes") or {}
    with _sessions_lock:
        _sessions[key] = dict(attributes_out)
    result = {
        "messages": answer.get("messages", []),
        "sessionState": session_state,
        # The runtime's Interpretation carries nluConfidence as {"score": ...}, unlike the code hook event.
        "interpretations": [
            {**i, "nluConfidence": {"score": i["nluConfidence"]}} if "nluConfidence" in i else i
            for i in event["interpretations"]
        ],
        "requestAttributes": request_attributes,
        "sessionId": session_id,
    }
    return 200, {"content-type": "application/json"}, json.dumps(result)


def patch_lex_runtime() -> None:
    """Add the RecognizeText route to moto's Lex V2 URL map (the runtime signs as ``lex``, like the models API).

    Raises:
        RuntimeError: moto's lexv2models.urls has no ``url_paths`` (a moto upgrade).
    """
    from moto.lexv2models import urls

    if not isinstance(getattr(urls, "url_paths", None), dict):
        raise RuntimeError("moto.lexv2models.urls has no url_paths; lex_runtime.py needs updating")
    urls.url_paths[PATH] = recognize_text
