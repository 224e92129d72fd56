"""Part 1, configuration: what the plan's Deployment Checklist asks, read back from AWS.

Each function returns :class:`~post_deploy.report.Result` rows; none raises for a failed check. Sources:
GetAlias, ListVersionsByFunction, GetProvisionedConcurrencyConfig and GetFunctionConfiguration
(https://docs.aws.amazon.com/lambda/latest/api/), DescribeBotAlias
(https://docs.aws.amazon.com/lexv2/latest/APIReference/API_DescribeBotAlias.html), DescribeStateMachine
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html) and
GetFoundationModel (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetFoundationModel.html).
"""

from __future__ import annotations

import re
from typing import Any

from post_deploy.aws import CallFailed, ClientFactory, call
from post_deploy.outputs import DeployOutputs
from post_deploy.report import Result

PART = "configuration"
# System-defined inference profile ids carry a geography prefix before the model id (us.anthropic....).
# Source: https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
PROFILE_PREFIX = re.compile(r"^(us|eu|apac|global|us-gov|jp|au|ca)\.")


def _row(name: str, ok: bool, detail: str, fix: str = "", warn: bool = False, **data: Any) -> Result:
    return Result(PART, name, "pass" if ok else ("warn" if warn else "fail"), detail, "" if ok else fix, data)


