"""The local AWS's provisioned concurrency (scripts/local_aws/lambda_provisioned_concurrency.py) behaves as the
Lambda API pages say, and no kinder: IN_PROGRESS then READY, FAILED with a reason, transient weights on a version
move, and PutProvisionedConcurrencyConfig refused while weights are set."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from lambda_local_aws import ALLOCATION_SECONDS, FAIL_AT_OR_ABOVE, LiveAlias

pytestmark = pytest.mark.slow


def _get(alias: LiveAlias) -> dict:
    return alias.client.get_provisioned_concurrency_config(FunctionName=alias.function_name, Qualifier="live")


def _put(alias: LiveAlias, count: int) -> dict:
    return alias.client.put_provisioned_concurrency_config(
        FunctionName=alias.function_name, Qualifier="live", ProvisionedConcurrentExecutions=count
    )


def test_put_is_in_progress_then_ready(live_alias: LiveAlias) -> None:
    put = _put(live_alias, 2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (put["Status"], put["RequestedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 2)
    assert put["AllocatedProvisionedConcurrentExecutions"] == 0
    assert _get(live_alias)["Status"] == "IN_PROGRESS"
    time.sleep(ALLOCATION_SECONDS + 0.2)
    ready = _get(live_alias)
    assert ready["Status"] == "READY"
    assert ready["AllocatedProvisionedConcurrentExecutions"] == ready["AvailableProvisionedConcurrentExecutions"] == 2
    assert "StatusReason" not in ready


def test_allocation_above_the_threshold_fails_with_a_reason(live_alias: LiveAlias) -> None:
    _put(live_alias, FAIL_AT_OR_ABOVE)
    time.sleep(ALLOCATION_SECONDS + 0.2)
    failed = _get(live_alias)
    assert failed["Status"] == "FAILED"
    assert "exceed" in failed["StatusReason"]


def test_version_move_adds_transient_weights_and_refuses_a_put_meanwhile(live_alias: LiveAlias) -> None:
    _put(live_alias, 1)
    time.sleep(ALLOCATION_SECONDS + 0.2)
    moved = live_alias.client.update_alias(FunctionName=live_alias.function_name, Name="live", FunctionVersion="2")
    assert moved["FunctionVersion"] == "2"
    assert moved["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 1.0}}
    assert _get(live_alias)["Status"] == "IN_PROGRESS"
    with pytest.raises(ClientError) as refused:
        _put(live_alias, 2)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert (
        refused.value.response["Error"]["Message"] == "Alias with weights can not be used with Provisioned Concurrency"
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    time.sleep(ALLOCATION_SECONDS + 0.2)
    settled = live_alias.client.get_alias(FunctionName=live_alias.function_name, Name="live")
    assert not settled.get("RoutingConfig")
    assert _get(live_alias)["Status"] == "READY"
    assert _put(live_alias, 2)["Status"] == "IN_PROGRESS"


def test_configured_weights_refuse_a_put_too(live_alias: LiveAlias) -> None:
    live_alias.client.update_alias(
        FunctionName=live_alias.function_name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}}
    )
    with pytest.raises(ClientError, match="Alias with weights can not be used with Provisioned Concurrency"):
        _put(live_alias, 1)


def test_alias_without_provisioned_concurrency_moves_without_weights(live_alias: LiveAlias) -> None:
    moved = live_alias.client.update_alias(FunctionName=live_alias.function_name, Name="live", FunctionVersion="2")
    assert not moved.get("RoutingConfig")


def test_delete_and_not_found(live_alias: LiveAlias) -> None:
    _put(live_alias, 1)
    deleted = live_alias.client.delete_provisioned_concurrency_config(
        FunctionName=live_alias.function_name, Qualifier="live"
    )
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as missing:
        _get(live_alias)
    assert missing.value.response["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_latest_and_unknown_functions_are_refused(live_alias: LiveAlias) -> None:
    with pytest.raises(ClientError) as latest:
        live_alias.client.put_provisioned_concurrency_config(
            FunctionName=live_alias.function_name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert latest.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as unknown:
        live_alias.client.get_provisioned_concurrency_config(FunctionName="no-such-function", Qualifier="live")
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
