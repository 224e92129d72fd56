"""atlas_shared.runtime: lazy on-demand init, eager pre-initialized init, and the handler wrapper."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atlas_shared import clients, runtime
from atlas_shared.exceptions import ConfigurationError
from atlas_shared.salesforce import get_salesforce
from tests.conftest import FakeAws, FakeSalesforce, LambdaContext
from tests.unit.shared.test_tracing import run_python

HEAVY_MODULES = ("aws_xray_sdk", "simple_salesforce", "jwt", "requests", "boto3")


def test_on_demand_bootstrap_defers_heavy_work() -> None:
    out = run_python(
        f"""
        import json, sys
        from atlas_shared import runtime
        runtime.bootstrap(required=("SCENARIO_TABLE_NAME",), services=("dynamodb", "bedrock-runtime"), salesforce=True)
        print(json.dumps({{m: m in sys.modules for m in {HEAVY_MODULES!r}}}))
        """,
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        AWS_XRAY_SDK_ENABLED="true",
    )
    assert out == dict.fromkeys(HEAVY_MODULES, False)


def test_pre_initialized_bootstrap_warms_everything(
    aws: FakeAws, salesforce_api: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    runtime.bootstrap(services=("dynamodb", "bedrock-runtime"), salesforce=True)
    assert aws.counter.count("secretsmanager", "GetSecretValue") == 1
    assert len(salesforce_api.token_requests) == 1
    assert get_salesforce().connected
    assert "bedrock-runtime" in clients._clients
    assert any(json.loads(line).get("event") == "init_warm_up" for line in capsys.readouterr().out.splitlines())


def test_snap_start_also_warms(aws: FakeAws, salesforce_api: FakeSalesforce, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    runtime.bootstrap(salesforce=True)
    assert len(salesforce_api.token_requests) == 1


def test_warm_up_failure_does_not_fail_init(
    aws: FakeAws, salesforce_api: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    salesforce_api.token_unavailable()
    runtime.bootstrap(salesforce=True)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (failure,) = [e for e in events if e.get("event") == "init_warm_up_failed"]
    assert failure["level"] == "WARNING" and failure["error_type"] == "SalesforceUnavailableError"
    assert not get_salesforce().connected


def test_missing_configuration_fails_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCENARIO_TABLE_NAME")
    with pytest.raises(ConfigurationError, match="SCENARIO_TABLE_NAME"):
        runtime.bootstrap(required=("SCENARIO_TABLE_NAME",))


def test_entrypoint_binds_request_id_and_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    from atlas_shared.logs import get_logger

    @runtime.entrypoint
    def handler(event: Any, context: Any) -> str:
        get_logger("unit").info("inside")
        return "ok"

    assert handler({}, LambdaContext(aws_request_id="r1")) == "ok"
    assert handler({}, LambdaContext(aws_request_id="r2")) == "ok"
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (first["request_id"], first["cold_start"]) == ("r1", True)
    assert (second["request_id"], second["cold_start"]) == ("r2", False)


def test_entrypoint_logs_and_reraises(capsys: pytest.CaptureFixture[str]) -> None:
    @runtime.entrypoint
    def handler(event: Any, context: Any) -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        handler({}, LambdaContext())
    (line,) = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert line["event"] == "invocation_failed" and line["error_type"] == "ValueError" and line["level"] == "ERROR"
