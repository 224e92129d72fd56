"""modules/lambda_function applied for real, with the hashicorp/aws provider pointed at moto server.

The mock_provider suites check what the module plans; this one checks what the provider and the Lambda API
make of it, in the order a pipeline meets it, with provisioned concurrency on the alias (emulated by
scripts/local_aws/lambda_provisioned_concurrency.py: IN_PROGRESS for LOCAL_AWS_PC_ALLOCATION_SECONDS, transient
routing weights on the alias while its version moves, PutProvisionedConcurrencyConfig refused meanwhile):

1. apply a tiny real zip with provisioned concurrency 1: version 1 is published, ``live`` points at it, READY;
2. a second plan shows no changes (no perpetual diff from source_code_hash, tracing, environment, weights ...);
3. new code: version 2 is published, ``live`` follows (the emulator adds transient weights), the plan after that
   is empty again;
4. new code and provisioned concurrency 2 in one apply: the weights are waited out before
   PutProvisionedConcurrencyConfig, the apply succeeds and the next plan is empty (issue 7 section 1);
5. a routing weight set outside Terraform shows in the next plan, and apply removes it;
6. a zip that does not match ``source_code_hash`` fails the apply with the module's postcondition message, and
   ``live`` stays on the previous version (issue 7 section 3); a correct apply then recovers;
7. rollback: pinning ``alias_function_version = "1"`` plans an update of the alias (and re-runs of the deploy
   waits) and nothing else (read from ``terraform show -json`` of the saved plan); after apply the alias ARN is
   the same, no version was published and the function still runs the latest code.

moto runs through scripts/local_aws/moto_launcher.py (MotoServer), as in ``make run``. The module's deploy waits
run modules/lambda_function/scripts/alias_wait.py with this interpreter. Terraform is driven through
python-terraform (scripts/local_aws/terraform_cli.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from e2e_support import REPO_ROOT, plugin_dir
from local_aws.emulator import MotoServer
from local_aws.errors import TerraformError
from local_aws.terraform_cli import PlanResult, TerraformRunner

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REGION = "us-east-1"
FUNCTION_NAME = "e2e-LexFulfillmentHandler"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:atlas/salesforce-AbCdEf"
MODULE_DIR = REPO_ROOT / "modules" / "lambda_function"
UNSET_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN")

SCRATCH_ROOT = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = "%(region)s"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true

  endpoints {
    lambda     = "%(endpoint)s"
    iam        = "%(endpoint)s"
    logs       = "%(endpoint)s"
    sts        = "%(endpoint)s"
    cloudwatch = "%(endpoint)s"
  }
}

variable "zip_path" {
  type = string
}

variable "source_code_hash" {
  type = string
}

variable "alias_function_version" {
  type    = string
  default = null
}

variable "provisioned_concurrent_executions" {
  type    = number
  default = 1
}

module "lambda_function" {
  source = "%(module)s"

  function_name    = "%(function_name)s"
  description      = "e2e: modules/lambda_function on moto"
  filename         = var.zip_path
  source_code_hash = var.source_code_hash
  handler          = "lambda_function.lambda_handler"
  runtime          = "python3.12"
  architecture     = "x86_64"
  memory_size      = 512
  timeout          = 30

  environment_variables = {
    LOG_LEVEL          = "INFO"
    BEDROCK_MAX_TOKENS = "150"
  }
  policy_statements = {
    salesforce_secret = {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = ["%(secret_arn)s"]
    }
  }

  alias_function_version            = var.alias_function_version
  provisioned_concurrent_executions = var.provisioned_concurrent_executions
  python_executable                 = "%(python)s"
  script_environment                = { AWS_ENDPOINT_URL = "%(endpoint)s" }
  wait_timeout_seconds              = 120
  log_retention_in_days             = 14
  tags                              = { Application = "AtlasEngine" }
}

output "lambda" {
  value = {
    function_name          = module.lambda_function.function_name
    published_version      = module.lambda_function.published_version
    alias_arn              = module.lambda_function.alias_arn
    alias_function_version = module.lambda_function.alias_function_version
    role_name              = module.lambda_function.role_name
    log_group_name         = module.lambda_function.log_group_name
    ready_alias_arn        = module.lambda_function.ready_alias_arn
  }
}
"""


def handler_zip(revision: str) -> bytes:
    """A deterministic one-file deployment package whose handler returns ``revision``."""
    source = f"def lambda_handler(event, context):\n    return {{'revision': {revision!r}}}\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("lambda_function.py", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
    return buffer.getvalue()


