"""LexFulfillmentHandler against dependencies that stall: every turn answers before the function's 30 s are up.

Time is a fake clock behind the Lambda context; each stalled or slow dependency moves it by as much as it can
really take (slow_dependencies.py). The exhaustive test runs a call's first turn (DynamoDB, the secret, the
Salesforce token and Lead, Bedrock) through every combination of answering at once, answering at the last
moment and hanging until the timeout. One test uses a real endpoint that never answers.
"""

from __future__ import annotations

import itertools
import json
import types
from collections.abc import Callable
from typing import Any

import pytest

from atlas_shared import bedrock, clients
from atlas_shared.deadline import SAFETY_MARGIN_SECONDS
from atlas_shared.salesforce import SalesforceConnection, _new_http_session, set_salesforce
from tests.conftest import INTERACTION_KEY, LEAD_ID, SECRET_NAME
from tests.functional.handlers.lex_format import assert_valid_lex_response
from tests.functional.handlers.slow_dependencies import (
    ClockedContext,
    FakeClock,
    HangingServer,
    SlowAwsClient,
    SlowSalesforce,
    bedrock_answer,
)

LAMBDA_TIMEOUT = 30  # main.tf function_defaults.LexFulfillmentHandler.timeout
SCENARIO_ITEM = {
    "DynamicScenario": {"S": "Ada asked about the premium plan. Offer a demo."},
    "Greeting": {"S": "Hi Ada!"},
    "LeadId": {"S": LEAD_ID},
}
LEAD = {"Id": LEAD_ID, "FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical Engines", "Title": "CTO"}
REPLY = "The premium plan adds priority support."

LoadHandler = Callable[[str], types.ModuleType]


class Dependencies:
    """Every dependency of a turn faked on one clock, each with its own script of behaviours."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        salesforce_secret: dict[str, Any],
        *,
        dynamodb: Any = "ok",
        secret: Any = "ok",
        token: Any = "ok",
        lead: Any = "ok",
        model: Any = "ok",
    ) -> None:
        self.clock = FakeClock()
        self.dynamodb = SlowAwsClient(self.clock, "dynamodb", dynamodb, {"get_item": lambda _: {"Item": SCENARIO_ITEM}})
        self.secrets = SlowAwsClient(
            self.clock,
            "secretsmanager",
            secret,
            {"get_secret_value": lambda _: {"SecretString": json.dumps(salesforce_secret)}},
        )
        self.bedrock = SlowAwsClient(self.clock, "bedrock-runtime", model, {"converse": bedrock_answer(REPLY)})
        self.salesforce = SlowSalesforce(self.clock, token=token, lead=lead, record=LEAD)
        clients.set_client("dynamodb", self.dynamodb)
        clients.set_client("secretsmanager", self.secrets)
        clients.set_client("bedrock-runtime", self.bedrock)
        set_salesforce(
            SalesforceConnection(
                SECRET_NAME, http_session_factory=lambda: self.salesforce.mount_on(_new_http_session())
            )
        )
        monkeypatch.setattr(bedrock, "_sleep", self.clock.advance)

    def context(self) -> ClockedContext:
        return ClockedContext(clock=self.clock, timeout_seconds=LAMBDA_TIMEOUT)


BEHAVIOURS = {
    "dynamodb": ("ok", "slow", "hang"),
    "secret": ("ok", "slow", "hang"),
    "token": ("ok", "slow", "hang"),
    "lead": ("ok", "hang", ("expired", "slow")),
    "model": ("slow", "hang", ("throttle", "slow")),
}


@pytest.mark.parametrize(
    "behaviour",
    [dict(zip(BEHAVIOURS, combination, strict=True)) for combination in itertools.product(*BEHAVIOURS.values())],
    ids=lambda b: "-".join(v if isinstance(v, str) else "+".join(v) for v in b.values()),
)
def test_a_first_turn_answers_in_time_whatever_stalls(
    load_handler: LoadHandler,
    load_event: Callable[..., dict[str, Any]],
    salesforce_secret: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    behaviour: dict[str, Any],
) -> None:
    handler = load_handler("LexFulfillmentHandler")
    deps = Dependencies(monkeypatch, salesforce_secret, **behaviour)

    response = handler.lambda_handler(load_event("lex_question_turn"), deps.context())

    assert_valid_lex_response(response)
    # Every outbound call ended before the safety margin began, so Lambda never cut the turn off.
    assert deps.clock.now <= LAMBDA_TIMEOUT - SAFETY_MARGIN_SECONDS + 1e-6
    state = response["sessionState"]["intent"]["state"]
    if behaviour["dynamodb"] == "hang":  # no scenario: an apology, and nothing else is asked
        assert state == "Failed" and deps.secrets.calls == deps.bedrock.calls == [] and deps.salesforce.urls == []
    elif behaviour["model"] == "slow":  # the lookups always leave Bedrock one full attempt
        assert state == "Fulfilled" and response["messages"][0]["content"] == REPLY
    if behaviour["model"] == "hang" and behaviour["dynamodb"] != "hang":
        assert state == "Failed" and response["messages"][0]["content"] == handler.APOLOGY


def test_the_lead_lookup_is_used_when_it_fits(
    load_handler: LoadHandler,
    load_event: Callable[..., dict[str, Any]],
    salesforce_secret: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Slow DynamoDB (9 s) and a slow secret read would leave Bedrock short, so the secret read is skipped."""
    handler = load_handler("LexFulfillmentHandler")
    deps = Dependencies(monkeypatch, salesforce_secret, dynamodb="slow", model="slow")
    response = handler.lambda_handler(load_event("lex_question_turn"), deps.context())
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert deps.secrets.calls == []  # 9 s would not fit in the 7 s the lookups had left
    assert "leadContext" not in response["sessionState"]["sessionAttributes"]  # so the next turn tries again

    handler = load_handler("LexFulfillmentHandler")
    deps = Dependencies(monkeypatch, salesforce_secret, secret="slow", model="slow")
    response = handler.lambda_handler(load_event("lex_question_turn"), deps.context())
    assert json.loads(response["sessionState"]["sessionAttributes"]["leadContext"]) == {
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "title": "CTO",
    }


