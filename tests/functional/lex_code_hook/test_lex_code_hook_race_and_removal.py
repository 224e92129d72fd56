"""The lex_code_hook script against in-process moto: racing writers, an old botocore, and the removal mode.

Issue 7 sections 4 and 6: UpdateBotAlias has no precondition, so a write by another root that read the alias
before ours lands can undo our change; the script must re-read, notice and write again (bounded). A botocore
whose model lacks a field the alias has must stop the run before anything is written. On removal the hook found
at adoption goes back, unless its function is gone.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest

import lex_code_hook as hook
from lex_alias_fixture import ACCOUNT_ID, ALIAS_SETTINGS, LIVE_ALIAS_ARN, REGION, SPANISH_ARN, LexAlias

ORIGINAL_EN_US = ALIAS_SETTINGS["botAliasLocaleSettings"]["en_US"]["codeHookSpecification"]["lambdaCodeHook"]
OTHER_ROOT_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:SpanishFulfillment:live"


def request_for(alias: LexAlias, **overrides: Any) -> hook.CodeHookRequest:
    fields: dict[str, Any] = {
        "bot_id": alias.bot_id,
        "bot_alias_id": alias.bot_alias_id,
        "locale_ids": ("en_US",),
        "lambda_arn": LIVE_ALIAS_ARN,
    }
    fields.update(overrides)
    return hook.CodeHookRequest(**fields)


def hook_arn(described: dict[str, Any], locale_id: str) -> str | None:
    settings = described["botAliasLocaleSettings"].get(locale_id, {})
    return settings.get("codeHookSpecification", {}).get("lambdaCodeHook", {}).get("lambdaARN")


class OtherRoot:
    """A second writer (another Terraform root setting es_US) that read the alias before our write and writes its
    stale copy right after each of our UpdateBotAlias calls, up to ``times`` times: the measured interleaving in
    which one locale's hook vanished."""

    def __init__(self, alias: LexAlias, times: int) -> None:
        self.other = boto3.client("lexv2-models", region_name=REGION)
        self.alias = alias
        self.remaining = times
        self.writes = 0
        stale = alias.describe()
        self.stale = {
            k: copy.deepcopy(stale[k])
            for k in ("botAliasName", "description", "botVersion", "botAliasLocaleSettings", "conversationLogSettings")
        }
        self.stale["sentimentAnalysisSettings"] = {"detectSentiment": True}
        self.stale["botAliasLocaleSettings"]["es_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"] = (
            OTHER_ROOT_ARN
        )
        alias.client.meta.events.register("after-call.lex-models-v2.UpdateBotAlias", self)

    def __call__(self, **_: Any) -> None:
        if self.remaining <= 0:
            return
        self.remaining -= 1
        self.writes += 1
        self.other.update_bot_alias(botId=self.alias.bot_id, botAliasId=self.alias.bot_alias_id, **self.stale)


def test_a_racing_writer_that_undoes_our_hook_is_detected_and_both_changes_survive(lex_alias: LexAlias) -> None:
    other = OtherRoot(lex_alias, times=1)
    out = io.StringIO()

    result = hook.set_code_hook(lex_alias.client, request_for(lex_alias), sleep=lambda _: None, out=out)

    described = lex_alias.describe()
    assert hook_arn(described, "en_US") == LIVE_ALIAS_ARN, "our change must be written again"
    assert hook_arn(described, "es_US") == OTHER_ROOT_ARN, "the other root's change must be kept"
    assert other.writes == 1 and lex_alias.count("UpdateBotAlias") == 2
    assert result.updated
    assert "differs from what was written" in out.getvalue() and "verified" in out.getvalue()


def test_without_a_race_the_write_is_verified_once(lex_alias: LexAlias) -> None:
    out = io.StringIO()
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=out)
    assert lex_alias.count("UpdateBotAlias") == 1
    # Read, write, wait for Available (no read: the answer says Available), re-read to verify.
    assert lex_alias.count("DescribeBotAlias") == 2
    assert "updated and verified" in out.getvalue()