def base64_sha256(data: bytes) -> str:
    """What build.py's manifest, Terraform's filebase64sha256 and Lambda's CodeSha256 all report for a zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@dataclass
class Deployment:
    """Everything the module's life cycle left to check, captured in order by the ``deployment`` fixture."""

    endpoint: str
    zips: dict[str, bytes]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    apply_texts: dict[str, str] = field(default_factory=dict)
    plans_have_changes: dict[str, bool] = field(default_factory=dict)
    plan_texts: dict[str, str] = field(default_factory=dict)
    provisioned: dict[str, dict[str, Any]] = field(default_factory=dict)
    weight_plan: PlanResult | None = None
    pin_plan_actions: dict[str, list[str]] = field(default_factory=dict)
    versions_before_pin: list[str] = field(default_factory=list)
    versions_after_pin: list[str] = field(default_factory=list)
    live_version_after_pin: str = ""
    code_sha256_after_pin: str = ""
    mismatch_error: str = ""
    live_before_mismatch: str = ""
    live_after_mismatch: str = ""
    versions_after_mismatch: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Run the whole life cycle once against a moto server of our own; the tests read what it recorded."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    work = tmp_path_factory.mktemp("lambda-function-moto")
    zips = {name: handler_zip(name) for name in ("v1", "v2", "v3", "v4")}
    for name, data in zips.items():
        (work / f"{name}.zip").write_bytes(data)

    with MotoServer(sys.executable, work / "moto.log") as moto:
        root = work / "root"
        root.mkdir()
        (root / "main.tf").write_text(
            SCRATCH_ROOT
            % {
                "region": REGION,
                "endpoint": moto.endpoint_url,
                "module": MODULE_DIR.as_posix(),
                "function_name": FUNCTION_NAME,
                "secret_arn": SECRET_ARN,
                "python": sys.executable,
            },
            encoding="utf-8",
        )
        terraform = TerraformRunner(
            working_dir=root,
            state_path=work / "terraform.tfstate",
            data_dir=work / "tf-data",
            log_path=work / "terraform.log",
            plugin_dir=plugin_dir(),
            # For the deploy waits (alias_wait.py): moto's dummy keys; the endpoint comes from script_environment.
            env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_MAX_ATTEMPTS": "2"},
            unset_env=UNSET_ENV,
        )
        deployed = Deployment(endpoint=moto.endpoint_url, zips=zips)
        lam = deployed.client("lambda")

        def variables(
            revision: str, pin: str | None = None, source_code_hash: str | None = None, provisioned: int = 1
        ) -> dict[str, Any]:
            return {
                "zip_path": str(work / f"{revision}.zip"),
                "source_code_hash": source_code_hash or base64_sha256(zips[revision]),
                "alias_function_version": pin,
                "provisioned_concurrent_executions": provisioned,
            }

        def record(stage: str, revision: str, pin: str | None = None, provisioned: int = 1) -> None:
            deployed.apply_texts[stage] = terraform.apply(variables(revision, pin, provisioned=provisioned)).stdout
            deployed.outputs[stage] = terraform.outputs()["lambda"]
            deployed.provisioned[stage] = lam.get_provisioned_concurrency_config(
                FunctionName=FUNCTION_NAME, Qualifier="live"
            )
            plan = terraform.plan(variables(revision, pin, provisioned=provisioned))
            deployed.plans_have_changes[stage] = plan.has_changes
            deployed.plan_texts[stage] = plan.text

        terraform.init()
        record("first", "v1")
        record("new_code", "v2")
        # Code and provisioned concurrency in one apply: the alias moves (transient weights), then the count.
        record("code_and_concurrency", "v3", provisioned=2)

        # A weight left on the alias (here: set by hand) must show in the plan, and apply must remove it.
        lam.update_alias(
            FunctionName=FUNCTION_NAME, Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}}
        )
        deployed.weight_plan = terraform.plan(variables("v3", provisioned=2))
        record("weight_removed", "v3", provisioned=2)

        # The zip on disk is v4 but the "manifest" claims v1's hash: the upload happens and a version is
        # published, then the read-back CodeSha256 disagrees with source_code_hash before the alias moves.
        deployed.live_before_mismatch = lam.get_alias(FunctionName=FUNCTION_NAME, Name="live")["FunctionVersion"]
        try:
            terraform.apply(variables("v4", source_code_hash=base64_sha256(zips["v1"]), provisioned=2))
        except TerraformError as error:
            deployed.mismatch_error = " ".join(error.output.split())
        deployed.live_after_mismatch = lam.get_alias(FunctionName=FUNCTION_NAME, Name="live")["FunctionVersion"]
        deployed.versions_after_mismatch = _published_versions(lam)
        record("recovered", "v3", provisioned=2)

        deployed.versions_before_pin = _published_versions(lam)
        plan_file = work / "pin.tfplan"
        terraform.plan(variables("v3", pin="1", provisioned=2), out=plan_file)
        for change in terraform.show_plan(plan_file).get("resource_changes", []):
            deployed.pin_plan_actions[change["address"]] = change["change"]["actions"]
        record("pinned", "v3", pin="1", provisioned=2)
        deployed.versions_after_pin = _published_versions(lam)
        deployed.live_version_after_pin = lam.get_alias(FunctionName=FUNCTION_NAME, Name="live")["FunctionVersion"]
        deployed.code_sha256_after_pin = lam.get_function(FunctionName=FUNCTION_NAME)["Configuration"]["CodeSha256"]
        yield deployed


