# Plan-level tests of the monitoring module with a mocked AWS provider: the generated dashboard body against
# PutDashboard's rules (CloudWatch-Dashboard-Body-Structure.html) and the alarm wiring.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
}

variables {
  name = "test-AtlasEngine"
  functions = {
    LexFulfillmentHandler = {
      function_name                     = "test-LexFulfillmentHandler"
      alias_name                        = "live"
      log_group_name                    = "/aws/lambda/test-LexFulfillmentHandler"
      provisioned_concurrent_executions = 1
    }
    GenerateDynamicScenarioHandler = {
      function_name                     = "test-GenerateDynamicScenarioHandler"
      alias_name                        = "live"
      log_group_name                    = "/aws/lambda/test-GenerateDynamicScenarioHandler"
      provisioned_concurrent_executions = 0
    }
    CreateLeadHandler = {
      function_name                     = "test-CreateLeadHandler"
      alias_name                        = "live"
      log_group_name                    = "/aws/lambda/test-CreateLeadHandler"
      provisioned_concurrent_executions = 0
    }
    InvokeOutboundCallHandler = {
      function_name                     = "test-InvokeOutboundCallHandler"
      alias_name                        = "live"
      log_group_name                    = "/aws/lambda/test-InvokeOutboundCallHandler"
      provisioned_concurrent_executions = 0
    }
    UpdateLeadHandler = {
      function_name                     = "test-UpdateLeadHandler"
      alias_name                        = "live"
      log_group_name                    = "/aws/lambda/test-UpdateLeadHandler"
      provisioned_concurrent_executions = 0
    }
  }
  state_machine_arn = "arn:aws:states:us-west-2:123456789012:stateMachine:test-AtlasEngineWorkflow"
  bedrock_model_id  = "anthropic.claude-3-5-sonnet-20240620-v1:0"
  tags              = { Environment = "test" }
}

run "dashboard_follows_put_dashboard_rules" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "test-AtlasEngine" && output.dashboard_name == "test-AtlasEngine"
    error_message = "The dashboard is named after var.name."
  }

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_body == output.dashboard_body
    error_message = "output.dashboard_body must be the body sent to PutDashboard."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      can(concat(w.properties.metrics, [])) && length(w.properties.metrics) > 0 && alltrue([for r in w.properties.metrics : can(concat(r, []))])
    if w.type == "metric"])
    error_message = "Every metric widget's metrics must be a non-empty list of lists."
  }

  assert {
    condition = alltrue(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : [for i, el in r : !can(keys(el)) || i == length(r) - 1]
    ] if w.type == "metric"]))
    error_message = "A rendering-options object must be the last element of its metrics row."
  }

  assert {
    condition = alltrue(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for i, r in w.properties.metrics : i > 0 && try(w.properties.metrics[i - 1][0] != "..." && can(regex("^[A-Za-z0-9/._-]+$", w.properties.metrics[i - 1][0])), false)
      if try(r[0] == "...", false)
    ] if w.type == "metric"]))
    error_message = "The \"...\" shorthand may appear only after a full metric row."
  }

  assert {
    # A full row is [Namespace, MetricName, (DimensionName, DimensionValue)*, options?]: strings in pairs.
    condition = alltrue(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : length([for el in r : el if !can(keys(el))]) >= 2 && length([for el in r : el if !can(keys(el))]) % 2 == 0
      if !try(r[0] == "...", false) && !can(keys(r[0]))
    ] if w.type == "metric"]))
    error_message = "Every full metrics row must hold a namespace, a metric name and whole dimension name/value pairs."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      try(w.properties.region, null) == "us-west-2"
    if contains(["metric", "log"], w.type)])
    error_message = "Every metric and log widget must carry the provider's region (us-west-2 here), never a hard-coded one."
  }

  assert {
    condition = alltrue(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : anytrue([for el in r : try(el == "FunctionName", false)]) if try(r[0] == "AWS/Lambda", false)
    ] if w.type == "metric"]))
    error_message = "Every AWS/Lambda metric row must carry a FunctionName dimension."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      w.x >= 0 && w.width >= 1 && w.x + w.width <= 24 && w.y >= 0 && w.height >= 1
    ])
    error_message = "Every widget must fit the 24-column grid."
  }

  assert {
    condition = alltrue(flatten([for i, a in jsondecode(output.dashboard_body).widgets : [
      for j, b in jsondecode(output.dashboard_body).widgets :
      a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y
      if i < j
    ]]))
    error_message = "Widgets must not overlap."
  }
}

