"""Unit tests of the lex_code_hook script's pure parts and its error mapping (botocore Stubber, no network)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import lex_code_hook as hook

REGION = "us-west-2"
ALIAS_ARN = "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live"


def make_request(**overrides: Any) -> hook.CodeHookRequest:
    fields: dict[str, Any] = {
        "bot_id": "BOTID12345",
        "bot_alias_id": "PRODALIAS1",
        "locale_ids": ("en_US",),
        "lambda_arn": ALIAS_ARN,
    }
    fields.update(overrides)
    return hook.CodeHookRequest(**fields)


def lex_client() -> Any:
    return boto3.client("lexv2-models", region_name=REGION)


def described_alias(**overrides: Any) -> dict[str, Any]:
    """A DescribeBotAlias response as the API reference documents it, read-only fields included."""
    alias: dict[str, Any] = {
        "botAliasId": "PRODALIAS1",
        "botAliasName": "Production",
        "description": "Production traffic",
        "botVersion": "4",
        "botAliasLocaleSettings": {
            "en_US": {"enabled": True},
            "es_US": {
                "enabled": True,
                "codeHookSpecification": {
                    "lambdaCodeHook": {
                        "lambdaARN": "arn:aws:lambda:us-west-2:123456789012:function:Spanish:3",
                        "codeHookInterfaceVersion": "1.0",
                    }
                },
            },
        },
        "conversationLogSettings": {
            "textLogSettings": [
                {
                    "enabled": True,
                    "destination": {
                        "cloudWatch": {
                            "cloudWatchLogGroupArn": "arn:aws:logs:us-west-2:123456789012:log-group:lex",
                            "logPrefix": "prod",
                        }
                    },
                }
            ]
        },
        "sentimentAnalysisSettings": {"detectSentiment": True},
        "botAliasHistoryEvents": [],
        "botAliasStatus": "Available",
        "botId": "BOTID12345",
        "parentBotNetworks": [],
    }
    alias.update(overrides)
    return alias


def updated_alias(**overrides: Any) -> dict[str, Any]:
    """:func:`described_alias` once the script's UpdateBotAlias has landed: en_US calls the live alias."""
    alias = described_alias(**overrides)
    alias["botAliasLocaleSettings"]["en_US"] = {
        "enabled": True,
        "codeHookSpecification": {"lambdaCodeHook": {"lambdaARN": ALIAS_ARN, "codeHookInterfaceVersion": "1.0"}},
    }
    return alias


# --- Lambda ARN -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        ALIAS_ARN,
        "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:28",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:dev-LexFulfillmentHandler:live",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f_1:blue-green",
    ],
)
def test_qualified_lambda_arns_are_accepted(arn: str) -> None:
    assert hook.validate_lambda_arn(arn) == arn


def test_unqualified_lambda_arn_is_rejected_with_a_hint() -> None:
    with pytest.raises(hook.InvalidArgumentError, match="unqualified") as caught:
        hook.validate_lambda_arn("arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler")
    assert caught.value.exit_code == 2
    assert "LexFulfillmentHandler:live" in str(caught.value)


def test_latest_is_rejected() -> None:
    with pytest.raises(hook.InvalidArgumentError, match=r"\$LATEST"):
        hook.validate_lambda_arn("arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:$LATEST")


@pytest.mark.parametrize(
    "arn",
    [
        "LexFulfillmentHandler:live",
        "arn:aws:lex:us-west-2:123456789012:bot-alias/BOTID12345/PRODALIAS1",
        "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:live:extra",
        "arn:aws:lambda:us-west-2:12345:function:LexFulfillmentHandler:live",
    ],
)
def test_non_lambda_arns_are_rejected(arn: str) -> None:
    with pytest.raises(hook.InvalidArgumentError):
        hook.validate_lambda_arn(arn)


