"""What validation needs from an applied root, read from its Terraform outputs.

Two sources: ``terraform -chdir=DIR output -json`` of a root (``--chdir``), or a file saved from that command
(``--outputs``). The module gathers what validation needs in one output, ``post_deploy_validation``; a root
passes it through (the examples do: ``output "post_deploy_validation" { value =
module.atlas_engine.post_deploy_validation }``). Without it, the module's other outputs under their own names
serve, as far as they go.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AGGREGATE = "post_deploy_validation"
REQUIRED = (
    "lambda_function_names",
    "lambda_published_versions",
    "lambda_alias_versions",
    "lambda_provisioned_concurrent_executions",
)


class OutputsError(Exception):
    """The outputs could not be read or lack what validation needs; the message says what to do."""


@dataclass(frozen=True)
class DeployOutputs:
    """The values validation reads, by handler name (``LexFulfillmentHandler`` and the others).

    Attributes:
        function_names: handler -> function name.
        published_versions: handler -> latest published version (a string of digits).
        alias_versions: handler -> the version ``live`` should point at (the rollback pin when one is set).
        provisioned: handler -> provisioned concurrency requested on ``live`` (0 for none).
        memory_sizes: handler -> configured memory in MB (empty when the root predates the output).
        alias_name: the alias name (``live``).
        lex_bot_alias_arn: ``arn:aws:lex:REGION:ACCOUNT:bot-alias/BOT_ID/ALIAS_ID``, or None without Lex.
        lex_locale_ids: the locales whose code hook the module manages.
        lex_code_hook_arn: the qualified ARN the code hook should have.
        state_machine_arn: the workflow's ARN, or None when it is disabled.
        bedrock_model_id: the model id or ARN the handlers call, or None when the root predates the output.
        metrics_namespace: CloudWatch namespace of the handlers' own metrics, or None.
    """

    function_names: dict[str, str]
    published_versions: dict[str, str]
    alias_versions: dict[str, str]
    provisioned: dict[str, int]
    memory_sizes: dict[str, int]
    alias_name: str
    lex_bot_alias_arn: str | None
    lex_locale_ids: list[str]
    lex_code_hook_arn: str | None
    state_machine_arn: str | None
    bedrock_model_id: str | None
    metrics_namespace: str | None

    @property
    def region(self) -> str | None:
        """The region, from the bot alias or state machine ARN (``arn:aws:SERVICE:REGION:...``)."""
        for arn in (self.lex_bot_alias_arn, self.state_machine_arn, self.lex_code_hook_arn):
            if arn and arn.count(":") >= 4:
                return arn.split(":")[3]
        return None


def parse_outputs(raw: dict[str, Any]) -> DeployOutputs:
    """Build :class:`DeployOutputs` from ``terraform output -json`` (``{"name": {"value": ...}}``) or from plain
    ``{"name": value}``.

    Raises:
        OutputsError: a required output is missing, naming it.
    """
    values = {k: (v["value"] if isinstance(v, dict) and "value" in v and "type" in v else v) for k, v in raw.items()}
    values = {**values, **(values.get(AGGREGATE) or {})}
    if not values:
        raise OutputsError(
            "the root has no outputs: was it applied? Run terraform apply first, or pass --outputs with a saved "
            "`terraform output -json`"
        )
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        raise OutputsError(
            f"the root's outputs lack {', '.join(missing)}: pass the module's post_deploy_validation output "
            "through the root (see examples/prod/outputs.tf) and apply again"
        )
    return DeployOutputs(
        function_names=dict(values["lambda_function_names"]),
        published_versions={k: str(v) for k, v in values["lambda_published_versions"].items()},
        alias_versions={k: str(v) for k, v in values["lambda_alias_versions"].items()},
        provisioned={k: int(v) for k, v in values["lambda_provisioned_concurrent_executions"].items()},
        memory_sizes={k: int(v) for k, v in (values.get("lambda_memory_sizes") or {}).items()},
        alias_name=values.get("lambda_alias_name") or "live",
        lex_bot_alias_arn=values.get("lex_bot_alias_arn"),
        lex_locale_ids=list(values.get("lex_locale_ids") or []),
        lex_code_hook_arn=values.get("lex_code_hook_lambda_arn"),
        state_machine_arn=values.get("state_machine_arn"),
        bedrock_model_id=values.get("bedrock_model_id"),
        metrics_namespace=values.get("metrics_namespace"),
    )


def read_outputs(
    chdir: Path | None = None, outputs_file: Path | None = None, terraform: str = "terraform"
) -> DeployOutputs:
    """Read the outputs from a root (``terraform output -json``) or a saved file.

    Raises:
        OutputsError: terraform failed (no state, not initialised), the file is unreadable, or outputs are missing.
    """
    if outputs_file is not None:
        try:
            raw = json.loads(Path(outputs_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputsError(f"cannot read {outputs_file}: {exc}") from exc
        return parse_outputs(raw)
    directory = Path(chdir or ".")
    try:
        done = subprocess.run(
            [terraform, f"-chdir={directory}", "output", "-json"], capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise OutputsError(f"{terraform} is not on PATH: install Terraform or pass --outputs FILE") from exc
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise OutputsError(
            f"terraform output in {directory} failed: {reason[-1] if reason else 'no message'} "
            "(run terraform init and apply there first)"
        )
    try:
        raw = json.loads(done.stdout or "{}")
    except ValueError as exc:
        raise OutputsError(f"terraform output -json in {directory} printed no JSON: {exc}") from exc
    if not raw:
        raise OutputsError(f"{directory} has no state or no outputs: apply the root first")
    return parse_outputs(raw)
