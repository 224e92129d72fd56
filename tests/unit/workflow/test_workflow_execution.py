"""Runs the AtlasEngineWorkflow definition in an Amazon States Language interpreter.

moto 5 ships LocalStack's ASL interpreter (``moto.stepfunctions.parser``); with the ``execute_state_machine``
config it really runs a definition: Parameters, ResultPath, Choice rules, Catch, intrinsic functions and the
DynamoDB PutItem integration (against moto's DynamoDB). The four Lambda tasks are answered by fake handlers
patched into moto's docker-free Lambda backend, which see exactly the payload Step Functions would send and can
fail the way a Python handler does (``FunctionError`` plus an ``errorType``/``errorMessage`` body, per
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).

The interpreter sleeps for real between retry attempts, so only two scenarios exercise a retry (a single
attempt each, at most a few seconds with full jitter); the other handler errors use names no retrier matches.

Every event a task sends is compared with the handlers' own example events, tests/events/sfn_*.json, which
lambda_src/README.md documents as the Step Functions contract.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from workflow_template import ACCOUNT_ID, PLACEHOLDER_VALUES, REGION, REPO_ROOT, TABLE_NAME

Handler = Callable[[dict[str, Any]], dict[str, Any]]

EVENTS_DIR = REPO_ROOT / "tests" / "events"


def example_event(name: str) -> dict[str, Any]:
    """One of the handlers' example Step Functions events, tests/events/sfn_<name>.json."""
    return json.loads((EVENTS_DIR / f"sfn_{name}.json").read_text())


LEAD = example_event("create_lead")["lead"]
LEAD_ID = "00Q5g00000AbCdEEAZ"
INTERACTION_KEY = "9f1c2e7a4b6d4c3e8a0b1c2d3e4f5a6b"
CONTACT_ID = "c0ffee00-1111-2222-3333-444455556666"

FUNCTION_KEYS = {
    PLACEHOLDER_VALUES["create_lead_arn"]: "create_lead",
    PLACEHOLDER_VALUES["generate_dynamic_scenario_arn"]: "generate_dynamic_scenario",
    PLACEHOLDER_VALUES["invoke_outbound_call_arn"]: "invoke_outbound_call",
    PLACEHOLDER_VALUES["update_lead_arn"]: "update_lead",
}


class HandlerError(Exception):
    """Raised by a fake handler; reaches Step Functions as a Lambda function error named ``error_type``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass
class FakeLambdas:
    """Stand-ins for the four handlers, keyed like the module's function_alias_arns, recording every call."""

    handlers: dict[str, Handler]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def invoke(self, function_name: str, body: str | bytes, response_headers: dict[str, str]) -> bytes:
        key = FUNCTION_KEYS[function_name]  # KeyError: a task invoked something other than a live alias ARN
        event = json.loads(body)
        self.calls.append((key, event))
        try:
            result = self.handlers[key](event)
        except HandlerError as error:
            response_headers["x-amz-function-error"] = "Unhandled"
            result = {"errorType": error.error_type, "errorMessage": error.message}
        return json.dumps(result).encode()

    def events_for(self, key: str) -> list[dict[str, Any]]:
        return [event for called, event in self.calls if called == key]


# Return values as lambda_src/README.md documents them.
def create_lead(event: dict[str, Any]) -> dict[str, Any]:
    return {"lead_id": LEAD_ID, "created": True}


def generate_dynamic_scenario(event: dict[str, Any]) -> dict[str, Any]:
    return {"interaction_key": INTERACTION_KEY, "lead_id": event["lead_id"]}


def invoke_outbound_call(event: dict[str, Any]) -> dict[str, Any]:
    return {"contact_id": CONTACT_ID, "interaction_key": event["interaction_key"], "lead_id": event["lead_id"]}


def update_lead(event: dict[str, Any]) -> dict[str, Any]:
    status = "Working - Contacted" if event["outcome"] == "CALL_STARTED" else None
    return {"lead_id": event["lead_id"], "status": status, "updated": True}


HAPPY_HANDLERS: dict[str, Handler] = {
    "create_lead": create_lead,
    "generate_dynamic_scenario": generate_dynamic_scenario,
    "invoke_outbound_call": invoke_outbound_call,
    "update_lead": update_lead,
}


def failing(error_type: str, message: str) -> Handler:
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        raise HandlerError(error_type, message)

    return handler


@dataclass
class Workflow:
    sfn: Any
    dynamodb: Any
    state_machine_arn: str
    lambdas: FakeLambdas

    def run(self, execution_name: str, execution_input: dict[str, Any]) -> dict[str, Any]:
        """Start an execution and wait (bounded) for it to leave RUNNING; returns DescribeExecution's response."""
        started = self.sfn.start_execution(
            stateMachineArn=self.state_machine_arn,
            name=execution_name,
            input=json.dumps(execution_input),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=started["executionArn"])
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        pytest.fail(f"execution {execution_name} still RUNNING after 30 s")

    def failed_lead_item(self, execution_name: str) -> dict[str, str] | None:
        response = self.dynamodb.get_item(
            TableName=TABLE_NAME,
            Key={"PK": {"S": f"FAILED_LEAD#{execution_name}"}, "SK": {"S": "FAILURE"}},
        )
        item = response.get("Item")
        return None if item is None else {name: value["S"] for name, value in item.items()}