# --- Request validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bot_id": "BOT"}, "bot id 'BOT'"),
        ({"bot_alias_id": "alias id!"}, "bot alias id 'alias id!'"),
        ({"locale_ids": ()}, "at least one locale"),
        ({"locale_ids": ("en-US",)}, "locale 'en-US'"),
        ({"bot_version": "DRAFT"}, "DRAFT"),
        ({"bot_version": "0"}, "numbered version"),
        ({"code_hook_interface_version": "2.0"}, "interface version '2.0'"),
        (
            {"lambda_arn": "arn:aws:lambda:us-west-2:123456789012:function:F"},
            "unqualified",
        ),
    ],
)
def test_invalid_requests_name_the_bad_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(hook.InvalidArgumentError) as caught:
        hook.validate_request(make_request(**overrides))
    assert message in str(caught.value)


def test_a_valid_request_passes() -> None:
    request = make_request(locale_ids=("en_US", "es_US"), bot_version="12")
    assert hook.validate_request(request) is request


# --- Building the UpdateBotAlias parameters -------------------------------------------------------------


def update_shape() -> Any:
    return lex_client().meta.service_model.operation_model("UpdateBotAlias").input_shape


def test_prune_keeps_what_update_bot_alias_accepts_and_drops_read_only_fields() -> None:
    pruned = hook.prune_to_shape(described_alias(), update_shape())
    assert set(pruned) == {
        "botAliasId",
        "botAliasName",
        "description",
        "botVersion",
        "botAliasLocaleSettings",
        "conversationLogSettings",
        "sentimentAnalysisSettings",
        "botId",
    }
    assert pruned["conversationLogSettings"] == described_alias()["conversationLogSettings"]
    assert pruned["botAliasLocaleSettings"] == described_alias()["botAliasLocaleSettings"]


def test_prune_drops_none_and_structures_missing_required_members() -> None:
    pruned = hook.prune_to_shape(described_alias(description=None, sentimentAnalysisSettings={}), update_shape())
    assert "description" not in pruned
    assert "sentimentAnalysisSettings" not in pruned


def test_wanted_alias_sets_the_code_hook_and_keeps_everything_else() -> None:
    current = hook.prune_to_shape(described_alias(), update_shape())
    current["botAliasLocaleSettings"]["en_US"]["someFutureSetting"] = {"x": 1}
    snapshot = repr(current)

    wanted = hook.wanted_alias(current, make_request())

    assert repr(current) == snapshot, "the current alias must not be modified in place"
    assert wanted["botAliasLocaleSettings"]["en_US"] == {
        "enabled": True,
        "someFutureSetting": {"x": 1},
        "codeHookSpecification": {
            "lambdaCodeHook": {
                "lambdaARN": ALIAS_ARN,
                "codeHookInterfaceVersion": "1.0",
            }
        },
    }
    for key in (
        "botAliasName",
        "description",
        "botVersion",
        "conversationLogSettings",
        "sentimentAnalysisSettings",
    ):
        assert wanted[key] == current[key]
    assert wanted["botAliasLocaleSettings"]["es_US"] == current["botAliasLocaleSettings"]["es_US"]


def test_wanted_alias_enables_a_disabled_locale_and_adds_a_missing_one() -> None:
    current = {
        "botAliasLocaleSettings": {"en_US": {"enabled": False}},
        "botAliasName": "Production",
    }
    wanted = hook.wanted_alias(current, make_request(locale_ids=("en_US", "fr_CA")))
    assert wanted["botAliasLocaleSettings"]["en_US"]["enabled"] is True
    assert (
        wanted["botAliasLocaleSettings"]["fr_CA"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] == ALIAS_ARN
    )


def test_wanted_alias_changes_the_bot_version_only_when_asked() -> None:
    current = {"botVersion": "4", "botAliasName": "Production"}
    assert hook.wanted_alias(current, make_request())["botVersion"] == "4"
    assert hook.wanted_alias(current, make_request(bot_version="5"))["botVersion"] == "5"


