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
        "Phase 1 targets: average turn duration < ${var.alarms.average_duration_target_ms} ms, p99 < ${var.alarms.p99_duration_target_ms} ms, Secrets Manager calls < 5 % of invocations, cold starts 0 %. Handler metrics (cold starts, Secrets Manager reads, scenario lookups, turn and Bedrock latency) come from the `${var.metrics_namespace}` namespace. Duration widgets show each function's alias; errors, throttles and concurrency show the whole function.",
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

  # Handler metrics in the Embedded Metric Format (lambda_src/atlas_shared/metrics.py is the contract): dimension
  # `function` = the Lambda function name on every metric, plus at most one of initType, source or path. They are
  # per function, not per alias, so the rates below divide by AWS/Lambda Invocations with FunctionName alone.
  # FILL(m, 0) turns a period with no datapoint (no cold start, no secret read) into 0 rather than a gap.
  # Metric math: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html

  cold_start_widgets = concat(
    [for k in local.function_keys : {
      type = "metric"
      properties = jsonencode({
        title   = "${k} cold starts (% of invocations)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [
          [var.metrics_namespace, "ColdStart", "function", var.functions[k].function_name, "initType", "on-demand", { stat = "Sum", id = "ondemand", label = "on-demand cold starts", yAxis = "right" }],
          [var.metrics_namespace, "ColdStart", "function", var.functions[k].function_name, "initType", "snap-start", { stat = "Sum", id = "snapstart", label = "snap-start cold starts", yAxis = "right" }],
          ["AWS/Lambda", "Invocations", "FunctionName", var.functions[k].function_name, { stat = "Sum", id = "invocations", visible = false }],
          [{ expression = "100 * (FILL(ondemand, 0) + FILL(snapstart, 0)) / invocations", label = "Cold-start rate (%)", id = "coldstartrate" }],
        ]
        yAxis = { left = { min = 0, label = "%", showUnits = false }, right = { min = 0, label = "Count", showUnits = false } }
      })
    }],
    # Lambda writes one REPORT line per invocation; @initDuration is present only when the invocation paid for an
    # on-demand init. Init duration has no metric, so this table stays a Logs Insights query.
    [{
      type = "log"
      properties = jsonencode({
        title  = "Init duration and cold starts by function (REPORT lines, whole time range)"
        region = local.region
        view   = "table"
        query = join(" | ", concat(
          [for k in local.function_keys : "SOURCE '${var.functions[k].log_group_name}'"],
          [join("\n| ", [
            "filter @type = \"REPORT\"",
            "stats sum(ispresent(@initDuration)) as coldStarts, count(*) as invocations, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs, pct(@duration, 99) as p99DurationMs by @log",
            "sort coldStarts desc",
          ])],
        ))
      })
    }],
  )

  scenario_sources = ["session", "container", "dynamodb", "missing"]

  handler_metric_widgets = concat(
    # Phase 1 success metric: Secrets Manager calls below 5 % of invocations.
    length(local.secrets_function_keys) == 0 ? [] : [{
      type = "metric"
      properties = jsonencode({
        title   = "Secrets Manager reads per invocation (%, target < 5)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = concat(
          [for i, k in local.secrets_function_keys : [
            var.metrics_namespace, "SecretsManagerRead", "function", var.functions[k].function_name, { stat = "Sum", id = "reads${i}", visible = false },
          ]],
          [for i, k in local.secrets_function_keys : [
            "AWS/Lambda", "Invocations", "FunctionName", var.functions[k].function_name, { stat = "Sum", id = "invocations${i}", visible = false },
          ]],
          [for i, k in local.secrets_function_keys : [
            { expression = "100 * FILL(reads${i}, 0) / invocations${i}", label = k, id = "share${i}" },
          ]],
        )
        annotations = { horizontal = [{ label = "Target (5 %)", value = 5, color = "#d62728" }] }
        yAxis       = { left = { min = 0, label = "%", showUnits = false } }
      })
    }],
    # The Salesforce session cache: a JWT bearer token request per cold container or expired session, a re-login
    # per session Salesforce expired early. Both near zero when the cache holds.
    length(local.secrets_function_keys) == 0 ? [] : [{
      type = "metric"
      properties = jsonencode({
        title   = "Salesforce token exchanges and re-logins (count per period)"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        metrics = [for pair in setproduct(local.secrets_function_keys, ["SalesforceTokenExchange", "SalesforceRelogin"]) : [
          var.metrics_namespace, pair[1], "function", var.functions[pair[0]].function_name, { stat = "Sum", label = "${pair[0]} ${pair[1]}" },
        ]]
        yAxis = { left = { min = 0 } }
      })
    }],
    !contains(keys(var.functions), var.lex_function_key) ? [] : [
      {
        type = "metric"
        properties = jsonencode({
          title   = "${var.lex_function_key} scenario cache hit rate (%)"
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = local.period
          metrics = concat(
            [for s in local.scenario_sources : [
              var.metrics_namespace, "ScenarioLookup", "function", var.functions[var.lex_function_key].function_name, "source", s,
              { stat = "Sum", id = s, label = "${s} lookups", yAxis = "right" },
            ]],
            [[{
              expression = "100 * (FILL(session, 0) + FILL(container, 0)) / (FILL(session, 0) + FILL(container, 0) + FILL(dynamodb, 0) + FILL(missing, 0))"
              label      = "Hit rate (session or container, %)"
              id         = "hitrate"
            }]],
          )
          yAxis = { left = { min = 0, max = 100, label = "%", showUnits = false }, right = { min = 0, label = "Count", showUnits = false } }
        })
      },
      {
        type = "metric"
        properties = jsonencode({
          title   = "${var.lex_function_key} turn duration by path (p99)"
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = local.period
          metrics = [for p in ["greeting", "reply", "apology", "delegate"] : [
            var.metrics_namespace, "TurnDuration", "function", var.functions[var.lex_function_key].function_name, "path", p, { stat = "p99", label = p },
          ]]
          annotations = local.latency_annotations
          yAxis       = local.milliseconds_axis
        })
      },
    ],
  )

  # What each function's Bedrock call takes as the handler measures it (BedrockLatency, by function), beside
  # AWS/Bedrock's InvocationLatency for the model.
  bedrock_function_keys = [for k in local.function_keys : k if contains(var.bedrock_function_keys, k)]

  handler_bedrock_widgets = length(local.bedrock_function_keys) == 0 ? [] : [{
    type = "metric"
    properties = jsonencode({
      title   = "Bedrock latency seen by the handlers (p50, p99)"
      region  = local.region
      view    = "timeSeries"
      stacked = false
      period  = local.period
      metrics = [for pair in setproduct(local.bedrock_function_keys, ["p50", "p99"]) : [
        var.metrics_namespace, "BedrockLatency", "function", var.functions[pair[0]].function_name, { stat = pair[1], label = "${pair[0]} ${pair[1]}" },
      ]]
      yAxis = local.milliseconds_axis
    })
  }]

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
    { width = 8, height = 6, widgets = local.handler_metric_widgets },
    { width = 8, height = 6, widgets = concat(slice(local.bedrock_widgets, 0, min(1, length(local.bedrock_widgets))), local.handler_bedrock_widgets, slice(local.bedrock_widgets, min(1, length(local.bedrock_widgets)), length(local.bedrock_widgets))) },
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

