"""EMF documents from atlas_shared.metrics, checked against the specification (tests/schemas/cloudwatch_emf.schema.json)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from atlas_shared import metrics

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "cloudwatch_emf.schema.json").read_text())
CASES = [
    (name, "reply" if key == "path" else "dynamodb" if key == "source" else "on-demand" if key else None)
    for name, (_, key) in metrics.METRICS.items()
]


@pytest.mark.parametrize(("name", "breakdown"), CASES)
def test_every_metric_is_valid_emf_with_its_values_at_the_root(name: str, breakdown: str | None) -> None:
    doc = metrics.document(name, 2.5, breakdown, namespace="AtlasEngine/test", function="prod-Lex")

    jsonschema.validate(doc, SCHEMA)
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    # Every dimension and metric the directive names must be a root member (the spec's target members).
    for key in [k for dims in directive["Dimensions"] for k in dims] + [m["Name"] for m in directive["Metrics"]]:
        assert key in doc
    assert doc[name] == 2.5
    assert len(directive["Dimensions"][0]) <= 2


def test_breakdown_must_match_the_metric() -> None:
    with pytest.raises(ValueError):
        metrics.document("TurnDuration", 1, None, namespace="n", function="f")
    with pytest.raises(ValueError):
        metrics.document("SecretsManagerRead", 1, "x", namespace="n", function="f")
    with pytest.raises(KeyError):
        metrics.document("Nope", 1, None, namespace="n", function="f")


def test_put_writes_one_line_in_the_configured_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setenv("METRICS_NAMESPACE", "Custom/NS")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "prod-Lex")
    metrics.set_stream(stream)
    try:
        metrics.put("TurnDuration", 812.4, "reply")
        metrics.put("Nope")  # a bad name never raises on a turn
    finally:
        metrics.set_stream(None)
    [line] = stream.getvalue().splitlines()
    doc = json.loads(line)
    jsonschema.validate(doc, SCHEMA)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Custom/NS"
    assert doc["function"] == "prod-Lex" and doc["path"] == "reply"


def test_empty_namespace_turns_metrics_off(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setenv("METRICS_NAMESPACE", "")
    metrics.set_stream(stream)
    try:
        metrics.put("SecretsManagerRead")
    finally:
        metrics.set_stream(None)
    assert stream.getvalue() == ""
