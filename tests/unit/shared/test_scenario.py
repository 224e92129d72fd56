"""atlas_shared.scenario: the DynamoDB store, and where a turn finds the scenario (tests/unit/shared/test_session.py
has what rides in the session)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas_shared.exceptions import ScenarioStoreError
from atlas_shared.scenario import ContainerScenarioCache, Scenario, ScenarioLookup, ScenarioStore, container_cache
from atlas_shared.session import (
    ATTR_GREETING,
    ATTR_SCENARIO,
    ATTR_SCENARIO_CACHE,
    pack_session_attributes,
)
from tests.conftest import INTERACTION_KEY, LEAD_ID, TABLE_NAME, FakeAws

SCENARIO = Scenario(INTERACTION_KEY, "Call Ada about the premium plan.", "Hi Ada! It's Sam from Atlas.", LEAD_ID)


def _get_items(aws: FakeAws) -> int:
    return aws.counter.count("dynamodb", "GetItem")


# ------------------------------------------------------------------------------------------------ lookup


def test_first_turn_reads_dynamodb_once(aws: FakeAws) -> None:
    aws.put_scenario(scenario=SCENARIO.text, greeting=SCENARIO.greeting)
    aws.counter.reset()
    lookup = ScenarioStore(TABLE_NAME).load(INTERACTION_KEY, {})
    assert lookup == ScenarioLookup(SCENARIO, "dynamodb")
    assert _get_items(aws) == 1


def test_later_turns_read_the_session(aws: FakeAws) -> None:
    session = {
        ATTR_SCENARIO: "from session",
        ATTR_GREETING: "Hello.",
        ATTR_SCENARIO_CACHE: "session",
        "leadId": LEAD_ID,
    }
    lookup = ScenarioStore(TABLE_NAME).load(INTERACTION_KEY, session)
    assert lookup.source == "session" and lookup.scenario == Scenario(
        INTERACTION_KEY, "from session", "Hello.", LEAD_ID
    )
    assert _get_items(aws) == 0


def test_oversized_scenarios_come_from_this_container(aws: FakeAws) -> None:
    container_cache.put(SCENARIO)
    lookup = ScenarioStore(TABLE_NAME).load(INTERACTION_KEY, {ATTR_SCENARIO_CACHE: "container"})
    assert lookup == ScenarioLookup(SCENARIO, "container") and _get_items(aws) == 0


def test_another_container_falls_back_to_dynamodb(aws: FakeAws) -> None:
    aws.put_scenario(scenario=SCENARIO.text, greeting=SCENARIO.greeting)
    aws.counter.reset()
    lookup = ScenarioStore(TABLE_NAME).load(INTERACTION_KEY, {ATTR_SCENARIO_CACHE: "container"})
    assert lookup.source == "dynamodb" and lookup.scenario == SCENARIO and _get_items(aws) == 1


def test_a_missing_item_is_remembered(aws: FakeAws) -> None:
    store = ScenarioStore(TABLE_NAME)
    assert store.load(INTERACTION_KEY, {}) == ScenarioLookup(None, "missing")
    assert store.load(INTERACTION_KEY, {ATTR_SCENARIO_CACHE: "missing"}) == ScenarioLookup(None, "missing")
    assert _get_items(aws) == 1
    attributes = pack_session_attributes(
        {}, lookup=ScenarioLookup(None, "missing"), history=[], max_turns=6, cache=container_cache
    )
    assert attributes[ATTR_SCENARIO_CACHE] == "missing"


def test_read_is_strongly_consistent_and_projected(aws: FakeAws) -> None:
    seen = {}
    aws.dynamodb.meta.events.register("provide-client-params.dynamodb.GetItem", lambda params, **_: seen.update(params))
    ScenarioStore(TABLE_NAME).fetch(INTERACTION_KEY)
    assert seen["ConsistentRead"] is True
    assert seen["Key"] == {"PK": {"S": f"INTERACTION#{INTERACTION_KEY}"}, "SK": {"S": "SCENARIO"}}


def test_dynamodb_errors_are_scenario_store_errors(aws: FakeAws) -> None:
    with pytest.raises(ScenarioStoreError, match="ResourceNotFoundException"):
        ScenarioStore("no-such-table").load(INTERACTION_KEY, {})


# ------------------------------------------------------------------------------------------------ save


def test_save_writes_the_contract_item(aws: FakeAws) -> None:
    assert ScenarioStore(TABLE_NAME).save(
        SCENARIO, created_at=datetime(2025, 1, 29, 10, 0, tzinfo=UTC), expires_at=1_738_749_600
    )
    item = aws.get_scenario_item(INTERACTION_KEY)
    assert item == {
        "PK": {"S": f"INTERACTION#{INTERACTION_KEY}"},
        "SK": {"S": "SCENARIO"},
        "DynamicScenario": {"S": SCENARIO.text},
        "Greeting": {"S": SCENARIO.greeting},
        "LeadId": {"S": LEAD_ID},
        "CreatedAt": {"S": "2025-01-29T10:00:00Z"},
        "ExpiresAt": {"N": "1738749600"},
    }


def test_save_keeps_the_first_item(aws: FakeAws) -> None:
    store = ScenarioStore(TABLE_NAME)
    now = datetime.now(tz=UTC)
    assert store.save(SCENARIO, created_at=now, expires_at=2_000_000_000)
    replacement = Scenario(INTERACTION_KEY, "a different scenario", "Hello.", LEAD_ID)
    assert store.save(replacement, created_at=now, expires_at=2_000_000_000) is False
    assert aws.get_scenario_item(INTERACTION_KEY)["DynamicScenario"]["S"] == SCENARIO.text


def test_save_needs_an_aware_timestamp(aws: FakeAws) -> None:
    with pytest.raises(ValueError):
        ScenarioStore(TABLE_NAME).save(SCENARIO, created_at=datetime(2025, 1, 1), expires_at=1)


# ------------------------------------------------------------------------------------------------ container cache


def test_container_cache_is_bounded_and_expires() -> None:
    now = [1000.0]
    cache = ContainerScenarioCache(max_entries=2, ttl_seconds=60, clock=lambda: now[0])
    for key in ("a", "b", "c"):
        cache.put(Scenario(key, key))
    assert cache.get("a") is None and cache.get("b") is not None and len(cache) == 2
    now[0] += 61
    assert cache.get("b") is None


# ------------------------------------------------------------------------------------------------ key layouts


def test_default_key_layout_is_interaction_hash_key_and_scenario() -> None:
    from atlas_shared.scenario import ScenarioKeys

    assert ScenarioKeys().item_key(INTERACTION_KEY) == (f"INTERACTION#{INTERACTION_KEY}", "SCENARIO")
    assert ScenarioKeys().item_key("k" * 3000) is None and ScenarioKeys().item_key("a#b-c-d-e") is None


def test_the_first_matching_layout_builds_the_key_from_named_groups() -> None:
    from atlas_shared.scenario import ScenarioKeys
    from atlas_shared.settings import KeyLayout

    keys = ScenarioKeys(
        [
            KeyLayout(r"^(?P<lead>00Q\w{15})_(?P<at>\d+)$", "LEAD#{lead}", "CALL#{at}#{key}"),
            KeyLayout(r"^[A-Za-z0-9_-]{8,128}$", "INTERACTION#{key}", "SCENARIO"),
        ]
    )
    assert keys.item_key("00Q5g00000AbCdEEAZ_1738144800") == (
        "LEAD#00Q5g00000AbCdEEAZ",
        "CALL#1738144800#00Q5g00000AbCdEEAZ_1738144800",
    )
    assert keys.item_key(INTERACTION_KEY) == (f"INTERACTION#{INTERACTION_KEY}", "SCENARIO")


def test_the_store_reads_and_writes_items_in_the_configured_layout(aws: FakeAws) -> None:
    from atlas_shared.scenario import ScenarioKeys
    from atlas_shared.settings import KeyLayout

    store = ScenarioStore(TABLE_NAME, keys=ScenarioKeys([KeyLayout(r"^(?P<k>\w+)$", "CALL#{k}", "V1")]))
    details = {"name": "Ada Lovelace", "company": "Analytical Engines"}
    scenario = Scenario(INTERACTION_KEY, "text", "Hi!", LEAD_ID, details)
    assert store.save(scenario, created_at=datetime.now(UTC), expires_at=1893456000)
    item = aws.dynamodb.get_item(TableName=TABLE_NAME, Key={"PK": {"S": f"CALL#{INTERACTION_KEY}"}, "SK": {"S": "V1"}})[
        "Item"
    ]
    assert item["LeadName"] == {"S": "Ada Lovelace"} and "LeadTitle" not in item
    assert store.fetch(INTERACTION_KEY) == scenario


def test_an_item_without_lead_details_has_no_lead_context(aws: FakeAws) -> None:
    aws.put_scenario(scenario="text", greeting="Hi!")
    fetched = ScenarioStore(TABLE_NAME).fetch(INTERACTION_KEY)
    assert fetched is not None and fetched.lead_context is None


def test_a_key_too_long_for_dynamodb_matches_no_layout() -> None:
    from atlas_shared.scenario import ScenarioKeys
    from atlas_shared.settings import KeyLayout

    keys = ScenarioKeys([KeyLayout(r"^.+$", "CALL#{key}", "SCENARIO")])
    assert keys.item_key("k" * 2000) is not None
    assert keys.item_key("k" * 3000) is None
