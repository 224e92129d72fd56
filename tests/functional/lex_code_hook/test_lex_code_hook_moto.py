"""The lex_code_hook script against in-process moto (mock_aws): what it changes, what it keeps, call counts."""

from __future__ import annotations

import io
from typing import Any

import pytest

import lex_code_hook as hook
from lex_alias_fixture import ALIAS_SETTINGS, LIVE_ALIAS_ARN, REGION, SPANISH_ARN, LexAlias

LIVE_CODE_HOOK = {"lambdaCodeHook": {"lambdaARN": LIVE_ALIAS_ARN, "codeHookInterfaceVersion": "1.0"}}


def request_for(alias: LexAlias, **overrides: Any) -> hook.CodeHookRequest:
    fields: dict[str, Any] = {
        "bot_id": alias.bot_id,
        "bot_alias_id": alias.bot_alias_id,
        "locale_ids": ("en_US",),
        "lambda_arn": LIVE_ALIAS_ARN,
    }
    fields.update(overrides)
    return hook.CodeHookRequest(**fields)


def run(alias: LexAlias, **overrides: Any) -> tuple[hook.CodeHookResult, str]:
    dry_run = overrides.pop("dry_run", False)
    out = io.StringIO()
    result = hook.set_code_hook(alias.client, request_for(alias, **overrides), dry_run=dry_run, out=out)
    return result, out.getvalue()


def test_sets_the_requested_locale_code_hook_to_the_alias_arn(
    lex_alias: LexAlias,
) -> None:
    result, output = run(lex_alias)

    described = lex_alias.describe()
    en_us = described["botAliasLocaleSettings"]["en_US"]
    assert en_us["enabled"] is True
    assert en_us["codeHookSpecification"] == LIVE_CODE_HOOK
    assert result.updated and lex_alias.count("UpdateBotAlias") == 1
    assert f'-> "{LIVE_ALIAS_ARN}"' in output


def test_keeps_the_other_locale_and_every_other_setting(lex_alias: LexAlias) -> None:
    run(lex_alias)

    described = lex_alias.describe()
    assert described["botAliasLocaleSettings"]["es_US"] == ALIAS_SETTINGS["botAliasLocaleSettings"]["es_US"]
    assert (
        described["botAliasLocaleSettings"]["es_US"]["codeHookSpecification"]["lambdaCodeHook"]["lambdaARN"]
        == SPANISH_ARN
    )
    assert described["conversationLogSettings"] == ALIAS_SETTINGS["conversationLogSettings"]
    assert described["sentimentAnalysisSettings"] == ALIAS_SETTINGS["sentimentAnalysisSettings"]
    assert described["botAliasName"] == "Production"
    assert described["description"] == ALIAS_SETTINGS["description"]
    assert described["botVersion"] == "1"


def test_second_run_makes_no_update_call(lex_alias: LexAlias) -> None:
    run(lex_alias)
    before = lex_alias.describe()

    result, output = run(lex_alias)

    assert lex_alias.count("UpdateBotAlias") == 1
    assert lex_alias.count("DescribeBotAlias") >= 2
    assert result.changes == () and not result.updated
    assert "up to date; nothing to change" in output
    assert lex_alias.describe()["lastUpdatedDateTime"] == before["lastUpdatedDateTime"]


def test_sets_the_bot_version_when_given(lex_alias: LexAlias) -> None:
    result, output = run(lex_alias, bot_version="2")

    assert lex_alias.describe()["botVersion"] == "2"
    assert 'botVersion: "1" -> "2"' in output
    # Only the version differs on a later run with another version; the code hook is already set.
    result, _ = run(lex_alias, bot_version="3")
    assert result.changes == ('botVersion: "2" -> "3"',)


def test_several_locales_are_all_set(lex_alias: LexAlias) -> None:
    run(lex_alias, locale_ids=("en_US", "es_US"))

    locales = lex_alias.describe()["botAliasLocaleSettings"]
    assert set(locales) == {"en_US", "es_US"}
    assert locales["en_US"]["codeHookSpecification"] == LIVE_CODE_HOOK
    assert locales["es_US"]["codeHookSpecification"] == LIVE_CODE_HOOK


def test_a_locale_the_alias_lacks_is_rejected_as_a_likely_typo(lex_alias: LexAlias) -> None:
    with pytest.raises(hook.InvalidArgumentError, match=r"has no locale en_UK \(it has en_US, es_US\)"):
        run(lex_alias, locale_ids=("en_UK",))

    assert lex_alias.describe()["botAliasLocaleSettings"] == ALIAS_SETTINGS["botAliasLocaleSettings"]