def test_describe_changes_lists_paths_old_and_new_values() -> None:
    current = {
        "botVersion": "4",
        "botAliasLocaleSettings": {"en_US": {"enabled": False}},
    }
    wanted = {
        "botVersion": "5",
        "botAliasLocaleSettings": {"en_US": {"enabled": True, "x": "y"}},
    }
    assert hook.describe_changes(current, wanted) == [
        "botAliasLocaleSettings.en_US.enabled: false -> true",
        'botAliasLocaleSettings.en_US.x: <unset> -> "y"',
        'botVersion: "4" -> "5"',
    ]
    assert hook.describe_changes(wanted, wanted) == []


# --- Errors from the API (Stubber) ----------------------------------------------------------------------


def test_resource_not_found_names_the_bot_and_alias() -> None:
    client = lex_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_bot_alias",
            service_error_code="ResourceNotFoundException",
            service_message="Could not find bot alias PRODALIAS1.",
            http_status_code=404,
        )
        with pytest.raises(hook.AliasNotFoundError) as caught:
            hook.set_code_hook(client, make_request(), out=io.StringIO())
    assert caught.value.exit_code == 3
    assert "BOTID12345" in str(caught.value) and "PRODALIAS1" in str(caught.value)


def test_an_alias_of_another_bot_counts_as_not_found() -> None:
    client = lex_client()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias(botId="OTHERBOT12"))
        with pytest.raises(hook.AliasNotFoundError, match="belongs to bot OTHERBOT12"):
            hook.set_code_hook(client, make_request(), out=io.StringIO())


def test_access_denied_is_an_aws_error() -> None:
    client = lex_client()
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_bot_alias",
            service_error_code="AccessDeniedException",
            http_status_code=403,
        )
        with pytest.raises(hook.AwsApiError, match="AccessDeniedException") as caught:
            hook.set_code_hook(client, make_request(), out=io.StringIO())
    assert caught.value.exit_code == 5


def test_a_failed_update_is_an_aws_error_and_nothing_is_reported_as_done() -> None:
    client = lex_client()
    out = io.StringIO()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias())
        stub.add_client_error(
            "update_bot_alias",
            service_error_code="ValidationException",
            service_message="Locale en_US is not in bot version 4.",
            http_status_code=400,
        )
        with pytest.raises(hook.AwsApiError, match="not in bot version 4"):
            hook.set_code_hook(client, make_request(), out=out)
    assert "updated" not in out.getvalue()


def test_update_carries_every_kept_setting() -> None:
    client = lex_client()
    current = hook.prune_to_shape(described_alias(), update_shape())
    expected = hook.wanted_alias(current, make_request())
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias())
        stub.add_response(
            "update_bot_alias",
            {"botAliasStatus": "Available"},
            expected_params=expected,
        )
        stub.add_response("describe_bot_alias", updated_alias())
        result = hook.set_code_hook(client, make_request(), out=io.StringIO())
        stub.assert_no_pending_responses()
    assert result.updated


def test_waits_for_a_creating_alias_then_updates() -> None:
    client = lex_client()
    sleeps: list[float] = []
    out = io.StringIO()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias(botAliasStatus="Creating"))
        stub.add_response("describe_bot_alias", described_alias(botAliasStatus="Available"))
        stub.add_response("update_bot_alias", {"botAliasStatus": "Available"})
        stub.add_response("describe_bot_alias", updated_alias())
        result = hook.set_code_hook(client, make_request(), sleep=sleeps.append, out=out)
        stub.assert_no_pending_responses()
    assert result.updated
    assert sleeps == [hook.POLL_INTERVAL_SECONDS]
    assert "is Creating; waiting" in out.getvalue()


def test_gives_up_when_the_alias_stays_unavailable() -> None:
    client = lex_client()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("describe_bot_alias", described_alias(botAliasStatus="Creating"))
        with pytest.raises(hook.AliasNotAvailableError, match="still Creating after 10 s") as caught:
            hook.set_code_hook(
                client,
                make_request(),
                wait_timeout_seconds=10,
                sleep=sleep,
                clock=lambda: now[0],
                out=io.StringIO(),
            )
    assert caught.value.exit_code == 4


