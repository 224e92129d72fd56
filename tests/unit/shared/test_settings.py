"""atlas_shared.settings: one typed object from the environment, with errors that name the variable."""

from __future__ import annotations

import dataclasses

import pytest

from atlas_shared.exceptions import ConfigurationError
from atlas_shared.settings import DEFAULT_BEDROCK_MODEL_ID, Settings, get_settings, reset_settings


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_environ({})
    assert settings.log_level == "INFO"
    assert settings.secrets_cache_ttl_seconds == 300
    assert settings.conversation_history_turns == 6
    assert settings.bedrock_model_id == DEFAULT_BEDROCK_MODEL_ID
    assert settings.bedrock_max_tokens is None and settings.bedrock_temperature is None
    assert settings.bedrock_stop_sequences == ()
    assert settings.initialization_type == "on-demand" and not settings.pre_initialized
    assert settings.salesforce_lead_outcome_field == "Description"


def test_values_are_parsed_to_their_types() -> None:
    settings = Settings.from_environ(
        {
            "LOG_LEVEL": "debug",
            "SECRETS_CACHE_TTL_SECONDS": "60",
            "BEDROCK_MAX_TOKENS": "150",
            "BEDROCK_TEMPERATURE": "0.7",
            "BEDROCK_TOP_K": "40",
            "BEDROCK_STOP_SEQUENCES": '["\\nUser:"]',
            "CONVERSATION_HISTORY_TURNS": "3",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency",
            "CONNECT_SOURCE_PHONE_NUMBER": "+14155550100",
        }
    )
    assert settings.log_level == "DEBUG"
    assert settings.secrets_cache_ttl_seconds == 60
    assert settings.bedrock_max_tokens == 150 and isinstance(settings.bedrock_max_tokens, int)
    assert settings.bedrock_temperature == pytest.approx(0.7)
    assert settings.bedrock_top_k == 40
    assert settings.bedrock_stop_sequences == ("\nUser:",)
    assert settings.conversation_history_turns == 3
    assert settings.pre_initialized
    assert settings.connect_source_phone_number == "+14155550100"


