# CloudWatch dashboard and alarms for the AtlasEngine functions (issue 3, sections 3 and 4).
#
# The dashboard body follows "Dashboard Body Structure and Syntax" and "Properties of a metric widget object"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
# every `metrics` entry is a full row [Namespace, MetricName, DimName, DimValue, ..., {rendering options}] with the
# options object last, no "..." shorthand, and `region` set on every metric and log widget. Log widgets follow
# the console's query form "SOURCE 'group-a' | SOURCE 'group-b' | <query>".

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  # Lambda publishes one-minute metrics, so a shorter dashboard period would only draw gaps.
  period = max(60, var.alarms.period_seconds)

  # The Lex code hook first (it is what callers wait on), then the rest by key.
  function_keys = concat(
    contains(keys(var.functions), var.lex_function_key) ? [var.lex_function_key] : [],
    [for k in sort(keys(var.functions)) : k if k != var.lex_function_key],
  )

  # Lambda's alias-level metrics carry Resource = "<function name>:<alias name>" beside FunctionName.
  qualified_names = { for k, f in var.functions : k => "${f.function_name}:${f.alias_name}" }

  provisioned_function_keys = [for k in local.function_keys : k if var.functions[k].provisioned_concurrent_executions > 0 || var.functions[k].provisioned_concurrency_autoscaling != null]
  # How much provisioned concurrency each of them has, for labels and alarm text.
  provisioned_labels = { for k in local.provisioned_function_keys : k => (
    var.functions[k].provisioned_concurrency_autoscaling == null
    ? "${var.functions[k].provisioned_concurrent_executions} provisioned"
    : "autoscaled ${var.functions[k].provisioned_concurrency_autoscaling.min_capacity}-${var.functions[k].provisioned_concurrency_autoscaling.max_capacity}"
  ) }
  secrets_function_keys = [for k in local.function_keys : k if contains(var.secrets_function_keys, k)]

  # Known at plan time even when the ARN is not (state machine created in the same run).
  state_machine_enabled = var.state_machine_enabled != null ? var.state_machine_enabled : var.state_machine_arn != null

  # AWS/Bedrock's ModelId dimension is the model or inference profile id, also when the handlers are given an ARN.
  bedrock_model_dimension = var.bedrock_model_id == null ? null : reverse(split("/", var.bedrock_model_id))[0]

  alarm_actions = var.alarms.sns_topic_arn == null ? [] : [var.alarms.sns_topic_arn]

  latency_annotations = {
    horizontal = [
      { label = "Average target (${var.alarms.average_duration_target_ms} ms)", value = var.alarms.average_duration_target_ms, color = "#ff7f0e" },
      { label = "p99 target (${var.alarms.p99_duration_target_ms} ms)", value = var.alarms.p99_duration_target_ms, color = "#d62728" },
    ]
  }

  milliseconds_axis = { left = { min = 0, label = "Milliseconds", showUnits = false } }

  ##############################################################################
  # Widgets. Each is {type, properties = jsonencode(...)} so that sections of
  # different widget kinds share one type and can be switched on and off.
  ##############################################################################

  header_widgets = [{
    type = "text"
    properties = jsonencode({
      markdown = join("\n", [
        "# ${var.name}",
        "Phase 1 targets: average turn duration < ${var.alarms.average_duration_target_ms} ms, p99 < ${var.alarms.p99_duration_target_ms} ms, Secrets Manager calls < 5 % of invocations. Duration widgets show each function's alias; errors, throttles and concurrency show the whole function.",
      ])
    })
  }]

  duration_widgets = [for k in local.function_keys : {
    type = "metric"
    properties = jsonencode({
      title   = "${k} duration (${var.functions[k].alias_name})"
      region  = local.region
      view    = "timeSeries"
      stacked = false
      period  = local.period
      metrics = [for stat in ["Average", "p50", "p99"] : [
        "AWS/Lambda", "Duration",
        "FunctionName", var.functions[k].function_name,
        "Resource", local.qualified_names[k],
        { stat = stat, label = stat },
      ]]
      annotations = local.latency_annotations
      yAxis       = local.milliseconds_axis
    })
  }]

  health_widgets = [for m in [
    { metric = "Errors", stat = "Sum", title = "Errors (count per period)" },
    { metric = "Throttles", stat = "Sum", title = "Throttles (count per period)" },
    { metric = "ConcurrentExecutions", stat = "Maximum", title = "Concurrent executions (maximum)" },
    ] : {
    type = "metric"
    properties = jsonencode({
      title   = m.title
      region  = local.region
      view    = "timeSeries"
      stacked = false
      period  = local.period
      metrics = [for k in local.function_keys : [
        "AWS/Lambda", m.metric,
        "FunctionName", var.functions[k].function_name,
        { stat = m.stat, label = k },
      ]]
      yAxis = { left = { min = 0 } }
    })
  }]

  # Utilization (what Application Auto Scaling's target tracking follows), in use and allocated, and spillover.
  # Lambda publishes no "allocated" metric for an alias, so it is drawn as in use / utilization (both maxima of
  # the period; exact while the allocation holds through the period, absent while nothing runs). Metrics:
  # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#concurrency-metrics
  provisioned_concurrency_widgets = length(local.provisioned_function_keys) == 0 ? [] : [
    for m in [
      { metric = "ProvisionedConcurrencyUtilization", stat = "Maximum", title = "Provisioned concurrency utilization (maximum, 1 = all in use)", y_max = 1 },
      { metric = "ProvisionedConcurrencySpilloverInvocations", stat = "Sum", title = "Spillover invocations (no provisioned instance free: cold starts)", y_max = null },
      ] : {
      type = "metric"
      properties = jsonencode({
        title   = m.title
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [for k in local.provisioned_function_keys : [
          "AWS/Lambda", m.metric,
          "FunctionName", var.functions[k].function_name,
          "Resource", local.qualified_names[k],
          { stat = m.stat, label = "${k} (${local.provisioned_labels[k]})" },
        ]]
        yAxis = { left = m.y_max == null ? { min = 0 } : { min = 0, max = m.y_max } }
      })
    }
  ]

  provisioned_allocation_widgets = length(local.provisioned_function_keys) == 0 ? [] : [{
    type = "metric"
    properties = jsonencode({
      title   = "Provisioned concurrency: in use and allocated (maximum)"
      region  = local.region
      view    = "timeSeries"
      stacked = false
      period  = local.period
      metrics = concat(
        [for i, k in local.provisioned_function_keys : [
          "AWS/Lambda", "ProvisionedConcurrentExecutions",
          "FunctionName", var.functions[k].function_name,
          "Resource", local.qualified_names[k],
          { stat = "Maximum", label = "${k} in use", id = "inuse${i}" },
        ]],
        [for i, k in local.provisioned_function_keys : [
          "AWS/Lambda", "ProvisionedConcurrencyUtilization",
          "FunctionName", var.functions[k].function_name,
          "Resource", local.qualified_names[k],
          { stat = "Maximum", id = "util${i}", visible = false },
        ]],
        [for i, k in local.provisioned_function_keys : [
          { expression = "inuse${i} / util${i}", label = "${k} allocated (${local.provisioned_labels[k]})", id = "allocated${i}" },
        ]],
      )
      yAxis = { left = { min = 0 } }
    })
  }]

  # Lambda writes one REPORT line per invocation; @initDuration is present only when the invocation
  # paid for an on-demand init (a cold start). Provisioned instances init before traffic, so no field.
  cold_start_stats = "stats sum(ispresent(@initDuration)) as coldStarts, count(*) as invocations, 100 * sum(ispresent(@initDuration)) / count(*) as coldStartPct"

  cold_start_widgets = concat(
    [{
      type = "log"
      properties = jsonencode({
        title  = "Cold starts by function (whole time range)"
        region = local.region
        view   = "table"
        query = join(" | ", concat(
          [for k in local.function_keys : "SOURCE '${var.functions[k].log_group_name}'"],
          [join("\n| ", [
            "filter @type = \"REPORT\"",
            "${local.cold_start_stats}, avg(@initDuration) as avgInitMs, pct(@duration, 99) as p99DurationMs by @log",
            "sort coldStartPct desc",
          ])],
        ))
      })
    }],
    [for k in local.function_keys : {
      type = "log"
      properties = jsonencode({
        title  = "${k} cold starts"
        region = local.region
        view   = "timeSeries"
        query = join(" | ", [
          "SOURCE '${var.functions[k].log_group_name}'",
          join("\n| ", ["filter @type = \"REPORT\"", "${local.cold_start_stats} by bin(5m)"]),
        ])
      })
    }],
  )

  # The handlers log one JSON line per cache lookup (docs/contracts.md, "Log events"):
  # event = cache_hit | cache_miss, cache = secret | scenario | salesforce_session. strcontains returns 1 or 0,
  # and no cache name contains another, so each indicator below is 1 for exactly one cache.
  cache_widgets = concat(
    [{
      type = "log"
      properties = jsonencode({
        title  = "Cache hit rate by cache (%)"
        region = local.region
        view   = "timeSeries"
        query = join(" | ", concat(
          [for k in local.function_keys : "SOURCE '${var.functions[k].log_group_name}'"],
          [join("\n| ", [
            "filter event = \"cache_hit\" or event = \"cache_miss\"",
            "fields strcontains(event, \"cache_hit\") as hit, strcontains(cache, \"secret\") as isSecret, strcontains(cache, \"scenario\") as isScenario, strcontains(cache, \"salesforce_session\") as isSalesforceSession",
            "fields hit * isSecret as secretHit, hit * isScenario as scenarioHit, hit * isSalesforceSession as salesforceSessionHit",
            "stats 100 * sum(secretHit) / sum(isSecret) as secretHitPct, 100 * sum(scenarioHit) / sum(isScenario) as scenarioHitPct, 100 * sum(salesforceSessionHit) / sum(isSalesforceSession) as salesforceSessionHitPct by bin(5m)",
          ])],
        ))
      })
    }],
    # A secret cache miss is the one path that calls Secrets Manager GetSecretValue; REPORT lines count invocations
    # (only REPORT lines carry @billedDuration). Phase 1 success metric: below 5 %.
    length(local.secrets_function_keys) == 0 ? [] : [{
      type = "log"
      properties = jsonencode({
        title  = "Secrets Manager calls per invocation (%, target < 5)"
        region = local.region
        view   = "timeSeries"
        query = join(" | ", concat(
          [for k in local.secrets_function_keys : "SOURCE '${var.functions[k].log_group_name}'"],
          [join("\n| ", [
            "filter @type = \"REPORT\" or (event = \"cache_miss\" and cache = \"secret\")",
            "stats sum(ispresent(event)) as secretsManagerCalls, sum(ispresent(@billedDuration)) as invocations, 100 * sum(ispresent(event)) / sum(ispresent(@billedDuration)) as secretsManagerCallPct by bin(5m)",
          ])],
        ))
      })
    }],
  )

  bedrock_widgets = local.bedrock_model_dimension == null ? [] : [
    {
      type = "metric"
      properties = jsonencode({
        title   = "Bedrock invocation latency (${local.bedrock_model_dimension})"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [for stat in ["Average", "p99"] : [
          "AWS/Bedrock", "InvocationLatency", "ModelId", local.bedrock_model_dimension, { stat = stat, label = stat },
        ]]
        yAxis = local.milliseconds_axis
      })
    },
    {
      type = "metric"
      properties = jsonencode({
        title   = "Bedrock output tokens (${local.bedrock_model_dimension})"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [
          ["AWS/Bedrock", "OutputTokenCount", "ModelId", local.bedrock_model_dimension, { stat = "Average", label = "Per invocation (average)" }],
          ["AWS/Bedrock", "OutputTokenCount", "ModelId", local.bedrock_model_dimension, { stat = "Maximum", label = "Per invocation (maximum, max_tokens caps it)" }],
          ["AWS/Bedrock", "OutputTokenCount", "ModelId", local.bedrock_model_dimension, { stat = "Sum", label = "Total", yAxis = "right" }],
        ]
        yAxis = { left = { min = 0 }, right = { min = 0 } }
      })
    },
  ]

  step_functions_widgets = !local.state_machine_enabled ? [] : [
    {
      type = "metric"
      properties = jsonencode({
        title   = "Workflow execution time"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [for stat in ["Average", "p99"] : [
          "AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn, { stat = stat, label = stat },
        ]]
        yAxis = local.milliseconds_axis
      })
    },
    {
      type = "metric"
      properties = jsonencode({
        title   = "Workflow executions"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] : [
          "AWS/States", m, "StateMachineArn", var.state_machine_arn, { stat = "Sum", label = m },
        ]]
        yAxis = { left = { min = 0 } }
      })
    },
  ]

  # Sections stack top to bottom; widgets of one section share a size and wrap left to right.
  sections = [for s in [
    { width = 24, height = 2, widgets = local.header_widgets },
    { width = 8, height = 6, widgets = local.duration_widgets },
    { width = 8, height = 6, widgets = local.health_widgets },
    { width = 8, height = 6, widgets = concat(local.provisioned_concurrency_widgets, local.provisioned_allocation_widgets) },
    { width = 8, height = 6, widgets = local.cold_start_widgets },
    { width = 12, height = 6, widgets = local.cache_widgets },
    { width = 12, height = 6, widgets = local.bedrock_widgets },
    { width = 12, height = 6, widgets = local.step_functions_widgets },
  ] : s if length(s.widgets) > 0]

  section_heights = [for s in local.sections : ceil(length(s.widgets) / floor(24 / s.width)) * s.height]
  section_tops    = [for i in range(length(local.sections)) : sum(concat([0], slice(local.section_heights, 0, i)))]

  widgets = flatten([for i, s in local.sections : [for j, w in s.widgets : {
    type       = w.type
    x          = (j % floor(24 / s.width)) * s.width
    y          = local.section_tops[i] + floor(j / floor(24 / s.width)) * s.height
    width      = s.width
    height     = s.height
    properties = jsondecode(w.properties)
  }]])

  dashboard_body = jsonencode({ widgets = local.widgets })
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.dashboard_enabled ? 1 : 0

  dashboard_name = var.name
  dashboard_body = local.dashboard_body

  lifecycle {
    precondition {
      condition     = length(local.widgets) <= 500
      error_message = "A CloudWatch dashboard holds at most 500 widgets."
    }
    precondition {
      condition     = !local.state_machine_enabled || var.state_machine_arn != null
      error_message = "state_machine_enabled is true but state_machine_arn is null."
    }
  }
}