@pytest.fixture
def workflow(definition: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Workflow]:
    lambdas = FakeLambdas(handlers=dict(HAPPY_HANDLERS))

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        return lambdas.invoke(function_name, body, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    config = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
    }
    with mock_aws(config=config):
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE_NAME,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        created = sfn.create_state_machine(
            name="test-AtlasEngineWorkflow",
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/test-AtlasEngineWorkflow-sfn",
            type="STANDARD",
        )
        yield Workflow(sfn, dynamodb, created["stateMachineArn"], lambdas)


def test_happy_path_runs_every_step_with_accumulated_state(workflow: Workflow) -> None:
    result = workflow.run("lead-happy", {"lead": LEAD})

    assert result["status"] == "SUCCEEDED"
    assert [key for key, _ in workflow.lambdas.calls] == [
        "create_lead",
        "generate_dynamic_scenario",
        "invoke_outbound_call",
        "update_lead",
    ]
    create, scenario, call, update = (event for _, event in workflow.lambdas.calls)
    assert create == {"lead": LEAD, "idempotency_key": "lead-happy"}
    assert scenario == {
        "lead": LEAD,
        "lead_id": LEAD_ID,
        "idempotency_key": "lead-happy",
    }
    assert call == {
        "lead": LEAD,
        "lead_id": LEAD_ID,
        "interaction_key": INTERACTION_KEY,
        "idempotency_key": "lead-happy",
    }
    assert update["lead_id"] == LEAD_ID
    assert update["outcome"] == "CALL_STARTED"
    assert update["interaction_key"] == INTERACTION_KEY
    assert update["call"]["contact_id"] == CONTACT_ID
    assert update["idempotency_key"] == "lead-happy"

    output = json.loads(result["output"])
    assert output["create_lead"]["lead_id"] == LEAD_ID
    assert output["scenario"]["interaction_key"] == INTERACTION_KEY
    assert output["call"]["contact_id"] == CONTACT_ID
    assert output["update_lead"]["status"] == "Working - Contacted"
    assert workflow.failed_lead_item("lead-happy") is None


@pytest.mark.parametrize(
    ("key", "example"),
    [
        ("create_lead", "create_lead"),
        ("generate_dynamic_scenario", "generate_scenario"),
        ("invoke_outbound_call", "invoke_outbound_call"),
        ("update_lead", "update_lead"),
    ],
)
def test_events_have_the_handlers_documented_shape(workflow: Workflow, key: str, example: str) -> None:
    workflow.run("lead-contract", {"lead": LEAD})

    [event] = workflow.lambdas.events_for(key)
    documented = example_event(example)
    assert event.keys() == documented.keys()
    if "lead" in documented:
        assert event["lead"] == documented["lead"]
    if "call" in documented:
        assert event["call"].keys() >= documented["call"].keys()


def test_failure_update_has_the_handlers_documented_shape(workflow: Workflow) -> None:
    workflow.lambdas.handlers["invoke_outbound_call"] = failing("OutboundCallError", "DestinationNotAllowedException")

    workflow.run("lead-contract-failure", {"lead": LEAD})

    [event] = workflow.lambdas.events_for("update_lead")
    assert event.keys() == example_event("record_failure_on_lead").keys()


def test_transient_scenario_error_is_retried(workflow: Workflow) -> None:
    attempts: list[dict[str, Any]] = []

    def bedrock_once(event: dict[str, Any]) -> dict[str, Any]:
        attempts.append(event)
        if len(attempts) == 1:
            raise HandlerError("BedrockError", "ThrottlingException from bedrock-runtime")
        return generate_dynamic_scenario(event)

    workflow.lambdas.handlers["generate_dynamic_scenario"] = bedrock_once

    result = workflow.run("lead-bedrock-retry", {"lead": LEAD})

    assert result["status"] == "SUCCEEDED"
    assert len(attempts) == 2
    # The retry carries the same idempotency key, so the handler derives the same interaction key.
    assert attempts[0] == attempts[1]
    assert workflow.failed_lead_item("lead-bedrock-retry") is None


def test_create_lead_in_progress_is_retried_and_the_retry_gets_the_result(workflow: Workflow) -> None:
    """A delivery that overlaps an earlier one still running is told IdempotencyInProgressError; Step Functions
    retries it (at most 5 s with full jitter here) and the retry returns the first delivery's stored result."""
    attempts: list[dict[str, Any]] = []

    def overlapping_then_answered(event: dict[str, Any]) -> dict[str, Any]:
        attempts.append(event)
        if len(attempts) == 1:
            raise HandlerError("IdempotencyInProgressError", "CreateLead is already running for this idempotency_key")
        return create_lead(event)

    workflow.lambdas.handlers["create_lead"] = overlapping_then_answered

    result = workflow.run("lead-create-in-progress", {"lead": LEAD})

    assert result["status"] == "SUCCEEDED"
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    assert workflow.failed_lead_item("lead-create-in-progress") is None