def test_a_writer_that_keeps_undoing_the_change_stops_the_run_after_the_bound(lex_alias: LexAlias) -> None:
    OtherRoot(lex_alias, times=100)
    sleeps: list[float] = []

    with pytest.raises(hook.ConcurrentUpdateError, match="another writer") as caught:
        hook.set_code_hook(
            lex_alias.client, request_for(lex_alias), verify_attempts=3, sleep=sleeps.append, out=io.StringIO()
        )

    assert caught.value.exit_code == hook.EXIT_CONCURRENT_UPDATE
    assert "botAliasLocaleSettings.en_US" in str(caught.value)
    assert lex_alias.count("UpdateBotAlias") == 3
    assert len(sleeps) == 3


def test_a_later_edit_of_another_field_is_kept_not_fought(lex_alias: LexAlias) -> None:
    """Someone changes the description after our write but keeps our hook: theirs to keep, no second write."""
    other = boto3.client("lexv2-models", region_name=REGION)

    def edit(**_: Any) -> None:
        lex_alias.client.meta.events.unregister("after-call.lex-models-v2.UpdateBotAlias", edit)
        now = lex_alias.describe()
        keep = {k: now[k] for k in ("botAliasName", "botVersion", "botAliasLocaleSettings", "conversationLogSettings")}
        other.update_bot_alias(
            botId=lex_alias.bot_id, botAliasId=lex_alias.bot_alias_id, description="edited in the console", **keep
        )

    lex_alias.client.meta.events.register("after-call.lex-models-v2.UpdateBotAlias", edit)
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), sleep=lambda _: None, out=io.StringIO())

    described = lex_alias.describe()
    assert described["description"] == "edited in the console"
    assert hook_arn(described, "en_US") == LIVE_ALIAS_ARN
    assert lex_alias.count("UpdateBotAlias") == 1


# --- An old botocore -------------------------------------------------------------------------------------


def botocore_without_selective_logging(tmp_path: Path) -> Any:
    """A lexv2-models client whose model lacks selectiveLoggingEnabled, as botocore 1.31.80 and older do."""
    model = copy.deepcopy(
        botocore.session.get_session().get_component("data_loader").load_service_model("lexv2-models", "service-2")
    )
    for shape in ("TextLogSetting", "AudioLogSetting"):
        model["shapes"][shape]["members"].pop("selectiveLoggingEnabled")
    api_version = model["metadata"]["apiVersion"]
    folder = tmp_path / "lexv2-models" / api_version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    # A fresh session: a loader caches every model it has loaded, so it must find ours first.
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    return boto3.session.Session(botocore_session=session).client("lexv2-models", region_name=REGION)


def test_a_botocore_that_would_drop_a_field_stops_before_writing(lex_alias: LexAlias, tmp_path: Path) -> None:
    old_client = botocore_without_selective_logging(tmp_path)
    parsed = old_client.describe_bot_alias(botId=lex_alias.bot_id, botAliasId=lex_alias.bot_alias_id)
    assert "selectiveLoggingEnabled" not in parsed["conversationLogSettings"]["textLogSettings"][0], (
        "the stand-in for an old botocore must really drop the field, or this test proves nothing"
    )
    calls: list[str] = []
    old_client.meta.events.register("before-call.*", lambda model, **_: calls.append(model.name))

    with pytest.raises(hook.BotocoreTooOldError) as caught:
        hook.set_code_hook(old_client, request_for(lex_alias), out=io.StringIO())

    message = str(caught.value)
    assert "conversationLogSettings.textLogSettings[].selectiveLoggingEnabled" in message
    assert "1.31.81" in message
    assert caught.value.exit_code == hook.EXIT_BOTOCORE_TOO_OLD
    assert "UpdateBotAlias" not in calls
    assert hook_arn(lex_alias.describe(), "en_US") == ORIGINAL_EN_US["lambdaARN"]


# --- Removal ---------------------------------------------------------------------------------------------


def create_function(name: str) -> str:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]


def remove(alias: LexAlias, recorded: dict[str, Any], on_removal: str = "restore", **overrides: Any) -> str:
    out = io.StringIO()
    hook.restore_code_hooks(
        alias.client,
        boto3.client("lambda", region_name=REGION),
        request_for(alias, **overrides),
        recorded,
        on_removal,
        sleep=lambda _: None,
        out=out,
    )
    return out.getvalue()


