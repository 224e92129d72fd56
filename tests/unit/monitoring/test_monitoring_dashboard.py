"""The monitoring module's dashboard body, rendered by a real offline `terraform plan`, against PutDashboard's rules.

The rules checker itself is tested first on hand-made bodies (including the Phase 1 plan's faulty dashboard),
so a pass on the rendered body means something.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from monitoring_dashboard_rules import REQUIRED_DIMENSIONS, dashboard_problems, log_sources
from monitoring_render import (
    FUNCTION_KEYS,
    TerraformFailed,
    module_inputs,
    planned_outputs,
    terraform_available,
    write_scratch_root,
)

REGION = "eu-central-1"
NAME = "unit-AtlasEngine"
AVERAGE_TARGET_MS = 4000
P99_TARGET_MS = 6000
EMF = "AtlasEngine"  # the handlers' namespace: the module's metrics_namespace default

# The "Monitoring Dashboard" of the Phase 1 plan (shared/seed/phase1-plan.txt), verbatim in structure:
# Lambda rows without FunctionName, a hard-coded region.
PLAN_DASHBOARD: dict[str, Any] = {
    "widgets": [
        {
            "type": "metric",
            "properties": {
                "metrics": [
                    ["AWS/Lambda", "Duration", {"stat": "Average", "label": "Avg Duration"}],
                    ["...", {"stat": "p99", "label": "p99 Duration"}],
                ],
                "view": "timeSeries",
                "region": "us-west-2",
                "title": "LexFulfillmentHandler Duration",
                "period": 60,
            },
        },
        {
            "type": "metric",
            "properties": {
                "metrics": [["AWS/Lambda", "ConcurrentExecutions", {"stat": "Maximum"}]],
                "view": "timeSeries",
                "region": "us-west-2",
                "title": "Concurrent Executions",
                "period": 60,
            },
        },
        {
            "type": "log",
            "properties": {
                "query": "SOURCE '/aws/lambda/LexFulfillmentHandler'\n| fields @timestamp, @message\n"
                "| filter @message like /CACHE/\n| stats count() by bin(5m)",
                "region": "us-west-2",
                "title": "Cache Hit Rate",
            },
        },
    ]
}

GOOD_BODY: dict[str, Any] = {
    "widgets": [
        {
            "type": "metric",
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "region": REGION,
                "title": "Duration",
                "metrics": [
                    [
                        "AWS/Lambda",
                        "Duration",
                        "FunctionName",
                        "f",
                        "Resource",
                        "f:live",
                        {"stat": "Average", "id": "m1"},
                    ],
                    ["...", {"stat": "p99"}],
                    [{"expression": "m1 * 2", "label": "doubled", "id": "e1"}],
                ],
                "annotations": {"horizontal": [{"label": "target", "value": 5000}]},
            },
        },
        {
            "type": "log",
            "x": 12,
            "y": 0,
            "width": 12,
            "height": 6,
            "properties": {
                "region": REGION,
                "title": "Cold starts",
                "query": "SOURCE '/aws/lambda/f' | filter @type = \"REPORT\"\n| stats count(*) by bin(5m)",
            },
        },
    ]
}


def _mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(GOOD_BODY)
    target: Any = body
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


METRICS = ("widgets", 0, "properties", "metrics")


class TestRulesChecker:
    def test_good_body_passes(self) -> None:
        assert dashboard_problems(json.dumps(GOOD_BODY), region=REGION, known_log_groups=["/aws/lambda/f"]) == []

    def test_plan_dashboard_is_rejected_for_its_known_faults(self) -> None:
        problems = dashboard_problems(PLAN_DASHBOARD, region=REGION)
        assert any("AWS/Lambda Duration has no FunctionName dimension" in p for p in problems)
        assert any("AWS/Lambda ConcurrentExecutions has no FunctionName dimension" in p for p in problems)
        assert sum("region 'us-west-2' is not 'eu-central-1'" in p for p in problems) == 3

    @pytest.mark.parametrize(
        ("path", "value", "expected"),
        [
            (METRICS + (0,), [{"stat": "Average"}, "AWS/Lambda", "Duration", "FunctionName", "f"], "not the last"),
            (METRICS + (0,), ["...", {"stat": "Average"}], "'...' shorthand must follow a full metric row"),
            (METRICS, ["AWS/Lambda", "Duration"], "not a list"),
            (METRICS, [], "non-empty list of lists"),
            (METRICS + (0,), ["AWS/Lambda", "Duration", "FunctionName"], "DimensionName, DimensionValue"),
            (METRICS + (0,), ["AWS/Lambda", "Duration", "FunctionName", "f", {"stats": "p99"}], "unknown rendering"),
            (METRICS + (2,), [{"label": "no expression"}], "must be an expression"),
            (("widgets", 0, "properties", "region"), KeyError, "region is not set"),
            (("widgets", 1, "properties", "region"), "us-east-1", "region 'us-east-1' is not"),
            (("widgets", 1, "properties", "query"), 'filter @type = "REPORT"', "does not start with SOURCE"),
            (("widgets", 1, "properties", "query"), "SOURCE '/aws/lambda/other' | stats count(*)", "not watched"),
            (("widgets", 1, "x"), 20, "does not fit"),
            (("widgets", 0, "properties", "annotations", "horizontal", 0, "value"), "5000", "no numeric value"),
            (METRICS + (2,), [{"expression": "FILL(m2, 0) * 2", "id": "e1"}], "names ids not in the widget: ['m2']"),
            (METRICS + (2,), [{"expression": "m1 * 2", "id": "E1"}], "must start with a lowercase letter"),
            (METRICS + (2,), [{"expression": "m1 * 2", "id": "m1"}], "used more than once: ['m1']"),
            (METRICS + (2,), [{"expression": "e1 + m1", "id": "e1"}], "refers to itself"),
        ],
    )
    def test_each_rule_catches_its_fault(self, path: tuple[Any, ...], value: Any, expected: str) -> None:
        problems = dashboard_problems(_mutated(path, value), region=REGION, known_log_groups=["/aws/lambda/f"])
        assert any(expected in p for p in problems), problems

    def test_shorthand_after_an_expression_row_is_rejected(self) -> None:
        body = _mutated(METRICS + (2,), [{"expression": "m1", "id": "e1"}])
        body["widgets"][0]["properties"]["metrics"].append(["...", {"stat": "p50"}])
        assert any("'...' shorthand" in p for p in dashboard_problems(body, region=REGION))

    def test_shorthand_inherits_dimensions_for_the_dimension_rule(self) -> None:
        body = _mutated(METRICS + (0,), ["AWS/Lambda", "Duration", "FunctionName", "f", {"id": "m1"}])
        body["widgets"][0]["properties"]["metrics"][1] = ["...", "g", {"stat": "p99"}]
        assert dashboard_problems(body, region=REGION) == []

    def test_log_sources_reads_only_leading_source_clauses(self) -> None:
        query = (
            "SOURCE '/aws/lambda/a' | SOURCE '/aws/lambda/b'\n| filter x = 1\n| SOURCE '/aws/lambda/c' | stats count(*)"
        )
        assert log_sources(query) == ["/aws/lambda/a", "/aws/lambda/b"]
        assert any(
            "after the query's first command" in p
            for p in dashboard_problems(
                {"widgets": [{"type": "log", "properties": {"region": REGION, "query": query}}]}, region=REGION
            )
        )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Planned outputs of the module, rendered in REGION with non-default latency targets."""
    if not terraform_available():
        pytest.skip("terraform is not on PATH")
    directory: Path = tmp_path_factory.mktemp("monitoring-plan")
    inputs = module_inputs(NAME, REGION, average_ms=AVERAGE_TARGET_MS, p99_ms=P99_TARGET_MS)
    try:
        outputs = planned_outputs(write_scratch_root(directory, REGION, inputs))
    except TerraformFailed as error:
        pytest.fail(str(error))
    outputs["inputs"] = inputs
    return outputs