def test_create_lead_error_records_the_lead_and_fails_without_retry(
    workflow: Workflow,
) -> None:
    workflow.lambdas.handlers["create_lead"] = failing("SalesforceRequestError", "REQUIRED_FIELD_MISSING: LastName")
    execution_input = {"lead": LEAD, "source": "web-form"}

    result = workflow.run("lead-create-fails", execution_input)

    assert result["status"] == "FAILED"
    assert result["error"] == "SalesforceRequestError"
    # A retried CreateLead could create a duplicate Lead.
    assert len(workflow.lambdas.events_for("create_lead")) == 1
    # No Lead exists, so there is nothing to update.
    assert workflow.lambdas.events_for("update_lead") == []

    item = workflow.failed_lead_item("lead-create-fails")
    assert item is not None
    assert json.loads(item["Input"]) == execution_input
    assert item["FailedStep"] == "CreateLead"
    assert item["Error"] == "SalesforceRequestError"
    assert "REQUIRED_FIELD_MISSING" in item["Cause"]
    assert item["FailedAt"]
    assert item["ExecutionArn"].endswith(":execution:test-AtlasEngineWorkflow:lead-create-fails")


def test_create_lead_without_lead_id_is_caught(workflow: Workflow) -> None:
    workflow.lambdas.handlers["create_lead"] = lambda event: {"unexpected": True}

    result = workflow.run("lead-no-id", {"lead": LEAD})

    assert result["status"] == "FAILED"
    assert result["error"] == "AtlasEngine.InvalidTaskOutput"
    assert workflow.lambdas.events_for("generate_dynamic_scenario") == []
    item = workflow.failed_lead_item("lead-no-id")
    assert item is not None and item["FailedStep"] == "CreateLead"
    assert item["Error"] == "AtlasEngine.InvalidTaskOutput"


def test_scenario_without_interaction_key_is_caught_and_lead_marked_failed(
    workflow: Workflow,
) -> None:
    workflow.lambdas.handlers["generate_dynamic_scenario"] = lambda event: {"lead_id": event["lead_id"]}

    result = workflow.run("lead-no-scenario", {"lead": LEAD})

    assert result["status"] == "FAILED"
    assert workflow.lambdas.events_for("invoke_outbound_call") == []
    item = workflow.failed_lead_item("lead-no-scenario")
    assert item is not None and item["FailedStep"] == "GenerateDynamicScenario"
    [update] = workflow.lambdas.events_for("update_lead")
    assert update["outcome"] == "WORKFLOW_FAILED"


def test_call_failure_after_lead_created_records_failure_on_the_lead(
    workflow: Workflow,
) -> None:
    workflow.lambdas.handlers["invoke_outbound_call"] = failing("OutboundCallError", "DestinationNotAllowedException")

    result = workflow.run("lead-call-fails", {"lead": LEAD})

    assert result["status"] == "FAILED"
    assert result["error"] == "OutboundCallError"
    # A retried call could dial the lead twice.
    assert len(workflow.lambdas.events_for("invoke_outbound_call")) == 1
    [update] = workflow.lambdas.events_for("update_lead")
    assert update == {
        "lead_id": LEAD_ID,
        "outcome": "WORKFLOW_FAILED",
        "failed_step": "InvokeOutboundCall",
        "error": "OutboundCallError",
        "idempotency_key": "lead-call-fails",
    }
    item = workflow.failed_lead_item("lead-call-fails")
    assert item is not None
    assert item["FailedStep"] == "InvokeOutboundCall"
    assert json.loads(item["Input"]) == {"lead": LEAD}
    state = json.loads(item["State"])
    assert state["create_lead"]["lead_id"] == LEAD_ID
    assert state["scenario"]["interaction_key"] == INTERACTION_KEY


def test_update_lead_failure_is_recorded_and_failure_outcome_attempted(
    workflow: Workflow,
) -> None:
    outcomes: list[str] = []

    def flaky_update(event: dict[str, Any]) -> dict[str, Any]:
        outcomes.append(event["outcome"])
        raise HandlerError("SalesforceRequestError", "ENTITY_IS_DELETED")

    workflow.lambdas.handlers["update_lead"] = flaky_update

    result = workflow.run("lead-update-fails", {"lead": LEAD})

    # The failure-outcome update fails too; its catch must still end in the Fail state, not loop.
    assert result["status"] == "FAILED"
    assert result["error"] == "SalesforceRequestError"
    assert outcomes == ["CALL_STARTED", "WORKFLOW_FAILED"]
    item = workflow.failed_lead_item("lead-update-fails")
    assert item is not None and item["FailedStep"] == "UpdateLead"
