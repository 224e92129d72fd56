"""Issue 7 sections 4 and 5 against the local AWS (moto through scripts/local_aws, as `make run`).

- Drift: a code hook changed with boto3 (as from the console or the CLI) gives a non-empty plan, the apply puts
  it back, the output reports what AWS has, and the plan after the repair is empty.
- Removal: `terraform destroy` refuses, naming the override, while the function the alias called before adoption
  is missing, and once it exists puts its code hook back.

The destroy test empties the stack, so it runs last in this module.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from e2e_support import AppliedStack, local_run
from local_aws.errors import TerraformError

pytestmark = pytest.mark.e2e

LEX = local_run.LEX_FUNCTION


def describe(applied: AppliedStack) -> dict[str, Any]:
    lex = applied.stack.lex
    described = applied.stack.client("lexv2-models").describe_bot_alias(botId=lex.bot_id, botAliasId=lex.bot_alias_id)
    return dict(described)


def en_us_hook(described: dict[str, Any]) -> str | None:
    settings = described["botAliasLocaleSettings"]["en_US"]
    return settings.get("codeHookSpecification", {}).get("lambdaCodeHook", {}).get("lambdaARN")


def test_drift_made_with_boto3_is_planned_repaired_and_then_quiet(applied_stack: AppliedStack) -> None:
    stack = applied_stack.stack
    live = applied_stack.outputs["lambda_alias_arns"][LEX]
    assert en_us_hook(describe(applied_stack)) == live
    unqualified = live.rsplit(":", 1)[0]

    # The console edit: en_US back on the unqualified function; everything else as it is.
    current = describe(applied_stack)
    current["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = unqualified
    stack.client("lexv2-models").update_bot_alias(
        botId=stack.lex.bot_id,
        botAliasId=stack.lex.bot_alias_id,
        **{k: current[k] for k in ("botAliasName", "description", "botVersion", "botAliasLocaleSettings")},
        conversationLogSettings=current["conversationLogSettings"],
        sentimentAnalysisSettings=current["sentimentAnalysisSettings"],
    )
    assert stack.outputs()["lex_code_hook_lambda_arn"] == live, "state still holds the last read"

    drifted = stack.plan()
    assert drifted.has_changes, "a code hook changed outside Terraform must give a non-empty plan"
    assert "terraform_data.code_hook must be replaced" in drifted.text, drifted.text
    assert '"as wanted" -> (known after apply)' in drifted.text, drifted.text
    stack.apply()

    assert en_us_hook(describe(applied_stack)) == live
    outputs = stack.outputs()
    assert outputs["lex_code_hook_lambda_arn"] == live and outputs["lex_code_hook_drift"] == []
    after = stack.plan()
    assert not after.has_changes, after.text


def create_function(applied: AppliedStack, arn: str) -> None:
    """Create the Lambda function ``arn`` names in moto, as the one the alias called before adoption would be."""
    iam = applied.stack.client("iam")
    role = iam.create_role(
        RoleName="pre-atlas-lex-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    applied.stack.client("lambda").create_function(
        FunctionName=arn.split(":")[6],
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
    )


def test_destroy_refuses_a_missing_recorded_function_then_puts_back_the_hook(applied_stack: AppliedStack) -> None:
    stack = applied_stack.stack
    initial = stack.lex.initial_alias
    live = applied_stack.outputs["lambda_alias_arns"][LEX]
    recorded = en_us_hook(initial)
    assert en_us_hook(describe(applied_stack)) == live
    assert stack.outputs()["lex_code_hook_on_removal"] == {"en_US": recorded}, "the plan says what removal does"

    # The fixture's alias called the unqualified LexFulfillmentHandler, which this moto does not have (the stack
    # deploys local-LexFulfillmentHandler): destroy must stop and name the override, leaving the alias working.
    with pytest.raises(TerraformError) as caught:
        stack.destroy()
    message = " ".join(str(caught.value).split())
    assert "exit status 9" in message and "code_hook_on_removal" in message and recorded in message
    assert en_us_hook(describe(applied_stack)) == live

    # With the recorded function there, destroy puts its hook back and keeps everything else.
    create_function(applied_stack, recorded)
    stack.destroy()

    after = describe(applied_stack)
    assert en_us_hook(after) == recorded
    assert after["botAliasLocaleSettings"] == initial["botAliasLocaleSettings"]
    for key in ("botAliasName", "description", "botVersion", "conversationLogSettings", "sentimentAnalysisSettings"):
        assert after.get(key) == initial.get(key), key
