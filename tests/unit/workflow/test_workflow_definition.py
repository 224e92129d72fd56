"""Static checks of the AtlasEngineWorkflow definition against the Amazon States Language rules.

Spec: https://states-language.net/spec.html (state types, transitions, Retry/Catch, paths).
Lambda error names: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from workflow_template import (
    MODULE_DIR,
    PLACEHOLDER_VALUES,
    TABLE_NAME,
    module_placeholders,
    render_definition,
    template_placeholders,
)

from atlas_shared import exceptions

TERMINAL_TYPES = {"Succeed", "Fail"}
LAMBDA_TASKS = {
    "CreateLead": "create_lead_arn",
    "GenerateDynamicScenario": "generate_dynamic_scenario_arn",
    "InvokeOutboundCall": "invoke_outbound_call_arn",
    "UpdateLead": "update_lead_arn",
}
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
}
# Errors after which the handler may already have acted (or that retrying cannot fix).
HANDLER_ERRORS = {
    "States.ALL",
    "States.TaskFailed",
    "States.Timeout",
    "Lambda.Unknown",
    "Lambda.ClientExecutionTimeoutException",
}
# The handlers' transient errors worth a retry (lambda_src/README.md, "Error names").
# The idempotency record's errors (lambda_src/atlas_shared/idempotency.py) mean the work was not done by this
# delivery, so even CreateLead and InvokeOutboundCall retry them.
IDEMPOTENCY_ERRORS = {"IdempotencyInProgressError", "IdempotencyStoreError"}
TRANSIENT_HANDLER_ERRORS = {
    "CreateLead": IDEMPOTENCY_ERRORS,
    "GenerateDynamicScenario": {"BedrockError", "ScenarioGenerationError", "ScenarioStoreError"},
    "InvokeOutboundCall": {"OutboundCallThrottledError"} | IDEMPOTENCY_ERRORS,
    "UpdateLead": {"SalesforceUnavailableError", "SecretError"} | IDEMPOTENCY_ERRORS,
    "RecordFailureOnLead": {"SalesforceUnavailableError", "SecretError"} | IDEMPOTENCY_ERRORS,
}
# Errors retrying cannot fix: bad input, configuration, credentials, refused records and calls.
PERMANENT_HANDLER_ERRORS = {
    "InvalidInputError",
    "ConfigurationError",
    "SalesforceCredentialsError",
    "SalesforceAuthError",
    "SalesforceRequestError",
    "OutboundCallError",
    "IdempotencyKeyReusedError",
}


def transitions(state: dict[str, Any]) -> Iterator[str]:
    """Every state name a state can move to: Next, Choice rules and Default, Catch targets."""
    if "Next" in state:
        yield state["Next"]
    for rule in state.get("Choices", []):
        yield rule["Next"]
    if "Default" in state:
        yield state["Default"]
    for catcher in state.get("Catch", []):
        yield catcher["Next"]


def reachable(states: dict[str, Any], start: str, stop_at: frozenset[str] = frozenset()) -> set[str]:
    """States reachable from ``start`` (inclusive), not walking past the names in ``stop_at``."""
    seen = {start}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        if name in stop_at:
            continue
        for target in transitions(states[name]):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def retried_errors(state: dict[str, Any]) -> set[str]:
    return {error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]}


def test_template_is_json_before_rendering(template_text: str) -> None:
    # Placeholders sit inside JSON strings, so the template itself parses and can be edited as JSON.
    json.loads(template_text)


def test_module_fills_every_template_placeholder(template_text: str) -> None:
    assert template_placeholders(template_text) <= module_placeholders()
    assert set(PLACEHOLDER_VALUES) == module_placeholders()


def test_rendered_definition_has_no_placeholders_left(template_text: str) -> None:
    assert template_placeholders(render_definition(template_text)) == set()


def test_start_state_and_every_transition_exist(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert definition["StartAt"] in states
    for name, state in states.items():
        for target in transitions(state):
            assert target in states, f"{name} moves to unknown state {target}"


def test_every_state_is_reachable_and_can_terminate(definition: dict[str, Any]) -> None:
    states = definition["States"]
    assert reachable(states, definition["StartAt"]) == set(states)
    for name in states:
        ends = {s for s in reachable(states, name) if states[s]["Type"] in TERMINAL_TYPES or states[s].get("End")}
        assert ends, f"{name} can never reach a terminal state"


def test_state_fields_follow_the_spec(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        kind = state["Type"]
        if kind in TERMINAL_TYPES:
            assert "Next" not in state and "End" not in state, name
        elif kind == "Choice":
            assert state["Choices"] and "Default" in state and "End" not in state, name
        else:
            assert ("Next" in state) != bool(state.get("End")), f"{name} needs exactly one of Next and End"
        if kind == "Fail":
            assert not ({"Error", "ErrorPath"} <= state.keys()) and not ({"Cause", "CausePath"} <= state.keys()), name


def test_happy_path_runs_the_four_steps_in_order(definition: dict[str, Any]) -> None:
    states = definition["States"]
    path = []
    name = definition["StartAt"]
    while states[name]["Type"] not in TERMINAL_TYPES:
        state = states[name]
        if state["Type"] == "Task":
            path.append(name)
        # The happy path is the first Choice rule (the output was present), otherwise Next.
        name = state["Choices"][0]["Next"] if state["Type"] == "Choice" else state["Next"]
    assert path == list(LAMBDA_TASKS)
    assert states[name]["Type"] == "Succeed"


@pytest.mark.parametrize(("state_name", "placeholder"), LAMBDA_TASKS.items())
def test_lambda_tasks_invoke_the_live_alias(definition: dict[str, Any], state_name: str, placeholder: str) -> None:
    resource = definition["States"][state_name]["Resource"]
    assert resource == PLACEHOLDER_VALUES[placeholder]
    assert resource.endswith(":live")


def test_only_known_resources_are_used(definition: dict[str, Any]) -> None:
    allowed = {PLACEHOLDER_VALUES[p] for p in LAMBDA_TASKS.values()} | {"arn:aws:states:::dynamodb:putItem"}
    used = {s["Resource"] for s in definition["States"].values() if s["Type"] == "Task"}
    assert used <= allowed


@pytest.mark.parametrize("state_name", LAMBDA_TASKS)
def test_lambda_tasks_retry_service_errors_with_backoff(definition: dict[str, Any], state_name: str) -> None:
    state = definition["States"][state_name]
    assert LAMBDA_SERVICE_ERRORS | {"Lambda.TooManyRequestsException"} <= retried_errors(state)
    for retrier in state["Retry"]:
        assert retrier["IntervalSeconds"] >= 1
        assert retrier["BackoffRate"] > 1
        assert 1 <= retrier["MaxAttempts"] <= 10
        assert retrier["JitterStrategy"] == "FULL"
        assert retrier.get("MaxDelaySeconds", 1) >= retrier["IntervalSeconds"]


@pytest.mark.parametrize("state_name", ["CreateLead", "InvokeOutboundCall"])
def test_non_idempotent_steps_are_not_retried_on_handler_errors(definition: dict[str, Any], state_name: str) -> None:
    # A retry after the handler ran could create a second Lead or dial the lead twice.
    assert retried_errors(definition["States"][state_name]) & HANDLER_ERRORS == set()


@pytest.mark.parametrize(("state_name", "errors"), TRANSIENT_HANDLER_ERRORS.items())
def test_transient_handler_errors_are_retried(definition: dict[str, Any], state_name: str, errors: set[str]) -> None:
    assert errors <= retried_errors(definition["States"][state_name])


def test_permanent_handler_errors_are_never_retried(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        assert retried_errors(state) & PERMANENT_HANDLER_ERRORS == set(), name


def test_retried_handler_errors_exist_in_the_shared_exceptions(definition: dict[str, Any]) -> None:
    # A Python handler reports the exception's class name as errorType; a misspelt name would never match.
    exception_names = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, exceptions.AtlasError)
    }
    named = {
        error
        for state in definition["States"].values()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for error in rule["ErrorEquals"]
        if not error.startswith(("States.", "Lambda."))
    }
    assert named, "expected the retriers to name some handler errors"
    assert named <= exception_names


def test_states_all_is_alone_and_last(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        for field in ("Retry", "Catch"):
            rules = state.get(field, [])
            for index, rule in enumerate(rules):
                if "States.ALL" in rule["ErrorEquals"]:
                    assert rule["ErrorEquals"] == ["States.ALL"], f"{name}.{field}: States.ALL must be alone"
                    assert index == len(rules) - 1, f"{name}.{field}: States.ALL must be the last rule"


@pytest.mark.parametrize("state_name", LAMBDA_TASKS)
def test_every_catch_records_the_failed_lead_before_failing(definition: dict[str, Any], state_name: str) -> None:
    states = definition["States"]
    catchers = states[state_name]["Catch"]
    assert any(c["ErrorEquals"] == ["States.ALL"] for c in catchers)
    for catcher in catchers:
        # Walking from the catch target without passing RecordFailedLead must not reach an end state.
        before_record = reachable(states, catcher["Next"], stop_at=frozenset({"RecordFailedLead"}))
        assert "RecordFailedLead" in before_record
        assert not {s for s in before_record if states[s]["Type"] in TERMINAL_TYPES}, state_name


def test_failed_lead_item_matches_the_contract(definition: dict[str, Any]) -> None:
    record = definition["States"]["RecordFailedLead"]
    assert record["Resource"] == "arn:aws:states:::dynamodb:putItem"
    params = record["Parameters"]
    assert params["TableName"] == TABLE_NAME
    item = params["Item"]
    # docs/contracts.md: PK = "FAILED_LEAD#<execution name>", SK = "FAILURE".
    assert item["PK"] == {"S.$": "States.Format('FAILED_LEAD#{}', $$.Execution.Name)"}
    assert item["SK"] == {"S": "FAILURE"}
    assert item["Input"] == {"S.$": "States.JsonToString($$.Execution.Input)"}
    assert {"Error", "Cause", "FailedStep", "FailedAt"} <= item.keys()
    # The recorder must never stop the failure path: its own failure still reaches the Fail state.
    assert record["Catch"][0]["ErrorEquals"] == ["States.ALL"]


def test_dynamic_parameters_use_paths_or_intrinsics(definition: dict[str, Any]) -> None:
    def walk(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key.endswith(".$"):
                    yield f"{where}.{key}", inner
                else:
                    yield from walk(inner, f"{where}.{key}")

    for name, state in definition["States"].items():
        for where, expression in walk(state.get("Parameters", {}), name):
            assert isinstance(expression, str) and expression.startswith(("$", "States.")), where


def test_idempotency_key_is_the_execution_name(definition: dict[str, Any]) -> None:
    for name in list(LAMBDA_TASKS) + ["RecordFailureOnLead"]:
        assert definition["States"][name]["Parameters"]["idempotency_key.$"] == "$$.Execution.Name", name


@pytest.mark.parametrize(
    ("kind", "tf_file", "heading"), [("variable", "variables.tf", "## Inputs"), ("output", "outputs.tf", "## Outputs")]
)
def test_readme_documents_every_input_and_output(kind: str, tf_file: str, heading: str) -> None:
    names = re.findall(rf'^{kind}\s+"([^"]+)"', (MODULE_DIR / tf_file).read_text(), flags=re.MULTILINE)
    readme = (MODULE_DIR / "README.md").read_text()
    section = readme.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\|\s*`([a-z0-9_]+)`\s*\|", section, flags=re.MULTILINE))
    assert names and documented == set(names)


@pytest.mark.parametrize("state_name", ["CreateLead", "InvokeOutboundCall", "UpdateLead", "RecordFailureOnLead"])
def test_in_progress_retries_outlast_a_crashed_delivery(definition: dict[str, Any], state_name: str) -> None:
    # A delivery that crashed leaves its idempotency record in progress until that invocation's timeout (60 s at
    # most by default, main.tf); the retries must keep coming well past it, even with full jitter (each wait is
    # drawn from 0..the computed delay, so the expected total is half the computed one).
    (retrier,) = [
        r for r in definition["States"][state_name]["Retry"] if "IdempotencyInProgressError" in r["ErrorEquals"]
    ]
    delays = [
        min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n, retrier.get("MaxDelaySeconds", float("inf")))
        for n in range(retrier["MaxAttempts"])
    ]
    assert sum(delays) / 2 >= 5 * 60
