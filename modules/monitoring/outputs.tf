output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? aws_cloudwatch_dashboard.this[0].dashboard_name : null
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard, or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? aws_cloudwatch_dashboard.this[0].dashboard_arn : null
}

output "dashboard_body" {
  description = "The dashboard body JSON sent to PutDashboard (a string; see CloudWatch's \"Dashboard Body Structure and Syntax\"), or null when dashboard_enabled is false."
  value       = var.dashboard_enabled ? local.dashboard_body : null
}

output "alarm_arns" {
  description = "ARN of each CloudWatch alarm, keyed by the alarm name without the \"<name>-\" prefix, e.g. \"LexFulfillmentHandler-p99-duration\", \"CreateLeadHandler-errors\", \"workflow-executions-failed\". Empty when alarms are disabled."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.lex_p99_duration : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lex_secrets_manager_share : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lex_cold_start_rate : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.errors : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.throttles : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
    { for a in aws_cloudwatch_metric_alarm.workflow_executions_failed : trimprefix(a.alarm_name, "${var.name}-") => a.arn },
  )
}

output "alarm_names" {
  description = "Name of each CloudWatch alarm, keyed like alarm_arns."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.lex_p99_duration : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.lex_secrets_manager_share : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.lex_cold_start_rate : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.errors : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.throttles : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.workflow_executions_failed : trimprefix(a.alarm_name, "${var.name}-") => a.alarm_name },
  )
}

output "alarm_configurations" {
  description = "What each alarm watches and when it fires, keyed like alarm_arns: alarm_name, namespace, metric_name, dimensions, statistic or extended_statistic, comparison_operator, threshold, period (s), evaluation_periods, datapoints_to_alarm, alarm_actions and ok_actions (lists, empty when none), metric_queries (metric-math alarms: id, expression, return_data, metric; empty otherwise). For review and tests."
  value = {
    for a in concat(
      aws_cloudwatch_metric_alarm.lex_p99_duration,
      aws_cloudwatch_metric_alarm.lex_secrets_manager_share,
      aws_cloudwatch_metric_alarm.lex_cold_start_rate,
      values(aws_cloudwatch_metric_alarm.provisioned_concurrency_spillover),
      values(aws_cloudwatch_metric_alarm.errors),
      values(aws_cloudwatch_metric_alarm.throttles),
      aws_cloudwatch_metric_alarm.workflow_executions_failed,
      ) : trimprefix(a.alarm_name, "${var.name}-") => {
      alarm_name = a.alarm_name
      # The provider plans an unset attribute as null and reads it back as "", {} or 0 (metric-math alarms set
      # none of these); one value keeps plans empty.
      namespace           = a.namespace != "" ? a.namespace : null
      metric_name         = a.metric_name != "" ? a.metric_name : null
      dimensions          = try(length(a.dimensions), 0) > 0 ? a.dimensions : null
      statistic           = a.statistic != "" ? a.statistic : null
      extended_statistic  = a.extended_statistic != "" ? a.extended_statistic : null
      comparison_operator = a.comparison_operator
      threshold           = a.threshold
      period              = a.period != 0 ? a.period : null
      evaluation_periods  = a.evaluation_periods
      datapoints_to_alarm = a.datapoints_to_alarm
      alarm_actions       = a.alarm_actions == null ? [] : sort(a.alarm_actions)
      ok_actions          = a.ok_actions == null ? [] : sort(a.ok_actions)
      # Metric-math alarms: each query's id, expression (or null) and metric (namespace, metric_name, dimensions,
      # stat; or null); empty for single-metric alarms.
      metric_queries = [for q in a.metric_query : {
        id          = q.id
        expression  = q.expression != "" ? q.expression : null
        return_data = q.return_data
        metric = length(q.metric) == 0 ? null : {
          namespace   = q.metric[0].namespace
          metric_name = q.metric[0].metric_name
          dimensions  = q.metric[0].dimensions
          stat        = q.metric[0].stat
        }
      }]
    }
  }
}