def test_snap_start_counts_as_pre_initialized_and_unknown_types_do_not_break_init() -> None:
    assert Settings.from_environ({"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}).pre_initialized
    assert not Settings.from_environ({"AWS_LAMBDA_INITIALIZATION_TYPE": "some-future-type"}).pre_initialized


def test_empty_strings_count_as_unset() -> None:
    settings = Settings.from_environ({"SCENARIO_TABLE_NAME": "  ", "BEDROCK_MAX_TOKENS": ""})
    assert settings.scenario_table_name is None and settings.bedrock_max_tokens is None


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("SECRETS_CACHE_TTL_SECONDS", "five minutes", "not an integer"),
        ("SECRETS_CACHE_TTL_SECONDS", "-1", "outside"),
        ("BEDROCK_MAX_TOKENS", "0", "outside"),
        ("BEDROCK_MAX_TOKENS", "5000", "outside"),
        ("BEDROCK_TEMPERATURE", "1.5", "outside"),
        ("BEDROCK_TEMPERATURE", "warm", "not a number"),
        ("LOG_LEVEL", "LOUD", "not one of"),
        ("CONVERSATION_HISTORY_TURNS", "51", "outside"),
        ("CONNECT_SOURCE_PHONE_NUMBER", "415-555-0100", "E.164"),
        ("BEDROCK_STOP_SEQUENCES", "END", "JSON list"),
        ("SALESFORCE_LEAD_EXTERNAL_ID_FIELD", "bad field!", "field API name"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, why: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_environ({name: value})
    assert name in str(caught.value) and why in str(caught.value)
    assert caught.value.variables == (name,)


def test_every_invalid_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_environ({"BEDROCK_MAX_TOKENS": "x", "BEDROCK_TEMPERATURE": "y"})
    assert set(caught.value.variables) == {"BEDROCK_MAX_TOKENS", "BEDROCK_TEMPERATURE"}


def test_require_names_missing_variables_and_the_function() -> None:
    settings = Settings.from_environ({"AWS_LAMBDA_FUNCTION_NAME": "dev-LexFulfillmentHandler"})
    with pytest.raises(ConfigurationError) as caught:
        settings.require("SCENARIO_TABLE_NAME", "SALESFORCE_SECRET_ARN", "BEDROCK_MODEL_ID")
    message = str(caught.value)
    assert "SCENARIO_TABLE_NAME" in message and "SALESFORCE_SECRET_ARN" in message
    assert "BEDROCK_MODEL_ID" not in message  # has a default
    assert "dev-LexFulfillmentHandler" in message
    assert caught.value.variables == ("SCENARIO_TABLE_NAME", "SALESFORCE_SECRET_ARN")


def test_require_returns_the_settings_when_complete() -> None:
    settings = Settings.from_environ({"SCENARIO_TABLE_NAME": "atlas-scenarios"})
    assert settings.require("SCENARIO_TABLE_NAME") is settings


def test_require_rejects_unknown_names() -> None:
    with pytest.raises(ConfigurationError, match="Unknown setting"):
        Settings.from_environ({}).require("NOT_A_SETTING")


def test_settings_are_frozen() -> None:
    settings = Settings.from_environ({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.log_level = "DEBUG"  # type: ignore[misc]


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDROCK_MAX_TOKENS", "150")
    first = get_settings()
    monkeypatch.setenv("BEDROCK_MAX_TOKENS", "9999")
    assert get_settings() is first and first.bedrock_max_tokens == 150
    reset_settings()
    with pytest.raises(ConfigurationError, match="BEDROCK_MAX_TOKENS"):
        get_settings()


# ------------------------------------------------------------------------------------------------ adoption, Salesforce


def test_adoption_and_salesforce_defaults_are_todays_behaviour() -> None:
    from atlas_shared.settings import KeyLayout

    settings = Settings.from_environ({})
    assert settings.interaction_key_attributes == ("interactionKey",)
    assert settings.scenario_key_layouts == (KeyLayout(r"^[A-Za-z0-9_-]{8,128}$", "INTERACTION#{key}", "SCENARIO"),)
    assert settings.salesforce_auth_backoff_seconds == 60 and settings.salesforce_session_timeout_minutes == 120


def test_key_layouts_and_attribute_names_are_parsed() -> None:
    settings = Settings.from_environ(
        {
            "INTERACTION_KEY_ATTRIBUTES": '["callKey", "interactionKey"]',
            "SCENARIO_KEY_LAYOUTS": '[{"key_pattern": "^(?P<lead>\\\\w{18})-(?P<n>\\\\d+)$", '
            '"partition_key": "LEAD#{lead}", "sort_key": "CALL#{n}"}]',
            "SALESFORCE_SESSION_TIMEOUT_MINUTES": "15",
        }
    )
    assert settings.interaction_key_attributes == ("callKey", "interactionKey")
    (layout,) = settings.scenario_key_layouts
    assert layout.partition_key == "LEAD#{lead}" and layout.compiled().fullmatch("a" * 18 + "-7")
    assert settings.salesforce_session_timeout_minutes == 15


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("INTERACTION_KEY_ATTRIBUTES", "interactionKey", "JSON list"),
        ("INTERACTION_KEY_ATTRIBUTES", "[]", "non-empty"),
        ("INTERACTION_KEY_ATTRIBUTES", '["a b"]', "letters"),
        ("INTERACTION_KEY_ATTRIBUTES", '["k", "k"]', "twice"),
        ("SCENARIO_KEY_LAYOUTS", '{"key_pattern": "x"}', "JSON list"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "(", "partition_key": "P#{key}", "sort_key": "S"}]', "regular"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "^.+$", "partition_key": "P#{lead}", "sort_key": "S"}]', "lead"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "^.+$", "partition_key": "P", "sort_key": "S"}]', "share"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "^.+$", "partition_key": "P#{key", "sort_key": "S"}]', "brace"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "^.+$", "partition_key": "", "sort_key": "S"}]', "1-1024"),
        ("SCENARIO_KEY_LAYOUTS", '[{"key_pattern": "^.+$", "partition_key": "{key}"}]', "exactly"),
        ("SALESFORCE_SESSION_TIMEOUT_MINUTES", "2", "outside"),
        ("SALESFORCE_AUTH_BACKOFF_SECONDS", "-1", "outside"),
    ],
)
def test_invalid_adoption_settings_name_the_variable(name: str, value: str, why: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_environ({name: value})
    assert name in str(caught.value) and why in str(caught.value)


def test_key_layouts_as_terraform_jsonencode_writes_them() -> None:
    """Terraform's jsonencode escapes < and > as \\u003c and \\u003e; the parser must read them back."""
    raw = (
        '[{"key_pattern":"^[A-Za-z0-9_-]{8,128}$","partition_key":"INTERACTION#{key}","sort_key":"SCENARIO"},'
        '{"key_pattern":"^(?P\\u003clead\\u003e00Q[A-Za-z0-9]{15})\\\\|(?P\\u003cat\\u003e[0-9]{8}T[0-9]{6})$",'
        '"partition_key":"LEAD#{lead}","sort_key":"CALL#{at}"}]'
    )
    layouts = Settings.from_environ({"SCENARIO_KEY_LAYOUTS": raw}).scenario_key_layouts
    assert layouts[1].compiled().fullmatch("00Q5g00000AbCdEEAZ|20250129T100000")
