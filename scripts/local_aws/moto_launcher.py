"""Run moto in server mode with Lex V2, Step Functions and Lambda made closer to the real services.

Usage: ``python scripts/local_aws/moto_launcher.py -H 127.0.0.1 -p 5000`` (the arguments of ``moto_server``).

moto 5.2's lexv2-models emulation differs from Amazon Lex V2 in ways that matter to this repository, so this
launcher adjusts it in-process before the server starts; nothing in site-packages is changed:

- Ids: moto makes bot and bot alias ids from uuid4 (36 characters); Lex V2 ids are 10 upper-case letters or
  digits (``ABCDE12345``), which the root module's ``lex`` variable validates.
  Source: https://docs.aws.amazon.com/lexv2/latest/APIReference/API_DescribeBotAlias.html (botAliasId pattern
  ``^(\\bTSTALIASID\\b|[0-9a-zA-Z]+)$``, length 10).
- Bot alias ARN: moto writes ``bot-alias/$BOT/$ALIAS`` (a stray ``$``); Lex V2 writes
  ``arn:aws:lex:REGION:ACCOUNT:bot-alias/BOT_ID/BOT_ALIAS_ID``.
- Status: moto leaves bots and aliases in ``Creating`` for ever; the fixtures stand for resources that
  "already exist", so they are ``Available``.
- Unknown ids: moto answers a bot alias lookup with an unknown id (or an alias of another bot) with a 500
  (KeyError); Lex V2 answers ``ResourceNotFoundException`` (HTTP 404), which callers turn into a clear message.

Lambda: moto 5.2 drops ``LoggingConfig`` (CreateFunction, UpdateFunctionConfiguration, GetFunction), so the
provider sees a function without it after every apply and plans to add it again: a perpetual diff that AWS
does not have. Here functions keep it, with Lambda's defaults filled in (``LogFormat`` Text, ``LogGroup``
``/aws/lambda/<name>``; INFO log levels with JSON).
Source: https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html

Lambda permissions: moto appends every AddPermission statement, even one whose ``StatementId`` the policy
already holds; Lambda refuses that with ``ResourceConflictException``. Under load the provider's HTTP client
can resend an AddPermission whose answer it lost, and moto then keeps two copies of the statement. Here a
resent identical statement is answered with the one already there, and a different statement under a taken id
gets Lambda's ``ResourceConflictException``.
Source: https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html

It also adds two Step Functions actions moto 5.2 lacks, both called by hashicorp/aws 5.x's
aws_sfn_state_machine (moto answers them with a 500 that the provider retries for many minutes):

- ``ValidateStateMachineDefinition`` (before create and update). Here it checks what can be checked without
  the full Amazon States Language validator (JSON object, ``StartAt`` naming one of ``States``) and answers
  ``{"result": "OK" | "FAIL", "diagnostics": [...], "truncated": false}``.
  Source: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinition.html
- ``ListStateMachineVersions`` (on every read): the versions moto already keeps, newest first.
  Source: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListStateMachineVersions.html

Bedrock: ``GetInferenceProfile``, which moto 5.2 lacks, for the root module's aws_bedrock_inference_profile data
source (local_aws/bedrock_profiles.py documents what is emulated).
Source: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html

Lambda provisioned concurrency (Put/Get/DeleteProvisionedConcurrencyConfig, and the transient routing weights of
an alias with provisioned concurrency while its version moves) lives in its own module,
lambda_provisioned_concurrency.py, which main() installs.

Cloud Control: moto has no Cloud Control API; ``cloudcontrol.py`` answers GetResource for AWS::Lex::BotAlias from
the lexv2-models backend (see its docstring).

Each adjustment checks that moto still has the shape it patches and stops with a clear error otherwise.
"""

from __future__ import annotations

import functools
import json
import secrets
import string
import sys
import types
from typing import Any

_LEX_ID_ALPHABET = string.ascii_uppercase + string.digits
_LEX_ID_LENGTH = 10


def lex_id() -> str:
    """Return a random 10-character Lex V2 id (upper-case letters and digits), e.g. ``K3Z9QW1B7D``."""
    return "".join(secrets.choice(_LEX_ID_ALPHABET) for _ in range(_LEX_ID_LENGTH))


