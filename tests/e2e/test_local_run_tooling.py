"""Fast tests of the local-run tooling itself (no terraform, one short-lived moto server).

They pin down what scripts/local_run.py and scripts/local_aws/ promise: the command lines the python-terraform
adapter really runs (its quirks worked around), the manifest checks, the summary, the bot alias comparison,
and the moto launcher's Lex V2 behaviour.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import stat
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from e2e_support import local_run
from local_aws.emulator import MotoServer
from local_aws.errors import TerraformError, VerificationError
from local_aws.fixtures import LexFixture, bot_alias_problems, create_lex_fixture
from local_aws.terraform_cli import TerraformRunner

################################################################################
# The python-terraform adapter, against a fake terraform that records its argv
################################################################################


@pytest.fixture
def fake_terraform(tmp_path: Path) -> Path:
    """An executable that records argv, some environment and any -var-file's content to calls.jsonl, prints
    FAKE_TF_STDOUT and exits with FAKE_TF_EXIT."""
    script = tmp_path / "terraform"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import json, os, sys
            var_files = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("-var-file=")]
            record = {{
                "argv": sys.argv[1:],
                "cwd": os.getcwd(),
                "env": {{k: os.environ.get(k) for k in ("TF_DATA_DIR", "AWS_PROFILE", "AWS_ACCESS_KEY_ID")}},
                "var_files": [json.load(open(f)) for f in var_files],
            }}
            with open({str(tmp_path / "calls.jsonl")!r}, "a") as log:
                log.write(json.dumps(record) + "\\n")
            sys.stdout.write(os.environ.get("FAKE_TF_STDOUT", ""))
            sys.stderr.write("fake stderr line\\n")
            sys.exit(int(os.environ.get("FAKE_TF_EXIT", "0")))
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def runner(tmp_path: Path, fake_terraform: Path, **kwargs: Any) -> TerraformRunner:
    return TerraformRunner(
        working_dir=tmp_path,
        state_path=tmp_path / "run" / "terraform.tfstate",
        data_dir=tmp_path / "run" / "tf-data",
        log_path=tmp_path / "run" / "terraform.log",
        terraform_bin=str(fake_terraform),
        **kwargs,
    )


def test_init_sends_only_flags_init_takes(tmp_path: Path, fake_terraform: Path) -> None:
    runner(tmp_path, fake_terraform, plugin_dir="/opt/mirror").init()

    (call,) = calls(tmp_path)
    assert call["argv"] == ["init", "-input=false", "-no-color", "-plugin-dir=/opt/mirror"]


def test_init_without_a_mirror_uses_the_registry(tmp_path: Path, fake_terraform: Path) -> None:
    runner(tmp_path, fake_terraform, plugin_dir="").init()

    (call,) = calls(tmp_path)
    assert not any(a.startswith("-plugin-dir") for a in call["argv"])


def test_apply_auto_approves_and_passes_variables_as_a_json_file(tmp_path: Path, fake_terraform: Path) -> None:
    variables = {
        "endpoint_url": "http://127.0.0.1:1",
        "functions": {"LexFulfillmentHandler": {"alias_function_version": "1"}},
    }

    runner(tmp_path, fake_terraform).apply(variables)

    (call,) = calls(tmp_path)
    assert call["argv"][0] == "apply"
    assert "-auto-approve" in call["argv"]
    assert "-auto-approve=false" not in call["argv"]
    assert f"-state={tmp_path / 'run' / 'terraform.tfstate'}" in call["argv"]
    assert call["var_files"] == [variables]
    assert call["cwd"] == str(tmp_path)
    temp_var_files = [Path(a.split("=", 1)[1]) for a in call["argv"] if a.startswith("-var-file=")]
    assert not any(f.exists() for f in temp_var_files), "python-terraform's temporary var files are cleaned up"


@pytest.mark.parametrize(("exit_code", "has_changes"), [(0, False), (2, True)])
def test_plan_reads_the_detailed_exit_code(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int, has_changes: bool
) -> None:
    monkeypatch.setenv("FAKE_TF_EXIT", str(exit_code))
    monkeypatch.setenv("FAKE_TF_STDOUT", "plan text\n")

    result = runner(tmp_path, fake_terraform).plan({"a": 1}, out=tmp_path / "x.tfplan")

    (call,) = calls(tmp_path)
    assert "-detailed-exitcode" in call["argv"]
    assert f"-out={tmp_path / 'x.tfplan'}" in call["argv"]
    assert result.has_changes is has_changes
    assert result.text == "plan text\n"


def test_a_failed_command_raises_with_stderr_and_the_log_path(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_EXIT", "1")
    tf = runner(tmp_path, fake_terraform)

    with pytest.raises(TerraformError) as failure:
        tf.plan({})

    assert "exit code 1" in str(failure.value)
    assert "fake stderr line" in str(failure.value)
    assert str(tf.log_path) in str(failure.value)
    assert "$ " in tf.log_path.read_text()


def test_environment_is_set_for_terraform_only(
    tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-elses")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    tf = runner(tmp_path, fake_terraform, env={"AWS_ACCESS_KEY_ID": "test"}, unset_env=("AWS_PROFILE",))

    tf.init()

    (call,) = calls(tmp_path)
    assert call["env"] == {
        "TF_DATA_DIR": str(tmp_path / "run" / "tf-data"),
        "AWS_PROFILE": None,
        "AWS_ACCESS_KEY_ID": "test",
    }
    assert os.environ["AWS_PROFILE"] == "someone-elses"
    assert "AWS_ACCESS_KEY_ID" not in os.environ


def test_outputs_are_values_by_name(tmp_path: Path, fake_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FAKE_TF_STDOUT",
        json.dumps({"dashboard_name": {"value": "local-AtlasEngine", "type": "string", "sensitive": False}}),
    )

    assert runner(tmp_path, fake_terraform).outputs() == {"dashboard_name": "local-AtlasEngine"}
    assert calls(tmp_path)[0]["argv"][:1] == ["output"]


def test_missing_terraform_is_a_clear_error(tmp_path: Path) -> None:
    tf = runner(tmp_path, tmp_path / "no-such-terraform")

    with pytest.raises(TerraformError, match="not found"):
        tf.init()


################################################################################
# Manifest, summary, settings
################################################################################


def write_manifest(folder: Path) -> Path:
    functions = {}
    for i, name in enumerate(local_run.FUNCTION_NAMES):
        (folder / f"{name}.zip").write_bytes(b"PK")
        functions[name] = {"zip_path": f"{name}.zip", "source_code_hash": f"hash{i}=", "size_bytes": 1536 * (i + 1)}
    path = folder / "manifest.json"
    path.write_text(json.dumps({"schema_version": 1, "functions": functions}))
    return path


def test_read_manifest_accepts_the_contract_shape(tmp_path: Path) -> None:
    manifest = local_run.read_manifest(write_manifest(tmp_path))

    assert set(manifest["functions"]) == set(local_run.FUNCTION_NAMES)


def test_missing_manifest_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(local_run.ManifestError, match="make build"):
        local_run.read_manifest(tmp_path / "manifest.json")


def test_manifest_without_a_zip_is_rejected(tmp_path: Path) -> None:
    path = write_manifest(tmp_path)
    (tmp_path / "CreateLeadHandler.zip").unlink()

    with pytest.raises(local_run.ManifestError, match="CreateLeadHandler"):
        local_run.read_manifest(path)


def test_summary_lists_each_function_and_the_wiring(tmp_path: Path) -> None:
    manifest = local_run.read_manifest(write_manifest(tmp_path))
    names = {k: f"local-{k}" for k in local_run.FUNCTION_NAMES}
    outputs = {
        "lambda_function_names": names,
        "lambda_published_versions": dict.fromkeys(names, "3"),
        "lambda_alias_versions": {**dict.fromkeys(names, "3"), "LexFulfillmentHandler": "2"},
        "lex_code_hook_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:local-LexFulfillmentHandler:live",
        "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:local-AtlasEngineWorkflow",
        "dashboard_name": "local-AtlasEngine",
    }

    text = local_run.format_summary(manifest, outputs)

    lex_row = next(line for line in text.splitlines() if line.startswith("local-LexFulfillmentHandler "))
    assert re.search(r"\s3\s+live -> 2\s+1\.5 kB\s+hash0=$", lex_row), lex_row
    assert outputs["lex_code_hook_lambda_arn"] in text
    assert outputs["state_machine_arn"] in text
    assert "local-AtlasEngine" in text


def test_settings_default_to_what_make_run_does() -> None:
    settings = local_run.settings_from_args([], environ={"TF_PLUGIN_DIR": "/opt/tf-plugins"})

    assert settings.port is None
    assert settings.keep_running is False
    assert settings.plugin_dir == "/opt/tf-plugins"
    assert settings.example_dir == local_run.REPO_ROOT / "examples" / "local"
    assert settings.manifest_path == local_run.REPO_ROOT / "dist" / "manifest.json"


def test_settings_from_flags_and_environment() -> None:
    settings = local_run.settings_from_args(["--keep-running"], environ={"MOTO_PORT": "5123", "TF_PLUGIN_DIR": ""})

    assert settings.port == 5123
    assert settings.keep_running is True
    assert settings.plugin_dir is None


################################################################################
# Bot alias comparison
################################################################################

LIVE = "arn:aws:lambda:us-east-1:123456789012:function:local-LexFulfillmentHandler:live"


def fixture_and_updated_alias() -> tuple[LexFixture, dict[str, Any]]:
    initial = {
        "botAliasName": "Production",
        "description": "d",
        "botVersion": "1",
        "botAliasLocaleSettings": {
            "en_US": {
                "enabled": True,
                "codeHookSpecification": {"lambdaCodeHook": {"lambdaARN": "old", "codeHookInterfaceVersion": "1.0"}},
            },
            "es_US": {"enabled": False},
        },
        "conversationLogSettings": {"textLogSettings": [{"enabled": True}]},
        "sentimentAnalysisSettings": {"detectSentiment": True},
    }
    fixture = LexFixture("BOT0000001", "ALIAS00001", ("en_US",), initial)
    updated = copy.deepcopy(initial)
    updated["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = LIVE
    return fixture, updated


_WAITS_THEN_HOOK = """\
module.atlas_engine.module.lambda_function["LexFulfillmentHandler"].terraform_data.alias_weights_cleared[0] (local-exec): alias_wait: local-LexFulfillmentHandler:live has no routing weights (waited 0.1 s)
module.atlas_engine.module.lambda_function["LexFulfillmentHandler"].terraform_data.provisioned_concurrency_ready[0] (local-exec): alias_wait: provisioned concurrency on local-LexFulfillmentHandler:live is READY (waited 3.2 s)
module.atlas_engine.module.lex_code_hook[0].terraform_data.code_hook: Creating...
"""


def test_deploy_waits_are_picked_from_the_apply_output() -> None:
    assert local_run.deploy_waits(_WAITS_THEN_HOOK) == [
        "alias_wait: local-LexFulfillmentHandler:live has no routing weights (waited 0.1 s)",
        "alias_wait: provisioned concurrency on local-LexFulfillmentHandler:live is READY (waited 3.2 s)",
    ]
    local_run.check_ready_before_code_hook(_WAITS_THEN_HOOK, "local-LexFulfillmentHandler")


def test_code_hook_before_ready_or_no_wait_is_reported() -> None:
    lines = _WAITS_THEN_HOOK.splitlines()
    hook_first = "\n".join([lines[2], lines[0], lines[1]])
    with pytest.raises(VerificationError, match="before local-LexFulfillmentHandler:live's provisioned concurrency"):
        local_run.check_ready_before_code_hook(hook_first, "local-LexFulfillmentHandler")
    with pytest.raises(VerificationError, match="did not wait"):
        local_run.check_ready_before_code_hook(lines[2], "local-LexFulfillmentHandler")


def test_only_the_code_hook_moved() -> None:
    fixture, updated = fixture_and_updated_alias()

    assert bot_alias_problems(updated, fixture, LIVE) == []


def test_lost_settings_and_wrong_hook_are_reported() -> None:
    fixture, updated = fixture_and_updated_alias()
    updated["sentimentAnalysisSettings"] = None
    updated["botAliasLocaleSettings"]["es_US"] = {"enabled": True}
    updated["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = LIVE[
        : -len(":live")
    ]

    problems = bot_alias_problems(updated, fixture, LIVE)

    assert len(problems) == 3
    assert any(p.startswith("sentimentAnalysisSettings changed") for p in problems)
    assert any("unmanaged locale es_US" in p for p in problems)
    assert any("locale en_US code hook" in p for p in problems)


################################################################################
# moto launcher: Lex V2 as the real service shapes it
################################################################################


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with MotoServer(sys.executable, tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


def test_lex_fixture_has_lex_shaped_ids_and_arn(moto: MotoServer) -> None:
    lex = local_run.moto_client("lexv2-models", moto.endpoint_url, "us-east-1")

    fixture = create_lex_fixture(lex, "us-east-1", "123456789012")

    assert re.fullmatch(r"[0-9A-Z]{10}", fixture.bot_id)
    assert re.fullmatch(r"[0-9A-Z]{10}", fixture.bot_alias_id)
    assert fixture.initial_alias["botAliasName"] == "Production"
    alias = lex.describe_bot_alias(botId=fixture.bot_id, botAliasId=fixture.bot_alias_id)
    assert alias["botAliasStatus"] == "Available"
    aliases = lex.list_bot_aliases(botId=fixture.bot_id)["botAliasSummaries"]
    assert fixture.bot_alias_id in {a["botAliasId"] for a in aliases}


def test_unknown_bot_alias_is_resource_not_found(moto: MotoServer) -> None:
    lex = local_run.moto_client("lexv2-models", moto.endpoint_url, "us-east-1")
    fixture = create_lex_fixture(lex, "us-east-1", "123456789012")

    with pytest.raises(ClientError) as wrong_alias:
        lex.describe_bot_alias(botId=fixture.bot_id, botAliasId="ZZZZZZZZZZ")
    with pytest.raises(ClientError) as wrong_bot:
        lex.describe_bot_alias(botId="ZZZZZZZZZZ", botAliasId=fixture.bot_alias_id)

    for failure in (wrong_alias, wrong_bot):
        assert failure.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_resent_lambda_permission_is_kept_once_and_a_taken_id_conflicts(moto: MotoServer) -> None:
    iam = local_run.moto_client("iam", moto.endpoint_url, "us-east-1")
    lam = local_run.moto_client("lambda", moto.endpoint_url, "us-east-1")
    role = iam.create_role(RoleName="permission-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return event\n")
    lam.create_function(
        FunctionName="permission-test",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": code.getvalue()},
    )
    grant = {
        "FunctionName": "permission-test",
        "StatementId": "AllowLex",
        "Action": "lambda:InvokeFunction",
        "Principal": "lexv2.amazonaws.com",
        "SourceArn": "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDE12345/FGHIJ67890",
    }

    lam.add_permission(**grant)
    lam.add_permission(**grant)
    with pytest.raises(ClientError) as taken:
        lam.add_permission(**{**grant, "Principal": "events.amazonaws.com"})

    statements = json.loads(lam.get_policy(FunctionName="permission-test")["Policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AllowLex"]
    assert statements[0]["Principal"] == {"Service": "lexv2.amazonaws.com"}
    assert taken.value.response["Error"]["Code"] == "ResourceConflictException"


def test_moto_server_stops_when_the_block_ends(tmp_path: Path) -> None:
    server = MotoServer(sys.executable, tmp_path / "moto.log")
    with server:
        assert server.is_answering()

    assert not server.is_answering()
    assert "GET /moto-api/data.json" in (tmp_path / "moto.log").read_text()