################################################################################
# Alarms
#
# Latency alarms on a sustained breach: all of evaluation_periods must breach, so one slow turn does not page.
# Count alarms (errors, throttles, spillover, failed executions) fire on the first bad period (1 of
# evaluation_periods) and clear after evaluation_periods clean periods, so a burst is not missed and does not flap.
# No traffic means nothing is wrong, hence treat_missing_data = notBreaching everywhere.
################################################################################

resource "aws_cloudwatch_metric_alarm" "lex_p99_duration" {
  count = var.alarms.enabled ? 1 : 0

  alarm_name        = "${var.name}-${var.lex_function_key}-p99-duration"
  alarm_description = "p99 duration of ${local.qualified_names[var.lex_function_key]} (the Lex V2 code hook) above the Phase 1 target of ${var.alarms.p99_duration_target_ms} ms for ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s. Callers hear this as silence: check cold starts, Bedrock latency and the Salesforce session cache on the dashboard."

  namespace   = "AWS/Lambda"
  metric_name = "Duration"
  dimensions = {
    FunctionName = var.functions[var.lex_function_key].function_name
    Resource     = local.qualified_names[var.lex_function_key]
  }
  extended_statistic                    = "p99"
  evaluate_low_sample_count_percentiles = "evaluate"
  period                                = var.alarms.period_seconds
  evaluation_periods                    = var.alarms.evaluation_periods
  datapoints_to_alarm                   = var.alarms.evaluation_periods
  comparison_operator                   = "GreaterThanThreshold"
  threshold                             = var.alarms.p99_duration_target_ms
  treat_missing_data                    = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags

  lifecycle {
    precondition {
      condition     = contains(keys(var.functions), var.lex_function_key)
      error_message = "lex_function_key must be a key of var.functions."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "provisioned_concurrency_spillover" {
  for_each = var.alarms.enabled ? toset(local.provisioned_function_keys) : toset([])

  alarm_name = "${var.name}-${each.key}-provisioned-concurrency-spillover"
  alarm_description = (var.functions[each.key].provisioned_concurrency_autoscaling == null
    ? "Invocations of ${local.qualified_names[each.key]} found all ${var.functions[each.key].provisioned_concurrent_executions} provisioned instances busy and ran on on-demand instances, with cold starts. Raise provisioned_concurrent_executions for this function."
    : "Invocations of ${local.qualified_names[each.key]} found every provisioned instance busy (${local.provisioned_labels[each.key]} by Application Auto Scaling) and ran on on-demand instances, with cold starts. Raise the autoscaling min_capacity (or a scheduled action's) for the hours it happens, or lower target_utilization."
  )

  namespace   = "AWS/Lambda"
  metric_name = "ProvisionedConcurrencySpilloverInvocations"
  dimensions = {
    FunctionName = var.functions[each.key].function_name
    Resource     = local.qualified_names[each.key]
  }
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags
}

# One alarm a function rather than one metric-math sum: the alarm name says which function fails, and
# each can be silenced on its own.
resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = var.alarms.enabled ? toset(local.function_keys) : toset([])

  alarm_name        = "${var.name}-${each.key}-errors"
  alarm_description = "${var.functions[each.key].function_name} returned at least ${var.alarms.errors_threshold} error(s) in a ${var.alarms.period_seconds} s period. See its log group ${var.functions[each.key].log_group_name}."

  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.functions[each.key].function_name }
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarms.errors_threshold
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = var.alarms.enabled ? toset(local.function_keys) : toset([])

  alarm_name        = "${var.name}-${each.key}-throttles"
  alarm_description = "${var.functions[each.key].function_name} was throttled at least ${var.alarms.throttles_threshold} time(s) in a ${var.alarms.period_seconds} s period: the account's or the function's concurrency limit was reached."

  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.functions[each.key].function_name }
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarms.throttles_threshold
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "workflow_executions_failed" {
  count = var.alarms.enabled && local.state_machine_enabled ? 1 : 0

  alarm_name        = "${var.name}-workflow-executions-failed"
  alarm_description = "An AtlasEngineWorkflow execution failed. Failed leads are recorded in the scenario table under PK FAILED_LEAD#<execution name>."

  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = var.alarms.period_seconds
  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.state_machine_arn != null
      error_message = "state_machine_enabled is true but state_machine_arn is null."
    }
  }
}