def patch_lexv2models() -> None:
    """Adjust moto's lexv2-models backend in this process as the module docstring describes.

    Raises:
        RuntimeError: moto's lexv2models module no longer has the attributes patched here (a moto upgrade);
            the message names the missing attribute.
    """
    from moto.core.exceptions import JsonRESTError
    from moto.lexv2models import models

    for attr in ("uuid", "FakeBot", "FakeBotAlias", "LexModelsV2Backend"):
        if not hasattr(models, attr):
            raise RuntimeError(
                f"moto.lexv2models.models has no {attr!r}; moto_launcher.py needs updating for this moto"
            )

    # The module's only uuid use is ids (bots, aliases, policy revisions); all may be Lex-shaped.
    models.uuid = types.SimpleNamespace(uuid4=lex_id)  # type: ignore[attr-defined]

    def alias_arn(self: Any) -> str:
        return f"arn:aws:lex:{self.region_name}:{self.account_id}:bot-alias/{self.bot_id}/{self.id}"

    models.FakeBotAlias._generate_arn = alias_arn  # type: ignore[method-assign]

    for cls in (models.FakeBot, models.FakeBotAlias):
        original_init = cls.__init__

        @functools.wraps(original_init)
        def init_available(self: Any, *args: Any, _init: Any = original_init, **kwargs: Any) -> None:
            _init(self, *args, **kwargs)
            self.status = "Available"

        cls.__init__ = init_available  # type: ignore[method-assign]

    backend = models.LexModelsV2Backend

    def not_found(message: str) -> JsonRESTError:
        error = JsonRESTError("ResourceNotFoundException", message)
        error.code = 404
        return error

    def checked(method_name: str, id_kwargs: tuple[str, ...]) -> None:
        original = getattr(backend, method_name)

        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            bot_id = kwargs.get("bot_id")
            if "bot_alias_id" in id_kwargs:
                alias = self.bot_aliases.get(kwargs.get("bot_alias_id"))
                if alias is None or alias.bot_id != bot_id:
                    raise not_found(f"Could not find bot alias {kwargs.get('bot_alias_id')} of bot {bot_id}.")
            elif bot_id not in self.bots:
                raise not_found(f"Could not find bot {bot_id}.")
            return original(self, *args, **kwargs)

        setattr(backend, method_name, wrapper)

    checked("describe_bot", ("bot_id",))
    checked("describe_bot_alias", ("bot_alias_id",))
    checked("update_bot_alias", ("bot_alias_id",))


