"""post_deploy: outputs parsing, the Lex V2 answer checks, configuration checks on stubbed AWS, metric marks."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from post_deploy import checks, metrics, smoke
from post_deploy.aws import CallFailed, call
from post_deploy.lex_format import code_hook_event, response_problems
from post_deploy.outputs import OutputsError, parse_outputs, read_outputs
from post_deploy.report import Result, format_table, to_json

NAMES = {"LexFulfillmentHandler": "p-Lex", "CreateLeadHandler": "p-Create"}


def outputs_doc(**overrides: Any) -> dict[str, Any]:
    value = {
        "lambda_function_names": NAMES,
        "lambda_published_versions": {"LexFulfillmentHandler": "7", "CreateLeadHandler": "3"},
        "lambda_alias_versions": {"LexFulfillmentHandler": "7", "CreateLeadHandler": "3"},
        "lambda_alias_name": "live",
        "lambda_provisioned_concurrent_executions": {"LexFulfillmentHandler": 2, "CreateLeadHandler": 0},
        "lambda_memory_sizes": {"LexFulfillmentHandler": 512, "CreateLeadHandler": 256},
        "lex_bot_alias_arn": "arn:aws:lex:eu-west-1:111122223333:bot-alias/BOTID12345/ALIAS12345",
        "lex_locale_ids": ["en_US"],
        "lex_code_hook_lambda_arn": "arn:aws:lambda:eu-west-1:111122223333:function:p-Lex:live",
        "state_machine_arn": None,
        "bedrock_model_id": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "metrics_namespace": None,
        **overrides,
    }
    return {"post_deploy_validation": {"sensitive": False, "type": "object", "value": value}}


class Clients:
    """A client factory of real boto3 clients with a Stubber each (activated), keyed by service."""

    def __init__(self) -> None:
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def __call__(self, service: str) -> Any:
        if service not in self.clients:
            client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
            self.clients[service] = client
            self.stubbers[service] = Stubber(client)
            self.stubbers[service].activate()
        return self.clients[service]

    def stub(self, service: str) -> Stubber:
        self(service)
        return self.stubbers[service]


# ------------------------------------------------------------------------------------------------ outputs


def test_outputs_from_the_aggregate_output_and_region_from_arns() -> None:
    parsed = parse_outputs(outputs_doc())
    assert parsed.function_names == NAMES
    assert parsed.provisioned["LexFulfillmentHandler"] == 2
    assert parsed.region == "eu-west-1"


def test_outputs_from_plain_names_without_the_aggregate() -> None:
    plain = outputs_doc()["post_deploy_validation"]["value"]
    assert parse_outputs(plain).memory_sizes["CreateLeadHandler"] == 256


@pytest.mark.parametrize(
    ("raw", "message"),
    [({}, "no outputs"), ({"lambda_function_names": {}}, "lambda_published_versions")],
)
def test_outputs_missing_say_what_to_do(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(OutputsError, match=message):
        parse_outputs(raw)


def test_outputs_file_unreadable(tmp_path: Any) -> None:
    bad = tmp_path / "o.json"
    bad.write_text("{not json")
    with pytest.raises(OutputsError, match="cannot read"):
        read_outputs(outputs_file=bad)


def test_root_without_state(tmp_path: Any) -> None:
    with pytest.raises(OutputsError):
        read_outputs(chdir=tmp_path, terraform="terraform")


# ------------------------------------------------------------------------------------------------ Lex format


def valid_answer(**state: Any) -> dict[str, Any]:
    return {
        "sessionState": {
            "dialogAction": {"type": "ElicitIntent"},
            "intent": {"name": "GreetingIntent", "state": "Fulfilled", "confirmationState": "None", "slots": {}},
            "sessionAttributes": {"interactionKey": "k"},
            **state,
        },
        "messages": [{"contentType": "PlainText", "content": "Hello."}],
    }


def test_a_valid_answer_has_no_problems() -> None:
    assert response_problems(valid_answer()) == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ([], "not a JSON object"),
        ({"messages": []}, "sessionState is missing"),
        (valid_answer(dialogAction={"type": "Elicit"}), "dialogAction.type"),
        (valid_answer(dialogAction={"type": "ElicitSlot"}), "slotToElicit"),
        (valid_answer(intent={"name": "X", "state": "B"}), "intent.state"),
        (valid_answer(intent={"name": "X", "confirmationState": None, "slots": []}), "slots is not a map"),
        (valid_answer(sessionAttributes={"a": 1}), "strings"),
        (valid_answer(sessionAttributes={"a": "x" * 13000}), "bytes"),
        ({**valid_answer(), "messages": [{"contentType": "PlainText", "content": "x" * 1025}]}, "1025 characters"),
        ({**valid_answer(), "messages": [{"contentType": "PlainText", "content": "  "}]}, "empty"),
        ({**valid_answer(), "messages": [{"contentType": "Text", "content": "x"}]}, "contentType"),
    ],
)
def test_answers_lex_would_refuse(answer: Any, problem: str) -> None:
    assert any(problem in p for p in response_problems(answer))


def test_code_hook_event_shape() -> None:
    event = code_hook_event("hello", "GreetingIntent", session_attributes={"a": "b"})
    assert event["sessionState"]["intent"]["name"] == "GreetingIntent"
    assert event["interpretations"][0]["intent"]["state"] == "InProgress"
    assert event["sessionState"]["sessionAttributes"] == {"a": "b"}


# ------------------------------------------------------------------------------------------------ configuration


def test_alias_on_latest_passes_and_drift_fails() -> None:
    clients = Clients()
    outputs = parse_outputs(outputs_doc())
    lam = clients.stub("lambda")
    for name, current, latest in (("p-Create", "3", "3"), ("p-Lex", "6", "7")):
        lam.add_response(
            "get_alias", {"FunctionVersion": current, "Name": "live"}, {"FunctionName": name, "Name": "live"}
        )
        lam.add_response(
            "list_versions_by_function",
            {"Versions": [{"Version": "$LATEST"}, {"Version": "1"}, {"Version": latest}]},
            {"FunctionName": name},
        )
    results = {r.name: r for r in checks.check_aliases(clients, outputs)}
    assert results["CreateLeadHandler alias live"].status == "pass"
    assert results["LexFulfillmentHandler alias live"].status == "fail"
    assert "terraform apply" in results["LexFulfillmentHandler alias live"].fix


def test_rollback_pin_is_a_warning() -> None:
    clients = Clients()
    doc = outputs_doc(lambda_alias_versions={"LexFulfillmentHandler": "5", "CreateLeadHandler": "3"})
    outputs = parse_outputs(doc)
    lam = clients.stub("lambda")
    for name, current in (("p-Create", "3"), ("p-Lex", "5")):
        lam.add_response("get_alias", {"FunctionVersion": current}, {"FunctionName": name, "Name": "live"})
        lam.add_response("list_versions_by_function", {"Versions": [{"Version": "7"}]}, {"FunctionName": name})
    results = {r.name: r for r in checks.check_aliases(clients, outputs)}
    assert results["LexFulfillmentHandler alias live"].status == "warn"


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (
            {
                "Status": "READY",
                "AllocatedProvisionedConcurrentExecutions": 2,
                "RequestedProvisionedConcurrentExecutions": 2,
            },
            "pass",
        ),
        ({"Status": "IN_PROGRESS", "AllocatedProvisionedConcurrentExecutions": 0}, "fail"),
        ({"Status": "FAILED", "StatusReason": "quota", "AllocatedProvisionedConcurrentExecutions": 0}, "fail"),
        ({"Status": "READY", "AllocatedProvisionedConcurrentExecutions": 1}, "fail"),
    ],
)
def test_provisioned_concurrency(answer: dict[str, Any], status: str) -> None:
    clients = Clients()
    clients.stub("lambda").add_response(
        "get_provisioned_concurrency_config", answer, {"FunctionName": "p-Lex", "Qualifier": "live"}
    )
    [result] = checks.check_provisioned_concurrency(clients, parse_outputs(outputs_doc()))
    assert result.status == status


def test_code_hook_changed_out_of_band_fails() -> None:
    clients = Clients()
    clients.stub("lexv2-models").add_response(
        "describe_bot_alias",
        {
            "botAliasLocaleSettings": {
                "en_US": {
                    "enabled": True,
                    "codeHookSpecification": {
                        "lambdaCodeHook": {
                            "lambdaARN": "arn:aws:lambda:eu-west-1:111122223333:function:p-Lex",
                            "codeHookInterfaceVersion": "1.0",
                        }
                    },
                }
            }
        },
        {"botId": "BOTID12345", "botAliasId": "ALIAS12345"},
    )
    [result] = checks.check_code_hook(clients, parse_outputs(outputs_doc()))
    assert result.status == "fail" and "expected" in result.detail


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("global.amazon.nova-2-lite-v1:0", "amazon.nova-2-lite-v1:0"),
        ("arn:aws:bedrock:us-east-1:1:inference-profile/eu.amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0"),
        ("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc", None),
    ],
)
def test_foundation_model_behind_an_id(model: str, expected: str | None) -> None:
    assert checks.foundation_model_id(model) == expected


@pytest.mark.parametrize(("status", "mark"), [("ACTIVE", "pass"), ("LEGACY", "warn")])
def test_model_lifecycle(status: str, mark: str) -> None:
    clients = Clients()
    clients.stub("bedrock").add_response(
        "get_foundation_model",
        {
            "modelDetails": {
                "modelArn": "arn:aws:bedrock:eu-west-1::foundation-model/m",
                "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
                "modelLifecycle": {"status": status},
            }
        },
        {"modelIdentifier": "anthropic.claude-haiku-4-5-20251001-v1:0"},
    )
    [result] = checks.check_model_lifecycle(clients, parse_outputs(outputs_doc()))
    assert result.status == mark


def test_access_denied_names_the_iam_action() -> None:
    clients = Clients()
    clients.stub("lambda").add_client_error(
        "get_alias", service_error_code="AccessDeniedException", http_status_code=403
    )
    with pytest.raises(CallFailed, match="lambda:GetAlias"):
        call(clients, "lambda", "get_alias", FunctionName="f", Name="live")


# ------------------------------------------------------------------------------------------------ smoke


def test_smoke_invocation_with_a_bad_answer_fails() -> None:
    clients = Clients()
    lam = clients.stub("lambda")
    good = json.dumps(valid_answer()).encode()
    bad = json.dumps(valid_answer(intent={"name": "X", "state": "B"})).encode()
    for payload in (good, bad):
        lam.add_response("invoke", {"StatusCode": 200, "Payload": io.BytesIO(payload)})
    greeting, question = smoke.invoke_smoke(clients, parse_outputs(outputs_doc()))
    assert greeting.status == "pass" and question.status == "fail"
    assert "intent.state" in question.detail


# ------------------------------------------------------------------------------------------------ metrics


def test_percentile_nearest_rank() -> None:
    assert metrics.percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert metrics.percentile([5.0], 99) == 5.0


def test_figures_from_report_lines() -> None:
    clients = Clients()
    logs = clients.stub("logs")
    lines = [
        "REPORT RequestId: a\tDuration: 100.00 ms\tMemory Size: 512 MB\tInit Duration: 900.00 ms",
        "REPORT RequestId: b\tDuration: 300.00 ms\tMemory Size: 512 MB",
    ]
    logs.add_response("filter_log_events", {"events": [{"message": m} for m in lines]})
    logs.add_response("filter_log_events", {"events": [{"message": "[CACHE] MISS secret"}]})
    end = datetime(2026, 12, 1, 12, tzinfo=UTC)
    figures = metrics.from_logs(clients, parse_outputs(outputs_doc()), end - timedelta(hours=1), end)
    assert figures.invocations == 2 and figures.average_ms == 200.0 and figures.p99_ms == 300.0
    assert figures.cold_start_rate == 0.5 and figures.secrets_share == 0.5


def test_targets_marked_and_empty_window_fails() -> None:
    end = datetime(2026, 12, 1, 12, tzinfo=UTC)
    figures = metrics.Figures(end - timedelta(hours=1), end, invocations=10, average_ms=4000.0, p99_ms=8000.0)
    figures.cold_start_rate, figures.secrets_share = 0.0, 0.05
    rows = {r.name: r.status for r in metrics.metric_results(figures, metrics.Targets())}
    assert rows["average reply time"] == "pass" and rows["p99 reply time"] == "fail"
    assert rows["cold-start rate"] == "pass" and rows["Secrets Manager share"] == "fail"
    [empty] = metrics.metric_results(metrics.Figures(end, end), metrics.Targets())
    assert empty.status == "fail" and "--since" in empty.fix


def test_report_table_and_json() -> None:
    results = [Result("smoke", "a", "pass", "ok"), Result("smoke", "b", "fail", "bad", "do x")]
    table = format_table(results)
    assert "FAIL" in table and "-> do x" in table and "1 passed, 1 failed, 0 warnings" in table
    assert json.loads(to_json(results))["ok"] is False


def test_cloudwatch_figures_read_the_handlers_emf_metrics() -> None:
    clients = Clients()
    end = datetime(2026, 12, 1, 12, tzinfo=UTC)
    outputs = parse_outputs(outputs_doc(metrics_namespace="AtlasEngine"))
    answer = {
        "MetricDataResults": [
            {"Id": "avg", "Values": [800.0]},
            {"Id": "p99", "Values": [2100.0]},
            {"Id": "inv", "Values": [200.0]},
            {"Id": "err", "Values": []},
            {"Id": "thr", "Values": []},
            {"Id": "spill", "Values": [0.0]},
            {"Id": "bedrock", "Values": [650.0]},
            {"Id": "cold_on_demand", "Values": [2.0]},
            {"Id": "cold_snap_start", "Values": []},
            {"Id": "secret", "Values": [4.0]},
        ]
    }
    clients.stub("cloudwatch").add_response("get_metric_data", answer)
    figures = metrics.from_cloudwatch(clients, outputs, end - timedelta(hours=1), end)
    sent = clients.stubbers["cloudwatch"]
    assert sent is not None
    assert figures.invocations == 200 and figures.cold_start_rate == 0.01 and figures.secrets_share == 0.02
    assert figures.bedrock_latency_ms == 650.0 and figures.errors == 0
