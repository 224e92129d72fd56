"""Renders modules/monitoring through a real `terraform plan`, offline, for the dashboard tests.

A scratch root calls the module with the hashicorp/aws provider configured with fake credentials and every
account look-up skipped, so the plan needs no network and no AWS account: data.aws_region comes from the
provider's `region`, exactly as in a real run. Terraform is driven with python-terraform.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, Terraform

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_DIR = REPO_ROOT / "modules" / "monitoring"

FUNCTION_KEYS = (
    "LexFulfillmentHandler",
    "GenerateDynamicScenarioHandler",
    "CreateLeadHandler",
    "InvokeOutboundCallHandler",
    "UpdateLeadHandler",
)

PROVIDER_TEMPLATE = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = %(region)s
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
%(endpoints)s
}

variable "monitoring" {
  type = any
}

module "monitoring" {
  source = %(module)s

  name              = var.monitoring.name
  functions         = var.monitoring.functions
  lex_function_key  = "LexFulfillmentHandler"
  state_machine_arn = var.monitoring.state_machine_arn
  bedrock_model_id  = var.monitoring.bedrock_model_id
  dashboard_enabled = true
  alarms            = var.monitoring.alarms
  tags              = { Environment = "unit" }
}

output "dashboard_name" {
  value = module.monitoring.dashboard_name
}

output "dashboard_body" {
  value = module.monitoring.dashboard_body
}

output "alarm_names" {
  value = module.monitoring.alarm_names
}

output "alarm_configurations" {
  value = module.monitoring.alarm_configurations
}
"""


class TerraformFailed(RuntimeError):
    """A terraform command exited non-zero; the message holds its stderr."""


@dataclass(frozen=True)
class Scratch:
    """A scratch root on disk and the python-terraform handle that runs in it."""

    directory: Path
    terraform: Terraform


def plugin_dir() -> str | None:
    """The local provider mirror (scripts/tf-plugin-dir), or None to let `terraform init` download."""
    found = subprocess.run(
        [str(REPO_ROOT / "scripts" / "tf-plugin-dir")], capture_output=True, text=True, check=False
    ).stdout.strip()
    return found or None


def terraform_available() -> bool:
    """Whether a terraform binary is on PATH."""
    return shutil.which("terraform") is not None


def module_inputs(name: str, region: str, *, average_ms: int, p99_ms: int) -> dict[str, Any]:
    """The monitoring module's inputs as the root would pass them: five functions, Lex with provisioned concurrency."""
    return {
        "name": name,
        "functions": {
            key: {
                "function_name": f"{name}-{key}",
                "alias_name": "live",
                "log_group_name": f"/aws/lambda/{name}-{key}",
                "provisioned_concurrent_executions": 1 if key == "LexFulfillmentHandler" else 0,
            }
            for key in FUNCTION_KEYS
        },
        "state_machine_arn": f"arn:aws:states:{region}:123456789012:stateMachine:{name}-AtlasEngineWorkflow",
        "bedrock_model_id": "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "alarms": {"average_duration_target_ms": average_ms, "p99_duration_target_ms": p99_ms},
    }


def write_scratch_root(
    directory: Path, region: str, inputs: dict[str, Any], endpoint_url: str | None = None
) -> Scratch:
    """Write a root that calls the module with ``inputs`` and run `terraform init` in it.

    ``endpoint_url`` points CloudWatch and STS at a local emulator (moto server) for applies.
    Raises TerraformFailed when init fails.
    """
    endpoints = ""
    if endpoint_url:
        endpoints = "  endpoints {\n%s  }" % "".join(
            f"    {service} = {json.dumps(endpoint_url)}\n" for service in ("cloudwatch", "sts")
        )
    (directory / "main.tf").write_text(
        PROVIDER_TEMPLATE
        % {"region": json.dumps(region), "module": json.dumps(str(MODULE_DIR)), "endpoints": endpoints}
    )
    (directory / "terraform.tfvars.json").write_text(json.dumps({"monitoring": inputs}))
    terraform = Terraform(working_dir=str(directory))
    options: dict[str, Any] = {"backend": False}
    if mirror := plugin_dir():
        options["plugin_dir"] = mirror
    code, _out, err = terraform.init(**options)
    if code != 0:
        raise TerraformFailed(f"terraform init failed:\n{err}")
    return Scratch(directory, terraform)


def planned_outputs(scratch: Scratch) -> dict[str, Any]:
    """Run `terraform plan -out` and return the planned output values from `terraform show -json`."""
    code, _out, err = scratch.terraform.plan(out="monitoring.tfplan", detailed_exitcode=None)
    if code != 0:
        raise TerraformFailed(f"terraform plan failed:\n{err}")
    code, out, err = scratch.terraform.cmd("show", "monitoring.tfplan", json=IsFlagged, no_color=IsFlagged)
    if code != 0:
        raise TerraformFailed(f"terraform show failed:\n{err}")
    plan = json.loads(out)
    return {name: value.get("value") for name, value in plan["planned_values"]["outputs"].items()}