def _widgets(rendered: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [w for w in json.loads(rendered["dashboard_body"])["widgets"] if w["type"] == kind]


@pytest.mark.slow
class TestRenderedDashboard:
    def test_body_passes_put_dashboard_rules(self, rendered: dict[str, Any]) -> None:
        groups = [f["log_group_name"] for f in rendered["inputs"]["functions"].values()]
        assert dashboard_problems(rendered["dashboard_body"], region=REGION, known_log_groups=groups) == []

    def test_allocated_provisioned_concurrency_is_in_use_over_utilization_of_the_same_alias(
        self, rendered: dict[str, Any]
    ) -> None:
        [widget] = [
            w
            for w in _widgets(rendered, "metric")
            if w["properties"]["title"].startswith("Provisioned concurrency: in use")
        ]
        rows = widget["properties"]["metrics"]
        ids = {row[-1]["id"]: row for row in rows if len(row) > 1}
        [expression] = [row[0] for row in rows if len(row) == 1]
        numerator, denominator = (part.strip() for part in expression["expression"].split("/"))
        assert ids[numerator][1] == "ProvisionedConcurrentExecutions"
        assert ids[denominator][1] == "ProvisionedConcurrencyUtilization"
        assert ids[denominator][-1]["visible"] is False
        assert (
            ids[numerator][2:6]
            == ids[denominator][2:6]
            == [
                "FunctionName",
                f"{NAME}-LexFulfillmentHandler",
                "Resource",
                f"{NAME}-LexFulfillmentHandler:live",
            ]
        )

    def test_region_comes_from_the_provider_only(self, rendered: dict[str, Any]) -> None:
        body = rendered["dashboard_body"]
        regions = {w["properties"]["region"] for w in _widgets(rendered, "metric") + _widgets(rendered, "log")}
        assert regions == {REGION}
        assert "us-west-2" not in body and "us-east-1" not in body

    def test_latency_widgets_draw_the_targets_from_variables(self, rendered: dict[str, Any]) -> None:
        duration = [w for w in _widgets(rendered, "metric") if w["properties"]["metrics"][0][1] == "Duration"]
        assert len(duration) == len(FUNCTION_KEYS)
        for widget in duration:
            values = [a["value"] for a in widget["properties"]["annotations"]["horizontal"]]
            assert values == [AVERAGE_TARGET_MS, P99_TARGET_MS]
            stats = [row[-1]["stat"] for row in widget["properties"]["metrics"]]
            assert stats == ["Average", "p50", "p99"]
            for row in widget["properties"]["metrics"]:
                assert row[2:6] == ["FunctionName", row[3], "Resource", f"{row[3]}:live"]

    def test_lex_comes_first(self, rendered: dict[str, Any]) -> None:
        first_duration = next(w for w in _widgets(rendered, "metric") if w["properties"]["metrics"][0][1] == "Duration")
        assert first_duration["properties"]["metrics"][0][3] == f"{NAME}-LexFulfillmentHandler"

    def test_emf_rows_name_their_function(self, rendered: dict[str, Any]) -> None:
        # The handlers' EMF metrics carry `function` on every document (lambda_src/atlas_shared/metrics.py).
        problems = dashboard_problems(
            rendered["dashboard_body"], region=REGION, required_dimensions={**REQUIRED_DIMENSIONS, EMF: "function"}
        )
        assert problems == []

    def test_cold_start_rate_per_function_is_metric_math_over_invocations(self, rendered: dict[str, Any]) -> None:
        by_title = {w["properties"]["title"]: w["properties"]["metrics"] for w in _widgets(rendered, "metric")}
        for key in FUNCTION_KEYS:
            rows = by_title[f"{key} cold starts (% of invocations)"]
            metrics = {row[-1]["id"]: row[:-1] for row in rows if len(row) > 1}
            name = f"{NAME}-{key}"
            assert metrics == {
                "ondemand": [EMF, "ColdStart", "function", name, "initType", "on-demand"],
                "snapstart": [EMF, "ColdStart", "function", name, "initType", "snap-start"],
                "invocations": ["AWS/Lambda", "Invocations", "FunctionName", name],
            }
            [expression] = [row[0]["expression"] for row in rows if len(row) == 1]
            assert expression == "100 * (FILL(ondemand, 0) + FILL(snapstart, 0)) / invocations"

    def test_secrets_manager_share_pairs_reads_with_the_same_function(self, rendered: dict[str, Any]) -> None:
        [rows] = [
            w["properties"]["metrics"]
            for w in _widgets(rendered, "metric")
            if w["properties"]["title"] == "Secrets Manager reads per invocation (%, target < 5)"
        ]
        metrics = {row[-1]["id"]: row[:-1] for row in rows if len(row) > 1}
        expressions = [row[0] for row in rows if len(row) == 1]
        readers = [e["label"] for e in expressions]
        assert readers == ["LexFulfillmentHandler", "CreateLeadHandler", "UpdateLeadHandler"]
        for e in expressions:
            reads, invocations = re.fullmatch(r"100 \* FILL\((\w+), 0\) / (\w+)", e["expression"]).groups()
            function = f"{NAME}-{e['label']}"
            assert metrics[reads] == [EMF, "SecretsManagerRead", "function", function]
            assert metrics[invocations] == ["AWS/Lambda", "Invocations", "FunctionName", function]

    def test_scenario_hit_rate_counts_session_and_container_as_hits(self, rendered: dict[str, Any]) -> None:
        [rows] = [
            w["properties"]["metrics"]
            for w in _widgets(rendered, "metric")
            if w["properties"]["title"] == "LexFulfillmentHandler scenario cache hit rate (%)"
        ]
        sources = {row[-1]["id"]: row[5] for row in rows if len(row) > 1}
        assert sources == {s: s for s in ("session", "container", "dynamodb", "missing")}
        [expression] = [row[0]["expression"] for row in rows if len(row) == 1]
        # Evaluate the expression on sample sums: 6 session + 2 container hits of 10 lookups is 80 %.
        sample = {"session": 6, "container": 2, "dynamodb": 1, "missing": 1}
        python = re.sub(r"FILL\((\w+), 0\)", lambda m: str(sample[m.group(1)]), expression)
        assert eval(python, {"__builtins__": {}}) == 80  # noqa: S307 - numbers and operators only

    def test_only_the_init_duration_log_table_is_left(self, rendered: dict[str, Any]) -> None:
        functions = rendered["inputs"]["functions"]
        [table] = _widgets(rendered, "log")
        query = table["properties"]["query"]
        assert sorted(log_sources(query)) == sorted(f["log_group_name"] for f in functions.values())
        assert "@initDuration" in query and "cache_" not in query

    def test_alarm_names_carry_the_prefix(self, rendered: dict[str, Any]) -> None:
        names = rendered["alarm_names"]
        assert names["LexFulfillmentHandler-p99-duration"] == f"{NAME}-LexFulfillmentHandler-p99-duration"
        assert all(name.startswith(f"{NAME}-") for name in names.values())
        assert len(names) == 2 * len(FUNCTION_KEYS) + 5  # errors + throttles each, p99, spillover, workflow, 2 EMF

    def test_lex_p99_alarm_as_the_real_provider_plans_it(self, rendered: dict[str, Any]) -> None:
        lex = rendered["alarm_configurations"]["LexFulfillmentHandler-p99-duration"]
        assert lex["extended_statistic"] == "p99" and lex["statistic"] is None
        assert lex["threshold"] == P99_TARGET_MS
        assert lex["dimensions"] == {
            "FunctionName": f"{NAME}-LexFulfillmentHandler",
            "Resource": f"{NAME}-LexFulfillmentHandler:live",
        }
        # No SNS topic given: the provider plans empty action sets as null, the output turns them into [].
        assert lex["alarm_actions"] == [] and lex["ok_actions"] == []

    def test_metric_math_alarms_as_the_real_provider_plans_them(self, rendered: dict[str, Any]) -> None:
        share = rendered["alarm_configurations"]["LexFulfillmentHandler-secrets-manager-share"]
        assert share["threshold"] == 5 and share["metric_name"] is None
        queries = {q["id"]: q for q in share["metric_queries"]}
        assert queries["share"]["expression"] == "100 * FILL(reads, 0) / invocations"
        assert queries["share"]["return_data"] is True
        assert queries["reads"]["metric"]["namespace"] == EMF
        assert queries["reads"]["metric"]["dimensions"] == {"function": f"{NAME}-LexFulfillmentHandler"}
        cold = rendered["alarm_configurations"]["LexFulfillmentHandler-cold-start-rate"]
        assert cold["threshold"] == 0 and cold["datapoints_to_alarm"] == 1
        assert {q["metric"]["dimensions"].get("initType") for q in cold["metric_queries"] if q["metric"]} == {
            "on-demand",
            "snap-start",
            None,
        }