run "dashboard_shows_the_phase1_metrics" {
  command = plan

  # Duration: Average, p50 and p99 of each function's live alias, with the targets as horizontal annotations.
  assert {
    condition = toset([for w in jsondecode(output.dashboard_body).widgets : w.properties.metrics[0][3]
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ]) == toset([for k, f in var.functions : f.function_name])
    error_message = "There must be one duration widget per function."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      [for r in w.properties.metrics : r[6].stat] == ["Average", "p50", "p99"] &&
      alltrue([for r in w.properties.metrics :
        r[0] == "AWS/Lambda" && r[2] == "FunctionName" && r[4] == "Resource" && r[5] == "${r[3]}:live"
      ])
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ])
    error_message = "Duration widgets must show Average, p50 and p99 with dimensions FunctionName and Resource = <name>:live."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      [for a in w.properties.annotations.horizontal : a.value] == [5000, 7000]
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ])
    error_message = "Latency widgets must draw the average (5000 ms) and p99 (7000 ms) targets as horizontal annotations."
  }

  assert {
    condition = alltrue([for m in ["Errors", "Throttles", "ConcurrentExecutions"] :
      length(flatten([for w in jsondecode(output.dashboard_body).widgets : [
        for r in w.properties.metrics : r[3] if try(r[1] == m && r[2] == "FunctionName", false)
      ] if w.type == "metric"])) == length(var.functions)
    ])
    error_message = "Errors, Throttles and ConcurrentExecutions must be shown for every function."
  }

  assert {
    # Utilization is drawn, and used (hidden) for the allocated line; every row is on Lex's alias only.
    condition = alltrue([for m in ["ProvisionedConcurrencyUtilization", "ProvisionedConcurrencySpilloverInvocations", "ProvisionedConcurrentExecutions"] :
      distinct(flatten([for w in jsondecode(output.dashboard_body).widgets : [
        for r in w.properties.metrics : [r[3], r[4], r[5]] if try(r[1] == m, false)
      ] if w.type == "metric"])) == tolist(["test-LexFulfillmentHandler", "Resource", "test-LexFulfillmentHandler:live"])
    ])
    error_message = "Provisioned concurrency metrics (utilization, spillover, in use) must be shown on the alias of exactly the functions with provisioned concurrency."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [
      [for r in w.properties.metrics : try(r[0].expression, null) if length(r) == 1],
      [for r in w.properties.metrics : r[1] if length(r) > 1],
      [for r in w.properties.metrics : try(r[6].visible, true) if length(r) > 1],
      [for r in w.properties.metrics : try(r[0].label, null) if length(r) == 1],
      ] if try(w.properties.title, "") == "Provisioned concurrency: in use and allocated (maximum)"] == [[
      ["inuse0 / util0"],
      ["ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization"],
      [true, false],
      ["LexFulfillmentHandler allocated (1 provisioned)"],
    ]]
    error_message = "One widget must draw provisioned concurrency in use and allocated (in use / utilization, the utilization row hidden)."
  }

  # Handler EMF metrics (namespace AtlasEngine by default; lambda_src/atlas_shared/metrics.py).
  assert {
    condition = alltrue([for k, f in var.functions : [for w in jsondecode(output.dashboard_body).widgets : w.properties.metrics
      if w.type == "metric" && try(w.properties.title, "") == "${k} cold starts (% of invocations)"
      ] == [[
        ["AtlasEngine", "ColdStart", "function", f.function_name, "initType", "on-demand", { stat = "Sum", id = "ondemand", label = "on-demand cold starts", yAxis = "right" }],
        ["AtlasEngine", "ColdStart", "function", f.function_name, "initType", "snap-start", { stat = "Sum", id = "snapstart", label = "snap-start cold starts", yAxis = "right" }],
        ["AWS/Lambda", "Invocations", "FunctionName", f.function_name, { stat = "Sum", id = "invocations", visible = false }],
        [{ expression = "100 * (FILL(ondemand, 0) + FILL(snapstart, 0)) / invocations", label = "Cold-start rate (%)", id = "coldstartrate" }],
    ]]])
    error_message = "Each function needs one cold-start rate widget: 100 * (on-demand + snap-start ColdStart) / Invocations (FunctionName only), missing ColdStart filled with 0."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [
      [for r in w.properties.metrics : r[0].expression if length(r) == 1],
      [for r in w.properties.metrics : "${r[0]}/${r[1]}/${r[2]}=${r[3]}/${r[4].id}" if length(r) > 1],
      [for a in w.properties.annotations.horizontal : a.value],
      ] if w.type == "metric" && try(w.properties.title, "") == "Secrets Manager reads per invocation (%, target < 5)"] == [[
      ["100 * FILL(reads0, 0) / invocations0", "100 * FILL(reads1, 0) / invocations1", "100 * FILL(reads2, 0) / invocations2"],
      [
        "AtlasEngine/SecretsManagerRead/function=test-LexFulfillmentHandler/reads0",
        "AtlasEngine/SecretsManagerRead/function=test-CreateLeadHandler/reads1",
        "AtlasEngine/SecretsManagerRead/function=test-UpdateLeadHandler/reads2",
        "AWS/Lambda/Invocations/FunctionName=test-LexFulfillmentHandler/invocations0",
        "AWS/Lambda/Invocations/FunctionName=test-CreateLeadHandler/invocations1",
        "AWS/Lambda/Invocations/FunctionName=test-UpdateLeadHandler/invocations2",
      ],
      [5],
    ]]
    error_message = "The Secrets Manager share widget must divide SecretsManagerRead by Invocations for the three functions that read the secret (Lex first), with the 5 % target drawn."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [
      [for r in w.properties.metrics : r[0].expression if length(r) == 1],
      [for r in w.properties.metrics : "${r[1]}/${r[3]}/${r[4]}=${r[5]}/${r[6].id}" if length(r) > 1],
      ] if w.type == "metric" && try(w.properties.title, "") == "LexFulfillmentHandler scenario cache hit rate (%)"] == [[
      ["100 * (FILL(session, 0) + FILL(container, 0)) / (FILL(session, 0) + FILL(container, 0) + FILL(dynamodb, 0) + FILL(missing, 0))"],
      [for s in ["session", "container", "dynamodb", "missing"] : "ScenarioLookup/test-LexFulfillmentHandler/source=${s}/${s}"],
    ]]
    error_message = "The scenario cache hit rate must be (session + container) / all four ScenarioLookup sources of the Lex function."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [for r in w.properties.metrics : "${r[0]}/${r[1]}/${r[2]}=${r[3]}/${r[4].stat}"]
      if w.type == "metric" && try(w.properties.title, "") == "Salesforce token exchanges and re-logins (count per period)"] == [flatten([
        for k in ["LexFulfillmentHandler", "CreateLeadHandler", "UpdateLeadHandler"] : [
          "AtlasEngine/SalesforceTokenExchange/function=test-${k}/Sum", "AtlasEngine/SalesforceRelogin/function=test-${k}/Sum",
        ]
    ])]
    error_message = "Salesforce token exchanges and re-logins must be drawn for the functions that use Salesforce."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [for r in w.properties.metrics : "${r[0]}/${r[1]}/${r[3]}/${r[4]}=${r[5]}/${r[6].stat}"]
      if w.type == "metric" && try(w.properties.title, "") == "LexFulfillmentHandler turn duration by path (p99)"] == [[
        for p in ["greeting", "reply", "apology", "delegate"] : "AtlasEngine/TurnDuration/test-LexFulfillmentHandler/path=${p}/p99"
    ]]
    error_message = "The Lex function's TurnDuration p99 must be drawn for each path."
  }

  assert {
    condition = [for w in jsondecode(output.dashboard_body).widgets : [for r in w.properties.metrics : "${r[0]}/${r[1]}/${r[2]}=${r[3]}/${r[4].stat}"]
      if w.type == "metric" && try(w.properties.title, "") == "Bedrock latency seen by the handlers (p50, p99)"] == [[
        "AtlasEngine/BedrockLatency/function=test-LexFulfillmentHandler/p50",
        "AtlasEngine/BedrockLatency/function=test-LexFulfillmentHandler/p99",
        "AtlasEngine/BedrockLatency/function=test-GenerateDynamicScenarioHandler/p50",
        "AtlasEngine/BedrockLatency/function=test-GenerateDynamicScenarioHandler/p99",
    ]]
    error_message = "BedrockLatency p50 and p99 must be drawn for the functions that call Bedrock."
  }

  assert {
    # The Bedrock row: AWS/Bedrock latency, the handlers' BedrockLatency beside it, then output tokens.
    condition = [for w in jsondecode(output.dashboard_body).widgets : w.properties.title if w.type == "metric" && strcontains(try(w.properties.title, ""), "Bedrock")] == [
      "Bedrock invocation latency (anthropic.claude-3-5-sonnet-20240620-v1:0)",
      "Bedrock latency seen by the handlers (p50, p99)",
      "Bedrock output tokens (anthropic.claude-3-5-sonnet-20240620-v1:0)",
    ]
    error_message = "The handlers' Bedrock latency widget must sit beside the AWS/Bedrock latency widget."
  }

  assert {
    # Replaced by metrics: no log widget parses cache_hit/cache_miss lines any more; the REPORT table (init duration) stays.
    condition = [for w in jsondecode(output.dashboard_body).widgets : w.properties.title if w.type == "log" && !strcontains(try(w.properties.query, ""), "cache_")] == [
      "Init duration and cold starts by function (REPORT lines, whole time range)",
    ] && length([for w in jsondecode(output.dashboard_body).widgets : w if w.type == "log"]) == 1
    error_message = "The only log widget left is the init duration table; cold starts, cache hit rate and Secrets Manager share come from metrics."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      startswith(w.properties.query, "SOURCE '") && length(regexall("SOURCE '", w.properties.query)) == length(regexall("SOURCE '[^']+' \\| ", w.properties.query))
    if w.type == "log"])
    error_message = "Log widget queries must start with their SOURCE clauses, each followed by a pipe."
  }

  assert {
    condition = toset(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : "${r[1]}/${r[2]}=${r[3]}" if try(r[0] == "AWS/Bedrock", false)
    ] if w.type == "metric"])) == toset(["InvocationLatency/ModelId=anthropic.claude-3-5-sonnet-20240620-v1:0", "OutputTokenCount/ModelId=anthropic.claude-3-5-sonnet-20240620-v1:0"])
    error_message = "Bedrock InvocationLatency and OutputTokenCount must be shown for the model in use."
  }

  assert {
    condition = contains(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : "${r[1]}/${r[2]}=${r[3]}" if try(r[0] == "AWS/States", false)
    ] if w.type == "metric"]), "ExecutionTime/StateMachineArn=${var.state_machine_arn}")
    error_message = "Step Functions ExecutionTime must be shown for the state machine."
  }
}

