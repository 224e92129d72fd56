"""The whole stack applied to moto server, as `make run` does, then checked with boto3.

Issue 2 section 4 and issue 3 sections 1, 2, 3 and 5: published versions behind `live` aliases, tracing,
memory, the Lex bot alias code hook (qualified ARN ending in `:live`, everything else kept), state machine
tracing, the dashboard, an empty second plan, and the rollback switch. The rollback test changes the stack,
so it runs last in this module.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from e2e_support import AppliedStack, local_run
from local_aws.fixtures import bot_alias_problems

pytestmark = pytest.mark.e2e

LEX = local_run.LEX_FUNCTION


def describe_bot_alias(applied: AppliedStack) -> dict[str, Any]:
    lex = applied.stack.lex
    return dict(applied.stack.client("lexv2-models").describe_bot_alias(botId=lex.bot_id, botAliasId=lex.bot_alias_id))


def test_second_plan_shows_no_changes(applied_stack: AppliedStack) -> None:
    result = applied_stack.stack.plan()

    assert not result.has_changes, result.text


def test_stack_checks_out_as_make_run_verifies_it(applied_stack: AppliedStack) -> None:
    local_run.verify_stack(applied_stack.stack, applied_stack.manifest, applied_stack.outputs)


def test_apply_waited_for_ready_before_the_code_hook_moved(applied_stack: AppliedStack) -> None:
    name = applied_stack.outputs["lambda_function_names"][LEX]
    local_run.check_ready_before_code_hook(applied_stack.apply_stdout, name)
    waits = local_run.deploy_waits(applied_stack.apply_stdout)
    assert any(
        line.startswith(f"alias_wait: provisioned concurrency on {name}:live is READY (waited ") for line in waits
    )
    provisioned = applied_stack.stack.client("lambda").get_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live"
    )
    assert (provisioned["Status"], provisioned["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 1)


@pytest.mark.parametrize("key", local_run.FUNCTION_NAMES)
def test_live_alias_points_at_the_published_version(applied_stack: AppliedStack, key: str) -> None:
    lam = applied_stack.stack.client("lambda")
    name = applied_stack.outputs["lambda_function_names"][key]

    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    alias = lam.get_alias(FunctionName=name, Name="live")

    published = [v for v in versions if v != "$LATEST"]
    assert published, f"{name} has no published version: {versions}"
    assert alias["FunctionVersion"] == max(published, key=int)
    assert alias["FunctionVersion"] == str(applied_stack.outputs["lambda_published_versions"][key])


@pytest.mark.parametrize("key", local_run.FUNCTION_NAMES)
def test_tracing_is_active(applied_stack: AppliedStack, key: str) -> None:
    name = applied_stack.outputs["lambda_function_names"][key]

    config = applied_stack.stack.client("lambda").get_function_configuration(FunctionName=name, Qualifier="live")

    assert config["TracingConfig"]["Mode"] == "Active"


def test_generate_dynamic_scenario_has_512_mb(applied_stack: AppliedStack) -> None:
    name = applied_stack.outputs["lambda_function_names"]["GenerateDynamicScenarioHandler"]

    config = applied_stack.stack.client("lambda").get_function_configuration(FunctionName=name, Qualifier="live")

    assert config["MemorySize"] == 512


def test_deployed_code_is_the_manifests_zip(applied_stack: AppliedStack) -> None:
    lam = applied_stack.stack.client("lambda")
    deployed = {
        key: lam.get_function_configuration(FunctionName=name, Qualifier="live")["CodeSha256"]
        for key, name in applied_stack.outputs["lambda_function_names"].items()
    }

    expected = {key: entry["source_code_hash"] for key, entry in applied_stack.manifest["functions"].items()}
    assert deployed == expected


def test_bot_alias_code_hook_is_the_live_alias_and_other_settings_are_kept(applied_stack: AppliedStack) -> None:
    live_arn = applied_stack.outputs["lambda_alias_arns"][LEX]

    alias = describe_bot_alias(applied_stack)

    hook = alias["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]
    assert hook["lambdaARN"].endswith(":live")
    assert hook["lambdaARN"] == live_arn == applied_stack.outputs["lex_code_hook_lambda_arn"]
    assert hook["codeHookInterfaceVersion"] == "1.0"
    assert alias["sentimentAnalysisSettings"] == {"detectSentiment": True}
    assert alias["conversationLogSettings"]["textLogSettings"][0]["enabled"] is True
    assert alias["botAliasLocaleSettings"]["es_US"] == {"enabled": False}
    assert bot_alias_problems(alias, applied_stack.stack.lex, live_arn) == []


def test_lex_may_invoke_the_live_alias_only_from_the_bot_alias(applied_stack: AppliedStack) -> None:
    name = applied_stack.outputs["lambda_function_names"][LEX]
    lex = applied_stack.stack.lex

    policy = json.loads(applied_stack.stack.client("lambda").get_policy(FunctionName=name, Qualifier="live")["Policy"])

    statements = [s for s in policy["Statement"] if s["Principal"] == {"Service": "lexv2.amazonaws.com"}]
    assert len(statements) == 1
    source_arn = statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert source_arn.endswith(f":bot-alias/{lex.bot_id}/{lex.bot_alias_id}")


def test_state_machine_has_tracing_and_invokes_live_aliases(applied_stack: AppliedStack) -> None:
    arn = applied_stack.outputs["state_machine_arn"]

    machine = applied_stack.stack.client("stepfunctions").describe_state_machine(stateMachineArn=arn)

    assert machine["tracingConfiguration"]["enabled"] is True
    definition = machine["definition"]
    for key in (
        "CreateLeadHandler",
        "GenerateDynamicScenarioHandler",
        "InvokeOutboundCallHandler",
        "UpdateLeadHandler",
    ):
        assert applied_stack.outputs["lambda_alias_arns"][key] in definition


def test_dashboard_exists_with_widgets(applied_stack: AppliedStack) -> None:
    name = applied_stack.outputs["dashboard_name"]

    body = json.loads(applied_stack.stack.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])

    assert body["widgets"], "the dashboard has no widgets"


def _manifest_with_changed_lex_code(manifest_path: Path, out_dir: Path) -> tuple[Path, str]:
    """Copy the built zips to ``out_dir`` with one extra file in LexFulfillmentHandler's zip (a code change);
    return the new manifest's path and the changed zip's base64 SHA-256."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["functions"].values():
        shutil.copyfile(manifest_path.parent / entry["zip_path"], out_dir / entry["zip_path"])
    lex_entry = manifest["functions"][LEX]
    lex_zip = out_dir / lex_entry["zip_path"]
    with zipfile.ZipFile(lex_zip, "a") as archive:
        archive.writestr(zipfile.ZipInfo("e2e_code_change.txt", (1980, 1, 1, 0, 0, 0)), "a code change\n")
    data = lex_zip.read_bytes()
    lex_entry["source_code_hash"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
    lex_entry["size_bytes"] = len(data)
    changed = out_dir / "manifest.json"
    changed.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return changed, lex_entry["source_code_hash"]


def run_validate(applied: AppliedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``python validate.py`` against the applied stack, in-process, with moto's credentials."""
    import validate

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dict(applied.outputs)))
    argv = ["--outputs", str(outputs), "--endpoint-url", applied.stack.moto.endpoint_url, "--region", "us-east-1"]
    return validate.main([*argv, *args])


