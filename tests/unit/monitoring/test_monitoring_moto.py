"""Apply the monitoring module against moto server, then check that a second plan shows no changes.

dashboard_body is a classic perpetual-diff source (the API hands the JSON back re-serialised); this test
applies the real module with the hashicorp/aws provider pointed at moto, reads the dashboard and alarms back
with boto3, and runs `terraform plan -detailed-exitcode`, which exits 0 only when nothing would change.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from monitoring_render import module_inputs, terraform_available, write_scratch_root

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REGION = "us-west-2"
NAME = "moto-AtlasEngine"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server of our own on a free loopback port, stopped at the end of the module."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto server did not start")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def applied(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Apply the module with an SNS topic for actions, then run the second plan. Returns what the tests read."""
    if not terraform_available():
        pytest.skip("terraform is not on PATH")
    directory: Path = tmp_path_factory.mktemp("monitoring-moto")
    inputs = module_inputs(NAME, REGION, average_ms=5000, p99_ms=7000)
    inputs["alarms"]["sns_topic_arn"] = f"arn:aws:sns:{REGION}:123456789012:atlas-alerts"
    scratch = write_scratch_root(directory, REGION, inputs, endpoint_url=moto_endpoint)
    code, _out, err = scratch.terraform.apply(skip_plan=True)
    assert code == 0, f"terraform apply failed:\n{err}"
    code, body_out, err = scratch.terraform.cmd("output", "dashboard_body", raw=True)
    assert code == 0, err
    second_plan_code, second_plan_out, second_plan_err = scratch.terraform.plan()
    return {
        "inputs": inputs,
        "endpoint": moto_endpoint,
        "applied_body": body_out,
        "second_plan": (second_plan_code, second_plan_out, second_plan_err),
    }


def _cloudwatch(endpoint: str) -> Any:
    return boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_second_plan_shows_no_changes(applied: dict[str, Any]) -> None:
    code, out, err = applied["second_plan"]
    assert code == 0, f"second plan exit {code} (2 = changes pending):\n{out}\n{err}"
    assert "No changes." in out


def test_dashboard_stored_as_planned(applied: dict[str, Any]) -> None:
    stored = _cloudwatch(applied["endpoint"]).get_dashboard(DashboardName=NAME)
    assert json.loads(stored["DashboardBody"]) == json.loads(applied["applied_body"])


def test_alarms_created_with_actions_and_thresholds(applied: dict[str, Any]) -> None:
    alarms = {
        a["AlarmName"]: a
        for a in _cloudwatch(applied["endpoint"]).describe_alarms(AlarmNamePrefix=f"{NAME}-")["MetricAlarms"]
    }
    topic = applied["inputs"]["alarms"]["sns_topic_arn"]
    assert len(alarms) == 15
    lex = alarms[f"{NAME}-LexFulfillmentHandler-p99-duration"]
    assert lex["ExtendedStatistic"] == "p99"
    assert lex["Threshold"] == 7000
    assert {d["Name"]: d["Value"] for d in lex["Dimensions"]} == {
        "FunctionName": f"{NAME}-LexFulfillmentHandler",
        "Resource": f"{NAME}-LexFulfillmentHandler:live",
    }
    assert all(a["AlarmActions"] == [topic] and a["OKActions"] == [topic] for a in alarms.values())
    assert alarms[f"{NAME}-workflow-executions-failed"]["Namespace"] == "AWS/States"
