"""Part 3, success metrics: the plan's Success Metrics table over a time window, marked against its targets.

Sources, best first:

- CloudWatch metrics (GetMetricData, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html):
  ``AWS/Lambda`` Duration (Average, p99), Invocations, Errors, Throttles and
  ProvisionedConcurrencySpilloverInvocations of the ``live`` alias (dimensions FunctionName and Resource,
  https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), ``AWS/Bedrock``
  InvocationLatency of the model, and the handlers' own EMF metrics in ``metrics_namespace`` (ColdStart by
  initType and SecretsManagerRead, atlas_shared/metrics.py).
- Otherwise the function's log: Lambda's ``REPORT`` line per invocation (Duration, and Init Duration on a cold
  start, https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html) and the handlers' ``[CACHE] MISS
  secret`` events (one per Secrets Manager read), read with FilterLogEvents. The local AWS has only these.

Targets (the plan's Success Metrics): average ≤ 5 s, p99 ≤ 7 s, cold starts 0 %, Secrets Manager < 5 % of
invocations.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from post_deploy.aws import CallFailed, ClientFactory, call
from post_deploy.outputs import DeployOutputs
from post_deploy.report import Result

PART = "metrics"
LEX_HANDLER = "LexFulfillmentHandler"
REPORT = re.compile(r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms(?:.*?Init Duration: ([\d.]+) ms)?")


@dataclass(frozen=True)
class Targets:
    """The plan's targets; a figure at or under its limit passes."""

    average_ms: float = 5000.0
    p99_ms: float = 7000.0
    cold_start_rate: float = 0.0
    secrets_share: float = 0.05