def check_aliases(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Each ``live`` alias points at the latest published version, or at its rollback pin."""
    results = []
    for handler, function_name in sorted(outputs.function_names.items()):
        name = f"{handler} alias {outputs.alias_name}"
        try:
            alias = call(clients, "lambda", "get_alias", FunctionName=function_name, Name=outputs.alias_name)
            versions = _published_versions(clients, function_name)
        except CallFailed as exc:
            results.append(_row(name, False, str(exc), "check the function exists and the root was applied"))
            continue
        current = alias["FunctionVersion"]
        latest = str(max(versions)) if versions else "none"
        expected = outputs.alias_versions.get(handler, latest)
        pinned = expected != outputs.published_versions.get(handler, expected)
        if alias.get("RoutingConfig", {}).get("AdditionalVersionWeights"):
            weights = alias["RoutingConfig"]["AdditionalVersionWeights"]
            results.append(
                _row(
                    name, False, f"on {current} with routing weights {weights}", "remove the weights (terraform apply)"
                )
            )
        elif current != expected:
            results.append(
                _row(name, False, f"on version {current}, the root says {expected}", "run terraform apply (drift)")
            )
        elif pinned:
            results.append(
                _row(
                    name,
                    False,
                    f"pinned to {current} (rollback); latest published is {latest}",
                    "remove alias_function_version when the rollback is over",
                    warn=True,
                )
            )
        elif current != latest:
            results.append(_row(name, False, f"on {current}, latest published is {latest}", "run terraform apply"))
        else:
            results.append(_row(name, True, f"on the latest published version {current}", version=current))
    return results


def _published_versions(clients: ClientFactory, function_name: str) -> list[int]:
    versions: list[int] = []
    marker = None
    while True:
        page = call(
            clients,
            "lambda",
            "list_versions_by_function",
            FunctionName=function_name,
            **({"Marker": marker} if marker else {}),
        )
        versions += [int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit()]
        marker = page.get("NextMarker")
        if not marker:
            return versions


def check_provisioned_concurrency(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Provisioned concurrency on each ``live`` alias that requests it is READY, allocated equal to requested."""
    results = []
    for handler, requested in sorted(outputs.provisioned.items()):
        if requested <= 0:
            continue
        name = f"{handler} provisioned concurrency"
        try:
            config = call(
                clients,
                "lambda",
                "get_provisioned_concurrency_config",
                FunctionName=outputs.function_names[handler],
                Qualifier=outputs.alias_name,
            )
        except CallFailed as exc:
            results.append(_row(name, False, str(exc), "run terraform apply: the root requests it"))
            continue
        status = config.get("Status")
        allocated = config.get("AllocatedProvisionedConcurrentExecutions", 0)
        if status == "READY" and allocated == requested:
            results.append(_row(name, True, f"READY, {allocated} of {requested} allocated", allocated=allocated))
        elif status == "IN_PROGRESS":
            results.append(
                _row(
                    name,
                    False,
                    f"IN_PROGRESS, {allocated} of {requested} allocated",
                    "wait a few minutes and run again",
                )
            )
        else:
            reason = config.get("StatusReason") or ""
            results.append(
                _row(
                    name,
                    False,
                    f"{status}, {allocated} of {requested} allocated {reason}".strip(),
                    "check the account's concurrency quota (Lambda > Concurrency) and apply again",
                )
            )
    return results


def check_code_hook(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Every managed locale of the bot alias calls the ``live`` alias ARN."""
    if not outputs.lex_bot_alias_arn:
        return []
    bot_id, alias_id = outputs.lex_bot_alias_arn.rsplit("/", 2)[-2:]
    try:
        alias = call(clients, "lexv2-models", "describe_bot_alias", botId=bot_id, botAliasId=alias_id)
    except CallFailed as exc:
        return [_row("Lex bot alias code hook", False, str(exc), "check lex.bot_id and lex.bot_alias_id")]
    results = []
    settings = alias.get("botAliasLocaleSettings") or {}
    for locale in outputs.lex_locale_ids or sorted(settings):
        hook = ((settings.get(locale) or {}).get("codeHookSpecification") or {}).get("lambdaCodeHook") or {}
        arn = hook.get("lambdaARN")
        ok = arn == outputs.lex_code_hook_arn
        results.append(
            _row(
                f"Lex code hook {locale}",
                ok,
                f"calls {arn}" if ok else f"calls {arn}, expected {outputs.lex_code_hook_arn}",
                "run terraform apply: the code hook was changed outside Terraform",
                arn=arn,
            )
        )
    return results


def check_functions(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Tracing is Active and memory is as configured, read from each ``live`` alias's configuration."""
    results = []
    for handler, function_name in sorted(outputs.function_names.items()):
        try:
            config = call(
                clients,
                "lambda",
                "get_function_configuration",
                FunctionName=function_name,
                Qualifier=outputs.alias_name,
            )
        except CallFailed as exc:
            results.append(_row(f"{handler} configuration", False, str(exc), "run terraform apply"))
            continue
        mode = (config.get("TracingConfig") or {}).get("Mode")
        results.append(
            _row(f"{handler} tracing", mode == "Active", f"X-Ray {mode}", "set tracing Active (terraform apply)")
        )
        want = outputs.memory_sizes.get(handler)
        if want is not None:
            have = config.get("MemorySize")
            results.append(
                _row(f"{handler} memory", have == want, f"{have} MB (configured {want} MB)", "run terraform apply")
            )
    if outputs.state_machine_arn:
        try:
            machine = call(
                clients, "stepfunctions", "describe_state_machine", stateMachineArn=outputs.state_machine_arn
            )
            enabled = bool((machine.get("tracingConfiguration") or {}).get("enabled"))
            results.append(
                _row("state machine tracing", enabled, "X-Ray enabled" if enabled else "X-Ray off", "terraform apply")
            )
        except CallFailed as exc:
            results.append(_row("state machine tracing", False, str(exc), "check the workflow was applied"))
    return results


def foundation_model_id(model_id: str) -> str | None:
    """The foundation-model id behind a model id: itself, or a system inference profile id without its
    geography prefix; None for an ARN (an application profile or provisioned model names no model)."""
    if model_id.startswith("arn:"):
        if ":foundation-model/" in model_id:
            return model_id.split(":foundation-model/", 1)[1]
        if ":inference-profile/" in model_id:
            return PROFILE_PREFIX.sub("", model_id.split(":inference-profile/", 1)[1])
        return None
    return PROFILE_PREFIX.sub("", model_id)


def check_model_lifecycle(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """The Bedrock model's lifecycle is ACTIVE; LEGACY is a warning with its end-of-life date when Bedrock gives it.

    Lifecycle states: https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html
    """
    if not outputs.bedrock_model_id:
        return []
    name = "Bedrock model lifecycle"
    model = foundation_model_id(outputs.bedrock_model_id)
    if model is None:
        return [_row(name, True, f"{outputs.bedrock_model_id} is an ARN; its lifecycle is the underlying model's")]
    try:
        details = call(clients, "bedrock", "get_foundation_model", modelIdentifier=model).get("modelDetails", {})
    except CallFailed as exc:
        return [
            _row(
                name,
                False,
                f"{model}: {exc}",
                "check the model id against `aws bedrock list-foundation-models`",
                warn="ResourceNotFound" not in str(exc) and "ValidationException" not in str(exc),
            )
        ]
    lifecycle = details.get("modelLifecycle") or {}
    status = lifecycle.get("status")
    if status == "ACTIVE":
        return [_row(name, True, f"{model} is ACTIVE")]
    end = (
        lifecycle.get("endOfLifeTime")
        or "see https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html"
    )
    return [
        _row(
            name,
            False,
            f"{model} is {status}; end of life: {end}",
            "choose an ACTIVE model (var.bedrock.model_id) and apply",
            warn=status == "LEGACY",
        )
    ]


def run_configuration_checks(clients: ClientFactory, outputs: DeployOutputs) -> list[Result]:
    """Part 1 in the order of the plan's checklist."""
    return [
        *check_aliases(clients, outputs),
        *check_provisioned_concurrency(clients, outputs),
        *check_code_hook(clients, outputs),
        *check_functions(clients, outputs),
        *check_model_lifecycle(clients, outputs),
    ]