run "alarms_use_default_thresholds" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].threshold == 7000 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].statistic == null &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].metric_name == "Duration" &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].comparison_operator == "GreaterThanThreshold"
    )
    error_message = "The Lex alarm must be p99 Duration > 7000 ms by default."
  }

  assert {
    condition = aws_cloudwatch_metric_alarm.lex_p99_duration[0].dimensions == tomap({
      FunctionName = "test-LexFulfillmentHandler"
      Resource     = "test-LexFulfillmentHandler:live"
    })
    error_message = "The Lex p99 alarm must watch the live alias (FunctionName + Resource dimensions)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].period == 60 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].evaluation_periods == 5 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].treat_missing_data == "notBreaching"
    )
    error_message = "The Lex p99 alarm must use the default period (60 s) and evaluation periods (5)."
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.errors)) == toset(keys(var.functions)) && alltrue([for a in aws_cloudwatch_metric_alarm.errors :
      a.threshold == 1 && a.comparison_operator == "GreaterThanOrEqualToThreshold" && a.statistic == "Sum" && a.metric_name == "Errors"
    ])
    error_message = "Every function must have an Errors >= 1 alarm by default."
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.throttles)) == toset(keys(var.functions)) && alltrue([for a in aws_cloudwatch_metric_alarm.throttles :
      a.threshold == 1 && a.comparison_operator == "GreaterThanOrEqualToThreshold" && a.statistic == "Sum" && a.metric_name == "Throttles"
    ])
    error_message = "Every function must have a Throttles >= 1 alarm by default."
  }

  assert {
    condition = (
      toset(keys(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover)) == toset(["LexFulfillmentHandler"]) &&
      aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].metric_name == "ProvisionedConcurrencySpilloverInvocations" &&
      aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].dimensions["Resource"] == "test-LexFulfillmentHandler:live"
    )
    error_message = "Only functions with provisioned concurrency get a spillover > 0 alarm, on their alias."
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.workflow_executions_failed) == 1 &&
      aws_cloudwatch_metric_alarm.workflow_executions_failed[0].namespace == "AWS/States" &&
      aws_cloudwatch_metric_alarm.workflow_executions_failed[0].metric_name == "ExecutionsFailed" &&
      aws_cloudwatch_metric_alarm.workflow_executions_failed[0].threshold == 0 &&
      aws_cloudwatch_metric_alarm.workflow_executions_failed[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.workflow_executions_failed[0].dimensions["StateMachineArn"] == var.state_machine_arn
    )
    error_message = "A state machine gets an ExecutionsFailed > 0 alarm."
  }

  assert {
    condition = alltrue([for a in concat(
      aws_cloudwatch_metric_alarm.lex_p99_duration, values(aws_cloudwatch_metric_alarm.errors), values(aws_cloudwatch_metric_alarm.throttles),
      aws_cloudwatch_metric_alarm.lex_secrets_manager_share, aws_cloudwatch_metric_alarm.lex_cold_start_rate,
      values(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover), aws_cloudwatch_metric_alarm.workflow_executions_failed,
    ) : startswith(a.alarm_name, "test-AtlasEngine-") && length(a.alarm_actions) == 0 && length(a.ok_actions) == 0 && a.tags["Environment"] == "test"])
    error_message = "Alarm names start with var.name; without an SNS topic the actions are empty."
  }

  assert {
    condition = toset(keys(output.alarm_arns)) == toset(concat(
      ["LexFulfillmentHandler-p99-duration", "LexFulfillmentHandler-provisioned-concurrency-spillover", "workflow-executions-failed"],
      ["LexFulfillmentHandler-secrets-manager-share", "LexFulfillmentHandler-cold-start-rate"],
      [for k in keys(var.functions) : "${k}-errors"], [for k in keys(var.functions) : "${k}-throttles"],
    ))
    error_message = "alarm_arns must be keyed by alarm name without the prefix."
  }
}

