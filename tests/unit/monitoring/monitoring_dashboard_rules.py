"""Checks a CloudWatch dashboard body against PutDashboard's structure rules.

Sources:
- Dashboard body structure and the metric widget object:
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
- The metrics array format (rows, "..." and "." shorthand, rendering options):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html
- Metric math ids and expressions (an id starts with a lowercase letter and holds letters, digits and "_"; an
  expression may name only ids of its widget):
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
- Log widget queries in the console's form "SOURCE 'group-a' | SOURCE 'group-b' | <query>".

``dashboard_problems`` returns human-readable problems (empty list: the body passes). It never raises for a
malformed body, so a test can assert on the problems it reports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

GRID_COLUMNS = 24
MAX_WIDGETS = 500

# Rendering options a metrics row may end with (GetMetricWidgetImage: "Format for each metric in the array").
RENDERING_OPTION_KEYS = frozenset(
    {"accountId", "color", "expression", "id", "label", "period", "region", "stat", "visible", "yAxis"}
)

# Namespaces whose metrics mean nothing without a dimension that names the resource: the plan's dashboard
# drew account-wide Lambda Duration because its rows had no FunctionName.
REQUIRED_DIMENSIONS: Mapping[str, str] = {
    "AWS/Lambda": "FunctionName",
    "AWS/Bedrock": "ModelId",
    "AWS/States": "StateMachineArn",
}

_METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
# Ids an expression names: lowercase-initial words that are not function calls (metric math functions are
# upper case: FILL, SUM, METRICS...), outside string literals.
_EXPRESSION_ID = re.compile(r"\b([a-z][A-Za-z0-9_]*)\b(?!\s*\()")
_STRING_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")

_SOURCE_CLAUSE = re.compile(r"SOURCE\s+'([^']+)'\s*\|\s*")


def log_sources(query: str) -> list[str]:
    """Log group names of the SOURCE clauses that open a Logs Insights dashboard query, in order.

    ``"SOURCE '/aws/lambda/a' | SOURCE '/aws/lambda/b' | filter x"`` gives ``["/aws/lambda/a", "/aws/lambda/b"]``.
    A SOURCE clause after the first non-SOURCE command is not counted: the console reads only the leading ones.
    """
    groups: list[str] = []
    position = 0
    while match := _SOURCE_CLAUSE.match(query, position):
        groups.append(match.group(1))
        position = match.end()
    return groups


def _is_options(value: Any) -> bool:
    return isinstance(value, dict)


def _row_problems(where: str, rows: list[Any], required: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    resolved: list[list[Any] | None] = []  # each row with shorthand expanded; None for expression rows
    for index, row in enumerate(rows):
        at = f"{where} metrics[{index}]"
        if not isinstance(row, list):
            problems.append(f"{at} is {type(row).__name__}, not a list: metrics must be a list of lists")
            resolved.append(None)
            continue
        if not row:
            problems.append(f"{at} is empty")
            resolved.append(None)
            continue
        for position, element in enumerate(row):
            if _is_options(element) and position != len(row) - 1:
                problems.append(f"{at}: rendering-options object at position {position} is not the last element")
            elif not _is_options(element) and not isinstance(element, str):
                problems.append(f"{at}: element {position} is {type(element).__name__}, not a string")
        options = row[-1] if _is_options(row[-1]) else {}
        unknown = sorted(set(options) - RENDERING_OPTION_KEYS) if isinstance(options, dict) else []
        if unknown:
            problems.append(f"{at}: unknown rendering options {unknown}")
        items = [element for element in row if not _is_options(element)]

        if not items:
            if "expression" not in options:
                problems.append(f"{at}: a row with only an options object must be an expression")
            resolved.append(None)
            continue

        if items[0] == "...":
            previous = resolved[index - 1] if index > 0 else None
            if previous is None:
                problems.append(f"{at}: '...' shorthand must follow a full metric row")
                resolved.append(None)
                continue
            # "..." repeats the previous row's items up to the point where this row's own items take over.
            tail = items[1:]
            items = previous[: len(previous) - len(tail)] + tail if tail else list(previous)
        elif "." in items:
            previous = resolved[index - 1] if index > 0 else None
            if previous is None or len(previous) < len(items):
                problems.append(f"{at}: '.' shorthand must follow a full metric row at least as long")
                resolved.append(None)
                continue
            items = [previous[p] if item == "." else item for p, item in enumerate(items)]

        if len(items) < 2 or len(items) % 2:
            problems.append(
                f"{at}: a metric row is [Namespace, MetricName, DimensionName, DimensionValue, ...]; got {items}"
            )
            resolved.append(None)
            continue
        namespace, dimension_names = items[0], items[2::2]
        needed = required.get(namespace)
        if needed and needed not in dimension_names:
            problems.append(f"{at}: {namespace} {items[1]} has no {needed} dimension")
        resolved.append(items)
    problems.extend(_metric_math_problems(where, rows))
    return problems


def _metric_math_problems(where: str, rows: list[Any]) -> list[str]:
    """Metric math faults of one widget: malformed or repeated ids, expressions naming ids the widget lacks."""
    problems: list[str] = []
    options = [row[-1] for row in rows if isinstance(row, list) and row and _is_options(row[-1])]
    ids = [o["id"] for o in options if "id" in o]
    for metric_id in ids:
        if not isinstance(metric_id, str) or not _METRIC_ID.match(metric_id):
            problems.append(f"{where}: metric id {metric_id!r} must start with a lowercase letter (letters, digits, _)")
    repeated = sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1})
    if repeated:
        problems.append(f"{where}: metric ids used more than once: {repeated}")
    for o in options:
        expression = o.get("expression")
        if expression is None:
            continue
        if not isinstance(expression, str) or not expression.strip():
            problems.append(f"{where}: expression {expression!r} is empty")
            continue
        named = set(_EXPRESSION_ID.findall(_STRING_LITERAL.sub("", expression)))
        missing = sorted(named - set(ids))
        if missing:
            problems.append(f"{where}: expression {expression!r} names ids not in the widget: {missing}")
        if o.get("id") in named:
            problems.append(f"{where}: expression {expression!r} refers to itself")
    return problems


def dashboard_problems(
    body: str | Mapping[str, Any],
    *,
    region: str,
    known_log_groups: Collection[str] | None = None,
    required_dimensions: Mapping[str, str] = REQUIRED_DIMENSIONS,
) -> list[str]:
    """Problems that PutDashboard, or a reader of the dashboard, would have with ``body``.

    Args:
        body: the DashboardBody JSON string, or its decoded object.
        region: the region every metric and log widget must name (the provider's, never a hard-coded one).
        known_log_groups: when given, every SOURCE of a log widget must be one of these log group names.
        required_dimensions: namespace -> dimension every row of that namespace must carry.

    Returns:
        One message per problem found; an empty list when the body passes every rule.
    """
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as error:
            return [f"body is not JSON: {error}"]
    if not isinstance(body, Mapping) or not isinstance(body.get("widgets"), list):
        return ["body must be an object with a 'widgets' list"]
    widgets = body["widgets"]
    problems: list[str] = []
    if len(widgets) > MAX_WIDGETS:
        problems.append(f"{len(widgets)} widgets; a dashboard holds at most {MAX_WIDGETS}")

    for number, widget in enumerate(widgets):
        where = f"widgets[{number}]"
        if not isinstance(widget, Mapping):
            problems.append(f"{where} is not an object")
            continue
        kind = widget.get("type")
        properties = widget.get("properties")
        if not isinstance(properties, Mapping):
            problems.append(f"{where} has no properties object")
            continue
        where = f"{where} ({kind} {properties.get('title', '')!r})"

        x, width = widget.get("x", 0), widget.get("width", 6)
        y, height = widget.get("y", 0), widget.get("height", 6)
        if not all(isinstance(v, int) for v in (x, y, width, height)):
            problems.append(f"{where}: x, y, width and height must be integers")
        elif not (0 <= x < GRID_COLUMNS and 1 <= width <= GRID_COLUMNS and x + width <= GRID_COLUMNS):
            problems.append(f"{where}: x={x} width={width} does not fit the {GRID_COLUMNS}-column grid")
        elif y < 0 or not 1 <= height <= 1000:
            problems.append(f"{where}: y={y} height={height} out of range")

        if kind in ("metric", "log"):
            if "region" not in properties:
                problems.append(f"{where}: region is not set")
            elif properties["region"] != region:
                problems.append(f"{where}: region {properties['region']!r} is not {region!r}")

        if kind == "metric":
            metrics = properties.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                problems.append(f"{where}: metrics must be a non-empty list of lists")
                continue
            problems.extend(_row_problems(where, metrics, required_dimensions))
            for annotation in (properties.get("annotations") or {}).get("horizontal", []):
                if not isinstance(annotation, Mapping) or not isinstance(annotation.get("value"), (int, float)):
                    problems.append(f"{where}: horizontal annotation {annotation!r} has no numeric value")
        elif kind == "log":
            query = properties.get("query")
            if not isinstance(query, str) or not query.strip():
                problems.append(f"{where}: query is not set")
                continue
            sources = log_sources(query)
            if not sources:
                problems.append(f"{where}: query does not start with SOURCE '<log group>' |")
            stray = query.count("SOURCE '") - len(sources)
            if stray:
                problems.append(f"{where}: {stray} SOURCE clause(s) after the query's first command")
            if known_log_groups is not None:
                unknown_groups = [group for group in sources if group not in known_log_groups]
                if unknown_groups:
                    problems.append(f"{where}: SOURCE of log groups not watched: {unknown_groups}")
        elif kind == "text":
            if not isinstance(properties.get("markdown"), str):
                problems.append(f"{where}: text widget needs a markdown string")
    return problems
