"""modules/lambda_function/scripts/alias_wait.py, the deploy waits the module runs through local-exec, against
the local AWS (moto server with the provisioned-concurrency emulator) and, for the bounds, a scripted client."""

from __future__ import annotations

import time
from typing import Any

import alias_wait
import boto3
import pytest
from botocore.exceptions import ClientError
from lambda_local_aws import ALLOCATION_SECONDS, FAIL_AT_OR_ABOVE, LiveAlias

pytestmark = pytest.mark.slow


def _put(alias: LiveAlias, count: int) -> None:
    alias.client.put_provisioned_concurrency_config(
        FunctionName=alias.function_name, Qualifier="live", ProvisionedConcurrentExecutions=count
    )


def test_waiting_out_the_weights_lets_the_concurrency_change(live_alias: LiveAlias) -> None:
    _put(live_alias, 1)
    alias_wait.wait_until_ready(live_alias.client, alias_wait.Alias.parse(live_alias.arn), timeout_s=30)
    live_alias.client.update_alias(FunctionName=live_alias.function_name, Name="live", FunctionVersion="2")
    # What hashicorp/aws 5.x does next, without a wait, and what fails on Lambda:
    with pytest.raises(ClientError, match="Alias with weights"):
        _put(live_alias, 2)

    waited = alias_wait.wait_until_no_weights(live_alias.client, alias_wait.Alias.parse(live_alias.arn), timeout_s=30)

    assert 0 < waited < ALLOCATION_SECONDS + 2
    _put(live_alias, 2)
    assert alias_wait.wait_until_ready(live_alias.client, alias_wait.Alias.parse(live_alias.arn), timeout_s=30) > 0


def test_ready_wait_stops_at_failed_with_the_status_reason(live_alias: LiveAlias) -> None:
    _put(live_alias, FAIL_AT_OR_ABOVE)
    with pytest.raises(alias_wait.AllocationFailedError, match=r"FAILED: Requested 5 .* exceed"):
        alias_wait.wait_until_ready(live_alias.client, alias_wait.Alias.parse(live_alias.arn), timeout_s=30)


def test_ready_wait_without_a_configuration_fails_clearly(live_alias: LiveAlias) -> None:
    with pytest.raises(alias_wait.AllocationFailedError, match="no provisioned concurrency configuration"):
        alias_wait.wait_until_ready(live_alias.client, alias_wait.Alias.parse(live_alias.arn), timeout_s=5)


def test_main_prints_the_wait_and_exits_0(
    live_alias: LiveAlias, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _put(live_alias, 1)

    def client(alias: alias_wait.Alias, role_arn: str | None) -> Any:
        assert role_arn is None and alias.region == "us-east-1"
        return boto3.client(
            "lambda",
            region_name=alias.region,
            endpoint_url=moto_endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    assert alias_wait.main(["--until", "ready", "--timeout", "30", live_alias.arn], client_factory=client) == 0
    assert f"provisioned concurrency on {live_alias.function_name}:live is READY (waited " in capsys.readouterr().out


class _StuckAlias:
    """A Lambda client whose alias keeps its weights and whose provisioned concurrency stays IN_PROGRESS."""

    def get_alias(self, **_: Any) -> dict[str, Any]:
        return {"FunctionVersion": "8", "RoutingConfig": {"AdditionalVersionWeights": {"7": 1.0}}}

    def get_provisioned_concurrency_config(self, **_: Any) -> dict[str, Any]:
        return {
            "Status": "IN_PROGRESS",
            "RequestedProvisionedConcurrentExecutions": 2,
            "AllocatedProvisionedConcurrentExecutions": 0,
        }


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


ARN = "arn:aws:lambda:us-west-2:123456789012:function:prod-LexFulfillmentHandler:live"


def test_weights_wait_is_bounded_and_names_the_alias_and_its_weights() -> None:
    clock = _Clock()
    with pytest.raises(alias_wait.WaitTimeoutError) as timeout:
        alias_wait.wait_until_no_weights(
            _StuckAlias(), alias_wait.Alias.parse(ARN), timeout_s=60, clock=clock, sleep=clock.sleep
        )
    message = str(timeout.value)
    assert "prod-LexFulfillmentHandler:live" in message
    assert "{'7': 1.0}" in message
    assert "timeout 60 s" in message
    assert clock.now == 60
    assert clock.sleeps[:10] == [1.0] * 10 and set(clock.sleeps[10:]) == {5.0}


def test_ready_wait_is_bounded() -> None:
    clock = _Clock()
    with pytest.raises(alias_wait.WaitTimeoutError, match=r"still IN_PROGRESS \(0 of 2 environments allocated\)"):
        alias_wait.wait_until_ready(
            _StuckAlias(), alias_wait.Alias.parse(ARN), timeout_s=20, clock=clock, sleep=clock.sleep
        )
    assert clock.now == 20


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:us-west-2:123456789012:function:prod-LexFulfillmentHandler",
        "arn:aws:lambda:us-west-2:123456789012:function:prod-LexFulfillmentHandler:$LATEST",
        "arn:aws:lambda:us-west-2:123456789012:function:prod-LexFulfillmentHandler:28",
    ],
)
def test_only_alias_arns_are_accepted(arn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert alias_wait.main(["--until", "ready", arn], client_factory=lambda *_: _StuckAlias()) == 2
    assert "is not a Lambda alias ARN" in capsys.readouterr().err


def test_timeout_exit_code(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)
    assert (
        alias_wait.main(["--until", "no-weights", "--timeout", "0.01", ARN], client_factory=lambda *_: _StuckAlias())
        == 3
    )
    assert "must have no routing weights" in capsys.readouterr().err