run "overridden_thresholds_and_sns_actions" {
  command = plan

  variables {
    alarms = {
      sns_topic_arn              = "arn:aws:sns:us-west-2:123456789012:atlas-alerts"
      average_duration_target_ms = 3000
      p99_duration_target_ms     = 4500
      errors_threshold           = 3
      throttles_threshold        = 2
      period_seconds             = 300
      evaluation_periods         = 3
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].threshold == 4500 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].period == 300 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.lex_p99_duration[0].datapoints_to_alarm == 3
    )
    error_message = "The Lex p99 alarm must follow the overridden target, period and evaluation periods."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.errors : a.threshold == 3 && a.period == 300 && a.evaluation_periods == 3])
    error_message = "Errors alarms must follow alarms.errors_threshold."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.throttles : a.threshold == 2 && a.period == 300])
    error_message = "Throttles alarms must follow alarms.throttles_threshold."
  }

  assert {
    condition = alltrue([for a in concat(
      aws_cloudwatch_metric_alarm.lex_p99_duration, values(aws_cloudwatch_metric_alarm.errors), values(aws_cloudwatch_metric_alarm.throttles),
      aws_cloudwatch_metric_alarm.lex_secrets_manager_share, aws_cloudwatch_metric_alarm.lex_cold_start_rate,
      values(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover), aws_cloudwatch_metric_alarm.workflow_executions_failed,
      ) : a.alarm_actions == toset(["arn:aws:sns:us-west-2:123456789012:atlas-alerts"]) && a.ok_actions == toset(["arn:aws:sns:us-west-2:123456789012:atlas-alerts"])
    ])
    error_message = "Every alarm must send ALARM and OK to the SNS topic."
  }

  assert {
    condition = alltrue([for w in jsondecode(output.dashboard_body).widgets :
      [for a in w.properties.annotations.horizontal : a.value] == [3000, 4500] && w.properties.period == 300
      if w.type == "metric" && try(w.properties.metrics[0][1] == "Duration", false)
    ])
    error_message = "Latency annotations and the widget period must follow the overridden targets."
  }
}