def _published_versions(lam: Any) -> list[str]:
    versions = lam.list_versions_by_function(FunctionName=FUNCTION_NAME)["Versions"]
    return sorted((v["Version"] for v in versions if v["Version"] != "$LATEST"), key=int)


STAGES = ["first", "new_code", "code_and_concurrency", "weight_removed", "recovered", "pinned"]


def test_first_apply_publishes_version_1_behind_live(deployment: Deployment) -> None:
    first = deployment.outputs["first"]
    assert first["published_version"] == "1"
    assert first["alias_function_version"] == "1"
    assert first["alias_arn"] == f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}:live"
    assert first["ready_alias_arn"] == first["alias_arn"]
    assert first["log_group_name"] == f"/aws/lambda/{FUNCTION_NAME}"


@pytest.mark.parametrize("stage", STAGES)
def test_second_plan_shows_no_changes(deployment: Deployment, stage: str) -> None:
    assert deployment.plans_have_changes[stage] is False, deployment.plan_texts[stage]
    assert "No changes." in deployment.plan_texts[stage]


@pytest.mark.parametrize("stage", STAGES)
def test_provisioned_concurrency_is_ready_when_the_apply_ends(deployment: Deployment, stage: str) -> None:
    provisioned = deployment.provisioned[stage]
    assert provisioned["Status"] == "READY"
    expected = 1 if stage in ("first", "new_code") else 2
    assert provisioned["RequestedProvisionedConcurrentExecutions"] == expected
    assert provisioned["AllocatedProvisionedConcurrentExecutions"] == expected


def test_version_move_waits_for_weights_and_ready(deployment: Deployment) -> None:
    text = deployment.apply_texts["new_code"]
    assert f"alias_wait: {FUNCTION_NAME}:live has no routing weights" in text
    assert f"alias_wait: provisioned concurrency on {FUNCTION_NAME}:live is READY" in text


def test_code_and_provisioned_concurrency_change_in_one_apply(deployment: Deployment) -> None:
    outputs = deployment.outputs["code_and_concurrency"]
    assert outputs["published_version"] == outputs["alias_function_version"] == "3"
    text = deployment.apply_texts["code_and_concurrency"]
    # The emulator kept weights on the alias after the move; the wait ran before the count changed.
    weights_wait = text.index(f"alias_wait: {FUNCTION_NAME}:live has no routing weights")
    concurrency_change = text.index("aws_lambda_provisioned_concurrency_config.live[0]: Modifying...")
    assert weights_wait < concurrency_change
    assert "Alias with weights can not be used" not in text


def test_leftover_weight_shows_in_the_plan_and_apply_removes_it(deployment: Deployment) -> None:
    assert deployment.weight_plan is not None and deployment.weight_plan.has_changes
    assert "routing_config" in deployment.weight_plan.text
    alias = deployment.client("lambda").get_alias(FunctionName=FUNCTION_NAME, Name="live")
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_new_code_publishes_version_2_and_moves_live(deployment: Deployment) -> None:
    new_code = deployment.outputs["new_code"]
    assert new_code["published_version"] == "2"
    assert new_code["alias_function_version"] == "2"
    assert new_code["alias_arn"] == deployment.outputs["first"]["alias_arn"]