def test_a_lambda_in_another_region_is_rejected(lex_alias: LexAlias) -> None:
    other_region = LIVE_ALIAS_ARN.replace(f":{REGION}:", ":eu-central-1:")

    with pytest.raises(hook.InvalidArgumentError, match="Lex V2 calls code hooks in its own region only"):
        run(lex_alias, lambda_arn=other_region)

    assert lex_alias.describe()["botAliasLocaleSettings"] == ALIAS_SETTINGS["botAliasLocaleSettings"]


def test_a_locale_the_alias_lacks_is_added_enabled_when_allowed(lex_alias: LexAlias) -> None:
    run(lex_alias, locale_ids=("fr_CA",), allow_new_locales=True)

    locales = lex_alias.describe()["botAliasLocaleSettings"]
    assert locales["fr_CA"] == {
        "enabled": True,
        "codeHookSpecification": LIVE_CODE_HOOK,
    }
    assert locales["en_US"] == ALIAS_SETTINGS["botAliasLocaleSettings"]["en_US"]


def test_dry_run_prints_the_changes_and_updates_nothing(lex_alias: LexAlias) -> None:
    before = lex_alias.describe()

    result, output = run(lex_alias, dry_run=True, bot_version="2")

    assert lex_alias.count("UpdateBotAlias") == 0
    assert not result.updated
    assert "would change" in output
    assert "botAliasLocaleSettings.en_US.codeHookSpecification.lambdaCodeHook.lambdaARN" in output
    assert 'botVersion: "1" -> "2"' in output
    after = lex_alias.describe()
    assert after["botAliasLocaleSettings"] == before["botAliasLocaleSettings"]
    assert after["botVersion"] == "1"


def test_unknown_alias_id_fails_with_both_ids_named(lex_alias: LexAlias) -> None:
    with pytest.raises(hook.AliasNotFoundError) as caught:
        run(lex_alias, bot_alias_id="NOSUCHALIA")
    message = str(caught.value)
    assert lex_alias.bot_id in message and "NOSUCHALIA" in message and REGION in message
    assert lex_alias.count("UpdateBotAlias") == 0


def test_unknown_bot_id_fails_even_though_moto_finds_the_alias(
    lex_alias: LexAlias,
) -> None:
    with pytest.raises(hook.AliasNotFoundError) as caught:
        run(lex_alias, bot_id="NOSUCHBOT1")
    assert "NOSUCHBOT1" in str(caught.value) and lex_alias.bot_alias_id in str(caught.value)
    assert lex_alias.count("UpdateBotAlias") == 0


def test_waits_while_the_alias_is_creating(lex_alias: LexAlias) -> None:
    lex_alias.backend_alias.status = "Creating"

    def sleep(seconds: float) -> None:
        lex_alias.backend_alias.status = "Available"

    out = io.StringIO()
    result = hook.set_code_hook(lex_alias.client, request_for(lex_alias), sleep=sleep, out=out)

    assert result.updated
    assert "is Creating; waiting" in out.getvalue()


def test_a_failed_alias_is_not_touched(lex_alias: LexAlias) -> None:
    lex_alias.backend_alias.status = "Failed"
    with pytest.raises(hook.AliasNotAvailableError):
        run(lex_alias)
    assert lex_alias.count("UpdateBotAlias") == 0


def test_cli_main_exit_codes(lex_alias: LexAlias) -> None:
    def args(bot_alias_id: str) -> list[str]:
        return [
            "--region", REGION, "--bot-id", lex_alias.bot_id, "--bot-alias-id", bot_alias_id,
            "--locale", "en_US", LIVE_ALIAS_ARN,
        ]  # fmt: skip

    def factory(region: str | None, **_: Any) -> Any:
        return lex_alias.client

    out, err = io.StringIO(), io.StringIO()
    assert hook.main(args(lex_alias.bot_alias_id), client_factory=factory, out=out, err=err) == 0
    assert hook.main(args(lex_alias.bot_alias_id), client_factory=factory, out=out, err=err) == 0
    assert lex_alias.count("UpdateBotAlias") == 1

    assert hook.main(args("NOSUCHALIA"), client_factory=factory, out=out, err=err) == 3
    assert "NOSUCHALIA" in err.getvalue() and "not found" in err.getvalue()


def test_nothing_printed_carries_credentials(lex_alias: LexAlias, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0001")
    out, err = io.StringIO(), io.StringIO()

    # make_client builds its own client after the credentials above are set, so they are the ones in use.
    for alias_id in (lex_alias.bot_alias_id, "NOSUCHALIA"):
        hook.main(
            [
                "--region",
                REGION,
                "--bot-id",
                lex_alias.bot_id,
                "--bot-alias-id",
                alias_id,
                "--locale",
                "en_US",
                LIVE_ALIAS_ARN,
            ],
            client_factory=hook.make_client,
            out=out,
            err=err,
        )
    printed = out.getvalue() + err.getvalue()
    assert printed, "the runs must have printed something for this check to mean anything"
    assert secret not in printed and "AKIAEXAMPLEKEYID0001" not in printed