@pytest.mark.parametrize("status", ["Failed", "Deleting"])
def test_a_failed_or_deleting_alias_is_refused_at_once(status: str) -> None:
    client = lex_client()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias(botAliasStatus=status))
        with pytest.raises(hook.AliasNotAvailableError, match=status):
            hook.set_code_hook(client, make_request(), sleep=pytest.fail, out=io.StringIO())


def test_waits_after_the_update_until_available_again() -> None:
    client = lex_client()
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias())
        stub.add_response("update_bot_alias", {"botAliasStatus": "Creating"})
        stub.add_response("describe_bot_alias", updated_alias(botAliasStatus="Available"))
        stub.add_response("describe_bot_alias", updated_alias())
        hook.set_code_hook(client, make_request(), sleep=sleeps.append, out=io.StringIO())
        stub.assert_no_pending_responses()
    assert len(sleeps) == 1


# --- Command line -----------------------------------------------------------------------------------------


def cli_args(*extra: str, arn: str = ALIAS_ARN) -> list[str]:
    return [
        "--region",
        REGION,
        "--bot-id",
        "BOTID12345",
        "--bot-alias-id",
        "PRODALIAS1",
        "--locale",
        "en_US",
        *extra,
        arn,
    ]


def refuse_client(region: str | None, **_: Any) -> Any:
    raise AssertionError("no AWS client may be built for arguments that can never work")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler",
        "arn:aws:lambda:us-west-2:123456789012:function:LexFulfillmentHandler:$LATEST",
    ],
)
def test_cli_rejects_unqualified_and_latest_before_calling_aws(arn: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert hook.main(cli_args(arn=arn), client_factory=refuse_client, out=out, err=err) == 2
    assert err.getvalue().startswith("lex_code_hook: error: Lambda ARN")


def test_cli_without_required_arguments_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        hook.main(["--bot-id", "BOTID12345", ALIAS_ARN], client_factory=refuse_client)
    assert caught.value.code == 2
    assert "--bot-alias-id" in capsys.readouterr().err


def test_cli_rejects_a_bad_wait_timeout_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEX_CODE_HOOK_WAIT_TIMEOUT", "soon")
    err = io.StringIO()
    assert hook.main(cli_args(), client_factory=refuse_client, out=io.StringIO(), err=err) == 2
    assert "LEX_CODE_HOOK_WAIT_TIMEOUT" in err.getvalue()


def test_cli_passes_region_and_returns_0_when_nothing_differs() -> None:
    client = lex_client()
    regions: list[str | None] = []
    roles: list[dict[str, Any]] = []

    def factory(region: str | None, **role: Any) -> Any:
        regions.append(region)
        roles.append(role)
        return client

    done = described_alias()
    done["botAliasLocaleSettings"]["en_US"] = {
        "enabled": True,
        "codeHookSpecification": {
            "lambdaCodeHook": {
                "lambdaARN": ALIAS_ARN,
                "codeHookInterfaceVersion": "1.0",
            }
        },
    }
    out = io.StringIO()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", done)
        assert hook.main(cli_args(), client_factory=factory, out=out, err=io.StringIO()) == 0
    assert regions == [REGION]
    assert roles == [{"role_arn": None, "role_session_name": "terraform-lex-code-hook"}]
    assert "up to date" in out.getvalue()
    assert "running as role" not in out.getvalue()


def test_client_uses_standard_retries_and_the_given_region() -> None:
    client = hook.make_client("eu-west-2")
    assert client.meta.config.retries["mode"] == "standard"
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.service_model.service_name == "lexv2-models"


# --- Assuming a role (--role-arn) -------------------------------------------------------------------------

ROLE_ARN = "arn:aws:iam::210987654321:role/atlas-engine-deployer"


@pytest.mark.parametrize(
    "arn",
    [
        ROLE_ARN,
        "arn:aws:iam::210987654321:role/deploy/pipeline/atlas-engine-deployer",
        "arn:aws-cn:iam::210987654321:role/atlas_engine+deployer=1,2.x@y",
        "arn:aws-us-gov:iam::210987654321:role/d",
    ],
)
def test_role_arns_are_accepted(arn: str) -> None:
    hook.validate_role(arn, hook.DEFAULT_ROLE_SESSION_NAME)


@pytest.mark.parametrize(
    "arn",
    [
        "atlas-engine-deployer",
        "arn:aws:iam::12345:role/atlas-engine-deployer",
        "arn:aws:iam::210987654321:user/deployer",
        "arn:aws:sts::210987654321:assumed-role/atlas-engine-deployer/session",
        "arn:aws:iam::210987654321:role/",
        "arn:aws:iam::210987654321:role/deploy/",
        "arn:aws:iam:us-west-2:210987654321:role/atlas-engine-deployer",
        "arn:aws:iam::210987654321:role/has space",
    ],
)
def test_cli_rejects_a_bad_role_arn_with_exit_2_before_calling_aws(arn: str) -> None:
    err = io.StringIO()
    assert hook.main(cli_args("--role-arn", arn), client_factory=refuse_client, out=io.StringIO(), err=err) == 2
    assert err.getvalue().startswith(f"lex_code_hook: error: role ARN {arn!r} is not an IAM role ARN")


@pytest.mark.parametrize("name", ["x", "a" * 65, "has space", "colon:name"])
def test_cli_rejects_a_bad_role_session_name(name: str) -> None:
    err = io.StringIO()
    args = cli_args("--role-arn", ROLE_ARN, "--role-session-name", name)
    assert hook.main(args, client_factory=refuse_client, out=io.StringIO(), err=err) == 2
    assert "role session name" in err.getvalue()


def test_cli_hands_the_role_and_session_name_to_the_client_factory() -> None:
    client = lex_client()
    roles: list[dict[str, Any]] = []

    def factory(region: str | None, **role: Any) -> Any:
        roles.append(role)
        return client

    out = io.StringIO()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias())
        stub.add_response("update_bot_alias", {"botAliasStatus": "Available"})
        stub.add_response("describe_bot_alias", updated_alias())
        args = cli_args("--role-arn", ROLE_ARN, "--role-session-name", "atlas-engine-dev")
        assert hook.main(args, client_factory=factory, out=out, err=io.StringIO()) == 0
    assert roles == [{"role_arn": ROLE_ARN, "role_session_name": "atlas-engine-dev"}]
    assert f"running as role {ROLE_ARN} (session atlas-engine-dev)" in out.getvalue()


