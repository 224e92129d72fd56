"""bench/simulation.py on a tiny workload: repeatable, every call counted, nothing escapes uncounted.

Structure only: no timing is asserted (timing lives in bench/results/simulation.*).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _load_simulation() -> Any:
    spec = importlib.util.spec_from_file_location("atlas_bench_simulation", ROOT / "bench" / "simulation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


sim = _load_simulation()

# Three short calls, a fixed compute time: every figure is a function of the seed alone.
TINY = {**sim.MODEL, "calls": 3, "turns_min": 3, "turns_max": 4, "compute_ms": 1.0, "slot_share": 1.0}


@pytest.fixture(scope="module")
def key() -> str:
    return sim._rsa_key()


def _run(name: str, key: str, seed: int = 11, model: dict[str, Any] | None = None) -> dict[str, Any]:
    variant = next(v for v in sim.variants(TINY) if v.name == name)
    return sim.run_variant(variant, model or TINY, seed, key)


@pytest.fixture(scope="module")
def after(key: str) -> dict[str, Any]:
    return _run("after", key)


@pytest.fixture(scope="module")
def before(key: str) -> dict[str, Any]:
    return _run("before", key)


def test_same_seed_same_run(after: dict[str, Any], key: str) -> None:
    again = _run("after", key)
    assert [t.__dict__ for t in again["turns"]] == [t.__dict__ for t in after["turns"]]
    assert sim.summarise(again) == sim.summarise(after)


def test_another_seed_another_workload(after: dict[str, Any], key: str) -> None:
    other = _run("after", key, seed=12)
    assert [t.latency_ms for t in other["turns"]] != [t.latency_ms for t in after["turns"]]


def test_after_counts_each_call_where_it_happens(after: dict[str, Any]) -> None:
    turns = after["turns"]
    assert len({t.call for t in turns}) == 3
    # The provisioned container's init made the login (one secret read, one token request), off every turn.
    assert after["init_calls"] == {"secretsmanager": 1, "salesforce_token": 1}
    # GenerateDynamicScenarioHandler wrote each call's item first: one Converse and one PutItem per call.
    assert after["workflow_calls"] == {"bedrock:Converse": 3, "dynamodb:PutItem": 3}
    for t in turns:
        if t.first:
            assert t.calls["dynamodb"] == 1, t  # the scenario is read once per call, on its first turn
        if t.kind == "slot_elicit":
            assert t.dialog_action == "Delegate" and t.calls["bedrock"] == 0
        elif t.kind == "greeting":
            assert t.calls["bedrock"] == 0
        else:
            assert t.dialog_action == "ElicitIntent" and t.calls["bedrock"] == 1
        assert t.intent_state != "Failed"
        assert t.latency_ms == pytest.approx(sum(t.components.values()))
    assert any(t.kind == "slot_fill" for t in turns)


def test_before_applies_the_plans_rules(before: dict[str, Any]) -> None:
    summary = sim.summarise(before)
    assert summary["secrets_manager_share"] == 1.0
    assert before["init_calls"] == {}
    for t in before["turns"]:
        assert t.calls["secretsmanager"] == 1 and t.calls["salesforce_token"] == 1
        # every turn reads the scenario again, a Delegate turn too (it looks the scenario up so the cache survives)
        assert t.calls["dynamodb"] == 1
        assert (t.components["cold_start"] > 0) == t.cold
    assert summary["containers"] == sum(t.cold for t in before["turns"])  # no provisioned container before


def test_streaming_reads_only_the_sentences_it_needs(key: str) -> None:
    one = sim.summarise(_run("after_stream_1", key))
    three = sim.summarise(_run("after", key))
    converse = sim.summarise(_run("after_converse", key))
    assert one["bedrock_mean_ms_per_call"] <= three["bedrock_mean_ms_per_call"] <= converse["bedrock_mean_ms_per_call"]


def test_unexpected_outbound_calls_raise(key: str) -> None:
    import boto3
    import requests

    with sim.Transport(TINY, 1):
        client = boto3.client("sqs", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
        with pytest.raises(sim.UnexpectedOutboundCall, match="sqs"):
            client.list_queues()
        with pytest.raises(sim.UnexpectedOutboundCall, match="example.com"):
            requests.get("https://example.com/", timeout=1)


def test_a_call_the_handler_swallows_still_fails_the_run(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handler answers a failed Salesforce lookup politely; the simulation must not."""

    class NoLeads(dict):
        def __setitem__(self, key: str, value: Any) -> None:
            pass

    class ItemsWithoutLeadDetails(dict):
        """Items as written before the Lead's details were stored on them: the handler reads the Lead instead."""

        def __setitem__(self, key: str, item: Any) -> None:
            super().__setitem__(
                key, {k: v for k, v in item.items() if k not in ("LeadName", "LeadCompany", "LeadTitle")}
            )

    original = sim.Transport.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.leads = NoLeads()
        self.scenarios = ItemsWithoutLeadDetails()

    monkeypatch.setattr(sim.Transport, "__init__", init)
    with pytest.raises(sim.UnexpectedOutboundCall, match="Salesforce GET"):
        _run("after", key)


def test_the_run_leaves_the_process_as_it_found_it(key: str) -> None:
    import os

    import boto3

    before_env, before_path, session = dict(os.environ), list(sys.path), boto3.DEFAULT_SESSION
    _run("after", key)
    assert dict(os.environ) == before_env
    assert sys.path == before_path
    assert boto3.DEFAULT_SESSION is session
    assert not any(name.startswith("atlas_sim_lex_") for name in sys.modules)


def test_set_overrides_are_checked() -> None:
    assert sim._parse_set(["ddb_ms_min=150"], sim.MODEL)["ddb_ms_min"] == 150
    with pytest.raises(SystemExit, match="no_such_figure"):
        sim._parse_set(["no_such_figure=1"], sim.MODEL)
