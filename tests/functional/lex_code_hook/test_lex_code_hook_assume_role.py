"""--role-arn against in-process moto (mock_aws): the bot alias lives in another account, as in a pipeline whose
provider assumes a deployment role there. moto routes calls made with an assumed role's temporary keys to the
role's account, so only a script that really uses those keys finds the alias."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

import lex_code_hook as hook
from lex_alias_fixture import LIVE_ALIAS_ARN, REGION, create_bot_and_alias

TARGET_ACCOUNT_ID = "210987654321"
ROLE_ARN = f"arn:aws:iam::{TARGET_ACCOUNT_ID}:role/atlas-engine-deployer"
TARGET_LIVE_ALIAS_ARN = LIVE_ALIAS_ARN.replace(":123456789012:", f":{TARGET_ACCOUNT_ID}:")


@dataclass
class TargetAlias:
    """A bot alias in the target account, and a client of that account to look at it."""

    client: Any
    bot_id: str
    bot_alias_id: str

    def code_hook_arn(self, locale_id: str = "en_US") -> str:
        alias = self.client.describe_bot_alias(botId=self.bot_id, botAliasId=self.bot_alias_id)
        return str(alias["botAliasLocaleSettings"][locale_id]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"])


@pytest.fixture
def target_alias() -> Iterator[TargetAlias]:
    from moto import mock_aws
    from moto.lexv2models.models import lexv2models_backends

    with mock_aws():
        sts = boto3.client("sts", region_name=REGION)
        credentials = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="fixture")["Credentials"]
        client = boto3.client(
            "lexv2-models",
            region_name=REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        bot_id, alias_id = create_bot_and_alias(client)
        backend = lexv2models_backends[TARGET_ACCOUNT_ID][REGION]
        assert alias_id in backend.bot_aliases, "moto must have created the alias in the role's account"
        backend.bot_aliases[alias_id].status = "Available"
        yield TargetAlias(client=client, bot_id=bot_id, bot_alias_id=alias_id)


@dataclass
class RecordingSessions:
    """boto3 Session factory for make_client: keeps each session's kwargs, the services each built a client
    for, every AssumeRole request and the credentials STS answered with."""

    created: list[tuple[dict[str, Any], list[str]]] = field(default_factory=list)
    assume_role_requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> Any:
        session = boto3.session.Session(**kwargs)
        services: list[str] = []
        self.created.append((kwargs, services))
        build_client = session.client

        def client(service_name: str, **client_kwargs: Any) -> Any:
            services.append(service_name)
            return build_client(service_name, **client_kwargs)

        session.client = client  # type: ignore[method-assign]
        session.events.register(
            "provide-client-params.sts.AssumeRole", lambda params, **_: self.assume_role_requests.append(dict(params))
        )
        session.events.register(
            "after-call.sts.AssumeRole", lambda parsed, **_: self.issued.append(dict(parsed["Credentials"]))
        )
        return session


def cli_args(alias: TargetAlias, *extra: str) -> list[str]:
    return [
        "--region", REGION, "--bot-id", alias.bot_id, "--bot-alias-id", alias.bot_alias_id, "--locale", "en_US",
        *extra, TARGET_LIVE_ALIAS_ARN,
    ]  # fmt: skip


def test_role_arn_runs_every_lex_call_with_the_assumed_credentials(target_alias: TargetAlias) -> None:
    sessions = RecordingSessions()

    def factory(region: str | None, **role: Any) -> Any:
        return hook.make_client(region, session_factory=sessions, **role)

    out, err = io.StringIO(), io.StringIO()
    code = hook.main(cli_args(target_alias, "--role-arn", ROLE_ARN), client_factory=factory, out=out, err=err)

    assert code == 0, err.getvalue()
    assert sessions.assume_role_requests == [{"RoleArn": ROLE_ARN, "RoleSessionName": "terraform-lex-code-hook"}]
    (issued,) = sessions.issued
    runner, role = sessions.created
    assert runner == ({}, ["sts"]), "the runner's own credentials may only call STS"
    assert role == (
        {
            "aws_access_key_id": issued["AccessKeyId"],
            "aws_secret_access_key": issued["SecretAccessKey"],
            "aws_session_token": issued["SessionToken"],
            "region_name": REGION,
        },
        ["lexv2-models"],
    )
    assert target_alias.code_hook_arn() == TARGET_LIVE_ALIAS_ARN
    assert f"running as role {ROLE_ARN}" in out.getvalue() and "updated" in out.getvalue()
    printed = out.getvalue() + err.getvalue()
    assert issued["SecretAccessKey"] not in printed and issued["SessionToken"] not in printed
    assert issued["AccessKeyId"] not in printed


def test_without_role_arn_the_runners_account_has_no_such_alias(target_alias: TargetAlias) -> None:
    """The bug this option fixes: the provider deployed to the role's account, the script looked in its own."""
    before = target_alias.code_hook_arn()
    err = io.StringIO()

    code = hook.main(cli_args(target_alias), client_factory=hook.make_client, out=io.StringIO(), err=err)

    assert code == 3
    assert "not found" in err.getvalue()
    assert target_alias.code_hook_arn() == before


def test_a_second_run_as_the_role_changes_nothing(target_alias: TargetAlias) -> None:
    args = cli_args(target_alias, "--role-arn", ROLE_ARN, "--role-session-name", "atlas-engine-dev")
    assert hook.main(args, out=io.StringIO(), err=io.StringIO()) == 0
    out = io.StringIO()

    assert hook.main(args, out=out, err=io.StringIO()) == 0

    assert "up to date; nothing to change" in out.getvalue()


def test_assume_role_without_any_credentials_exits_5_naming_the_role(
    target_alias: TargetAlias, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    before = target_alias.code_hook_arn()
    err = io.StringIO()

    code = hook.main(cli_args(target_alias, "--role-arn", ROLE_ARN), out=io.StringIO(), err=err)

    assert code == 5
    assert err.getvalue().startswith(f"lex_code_hook: error: cannot assume role {ROLE_ARN}: ")
    assert "Unable to locate credentials" in err.getvalue()
    assert target_alias.code_hook_arn() == before