class StubbedStsSessions:
    """A session factory whose first session hands out one STS client behind a botocore Stubber.

    Later sessions (the ones built from temporary credentials) are real boto3 sessions; their kwargs are kept.
    """

    def __init__(self) -> None:
        self.sts = boto3.client("sts", region_name=REGION)
        self.stubber = Stubber(self.sts)
        self.role_sessions: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Any:
        if not kwargs:
            return _SessionWith(self.sts)
        self.role_sessions.append(kwargs)
        return boto3.session.Session(**kwargs)


class _SessionWith:
    region_name = REGION

    def __init__(self, sts: Any) -> None:
        self._sts = sts

    def client(self, service_name: str, **_: Any) -> Any:
        assert service_name == "sts", "only STS may be called with the runner's own credentials"
        return self._sts


def test_assume_role_builds_the_lex_client_from_the_temporary_credentials() -> None:
    sessions = StubbedStsSessions()
    sessions.stubber.add_response(
        "assume_role",
        {
            "Credentials": {
                "AccessKeyId": "ASIATEMPORARYKEY0001",
                "SecretAccessKey": "temporary-secret",
                "SessionToken": "temporary-token",
                "Expiration": "2030-01-01T00:00:00Z",
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROAEXAMPLE:terraform-lex-code-hook",
                "Arn": "arn:aws:sts::210987654321:assumed-role/atlas-engine-deployer/terraform-lex-code-hook",
            },
        },
        expected_params={"RoleArn": ROLE_ARN, "RoleSessionName": "terraform-lex-code-hook"},
    )
    with sessions.stubber:
        client = hook.make_client(REGION, role_arn=ROLE_ARN, session_factory=sessions)
        sessions.stubber.assert_no_pending_responses()

    assert sessions.role_sessions == [
        {
            "aws_access_key_id": "ASIATEMPORARYKEY0001",
            "aws_secret_access_key": "temporary-secret",
            "aws_session_token": "temporary-token",
            "region_name": REGION,
        }
    ]
    assert client.meta.service_model.service_name == "lexv2-models"
    assert client.meta.region_name == REGION
    assert client.meta.config.retries["mode"] == "standard"