# Phase 1 success metric as an alarm: Secrets Manager reads above 5 % of the Lex code hook's invocations, sustained
# like the latency alarm (a share, not an event). Metric math over the handler's SecretsManagerRead and Lambda's
# Invocations (FunctionName only, as the EMF `function` dimension is the function name).
resource "aws_cloudwatch_metric_alarm" "lex_secrets_manager_share" {
  count = var.alarms.enabled && contains(local.secrets_function_keys, var.lex_function_key) ? 1 : 0

  alarm_name        = "${var.name}-${var.lex_function_key}-secrets-manager-share"
  alarm_description = "More than 5 % of ${var.functions[var.lex_function_key].function_name} invocations read Secrets Manager (SecretsManagerRead in ${var.metrics_namespace}) for ${var.alarms.evaluation_periods} periods of ${var.alarms.period_seconds} s: the secrets cache is not holding (short TTL, containers recycled, or cold starts)."

  metric_query {
    id          = "reads"
    return_data = false
    metric {
      namespace   = var.metrics_namespace
      metric_name = "SecretsManagerRead"
      dimensions  = { function = var.functions[var.lex_function_key].function_name }
      stat        = "Sum"
      period      = var.alarms.period_seconds
    }
  }

  metric_query {
    id          = "invocations"
    return_data = false
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = var.functions[var.lex_function_key].function_name }
      stat        = "Sum"
      period      = var.alarms.period_seconds
    }
  }

  metric_query {
    id          = "share"
    expression  = "100 * FILL(reads, 0) / invocations"
    label       = "Secrets Manager reads (% of invocations)"
    return_data = true
  }

  evaluation_periods  = var.alarms.evaluation_periods
  datapoints_to_alarm = var.alarms.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = 5
  treat_missing_data  = "notBreaching"

  actions_enabled = true
  alarm_actions   = local.alarm_actions
  ok_actions      = local.alarm_actions

  tags = var.tags
}

# A caller-visible cold start of the Lex code hook (ColdStart with initType on-demand or snap-start; a
# provisioned-concurrency init emits 0). Plan target: 0 %. Fires on the first bad period like the count alarms.
resource "aws_cloudwatch_metric_alarm" "lex_cold_start_rate" {
  count = var.alarms.enabled && contains(keys(var.functions), var.lex_function_key) ? 1 : 0

  alarm_name        = "${var.name}-${var.lex_function_key}-cold-start-rate"
  alarm_description = "${var.functions[var.lex_function_key].function_name} had a caller-visible cold start (ColdStart, initType on-demand or snap-start, in ${var.metrics_namespace}) in a ${var.alarms.period_seconds} s period; the Phase 1 target is 0 %. Check provisioned concurrency and spillover on the dashboard."

  metric_query {
    id          = "ondemand"
    return_data = false
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ColdStart"
      dimensions  = { function = var.functions[var.lex_function_key].function_name, initType = "on-demand" }
      stat        = "Sum"
      period      = var.alarms.period_seconds
    }
  }

  metric_query {
    id          = "snapstart"
    return_data = false
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ColdStart"
      dimensions  = { function = var.functions[var.lex_function_key].function_name, initType = "snap-start" }
      stat        = "Sum"
      period      = var.alarms.period_seconds
    }
  }

  metric_query {
    id          = "invocations"
    return_data = false
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = var.functions[var.lex_function_key].function_name }
      stat        = "Sum"
      period      = var.alarms.period_seconds
    }
  }

  metric_query {
    id          = "coldstartrate"
    expression  = "100 * (FILL(ondemand, 0) + FILL(snapstart, 0)) / invocations"
    label       = "Cold-start rate (% of invocations)"
    return_data = true
  }

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
