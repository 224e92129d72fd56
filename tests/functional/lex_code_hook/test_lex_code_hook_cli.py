"""The lex_code_hook script as Terraform's local-exec runs it: a subprocess, talking to moto_server through
AWS_ENDPOINT_URL. Also checks botocore's standard retries against a stub endpoint that throttles."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

import lex_code_hook as hook
from lex_alias_fixture import (
    ALIAS_SETTINGS,
    LIVE_ALIAS_ARN,
    REGION,
    SCRIPT,
    create_bot_and_alias,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto_server subprocess on a free port; stopped (by its own pid) when the module's tests end."""
    port = free_port()
    moto_server = Path(sys.executable).with_name("moto_server")
    command = [str(moto_server)] if moto_server.exists() else [sys.executable, "-m", "moto.server"]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start; see {log.name}")
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def server_alias(moto_endpoint: str) -> tuple[Any, str, str]:
    """A fresh bot and Production alias in moto_server: (client, bot_id, bot_alias_id). Ids are moto's UUIDs."""
    client = boto3.client("lexv2-models", region_name=REGION, endpoint_url=moto_endpoint)
    bot_id, alias_id = create_bot_and_alias(client)
    return client, bot_id, alias_id


def run_script(endpoint: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "LEX_CODE_HOOK_WAIT_TIMEOUT"
    }
    environment.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=endpoint,
        # moto_server leaves every alias in CREATING for ever; 0 skips the wait, as examples for moto do.
        LEX_CODE_HOOK_WAIT_TIMEOUT="0",
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--region", REGION, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_sets_the_code_hook_and_a_second_run_changes_nothing(
    moto_endpoint: str, server_alias: tuple[Any, str, str]
) -> None:
    client, bot_id, alias_id = server_alias
    args = (
        "--bot-id",
        bot_id,
        "--bot-alias-id",
        alias_id,
        "--locale",
        "en_US",
        "--bot-version",
        "2",
        LIVE_ALIAS_ARN,
    )

    first = run_script(moto_endpoint, *args)
    assert first.returncode == 0, first.stderr
    assert "changing" in first.stdout and "updated" in first.stdout

    described = client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)
    assert described["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"] == {
        "lambdaARN": LIVE_ALIAS_ARN,
        "codeHookInterfaceVersion": "1.0",
    }
    assert described["botVersion"] == "2"
    assert described["botAliasLocaleSettings"]["es_US"] == ALIAS_SETTINGS["botAliasLocaleSettings"]["es_US"]
    assert described["conversationLogSettings"] == ALIAS_SETTINGS["conversationLogSettings"]
    assert described["sentimentAnalysisSettings"] == ALIAS_SETTINGS["sentimentAnalysisSettings"]

    second = run_script(moto_endpoint, *args)
    assert second.returncode == 0, second.stderr
    assert "up to date; nothing to change" in second.stdout
    again = client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)
    assert again["lastUpdatedDateTime"] == described["lastUpdatedDateTime"], "the second run must not update"


def test_cli_dry_run_changes_nothing(moto_endpoint: str, server_alias: tuple[Any, str, str]) -> None:
    client, bot_id, alias_id = server_alias
    before = client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)

    result = run_script(
        moto_endpoint,
        "--bot-id",
        bot_id,
        "--bot-alias-id",
        alias_id,
        "--locale",
        "en_US",
        "--dry-run",
        LIVE_ALIAS_ARN,
    )

    assert result.returncode == 0, result.stderr
    assert "would change" in result.stdout and LIVE_ALIAS_ARN in result.stdout
    after = client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)
    assert after["botAliasLocaleSettings"] == before["botAliasLocaleSettings"]
    assert after["lastUpdatedDateTime"] == before["lastUpdatedDateTime"]


@pytest.mark.parametrize("wrong", ["alias", "bot"])
def test_cli_wrong_id_exits_3_naming_both_ids(
    moto_endpoint: str, server_alias: tuple[Any, str, str], wrong: str
) -> None:
    _, bot_id, alias_id = server_alias
    if wrong == "alias":
        alias_id = "NOSUCHALIA"
    else:
        bot_id = "NOSUCHBOT1"

    # One attempt: moto_server answers unknown ids with HTTP 500, which standard mode would otherwise retry.
    result = run_script(
        moto_endpoint,
        "--bot-id", bot_id, "--bot-alias-id", alias_id, "--locale", "en_US", LIVE_ALIAS_ARN,
        AWS_MAX_ATTEMPTS="1",
    )  # fmt: skip

    assert result.returncode == 3, result.stdout + result.stderr
    assert bot_id in result.stderr and alias_id in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("qualifier", ["", ":$LATEST"])
def test_cli_refuses_unqualified_and_latest(
    moto_endpoint: str, server_alias: tuple[Any, str, str], qualifier: str
) -> None:
    client, bot_id, alias_id = server_alias
    arn = LIVE_ALIAS_ARN.removesuffix(":live") + qualifier

    result = run_script(
        moto_endpoint,
        "--bot-id",
        bot_id,
        "--bot-alias-id",
        alias_id,
        "--locale",
        "en_US",
        arn,
    )

    assert result.returncode == 2
    assert "Lambda ARN" in result.stderr
    assert (
        client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)["botAliasLocaleSettings"]
        == ALIAS_SETTINGS["botAliasLocaleSettings"]
    )