@dataclass
class Figures:
    """Success metrics over one window; None where there was no data.

    Attributes:
        source: ``cloudwatch`` or ``logs``.
        invocations: invocations of the ``live`` alias.
        average_ms / p99_ms: Duration of the alias in ms.
        cold_start_rate / secrets_share: fractions of invocations (0.0 to 1.0).
        spillover / errors / throttles: counts.
        bedrock_latency_ms: average InvocationLatency of the model.
    """

    start: datetime
    end: datetime
    source: str = "cloudwatch"
    invocations: int = 0
    average_ms: float | None = None
    p99_ms: float | None = None
    cold_start_rate: float | None = None
    secrets_share: float | None = None
    spillover: int | None = None
    errors: int | None = None
    throttles: int | None = None
    bedrock_latency_ms: float | None = None
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _query(id_: str, namespace: str, metric: str, dims: dict[str, str], stat: str, period: int) -> dict[str, Any]:
    return {
        "Id": id_,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def from_cloudwatch(clients: ClientFactory, outputs: DeployOutputs, start: datetime, end: datetime) -> Figures:
    """Figures from CloudWatch metrics over the whole window (one datapoint per query: Period = the window).

    Raises:
        CallFailed: GetMetricData failed (e.g. cloudwatch:GetMetricData denied).
    """
    name = outputs.function_names[LEX_HANDLER]
    dims = {"FunctionName": name, "Resource": f"{name}:{outputs.alias_name}"}
    period = max(60, int((end - start).total_seconds()) // 60 * 60)
    queries = [
        _query("avg", "AWS/Lambda", "Duration", dims, "Average", period),
        _query("p99", "AWS/Lambda", "Duration", dims, "p99", period),
        _query("inv", "AWS/Lambda", "Invocations", dims, "Sum", period),
        _query("err", "AWS/Lambda", "Errors", dims, "Sum", period),
        _query("thr", "AWS/Lambda", "Throttles", dims, "Sum", period),
        _query("spill", "AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", dims, "Sum", period),
    ]
    if outputs.bedrock_model_id:
        queries.append(
            _query(
                "bedrock", "AWS/Bedrock", "InvocationLatency", {"ModelId": outputs.bedrock_model_id}, "Average", period
            )
        )
    if outputs.metrics_namespace:
        # atlas_shared/metrics.py: ColdStart carries initType beside function (1 for on-demand and snap-start).
        for init_type in ("on-demand", "snap-start"):
            dims_cold = {"function": name, "initType": init_type}
            queries.append(
                _query(f"cold_{init_type[:4]}", outputs.metrics_namespace, "ColdStart", dims_cold, "Sum", period)
            )
        queries.append(
            _query("secret", outputs.metrics_namespace, "SecretsManagerRead", {"function": name}, "Sum", period)
        )
    answer = call(clients, "cloudwatch", "get_metric_data", MetricDataQueries=queries, StartTime=start, EndTime=end)
    values = {
        r["Id"]: sum(r["Values"]) if r["Id"] not in {"avg", "p99", "bedrock"} else (r["Values"] or [None])[0]
        for r in answer["MetricDataResults"]
    }
    empty = {r["Id"] for r in answer["MetricDataResults"] if not r["Values"]}
    invocations = int(values.get("inv") or 0)
    figures = Figures(start, end, "cloudwatch", invocations)
    figures.average_ms = values.get("avg")
    figures.p99_ms = values.get("p99")
    figures.errors = int(values.get("err") or 0)
    figures.throttles = int(values.get("thr") or 0)
    figures.spillover = int(values.get("spill") or 0)
    figures.bedrock_latency_ms = values.get("bedrock")
    cold_ids = [i for i in ("cold_on_demand", "cold_snap_start") if i in values]
    if invocations and cold_ids and any(i not in empty for i in cold_ids):
        figures.cold_start_rate = sum(float(values[i] or 0) for i in cold_ids) / invocations
    if invocations and "secret" not in empty and "secret" in values:
        figures.secrets_share = float(values["secret"]) / invocations
    return figures


def from_logs(
    clients: ClientFactory, outputs: DeployOutputs, start: datetime, end: datetime, figures: Figures | None = None
) -> Figures:
    """Fill what is missing from the function's log: REPORT lines (duration, cold starts) and secret reads.

    Raises:
        CallFailed: FilterLogEvents failed (e.g. logs:FilterLogEvents denied).
    """
    figures = figures or Figures(start, end, "logs")
    group = f"/aws/lambda/{outputs.function_names[LEX_HANDLER]}"
    window = {"logGroupName": group, "startTime": int(start.timestamp() * 1000), "endTime": int(end.timestamp() * 1000)}
    durations: list[float] = []
    cold = 0
    for message in _log_messages(clients, window, '"REPORT RequestId"'):
        match = REPORT.search(message)
        if match:
            durations.append(float(match.group(1)))
            cold += 1 if match.group(2) else 0
    secret_reads = sum(1 for _ in _log_messages(clients, window, '"[CACHE] MISS secret"'))
    if durations:
        if figures.invocations == 0:
            figures.source = "logs"
            figures.invocations = len(durations)
            figures.average_ms = sum(durations) / len(durations)
            figures.p99_ms = percentile(durations, 99)
        if figures.cold_start_rate is None:
            figures.cold_start_rate = cold / len(durations)
        if figures.secrets_share is None:
            figures.secrets_share = secret_reads / len(durations)
    return figures


def _log_messages(clients: ClientFactory, window: dict[str, Any], pattern: str) -> Any:
    token = None
    while True:
        page = call(
            clients,
            "logs",
            "filter_log_events",
            filterPattern=pattern,
            **window,
            **({"nextToken": token} if token else {}),
        )
        for event in page.get("events", []):
            yield event.get("message", "")
        token = page.get("nextToken")
        if not token:
            return


def collect(
    clients: ClientFactory,
    outputs: DeployOutputs,
    start: datetime,
    end: datetime,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> Figures:
    """Figures for one window: CloudWatch first, the log for what it lacks.

    Raises:
        CallFailed: both sources failed; the message names the IAM action where access was denied.
    """
    progress(f"reading CloudWatch metrics {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC ...")
    try:
        figures = from_cloudwatch(clients, outputs, start, end)
    except CallFailed as exc:
        progress(f"  CloudWatch metrics unavailable ({exc}); reading the function's log instead")
        figures = Figures(start, end, "logs")
        figures.notes.append(str(exc))
    if figures.invocations == 0 or figures.cold_start_rate is None or figures.secrets_share is None:
        progress("reading the function's log (REPORT lines and secret reads) ...")
        figures = from_logs(clients, outputs, start, end, figures)
    return figures


def _mark(value: float | None, limit: float, strict: bool = False) -> str:
    if value is None:
        return "warn"
    return "pass" if (value < limit if strict else value <= limit) else "fail"


def metric_results(figures: Figures, targets: Targets, before: Figures | None = None) -> list[Result]:
    """The Success Metrics table as result rows; an empty window is one failing row that says what to do."""
    if figures.invocations == 0:
        return [
            Result(
                PART,
                "invocations",
                "fail",
                f"no invocations of the live alias between {figures.start:%Y-%m-%d %H:%M} and {figures.end:%H:%M} UTC",
                "widen the window (--since) or send traffic first (--conversations N)",
            )
        ]

    def shown(value: float | None, unit: str) -> str:
        if value is None:
            return "no data"
        return f"{value * 100:.1f} %" if unit == "%" else f"{value:.0f} ms"

    def row(
        name: str,
        value: float | None,
        limit: float,
        unit: str,
        target: str,
        strict: bool = False,
        prior: float | None = None,
    ) -> Result:
        detail = f"{shown(value, unit)} (target {target})"
        if before is not None:
            detail += f"; before: {shown(prior, unit)}"
        status = _mark(value, limit, strict)
        return Result(
            PART,
            name,
            status,
            detail,
            "" if status == "pass" else f"target {target}",
            {"value": value, "before": prior},
        )

    rows = [
        row(
            "average reply time",
            figures.average_ms,
            targets.average_ms,
            "ms",
            f"≤ {targets.average_ms:.0f} ms",
            prior=before and before.average_ms,
        ),
        row(
            "p99 reply time",
            figures.p99_ms,
            targets.p99_ms,
            "ms",
            f"≤ {targets.p99_ms:.0f} ms",
            prior=before and before.p99_ms,
        ),
        row(
            "cold-start rate",
            figures.cold_start_rate,
            targets.cold_start_rate,
            "%",
            "0 %",
            prior=before and before.cold_start_rate,
        ),
        row(
            "Secrets Manager share",
            figures.secrets_share,
            targets.secrets_share,
            "%",
            f"< {targets.secrets_share * 100:.0f} %",
            strict=True,
            prior=before and before.secrets_share,
        ),
    ]
    for name, value in (
        ("spillover invocations", figures.spillover),
        ("errors", figures.errors),
        ("throttles", figures.throttles),
    ):
        if value is not None:
            rows.append(
                Result(
                    PART,
                    name,
                    "pass" if value == 0 else "warn",
                    str(value),
                    "see the dashboard" if value else "",
                    {"value": value},
                )
            )
    if figures.bedrock_latency_ms is not None:
        rows.append(
            Result(
                PART,
                "Bedrock latency",
                "pass",
                f"{figures.bedrock_latency_ms:.0f} ms average",
                data={"value": figures.bedrock_latency_ms},
            )
        )
    rows.append(
        Result(
            PART,
            "source",
            "pass",
            f"{figures.source}, {figures.invocations} invocations",
            data={"invocations": figures.invocations},
        )
    )
    return rows


def parse_window(since_minutes: float, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(now - since, now)`` in UTC."""
    from datetime import UTC

    end = now or datetime.now(UTC)
    return end - timedelta(minutes=since_minutes), end
