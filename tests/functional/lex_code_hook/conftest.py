"""Fixtures for the lex_code_hook script against in-process moto (see lex_alias_fixture.py for the alias)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

# The script ships inside the Terraform module, not as a package; the helper module sits next to this file.
_HERE = Path(__file__).resolve().parent
for _path in (_HERE.parents[2] / "modules" / "lex_code_hook" / "scripts", _HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from lex_alias_fixture import ACCOUNT_ID, REGION, LexAlias, create_bot_and_alias  # noqa: E402


@pytest.fixture(autouse=True)
def offline_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, and nothing that could reach a real account or endpoint."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LEX_CODE_HOOK_WAIT_TIMEOUT", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture
def lex_alias() -> Iterator[LexAlias]:
    """The plan's bot and Production alias in moto (mock_aws), with real-looking 10-character ids.

    moto 5.2 hands out UUID ids and leaves aliases in CREATING for ever; the fixture re-keys the bot and
    alias to Lex-shaped ids and marks the alias Available, as an alias that already exists in AWS is.
    """
    from moto import mock_aws
    from moto.lexv2models.models import lexv2models_backends

    with mock_aws():
        client = boto3.client("lexv2-models", region_name=REGION)
        moto_bot_id, moto_alias_id = create_bot_and_alias(client)

        backend = lexv2models_backends[ACCOUNT_ID][REGION]
        bot = backend.bots.pop(moto_bot_id)
        bot.id = "BOTID12345"
        backend.bots[bot.id] = bot
        alias = backend.bot_aliases.pop(moto_alias_id)
        alias.id, alias.bot_id, alias.status = "PRODALIAS1", bot.id, "Available"
        backend.bot_aliases[alias.id] = alias

        recorded = LexAlias(client=client, bot_id=bot.id, bot_alias_id=alias.id, backend_alias=alias)
        client.meta.events.register("before-call.*", lambda model, **_: recorded.calls.append(model.name))
        yield recorded