def test_lambda_reports_the_manifest_hash_as_code_sha256(deployment: Deployment) -> None:
    lam = deployment.client("lambda")
    for version, revision in (("1", "v1"), ("2", "v2"), ("3", "v3")):
        configuration = lam.get_function(FunctionName=FUNCTION_NAME, Qualifier=version)["Configuration"]
        assert configuration["CodeSha256"] == base64_sha256(deployment.zips[revision])


def test_rollback_plan_changes_only_the_alias_and_reruns_the_waits(deployment: Deployment) -> None:
    acting = {address: actions for address, actions in deployment.pin_plan_actions.items() if actions != ["no-op"]}
    assert acting.pop("module.lambda_function.aws_lambda_alias.live") == ["update"]
    assert set(acting) <= {
        "module.lambda_function.terraform_data.alias_weights_cleared[0]",
        "module.lambda_function.terraform_data.provisioned_concurrency_ready[0]",
    }
    assert deployment.pin_plan_actions["module.lambda_function.aws_lambda_function.this"] == ["no-op"]
    assert deployment.pin_plan_actions["module.lambda_function.aws_lambda_provisioned_concurrency_config.live[0]"] == [
        "no-op"
    ]


def test_rollback_moves_the_alias_and_nothing_else(deployment: Deployment) -> None:
    pinned, before = deployment.outputs["pinned"], deployment.outputs["recovered"]
    assert pinned["alias_function_version"] == "1"
    assert pinned["alias_arn"] == before["alias_arn"]
    assert pinned["published_version"] == before["published_version"]
    assert deployment.versions_after_pin == deployment.versions_before_pin
    assert deployment.live_version_after_pin == "1"
    assert deployment.code_sha256_after_pin == base64_sha256(deployment.zips["v3"])


def test_function_configuration_in_lambda(deployment: Deployment) -> None:
    config = deployment.client("lambda").get_function(FunctionName=FUNCTION_NAME, Qualifier="3")["Configuration"]
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["MemorySize"] == 512
    assert config["Timeout"] == 30
    assert config["Runtime"] == "python3.12"
    assert config["Architectures"] == ["x86_64"]
    assert config["Handler"] == "lambda_function.lambda_handler"
    assert config["Environment"]["Variables"] == {"LOG_LEVEL": "INFO", "BEDROCK_MAX_TOKENS": "150"}
    assert config["LoggingConfig"]["LogGroup"] == f"/aws/lambda/{FUNCTION_NAME}"
    assert config["LoggingConfig"]["LogFormat"] == "Text"
    assert config["Role"].endswith(f":role/{deployment.outputs['first']['role_name']}")


def test_role_policy_is_least_privilege(deployment: Deployment) -> None:
    iam = deployment.client("iam")
    role_name = deployment.outputs["first"]["role_name"]
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    assert names == ["least-privilege"]
    document = iam.get_role_policy(RoleName=role_name, PolicyName="least-privilege")["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"WriteOwnLogGroup", "WriteXRayTraces", "salesforcesecret"}
    logs = statements["WriteOwnLogGroup"]
    assert sorted(_as_list(logs["Action"])) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert _as_list(logs["Resource"]) == [f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/lambda/{FUNCTION_NAME}:*"]
    assert _as_list(statements["salesforcesecret"]["Resource"]) == [SECRET_ARN]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]


def test_log_group_is_managed_with_retention(deployment: Deployment) -> None:
    groups = deployment.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{FUNCTION_NAME}")
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups["logGroups"]] == [
        (f"/aws/lambda/{FUNCTION_NAME}", 14)
    ]


def test_zip_that_differs_from_the_manifest_fails_the_apply(deployment: Deployment) -> None:
    assert "The zip that was uploaded is not the one the manifest describes" in deployment.mismatch_error
    assert base64_sha256(deployment.zips["v4"]) in deployment.mismatch_error


def test_zip_that_differs_from_the_manifest_never_goes_live(deployment: Deployment) -> None:
    assert deployment.live_before_mismatch == "3"
    # The bad version was published (Lambda publishes on upload), but live never moved to it.
    assert deployment.versions_after_mismatch[-1] == "4"
    assert deployment.live_after_mismatch == "3"
    assert (
        deployment.outputs["recovered"]["alias_function_version"]
        == deployment.outputs["recovered"]["published_version"]
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