@pytest.mark.parametrize(("timeout", "attempts"), [(30, 2), (20, 1)])
def test_a_stalled_bedrock_endpoint_is_retried_only_when_it_fits(
    load_handler: LoadHandler,
    load_event: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    timeout: float,
    attempts: int,
) -> None:
    """A real endpoint that never answers; the client's timeouts are 0.2 s, and each attempt moves the fake
    clock by the production attempt's 12 s. A warm turn (scenario in the session, Lead known): Bedrock only.
    """
    production_attempt = clients.attempt_seconds("bedrock-runtime")
    clock = FakeClock()
    with HangingServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        config = clients._CONFIGS["bedrock-runtime"]
        monkeypatch.setitem(
            clients._CONFIGS, "bedrock-runtime", {**config, "connect_timeout": 0.1, "read_timeout": 0.1}
        )
        monkeypatch.setattr(clients, "attempt_seconds", lambda service: production_attempt)
        monkeypatch.setattr(bedrock, "attempt_seconds", lambda service: production_attempt)
        monkeypatch.setattr(bedrock, "_sleep", clock.advance)
        handler = load_handler("LexFulfillmentHandler")
        clients.get_client("bedrock-runtime").meta.events.register(
            "before-send.bedrock-runtime", lambda **_: clock.advance(production_attempt)
        )
        event = load_event("lex_question_turn")
        event["sessionState"]["sessionAttributes"].update(
            {"scenarioCache": "session", "dynamicScenario": "Offer a demo.", "leadContext": '{"name": "Ada"}'}
        )

        response = handler.lambda_handler(event, ClockedContext(clock=clock, timeout_seconds=timeout))

        assert server.connections == attempts
    assert_valid_lex_response(response)
    assert response["messages"][0]["content"] == handler.APOLOGY
    assert response["sessionState"]["intent"]["state"] == "Failed"
    assert response["sessionState"]["sessionAttributes"]["interactionKey"] == INTERACTION_KEY
    assert clock.now <= timeout - SAFETY_MARGIN_SECONDS