run "dashboard_disabled" {
  command = plan

  variables {
    dashboard_enabled = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null && output.dashboard_body == null && output.dashboard_arn == null
    error_message = "dashboard_enabled = false must create no dashboard and output nulls."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.errors) == 5
    error_message = "Disabling the dashboard must leave the alarms."
  }
}

run "alarms_disabled" {
  command = plan

  variables {
    alarms = { enabled = false }
  }

  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.lex_p99_duration) + length(aws_cloudwatch_metric_alarm.errors) +
      length(aws_cloudwatch_metric_alarm.throttles) + length(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover) +
      length(aws_cloudwatch_metric_alarm.workflow_executions_failed) + length(aws_cloudwatch_metric_alarm.lex_secrets_manager_share) +
      length(aws_cloudwatch_metric_alarm.lex_cold_start_rate) == 0
    )
    error_message = "alarms.enabled = false must create no alarms."
  }

  assert {
    condition     = output.alarm_arns == {} && length(aws_cloudwatch_dashboard.this) == 1
    error_message = "Without alarms, alarm_arns is empty and the dashboard stays."
  }
}

run "no_state_machine_no_bedrock_no_provisioned_concurrency" {
  command = plan

  variables {
    state_machine_arn = null
    bedrock_model_id  = null
    functions = {
      LexFulfillmentHandler = {
        function_name  = "test-LexFulfillmentHandler"
        alias_name     = "live"
        log_group_name = "/aws/lambda/test-LexFulfillmentHandler"
      }
    }
  }

  assert {
    condition = length(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : r if contains(["AWS/States", "AWS/Bedrock"], try(r[0], "")) || strcontains(try(r[1], ""), "ProvisionedConcurrency")
    ] if w.type == "metric"])) == 0
    error_message = "Without state machine, model or provisioned concurrency, their widgets must be left out."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.workflow_executions_failed) == 0 && length(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover) == 0
    error_message = "Without state machine or provisioned concurrency, their alarms must be left out."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.lex_p99_duration) == 1 && length(aws_cloudwatch_metric_alarm.errors) == 1
    error_message = "The Lex alarms stay."
  }
}