# --- Throttling: botocore standard retries ---------------------------------------------------------------


class ThrottlingLex(BaseHTTPRequestHandler):
    """Answers DescribeBotAlias with ThrottlingException (HTTP 429, Lex V2's error shape) ``throttles`` times,
    then with an alias whose en_US code hook is already the live alias."""

    throttles = 0
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(self.path)
        if len(type(self).seen) <= type(self).throttles:
            self._send(429, {"message": "Rate exceeded"}, error_type="ThrottlingException")
            return
        settings = json.loads(json.dumps(ALIAS_SETTINGS))
        settings["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = (
            LIVE_ALIAS_ARN
        )
        self._send(
            200,
            {
                **settings,
                "botAliasId": "PRODALIAS1",
                "botId": "BOTID12345",
                "botAliasStatus": "Available",
            },
        )

    def _send(self, status: int, body: dict[str, Any], error_type: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass


@pytest.fixture
def throttling_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[type[ThrottlingLex]]:
    handler = type("Handler", (ThrottlingLex,), {"seen": [], "throttles": 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_throttling_is_retried(throttling_endpoint: type[ThrottlingLex], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    request = hook.CodeHookRequest("BOTID12345", "PRODALIAS1", ("en_US",), LIVE_ALIAS_ARN)

    result = hook.set_code_hook(hook.make_client(REGION), request, out=io.StringIO())

    assert len(throttling_endpoint.seen) == 3, "two throttled answers, then the one that succeeds"
    assert result.changes == ()


def test_throttling_past_the_attempts_is_an_aws_error(
    throttling_endpoint: type[ThrottlingLex], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    request = hook.CodeHookRequest("BOTID12345", "PRODALIAS1", ("en_US",), LIVE_ALIAS_ARN)

    with pytest.raises(hook.AwsApiError, match="ThrottlingException") as caught:
        hook.set_code_hook(hook.make_client(REGION), request, out=io.StringIO())
    assert caught.value.exit_code == 5
    assert len(throttling_endpoint.seen) == 1


# --- As Terraform runs it with assume_role_arn: --role-arn into another account ---------------------------


def test_cli_role_arn_updates_the_alias_in_the_roles_account(moto_endpoint: str) -> None:
    """The provider assumes a role in another account; the script must assume it too (moto routes the
    temporary keys to the role's account), or it looks for the alias in the runner's own account."""
    target_account = "210987654321"
    role_arn = f"arn:aws:iam::{target_account}:role/atlas-engine-deployer"
    credentials = boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).assume_role(RoleArn=role_arn, RoleSessionName="fixture")["Credentials"]
    client = boto3.client(
        "lexv2-models",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    bot_id, alias_id = create_bot_and_alias(client)
    arn = LIVE_ALIAS_ARN.replace(":123456789012:", f":{target_account}:")
    args = ("--bot-id", bot_id, "--bot-alias-id", alias_id, "--locale", "en_US", arn)

    as_runner = run_script(moto_endpoint, *args, AWS_MAX_ATTEMPTS="1")
    assert as_runner.returncode == 3, as_runner.stdout + as_runner.stderr

    as_role = run_script(moto_endpoint, "--role-arn", role_arn, *args)
    assert as_role.returncode == 0, as_role.stderr
    assert f"running as role {role_arn} (session terraform-lex-code-hook)" in as_role.stdout
    described = client.describe_bot_alias(botId=bot_id, botAliasId=alias_id)
    assert described["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] == arn


def test_cli_rejects_a_bad_role_arn_with_exit_2(moto_endpoint: str, server_alias: tuple[Any, str, str]) -> None:
    _, bot_id, alias_id = server_alias
    result = run_script(
        moto_endpoint,
        "--bot-id", bot_id, "--bot-alias-id", alias_id, "--locale", "en_US",
        "--role-arn", "arn:aws:iam::123456789012:user/deployer", LIVE_ALIAS_ARN,
    )  # fmt: skip
    assert result.returncode == 2
    assert "is not an IAM role ARN" in result.stderr and "Traceback" not in result.stderr


def test_cli_on_a_python_without_boto3_exits_6_saying_what_is_needed() -> None:
    # -S skips site-packages: the interpreter is this one, minus boto3, like a bare CI image's python3.
    result = subprocess.run(
        [sys.executable, "-S", str(SCRIPT), "--region", REGION, "--bot-id", "BOTID12345",
         "--bot-alias-id", "PRODALIAS1", "--locale", "en_US", LIVE_ALIAS_ARN],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 6, result.stdout + result.stderr
    assert "cannot import boto3" in result.stderr and "lex_code_hook_python" in result.stderr
    assert "Traceback" not in result.stderr