def test_removal_puts_back_the_recorded_hook_and_nothing_else(lex_alias: LexAlias) -> None:
    create_function("LexFulfillmentHandler")
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())
    before = lex_alias.describe()

    remove(lex_alias, {"en_US": dict(ORIGINAL_EN_US)})

    after = lex_alias.describe()
    assert after["botAliasLocaleSettings"]["en_US"] == ALIAS_SETTINGS["botAliasLocaleSettings"]["en_US"]
    assert after["botAliasLocaleSettings"]["es_US"] == before["botAliasLocaleSettings"]["es_US"]
    assert after["conversationLogSettings"] == before["conversationLogSettings"]


def test_removal_refuses_a_recorded_function_that_no_longer_exists(lex_alias: LexAlias) -> None:
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())
    updates = lex_alias.count("UpdateBotAlias")

    with pytest.raises(hook.RestoreTargetMissingError) as caught:
        remove(lex_alias, {"en_US": dict(ORIGINAL_EN_US)})

    message = str(caught.value)
    assert ORIGINAL_EN_US["lambdaARN"] in message
    assert "code_hook_on_removal" in message and '"keep"' in message
    assert caught.value.exit_code == hook.EXIT_RESTORE_TARGET_MISSING
    assert lex_alias.count("UpdateBotAlias") == updates
    assert hook_arn(lex_alias.describe(), "en_US") == LIVE_ALIAS_ARN


def test_removal_with_keep_changes_nothing(lex_alias: LexAlias) -> None:
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())

    output = remove(lex_alias, {"en_US": dict(ORIGINAL_EN_US)}, on_removal="keep")

    assert "leaving the alias as it is" in output
    assert hook_arn(lex_alias.describe(), "en_US") == LIVE_ALIAS_ARN


def test_removal_to_a_named_function(lex_alias: LexAlias) -> None:
    other = create_function("FallbackFulfillment")
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())

    remove(lex_alias, {"en_US": dict(ORIGINAL_EN_US)}, on_removal=other)

    assert hook_arn(lex_alias.describe(), "en_US") == other


def test_removal_of_a_locale_that_had_no_hook_removes_the_hook(lex_alias: LexAlias) -> None:
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())

    remove(lex_alias, {"en_US": None})

    settings = lex_alias.describe()["botAliasLocaleSettings"]["en_US"]
    assert "codeHookSpecification" not in settings and settings["enabled"] is True


def test_removal_leaves_a_locale_someone_else_moved_since(lex_alias: LexAlias) -> None:
    create_function("LexFulfillmentHandler")
    hook.set_code_hook(lex_alias.client, request_for(lex_alias, locale_ids=("en_US", "es_US")), out=io.StringIO())
    moved = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:SpanishFulfillment:7"
    hook.set_code_hook(
        lex_alias.client, request_for(lex_alias, locale_ids=("es_US",), lambda_arn=moved), out=io.StringIO()
    )

    output = remove(
        lex_alias,
        {"en_US": dict(ORIGINAL_EN_US), "es_US": {"lambdaARN": SPANISH_ARN, "codeHookInterfaceVersion": "1.0"}},
        locale_ids=("en_US", "es_US"),
    )

    described = lex_alias.describe()
    assert hook_arn(described, "en_US") == ORIGINAL_EN_US["lambdaARN"]
    assert hook_arn(described, "es_US") == moved
    assert "es_US calls" in output and "left as it is" in output


def test_cli_remove_exit_code_names_the_override(lex_alias: LexAlias) -> None:
    hook.set_code_hook(lex_alias.client, request_for(lex_alias), out=io.StringIO())
    args = [
        "--region", REGION, "--bot-id", lex_alias.bot_id, "--bot-alias-id", lex_alias.bot_alias_id,
        "--locale", "en_US", "--remove", "--recorded", json.dumps({"en_US": ORIGINAL_EN_US}), LIVE_ALIAS_ARN,
    ]  # fmt: skip
    err = io.StringIO()

    code = hook.main(
        args,
        client_factory=lambda region, **_: lex_alias.client,
        lambda_client_factory=lambda region, **_: boto3.client("lambda", region_name=REGION),
        out=io.StringIO(),
        err=err,
    )

    assert code == 9
    assert "code_hook_on_removal" in err.getvalue()