run "bedrock_model_arn_becomes_model_id_dimension" {
  command = plan

  variables {
    bedrock_model_id = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
  }

  assert {
    condition = toset(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : r[3] if try(r[0] == "AWS/Bedrock", false)
    ] if w.type == "metric"])) == toset(["anthropic.claude-3-haiku-20240307-v1:0"])
    error_message = "A model ARN must become its model id in the ModelId dimension."
  }
}

run "zero_errors_threshold_is_rejected" {
  command = plan

  variables {
    alarms = { errors_threshold = 0 }
  }

  expect_failures = [var.alarms]
}

run "unknown_period_is_rejected" {
  command = plan

  variables {
    alarms = { period_seconds = 45 }
  }

  expect_failures = [var.alarms]
}

# Issue 7 section 7: Lambda publishes its metrics per minute; a 10-30 s period leaves most periods empty and a
# 5-of-5 p99 alarm with notBreaching can never fire.
run "sub_minute_periods_are_rejected_10" {
  command = plan

  variables {
    alarms = { period_seconds = 10 }
  }

  expect_failures = [var.alarms]
}

run "sub_minute_periods_are_rejected_20" {
  command = plan

  variables {
    alarms = { period_seconds = 20 }
  }

  expect_failures = [var.alarms]
}

run "sub_minute_periods_are_rejected_30" {
  command = plan

  variables {
    alarms = { period_seconds = 30 }
  }

  expect_failures = [var.alarms]
}

