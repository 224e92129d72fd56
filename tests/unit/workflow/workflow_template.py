"""Renders the AtlasEngineWorkflow template the way modules/workflow does, for the tests in this folder.

The module renders its Amazon States Language template by plain placeholder replacement (see
modules/workflow/main.tf, ``local.definition``): each known ``${name}`` is replaced verbatim and nothing else
is interpreted. ``render_definition`` does the same in Python so these tests see the JSON Terraform sends.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULE_DIR = REPO_ROOT / "modules" / "workflow"
TEMPLATE_PATH = MODULE_DIR / "templates" / "atlas_engine_workflow.asl.json.tftpl"

REGION = "us-west-2"
ACCOUNT_ID = "123456789012"
TABLE_NAME = "test-scenarios"


def alias_arn(function_name: str, alias: str = "live") -> str:
    """Qualified Lambda ARN ``arn:aws:lambda:REGION:ACCOUNT:function:NAME:ALIAS`` in the test account."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}:{alias}"


PLACEHOLDER_VALUES: dict[str, str] = {
    "create_lead_arn": alias_arn("test-CreateLeadHandler"),
    "generate_dynamic_scenario_arn": alias_arn("test-GenerateDynamicScenarioHandler"),
    "invoke_outbound_call_arn": alias_arn("test-InvokeOutboundCallHandler"),
    "update_lead_arn": alias_arn("test-UpdateLeadHandler"),
    "failed_leads_table_name": TABLE_NAME,
    "partition": "aws",
}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def template_placeholders(text: str) -> set[str]:
    """Names of the ``${name}`` placeholders in a template."""
    return set(_PLACEHOLDER.findall(text))


def module_placeholders() -> set[str]:
    """Placeholder names the Terraform module fills: the keys of ``local.definition_placeholders`` in main.tf.

    Raises AssertionError when the block cannot be found, so a refactor of main.tf fails loudly here.
    """
    main_tf = (MODULE_DIR / "main.tf").read_text()
    block = re.search(r"definition_placeholders\s*=\s*\{(.*?)\n\s*\}", main_tf, re.S)
    assert block, "local.definition_placeholders not found in modules/workflow/main.tf"
    return set(re.findall(r"^\s*([a-z_]+)\s*=", block.group(1), re.M))


def render_definition(text: str, values: dict[str, str] | None = None) -> str:
    """Fill ``${name}`` placeholders verbatim, as the module's chained replace() does; others are left as they are."""
    for name, value in (values or PLACEHOLDER_VALUES).items():
        text = text.replace("${" + name + "}", value)
    return text