def test_a_refused_assume_role_exits_5_naming_the_role_and_what_to_check() -> None:
    sessions = StubbedStsSessions()
    sessions.stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message=(
            "User: arn:aws:sts::123456789012:assumed-role/ci-runner/i-0abc is not authorized to perform: "
            f"sts:AssumeRole on resource: {ROLE_ARN}"
        ),
        http_status_code=403,
    )

    def factory(region: str | None, **role: Any) -> Any:
        return hook.make_client(region, session_factory=sessions, **role)

    out, err = io.StringIO(), io.StringIO()
    with sessions.stubber:
        assert hook.main(cli_args("--role-arn", ROLE_ARN), client_factory=factory, out=out, err=err) == 5
    message = err.getvalue()
    assert message.startswith(f"lex_code_hook: error: cannot assume role {ROLE_ARN}: AccessDenied: ")
    assert "sts:AssumeRole" in message and "trust policy" in message
    assert "Traceback" not in message
    assert sessions.role_sessions == [], "no Lex client may be built when AssumeRole fails"
    assert "running as role" not in out.getvalue()


def test_assume_role_error_is_an_aws_error() -> None:
    assert issubclass(hook.AssumeRoleError, hook.AwsApiError)
    assert hook.AssumeRoleError("x").exit_code == 5


# --- boto3 missing ----------------------------------------------------------------------------------------