run "bad_sns_topic_arn_is_rejected" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "atlas-alerts" }
  }

  expect_failures = [var.alarms]
}

run "missing_lex_function_key_is_rejected" {
  command = plan

  variables {
    lex_function_key = "NoSuchHandler"
  }

  expect_failures = [aws_cloudwatch_metric_alarm.lex_p99_duration]
}

run "state_machine_enabled_without_arn_is_rejected" {
  command = plan

  variables {
    state_machine_arn     = null
    state_machine_enabled = true
  }

  expect_failures = [aws_cloudwatch_dashboard.this, aws_cloudwatch_metric_alarm.workflow_executions_failed]
}

run "alarm_configurations_describe_the_alarms" {
  command = plan

  assert {
    condition = (
      output.alarm_configurations["LexFulfillmentHandler-p99-duration"].extended_statistic == "p99" &&
      output.alarm_configurations["LexFulfillmentHandler-p99-duration"].statistic == null &&
      output.alarm_configurations["LexFulfillmentHandler-p99-duration"].threshold == 7000 &&
      output.alarm_configurations["LexFulfillmentHandler-p99-duration"].datapoints_to_alarm == 5 &&
      output.alarm_configurations["CreateLeadHandler-errors"].datapoints_to_alarm == 1 &&
      output.alarm_configurations["CreateLeadHandler-errors"].dimensions == tomap({ FunctionName = "test-CreateLeadHandler" })
    )
    error_message = "alarm_configurations must mirror the alarms: sustained breach for latency, first bad period for counts."
  }

  assert {
    condition     = toset(keys(output.alarm_configurations)) == toset(keys(output.alarm_names))
    error_message = "alarm_configurations and alarm_names must share keys."
  }
}

run "autoscaled_provisioned_concurrency_gets_widgets_and_the_spillover_alarm" {
  command = plan

  variables {
    state_machine_arn = null
    bedrock_model_id  = null
    functions = {
      LexFulfillmentHandler = {
        function_name                       = "test-LexFulfillmentHandler"
        alias_name                          = "live"
        log_group_name                      = "/aws/lambda/test-LexFulfillmentHandler"
        provisioned_concurrent_executions   = 0
        provisioned_concurrency_autoscaling = { min_capacity = 1, max_capacity = 6 }
      }
      UpdateLeadHandler = {
        function_name  = "test-UpdateLeadHandler"
        alias_name     = "live"
        log_group_name = "/aws/lambda/test-UpdateLeadHandler"
      }
    }
  }

  assert {
    condition = alltrue([for m in ["ProvisionedConcurrencyUtilization", "ProvisionedConcurrencySpilloverInvocations", "ProvisionedConcurrentExecutions"] :
      distinct(flatten([for w in jsondecode(output.dashboard_body).widgets : [
        for r in w.properties.metrics : r[5] if try(r[1] == m, false)
      ] if w.type == "metric"])) == tolist(["test-LexFulfillmentHandler:live"])
    ])
    error_message = "An autoscaled alias gets the utilization, in-use and spillover metrics though its fixed count is 0."
  }

  assert {
    condition = contains(flatten([for w in jsondecode(output.dashboard_body).widgets : [
      for r in w.properties.metrics : try(r[length(r) - 1].label, "")
    ] if w.type == "metric"]), "LexFulfillmentHandler allocated (autoscaled 1-6)")
    error_message = "Labels say the alias is autoscaled between min and max capacity."
  }

  assert {
    condition = (
      keys(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover) == ["LexFulfillmentHandler"] &&
      strcontains(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].alarm_description, "autoscaled 1-6 by Application Auto Scaling") &&
      aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover["LexFulfillmentHandler"].dimensions["Resource"] == "test-LexFulfillmentHandler:live"
    )
    error_message = "The spillover alarm stays when Application Auto Scaling owns the provisioned concurrency."
  }
}

