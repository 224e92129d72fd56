"""CloudWatch metrics from the handlers, in the Embedded Metric Format (EMF).

One JSON line on stdout per metric; CloudWatch Logs turns it into a metric, with no API call on the turn's
path. Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

    {"_aws": {"Timestamp": <epoch ms>, "CloudWatchMetrics": [{"Namespace": NS,
      "Dimensions": [["function", "path"]], "Metrics": [{"Name": "TurnDuration", "Unit": "Milliseconds"}]}]},
     "function": "prod-LexFulfillmentHandler", "path": "reply", "TurnDuration": 812.4}

Dimension sets stay small: ``function`` on every metric, plus at most one breakdown key (``path``, ``source``
or ``initType``), so each metric has a handful of series.

The namespace is ``METRICS_NAMESPACE`` (the root's ``metrics_namespace`` variable, set on every function);
unset or empty, nothing is emitted (unit tests, a handler run outside the module). The metrics, in
:data:`METRICS`:

| metric | unit | breakdown | emitted |
| --- | --- | --- | --- |
| ColdStart | Count | initType | once per container, at its first invocation: 1 for ``on-demand`` and ``snap-start``, 0 for ``provisioned-concurrency`` (its init ran before any caller) |
| SecretsManagerRead | Count | | per GetSecretValue |
| ScenarioLookup | Count | source | per turn that needs the scenario: ``session``, ``container``, ``dynamodb``, ``missing`` |
| SalesforceTokenExchange | Count | | per JWT bearer token request |
| SalesforceRelogin | Count | | per login forced by an expired session |
| BedrockLatency | Milliseconds | | per Bedrock call |
| BedrockOutputTokens | Count | | per Bedrock call |
| BedrockTruncated | Count | | per reply cut at the token limit |
| TurnDuration | Milliseconds | path | per Lex turn: ``greeting``, ``reply``, ``apology``, ``delegate`` |

Why not Powertools Metrics or aws-embedded-metrics: importing them costs a cold start more than this whole
module does; the figures are in ``bench/results/emf_import.json`` (README, Benchmarks).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Literal, TextIO

Unit = Literal["Count", "Milliseconds"]
Breakdown = Literal["path", "source", "initType"]

METRICS: dict[str, tuple[Unit, Breakdown | None]] = {
    "ColdStart": ("Count", "initType"),
    "SecretsManagerRead": ("Count", None),
    "ScenarioLookup": ("Count", "source"),
    "SalesforceTokenExchange": ("Count", None),
    "SalesforceRelogin": ("Count", None),
    "BedrockLatency": ("Milliseconds", None),
    "BedrockOutputTokens": ("Count", None),
    "BedrockTruncated": ("Count", None),
    "TurnDuration": ("Milliseconds", "path"),
}

_stream: TextIO | None = None


def set_stream(stream: TextIO | None) -> None:
    """Send EMF lines to ``stream`` instead of stdout (tests); None restores stdout."""
    global _stream
    _stream = stream


def document(name: str, value: float, breakdown: str | None = None, *, namespace: str, function: str) -> dict:
    """The EMF document for one value of metric ``name``.

    Args:
        name: a key of :data:`METRICS`.
        value: the value, in the metric's unit.
        breakdown: the value of the metric's breakdown dimension (e.g. ``reply`` for TurnDuration's ``path``).

    Raises:
        KeyError: ``name`` is not one of :data:`METRICS`.
        ValueError: a metric with a breakdown got none, or one without got one.
    """
    unit, key = METRICS[name]
    if (key is None) != (breakdown is None):
        raise ValueError(f"{name} takes {'no breakdown' if key is None else 'a ' + key + ' value'}")
    dimensions = ["function"] + ([key] if key else [])
    body: dict = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": namespace, "Dimensions": [dimensions], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        },
        "function": function,
        name: value,
    }
    if key:
        body[key] = breakdown
    return body


def put(name: str, value: float = 1.0, breakdown: str | None = None) -> None:
    """Emit one value of metric ``name`` (see :func:`document`); nothing when ``METRICS_NAMESPACE`` is unset or empty.

    Never raises on the turn's path: a metric that cannot be written is dropped.
    """
    namespace = os.environ.get("METRICS_NAMESPACE", "")
    if not namespace:
        return
    try:
        line = json.dumps(
            document(
                name,
                value,
                breakdown,
                namespace=namespace,
                function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
            ),
            separators=(",", ":"),
        )
        stream = _stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()
    except (KeyError, ValueError, OSError):
        return