def test_validate_passes_on_the_applied_stack(
    applied_stack: AppliedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_validate(
        applied_stack, tmp_path, monkeypatch, "--skip", "metrics", "--conversations", "1", "--json", "-"
    )
    out = capsys.readouterr().out

    assert code == 0, out
    document = json.loads(out[out.index("{\n") :])
    names = {r["name"]: r["status"] for r in document["results"]}
    assert names["Lex code hook en_US"] == "pass"
    assert names["invoke live (greeting)"] == "pass" and names["invoke live (question)"] == "pass"
    [conversation] = document["conversations"]
    assert [t["text"] for t in conversation][0] == "Hello" and all(t["reply"] for t in conversation)


def test_validate_fails_when_the_code_hook_changed_out_of_band(
    applied_stack: AppliedStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lex = applied_stack.stack.client("lexv2-models")
    before = describe_bot_alias(applied_stack)
    settable = (
        "botAliasName",
        "description",
        "botVersion",
        "botAliasLocaleSettings",
        "conversationLogSettings",
        "sentimentAnalysisSettings",
    )
    keep = {k: before[k] for k in settable if k in before}
    changed = json.loads(json.dumps(keep["botAliasLocaleSettings"]))
    hook = changed["en_US"]["codeHookSpecification"]["lambdaCodeHook"]
    hook["lambdaARN"] = hook["lambdaARN"].rsplit(":", 1)[0]  # back to the unqualified function ($LATEST)
    lex.update_bot_alias(
        botId=applied_stack.stack.lex.bot_id,
        botAliasId=applied_stack.stack.lex.bot_alias_id,
        **{**keep, "botAliasLocaleSettings": changed},
    )
    try:
        code = run_validate(applied_stack, tmp_path, monkeypatch, "--skip", "metrics", "--skip", "smoke")
        out = capsys.readouterr().out
    finally:
        lex.update_bot_alias(
            botId=applied_stack.stack.lex.bot_id, botAliasId=applied_stack.stack.lex.bot_alias_id, **keep
        )

    assert code == 1
    assert "FAIL  Lex code hook en_US" in out


def test_rollback_moves_only_the_alias(applied_stack: AppliedStack, tmp_path: Path) -> None:
    stack = applied_stack.stack
    lam = stack.client("lambda")
    name = applied_stack.outputs["lambda_function_names"][LEX]
    hook_before = applied_stack.outputs["lex_code_hook_lambda_arn"]
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"

    # A code change publishes version 2 and the alias follows it.
    changed_manifest, changed_hash = _manifest_with_changed_lex_code(stack.settings.manifest_path, tmp_path)
    stack.apply(manifest_path=str(changed_manifest))
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    latest_before = lam.get_function_configuration(FunctionName=name)
    assert latest_before["CodeSha256"] == changed_hash

    # The rollback: pin the alias to version 1. The plan touches the alias (and its deploy waits) and nothing else.
    rollback = {"manifest_path": str(changed_manifest), "functions": {LEX: {"alias_function_version": "1"}}}
    plan_file = stack.settings.work_dir / "rollback.tfplan"
    assert stack.plan(out=plan_file, **rollback).has_changes
    plan = stack.terraform.show_plan(plan_file)
    changed = {
        c["address"]: c["change"]["actions"] for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]
    }
    lex_module = f'module.atlas_engine.module.lambda_function["{LEX}"]'
    assert changed.pop(f"{lex_module}.aws_lambda_alias.live") == ["update"]
    # The deploy waits (weights cleared, provisioned concurrency READY) re-run for the moved alias; nothing else.
    assert set(changed) <= {
        f"{lex_module}.terraform_data.alias_weights_cleared[0]",
        f"{lex_module}.terraform_data.provisioned_concurrency_ready[0]",
    }, changed

    stack.apply(**rollback)

    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert sorted(v for v in versions if v != "$LATEST") == ["1", "2"], "the rollback must not publish"
    latest_after = lam.get_function_configuration(FunctionName=name)
    kept = ("CodeSha256", "Environment", "MemorySize", "Timeout", "TracingConfig", "LoggingConfig")
    assert {k: latest_after.get(k) for k in kept} == {k: latest_before.get(k) for k in kept}
    outputs = stack.outputs()
    assert outputs["lex_code_hook_lambda_arn"] == hook_before
    assert outputs["lambda_alias_versions"][LEX] == "1"
    assert str(outputs["lambda_published_versions"][LEX]) == "2"
    assert bot_alias_problems(describe_bot_alias(applied_stack), stack.lex, hook_before) == []
    second = stack.plan(**rollback)
    assert not second.has_changes, second.text