run "autoscaling_min_above_max_is_rejected" {
  command = plan

  variables {
    functions = {
      LexFulfillmentHandler = {
        function_name                       = "test-LexFulfillmentHandler"
        alias_name                          = "live"
        log_group_name                      = "/aws/lambda/test-LexFulfillmentHandler"
        provisioned_concurrency_autoscaling = { min_capacity = 4, max_capacity = 2 }
      }
    }
  }

  expect_failures = [var.functions]
}

run "metric_math_alarms_on_the_handler_metrics" {
  command = plan

  variables {
    metrics_namespace = "Custom/Atlas"
  }

  assert {
    condition = output.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].threshold == 5 && (
      output.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].comparison_operator == "GreaterThanThreshold") && (
      output.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].datapoints_to_alarm == 5) && (
      output.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].metric_name == null) && (
      { for q in output.alarm_configurations["LexFulfillmentHandler-secrets-manager-share"].metric_queries : q.id => (
        q.expression != null ? "${q.expression} return=${q.return_data}" : "${q.metric.namespace}/${q.metric.metric_name}/${jsonencode(q.metric.dimensions)}/${q.metric.stat} return=${q.return_data}"
        ) } == {
        reads       = "Custom/Atlas/SecretsManagerRead/{\"function\":\"test-LexFulfillmentHandler\"}/Sum return=false"
        invocations = "AWS/Lambda/Invocations/{\"FunctionName\":\"test-LexFulfillmentHandler\"}/Sum return=false"
        share       = "100 * FILL(reads, 0) / invocations return=true"
    })
    error_message = "The Secrets Manager share alarm is 100 * SecretsManagerRead / Invocations of the Lex function > 5, sustained over evaluation_periods."
  }

  assert {
    condition = output.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].threshold == 0 && (
      output.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].datapoints_to_alarm == 1) && (
      { for q in output.alarm_configurations["LexFulfillmentHandler-cold-start-rate"].metric_queries : q.id => (
        q.expression != null ? "${q.expression} return=${q.return_data}" : "${q.metric.namespace}/${q.metric.metric_name}/${jsonencode(q.metric.dimensions)}/${q.metric.stat} return=${q.return_data}"
        ) } == {
        ondemand      = "Custom/Atlas/ColdStart/{\"function\":\"test-LexFulfillmentHandler\",\"initType\":\"on-demand\"}/Sum return=false"
        snapstart     = "Custom/Atlas/ColdStart/{\"function\":\"test-LexFulfillmentHandler\",\"initType\":\"snap-start\"}/Sum return=false"
        invocations   = "AWS/Lambda/Invocations/{\"FunctionName\":\"test-LexFulfillmentHandler\"}/Sum return=false"
        coldstartrate = "100 * (FILL(ondemand, 0) + FILL(snapstart, 0)) / invocations return=true"
    })
    error_message = "The cold-start rate alarm fires on the first period with an on-demand or snap-start ColdStart of the Lex function."
  }

  assert {
    condition = alltrue([for a in concat(aws_cloudwatch_metric_alarm.lex_secrets_manager_share, aws_cloudwatch_metric_alarm.lex_cold_start_rate) :
    a.treat_missing_data == "notBreaching" && a.evaluation_periods == 5 && alltrue([for q in a.metric_query : try(q.metric[0].period, 60) == 60])])
    error_message = "The metric-math alarms use the alarm period settings and treat missing data as not breaching."
  }

  assert {
    condition     = strcontains(output.dashboard_body, "\"Custom/Atlas\",\"ColdStart\"") && !strcontains(output.dashboard_body, "\"AtlasEngine\",")
    error_message = "Dashboard metric rows must use var.metrics_namespace."
  }
}

run "secrets_share_alarm_only_when_lex_reads_secrets" {
  command = plan

  variables {
    secrets_function_keys = ["CreateLeadHandler"]
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.lex_secrets_manager_share) == 0 && length(aws_cloudwatch_metric_alarm.lex_cold_start_rate) == 1
    error_message = "No Secrets Manager share alarm for a Lex function that reads no secret; the cold-start alarm stays."
  }
}

run "aws_namespace_is_rejected" {
  command = plan

  variables {
    metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metrics_namespace]
}

run "empty_namespace_is_rejected" {
  command = plan

  variables {
    metrics_namespace = ""
  }

  expect_failures = [var.metrics_namespace]
}