def test_cli_without_boto3_exits_6_saying_what_the_apply_machine_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` raise ModuleNotFoundError
    err = io.StringIO()
    assert hook.main(cli_args(), client_factory=refuse_client, out=io.StringIO(), err=err) == 6
    message = err.getvalue()
    assert "cannot import boto3" in message and sys.executable in message
    assert "lex_code_hook_python" in message and "pip install boto3" in message


def test_cli_checks_the_arguments_before_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    err = io.StringIO()
    assert hook.main(cli_args("--role-arn", "deployer"), client_factory=refuse_client, err=err) == 2


# --- botocore that cannot carry every field (issue 7, section 6) -------------------------------------------


@pytest.mark.parametrize("version", ["1.31.80", "1.31.0", "1.29.90", "1.29.90+dfsg"])
def test_botocore_older_than_the_floor_is_refused_naming_the_minimum(version: str) -> None:
    with pytest.raises(hook.BotocoreTooOldError, match=r"older than 1\.31\.81") as caught:
        hook.require_botocore_version(version)
    assert version in str(caught.value) and "selectiveLoggingEnabled" in str(caught.value)
    assert caught.value.exit_code == 7


@pytest.mark.parametrize("version", ["1.31.81", "1.34.0", "1.40.61", "2.0.0rc1"])
def test_botocore_at_or_above_the_floor_is_accepted(version: str) -> None:
    hook.require_botocore_version(version)


def test_the_installed_botocore_knows_selective_logging() -> None:
    """The floor is right for this model: the installed botocore has the field and passes the check."""
    hook.require_botocore_version()
    shape = lex_client().meta.service_model.shape_for("TextLogSetting")
    assert "selectiveLoggingEnabled" in shape.members


def test_unknown_fields_lists_what_the_model_lacks_by_path() -> None:
    output_shape = lex_client().meta.service_model.operation_model("DescribeBotAlias").output_shape
    raw = described_alias()
    raw["conversationLogSettings"]["textLogSettings"][0]["redactionSettings"] = {"mode": "ALL"}
    raw["botAliasLocaleSettings"]["es_US"]["codeHookSpecification"]["lambdaCodeHook"]["timeoutMs"] = 3000
    raw["someNewTopLevelField"] = True

    assert hook.unknown_fields(raw, output_shape) == [
        "botAliasLocaleSettings.es_US.codeHookSpecification.lambdaCodeHook.timeoutMs",
        "conversationLogSettings.textLogSettings[].redactionSettings",
        "someNewTopLevelField",
    ]
    assert hook.unknown_fields(described_alias(), output_shape) == []


def test_a_raw_answer_with_an_unknown_field_stops_the_run_before_any_write() -> None:
    client = lex_client()
    raw = described_alias()
    raw["conversationLogSettings"]["textLogSettings"][0]["futureSetting"] = True
    with pytest.raises(hook.BotocoreTooOldError, match=r"textLogSettings\[\]\.futureSetting"):
        hook.check_botocore_knows(client, json.dumps(raw).encode())
    hook.check_botocore_knows(client, json.dumps(described_alias()).encode())
    hook.check_botocore_knows(client, None)


def test_cli_refuses_an_old_botocore_with_exit_7(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore

    monkeypatch.setattr(botocore, "__version__", "1.29.90")
    err = io.StringIO()
    assert hook.main(cli_args(), client_factory=refuse_client, out=io.StringIO(), err=err) == 7
    assert "1.31.81" in err.getvalue()


# --- Verification after the write ---------------------------------------------------------------------------


def test_a_write_undone_before_the_re_read_is_written_again() -> None:
    client = lex_client()
    out = io.StringIO()
    with Stubber(client) as stub:
        stub.add_response("describe_bot_alias", described_alias())
        stub.add_response("update_bot_alias", {"botAliasStatus": "Available"})
        stub.add_response("describe_bot_alias", described_alias())  # someone wrote the old alias back
        stub.add_response("update_bot_alias", {"botAliasStatus": "Available"})
        stub.add_response("describe_bot_alias", updated_alias())
        result = hook.set_code_hook(client, make_request(), sleep=lambda _: None, out=out)
        stub.assert_no_pending_responses()
    assert result.updated
    assert "differs from what was written" in out.getvalue()


def test_verify_attempts_bound_the_writes() -> None:
    client = lex_client()
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response("describe_bot_alias", described_alias())
            stub.add_response("update_bot_alias", {"botAliasStatus": "Available"})
        stub.add_response("describe_bot_alias", described_alias())
        with pytest.raises(hook.ConcurrentUpdateError, match="after 2 UpdateBotAlias"):
            hook.set_code_hook(client, make_request(), verify_attempts=2, sleep=lambda _: None, out=io.StringIO())
        stub.assert_no_pending_responses()


@pytest.mark.parametrize("value", ["0", "-1", "three"])
def test_bad_verify_attempts_environment_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEX_CODE_HOOK_VERIFY_ATTEMPTS", value)
    assert hook.main(cli_args(), client_factory=refuse_client, out=io.StringIO(), err=io.StringIO()) == 2


@pytest.mark.parametrize(
    ("on_removal", "recorded", "message"),
    [
        ("somewhere", '{"en_US": null}', "must be restore, keep or a Lambda function ARN"),
        ("restore", '{"es_US": null}', "no code hook was recorded for en_US"),
        ("restore", "[1]", "JSON object"),
        ("restore", '{"en_US": {"lambdaARN": "nope"}}', "no Lambda function ARN"),
    ],
)
def test_cli_remove_refuses_bad_removal_arguments(on_removal: str, recorded: str, message: str) -> None:
    err = io.StringIO()
    args = cli_args("--remove", "--recorded", recorded, "--on-removal", on_removal)
    assert hook.main(args, client_factory=refuse_client, out=io.StringIO(), err=err) == 2
    assert message in err.getvalue()