def logging_config(
    requested: dict[str, Any] | None, function_name: str, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The LoggingConfig Lambda reports for ``requested`` (a CreateFunction/UpdateFunctionConfiguration value).

    Unset fields keep ``current`` (an update) or take Lambda's defaults; the log levels exist only with JSON.
    """
    merged: dict[str, Any] = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function_name}", **(current or {})}
    merged.update({k: v for k, v in (requested or {}).items() if v is not None})
    if merged["LogFormat"] == "JSON":
        merged.setdefault("ApplicationLogLevel", "INFO")
        merged.setdefault("SystemLogLevel", "INFO")
    else:
        merged.pop("ApplicationLogLevel", None)
        merged.pop("SystemLogLevel", None)
    return merged


def patch_lambda_logging_config() -> None:
    """Make moto's Lambda functions keep and report LoggingConfig (see the module docstring).

    Raises:
        RuntimeError: moto's LambdaFunction lacks a method patched here (a moto upgrade).
    """
    from moto.awslambda import models

    function_class = models.LambdaFunction
    for attr in ("__init__", "get_configuration", "update_configuration"):
        if not hasattr(function_class, attr):
            raise RuntimeError(f"moto.awslambda.models.LambdaFunction has no {attr}; moto_launcher.py needs updating")
    original_init = function_class.__init__
    original_get = function_class.get_configuration
    original_update = function_class.update_configuration

    @functools.wraps(original_init)
    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = logging_config(spec.get("LoggingConfig"), self.function_name)

    @functools.wraps(original_get)
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = dict(original_get(self, *args, **kwargs))
        config.setdefault(
            "LoggingConfig", getattr(self, "logging_config", None) or logging_config(None, self.function_name)
        )
        return config

    @functools.wraps(original_update)
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = logging_config(
                config_updates["LoggingConfig"], self.function_name, getattr(self, "logging_config", None)
            )
        return dict(original_update(self, config_updates))

    function_class.__init__ = init  # type: ignore[method-assign]
    function_class.get_configuration = get_configuration  # type: ignore[method-assign]
    function_class.update_configuration = update_configuration  # type: ignore[method-assign]


def patch_lambda_permission_ids() -> None:
    """Make moto's Lambda AddPermission treat statement ids as unique (see the module docstring).

    Raises:
        RuntimeError: moto's Lambda Policy lacks ``add_statement``/``decode_policy`` (a moto upgrade).
    """
    from moto.awslambda import policy as policy_module
    from moto.awslambda.exceptions import LambdaClientError

    policy_class = policy_module.Policy
    for attr in ("add_statement", "decode_policy"):
        if not hasattr(policy_class, attr):
            raise RuntimeError(f"moto.awslambda.policy.Policy has no {attr}; moto_launcher.py needs updating")
    original_add = policy_class.add_statement

    @functools.wraps(original_add)
    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> tuple[Any, str]:
        statement, revision = original_add(self, raw, qualifier)
        earlier = [s for s in self.statements[:-1] if s.get("Sid") == statement.get("Sid")]
        if not earlier:
            return statement, revision
        self.statements.pop()
        if earlier[0] != statement:
            conflict = LambdaClientError(
                "ResourceConflictException",
                f"The statement id ({statement.get('Sid')}) provided already exists. "
                "Please provide a new statement id, or remove the existing statement.",
            )
            conflict.code = 409
            raise conflict
        return earlier[0], revision

    policy_class.add_statement = add_statement  # type: ignore[method-assign]


def validate_definition(definition: str | None) -> dict[str, Any]:
    """A ValidateStateMachineDefinition answer for ``definition`` (see the module docstring for what is checked).

    Returns:
        ``{"result": "OK" | "FAIL", "diagnostics": [{"severity", "code", "message", "location"}], "truncated": False}``.
    """

    def fail(message: str, location: str = "/") -> dict[str, Any]:
        diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": message, "location": location}
        return {"result": "FAIL", "diagnostics": [diagnostic], "truncated": False}

    try:
        parsed = json.loads(definition or "")
    except json.JSONDecodeError as exc:
        return fail(f"Definition is not valid JSON: {exc}")
    if not isinstance(parsed, dict):
        return fail("Definition must be a JSON object")
    states = parsed.get("States")
    if not isinstance(states, dict) or not states:
        return fail("States must be a non-empty object", "/States")
    if parsed.get("StartAt") not in states:
        return fail(f"StartAt {parsed.get('StartAt')!r} is not one of States", "/StartAt")
    return {"result": "OK", "diagnostics": [], "truncated": False}


def patch_stepfunctions() -> None:
    """Add ValidateStateMachineDefinition and ListStateMachineVersions to moto's Step Functions responses (see the module docstring).

    Raises:
        RuntimeError: moto's StepFunctionResponse is not where this expects it (a moto upgrade).
    """
    from moto.stepfunctions import responses

    response_class = getattr(responses, "StepFunctionResponse", None)
    if response_class is None:
        raise RuntimeError("moto.stepfunctions.responses has no StepFunctionResponse; moto_launcher.py needs updating")
    from moto.core.responses import ActionResult

    def validate_state_machine_definition(self: Any) -> str:
        return json.dumps(validate_definition(self._get_param("definition")))

    def list_state_machine_versions(self: Any) -> ActionResult:
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
        return ActionResult(
            {
                "stateMachineVersions": [
                    {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions
                ]
            }
        )

    # A newer moto that implements an action keeps its own.
    for name, action in (
        ("validate_state_machine_definition", validate_state_machine_definition),
        ("list_state_machine_versions", list_state_machine_versions),
    ):
        if not hasattr(response_class, name):
            setattr(response_class, name, action)


def server_address(argv: list[str]) -> tuple[str, int]:
    """The host and port ``moto_server`` will listen on, read from its arguments (``-H``/``--host``, ``-p``/``--port``)."""
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    known, _ = parser.parse_known_args(argv)
    return known.host, known.port


def main(argv: list[str] | None = None) -> None:
    """Patch lexv2-models, Step Functions and Lambda, add Invoke and RecognizeText, then hand over to
    ``moto.server.main`` with the same arguments."""
    import os

    import bedrock_control
    import bedrock_runtime
    import lambda_invoke
    import lex_runtime

    args = argv if argv is not None else sys.argv[1:]
    patch_lexv2models()
    patch_stepfunctions()
    patch_lambda_logging_config()
    patch_lambda_permission_ids()
    try:
        from local_aws.bedrock_profiles import patch_bedrock_inference_profiles
    except ImportError:  # run as a script: scripts/local_aws is sys.path[0]
        from bedrock_profiles import patch_bedrock_inference_profiles  # type: ignore[no-redef]

    patch_bedrock_inference_profiles()
    try:
        from local_aws.lambda_provisioned_concurrency import patch_lambda_provisioned_concurrency
    except ImportError:  # run as a script: scripts/local_aws is sys.path[0]
        from lambda_provisioned_concurrency import patch_lambda_provisioned_concurrency  # type: ignore[no-redef]

    pc_store = patch_lambda_provisioned_concurrency()
    host, port = server_address(args)
    lambda_invoke.configure(f"http://{host}:{port}", os.environ.get("LOCAL_AWS_WORK_DIR"), pc_store)
    lambda_invoke.patch_lambda_invoke()
    lex_runtime.patch_lex_runtime()
    bedrock_control.patch_bedrock_control()
    bedrock_runtime.patch_bedrock_runtime()
    # Cloud Control GetResource for AWS::Lex::BotAlias, read by the lex_code_hook module's drift check.
    try:
        from local_aws.cloudcontrol import patch_cloudcontrol
    except ImportError:  # run as a script: scripts/local_aws is sys.path[0]
        from cloudcontrol import patch_cloudcontrol  # type: ignore[no-redef]

    patch_cloudcontrol()
    from moto.server import main as moto_main

    moto_main(args)


if __name__ == "__main__":
    main()
